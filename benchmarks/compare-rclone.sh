#!/usr/bin/env bash
# Push of N new memories with `ghostie sync push` to moto_server (S3) and to Azurite (Azure Blob), beside
# `rclone sync` of the same N files through an rclone crypt remote to the same moto_server, in one run.
# Requests are counted on the server side (each server's access log), so every contestant is counted the same way;
# wall time is the whole process. Usage: bash benchmarks/compare-rclone.sh    (N=10000 RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
RUNS=${RUNS:-3}
ROOT=$(pwd)

command -v rclone >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone; }
[ -x tests/servers/node_modules/.bin/azurite-blob ] || npm ci --prefix tests/servers --no-audit --no-fund --loglevel=error

# The ghostie command as it ships: published ReadyToRun.
out=$(mktemp -d)
dotnet publish samples/Ghostie.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -v q -nologo -o "$out" >/dev/null
dotnet build benchmarks/Ghostie.Sync.SyncBench -c Release -v q -nologo >/dev/null
CLI=(dotnet "$out/Ghostie.Cli.dll")
BENCH=(dotnet benchmarks/Ghostie.Sync.SyncBench/bin/Release/net10.0/Ghostie.Sync.SyncBench.dll)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work" "$out"; }
trap cleanup EXIT

S3PORT=$((20000 + RANDOM % 5000)); AZPORT=$((25000 + RANDOM % 5000))
moto_server -H 127.0.0.1 -p "$S3PORT" > "$work/moto.log" 2>&1 & pids+=($!)
"$ROOT/tests/servers/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZPORT" --inMemoryPersistence \
  --disableProductStyleUrl --disableTelemetry --skipApiVersionCheck > "$work/azurite.log" 2>&1 & pids+=($!)
for port in "$S3PORT" "$AZPORT"; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done

export AWS_ACCESS_KEY_ID=benchmark AWS_SECRET_ACCESS_KEY=benchmark-secret AWS_REGION=us-east-1
export AZURE_STORAGE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export GHOSTIE_PASSPHRASE=benchmark-passphrase
export RCLONE_CONFIG_M_TYPE=s3 RCLONE_CONFIG_M_PROVIDER=Other RCLONE_CONFIG_M_ENDPOINT="http://127.0.0.1:$S3PORT" \
  RCLONE_CONFIG_M_ACCESS_KEY_ID=benchmark RCLONE_CONFIG_M_SECRET_ACCESS_KEY=benchmark-secret RCLONE_CONFIG_M_FORCE_PATH_STYLE=true \
  RCLONE_CONFIG_M_REGION=us-east-1 RCLONE_CONFIG_C_TYPE=crypt RCLONE_CONFIG_C_PASSWORD="$(rclone obscure benchmark-passphrase)"
unset AWS_CA_BUNDLE  # rclone here must not use the image's CA bundle override (PACKAGES.md)

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; return 1; }; end=$(date +%s.%N); echo "$end - $start" | bc; }
requests() { grep -c 'HTTP/1.1"' "$1" || true; }

echo "N=$N new memories per push; $RUNS runs; $(nproc) cores; $(rclone version | head -1); moto_server $(moto_server --version 2>/dev/null | tail -1); dotnet $(dotnet --version)"
printf '%-4s %-28s %10s %10s\n' run contestant seconds requests
"${BENCH[@]}" generate "$work/source/memories" "$N"
FILES="$work/source/memories"
[ "$(find "$FILES" -name "*.json" | wc -l)" -eq "$N" ] || { echo "generate did not make $N files" >&2; exit 1; }
for run in $(seq 1 "$RUNS"); do
  # ghostie -> S3 (moto)
  home="$work/s3home$run"
  mkdir -p "$home"; cp -r "$FILES" "$home/memories"
  "${CLI[@]}" sync setup --home "$home" --backend s3 --endpoint "http://127.0.0.1:$S3PORT" --path-style --bucket "ghostie$run" --create-bucket --device bench --quiet
  before=$(requests "$work/moto.log"); t=$(seconds "${CLI[@]}" sync push --home "$home" --quiet); after=$(requests "$work/moto.log")
  printf '%-4s %-28s %10.2f %10d\n' "$run" "ghostie push -> S3 (moto)" "$t" "$((after - before))"
  echo "$run gs3 $t $((after - before))" >> "$work/results"

  # ghostie -> Azure Blob (Azurite)
  home="$work/azhome$run"
  mkdir -p "$home"; cp -r "$FILES" "$home/memories"
  "${CLI[@]}" sync setup --home "$home" --backend azure --endpoint "http://127.0.0.1:$AZPORT/devstoreaccount1" --account devstoreaccount1 --container "ghostie$run" --create-container --device bench --quiet
  before=$(requests "$work/azurite.log"); t=$(seconds "${CLI[@]}" sync push --home "$home" --quiet); after=$(requests "$work/azurite.log")
  printf '%-4s %-28s %10.2f %10d\n' "$run" "ghostie push -> Azure (Azurite)" "$t" "$((after - before))"
  echo "$run gaz $t $((after - before))" >> "$work/results"

  # rclone crypt -> S3 (moto), same files
  rclone mkdir "m:rclone$run" 2>/dev/null
  export RCLONE_CONFIG_C_REMOTE="m:rclone$run/crypt"
  before=$(requests "$work/moto.log"); t=$(seconds rclone sync "$FILES" c:); after=$(requests "$work/moto.log")
  printf '%-4s %-28s %10.2f %10d\n' "$run" "rclone sync -> crypt -> S3" "$t" "$((after - before))"
  echo "$run rcl $t $((after - before))" >> "$work/results"
done
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
col() { awk -v k="$1" -v c="$2" '$2 == k {print $c}' "$work/results" | median; }
gs3t=$(col gs3 3); gs3r=$(col gs3 4); gazt=$(col gaz 3); gazr=$(col gaz 4); rclt=$(col rcl 3); rclr=$(col rcl 4)
printf 'medians: ghostie S3 %.2f s / %d requests; ghostie Azure %.2f s / %d requests; rclone crypt S3 %.2f s / %d requests\n' "$gs3t" "$gs3r" "$gazt" "$gazr" "$rclt" "$rclr"
printf 'ratios vs rclone crypt: S3 time %.3f, requests %.4f (%.0fx fewer); Azure time %.3f, requests %.4f (%.0fx fewer). Goal: >= 10x fewer requests and less time.\n' \
  "$(echo "$gs3t / $rclt" | bc -l)" "$(echo "$gs3r / $rclr" | bc -l)" "$(echo "$rclr / $gs3r" | bc -l)" \
  "$(echo "$gazt / $rclt" | bc -l)" "$(echo "$gazr / $rclr" | bc -l)" "$(echo "$rclr / $gazr" | bc -l)"

#!/usr/bin/env bash
# Push of N memory files with `ghostie sync push` beside `restic backup` of the same files to a local repository,
# both as whole processes, in one run: the initial push, then an incremental one after EDITS edits.
# Then (new) a pull of the N memories into an empty device beside `restic restore` of the snapshot into an empty folder.
# Usage: bash benchmarks/compare-restic.sh            (N=10000 EDITS=100 RUNS=5 SHAPE=flat by default)
#        SHAPE=nested bash benchmarks/compare-restic.sh   the second data set (indented JSON, nested context, no id field)
#        N=100000 bash benchmarks/compare-restic.sh       the 100,000-memory scale (same fixed seeds)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
EDITS=${EDITS:-100}
RUNS=${RUNS:-5}
SHAPE=${SHAPE:-flat}

if ! command -v restic >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic
fi

# The ghostie command as it ships: published ReadyToRun (precompiled, so a short run is not spent in the JIT).
# BUILD=jit measures the plain `dotnet build` output instead.
out=$(mktemp -d)
if [ -n "${CLI_DIR:-}" ]; then
  out=$CLI_DIR # an existing publish (to compare two builds side by side)
elif [ "${BUILD:-r2r}" = jit ]; then
  dotnet build samples/Ghostie.Cli -c Release -v q -nologo -o "$out" >/dev/null
else
  dotnet publish samples/Ghostie.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -v q -nologo -o "$out" >/dev/null
fi
dotnet build benchmarks/Ghostie.Sync.SyncBench -c Release -v q -nologo >/dev/null
CLI=(dotnet "$out/Ghostie.Cli.dll")
BENCH=(dotnet benchmarks/Ghostie.Sync.SyncBench/bin/Release/net10.0/Ghostie.Sync.SyncBench.dll)
export GHOSTIE_PASSPHRASE=benchmark-passphrase RESTIC_PASSWORD=benchmark-passphrase

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }

echo "ghostie build: ${BUILD:-r2r}; N=$N memory files ($SHAPE), $EDITS edited; $RUNS runs; $(nproc) cores; $(restic version | cut -d' ' -f1-2); dotnet $(dotnet --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %12s %12s %8s %14s %14s %8s %12s %14s %8s\n' run ghostie-init restic-init ratio ghostie-incr restic-incr ratio ghostie-pull restic-restore ratio
results=$(mktemp)
# Run 0 is a warm-up (cold page cache for both programs and their files); it is printed but not counted.
for run in $(seq 0 "$RUNS"); do
  work=$(mktemp -d)
  "${BENCH[@]}" generate "$work/home/memories" "$N" "$SHAPE"
  "${CLI[@]}" sync setup --home "$work/home" --backend folder --path "$work/repo" --device bench --quiet
  restic init -r "$work/restic" -q >/dev/null
  g1=$(seconds "${CLI[@]}" sync push --home "$work/home" --quiet)
  r1=$(seconds restic -r "$work/restic" backup "$work/home/memories" -q)
  "${BENCH[@]}" edit "$work/home/memories" "$EDITS"
  g2=$(seconds "${CLI[@]}" sync push --home "$work/home" --quiet)
  r2=$(seconds restic -r "$work/restic" backup "$work/home/memories" -q)
  "${CLI[@]}" sync setup --home "$work/reader" --backend folder --path "$work/repo" --device reader --quiet
  g3=$(seconds "${CLI[@]}" sync pull --home "$work/reader" --quiet)
  r3=$(seconds restic -r "$work/restic" restore latest --target "$work/restored" -q)
  [ "$(find "$work/reader/memories" -name '*.json' | wc -l)" -eq "$N" ] || { echo "pull wrote $(find "$work/reader/memories" -name '*.json' | wc -l) of $N files"; exit 1; }
  printf '%-4s %12.2f %12.2f %8.2f %14.2f %14.2f %8.2f %12.2f %14.2f %8.2f\n' "$run" "$g1" "$r1" "$(echo "$g1 / $r1" | bc -l)" "$g2" "$r2" "$(echo "$g2 / $r2" | bc -l)" "$g3" "$r3" "$(echo "$g3 / $r3" | bc -l)"
  [ "$run" -gt 0 ] && echo "$(echo "$g1 / $r1" | bc -l) $(echo "$g2 / $r2" | bc -l) $(echo "$g3 / $r3" | bc -l)" >> "$results"
  objects=$(find "$work/repo" -type f | wc -l)
  echo "     repository objects after both pushes: $objects (ghostie), $(find "$work/restic/data" -type f | wc -l) data files (restic)"
  rm -rf "$work"
done
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf 'median ratio ghostie/restic over %s runs: initial push %.2f (target <= 0.40), incremental push %.2f (target <= 0.25), pull %.2f (target <= 0.50); load %s\n' "$RUNS" \
  "$(cut -d' ' -f1 "$results" | median)" "$(cut -d' ' -f2 "$results" | median)" "$(cut -d' ' -f3 "$results" | median)" "$(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$results"

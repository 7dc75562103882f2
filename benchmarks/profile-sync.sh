#!/usr/bin/env bash
# Where a sync spends its time, per phase, as whole `ghostie` processes (the ReadyToRun publish, as compare-restic.sh):
# each command runs with GHOSTIE_SYNC_PROFILE=1 (the library then writes `ghostie-profile <phase> <ms>` lines to
# stderr) under /usr/bin/time -v (wall time and peak resident memory of the process).
# Usage: N=10000 SHAPE=flat bash benchmarks/profile-sync.sh        (SHAPE=nested: the second data set)
# Commands, in order: initial push of N; push with nothing to push; sync status; push after 100 edits; initial pull
# of N into an empty device; a push of 5 edits by the first device and a pull of those 5 by the second.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
SHAPE=${SHAPE:-flat}
out=${CLI_DIR:-}
if [ -z "$out" ]; then
  out=$(mktemp -d)
  dotnet publish samples/Ghostie.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -v q -nologo -o "$out" >/dev/null
fi
[ -f benchmarks/Ghostie.Sync.SyncBench/bin/Release/net10.0/Ghostie.Sync.SyncBench.dll ] || dotnet build benchmarks/Ghostie.Sync.SyncBench -c Release -v q -nologo >/dev/null
CLI=(dotnet "$out/Ghostie.Cli.dll")
BENCH=(dotnet benchmarks/Ghostie.Sync.SyncBench/bin/Release/net10.0/Ghostie.Sync.SyncBench.dll)
export GHOSTIE_PASSPHRASE=benchmark-passphrase
work=${WORK:-$(mktemp -d)}
"${BENCH[@]}" generate "$work/a/memories" "$N" "$SHAPE"
"${CLI[@]}" sync setup --home "$work/a" --backend folder --path "$work/repo" --device a --quiet >/dev/null

run() { # label, command...
  local label=$1; shift
  local err; err=$(mktemp)
  GHOSTIE_SYNC_PROFILE=1 /usr/bin/time -v "$@" >/dev/null 2>"$err" || { echo "$label FAILED"; cat "$err"; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$err")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$err")
  printf '%-22s wall %-8s peak RSS %6s MB  phases:' "$label" "$wall" "$rss"
  awk '/^ghostie-profile/ {a[$2] += $3; if (!($2 in o)) o[$2] = ++n} END {for (k in o) r[o[k]] = k; for (i = 1; i <= n; i++) printf " %s=%.0f", r[i], a[r[i]]}' "$err"
  echo
  rm -f "$err"
}

echo "N=$N SHAPE=$SHAPE; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
run "initial push" "${CLI[@]}" sync push --home "$work/a" --quiet
run "nothing to push" "${CLI[@]}" sync push --home "$work/a" --quiet
run "nothing to push (2)" "${CLI[@]}" sync push --home "$work/a" --quiet
run "status" "${CLI[@]}" sync status --home "$work/a"
"${BENCH[@]}" edit "$work/a/memories" 100
run "push after 100 edits" "${CLI[@]}" sync push --home "$work/a" --quiet
"${CLI[@]}" sync setup --home "$work/b" --backend folder --path "$work/repo" --device b --quiet >/dev/null
run "initial pull" "${CLI[@]}" sync pull --home "$work/b" --quiet
"${BENCH[@]}" edit "$work/a/memories" 5
"${CLI[@]}" sync push --home "$work/a" --quiet
run "pull of 5" "${CLI[@]}" sync pull --home "$work/b" --quiet
run "pull, nothing new" "${CLI[@]}" sync pull --home "$work/b" --quiet
echo "state files: a $(du -b "$work"/a/sync/sync_state* | awk '{s += $1} END {print s}') bytes, b $(du -b "$work"/b/sync/sync_state* | awk '{s += $1} END {print s}') bytes; load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "${WORK:-}" ] || rm -rf "$work"

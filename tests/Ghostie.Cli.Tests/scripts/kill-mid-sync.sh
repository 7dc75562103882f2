#!/bin/bash
# SIGKILL a 'ghostie sync push' and 'sync pull' of N memories at random moments (folder backend), check after each
# kill that the home still reads (memory list, sync status exit 0), then that a rerun converges and the repository
# holds no memory in plaintext. Usage: N=20000 ROUNDS=5 LO=0.3 HI=2.0 tests/Ghostie.Cli.Tests/scripts/kill-mid-sync.sh
# Needs the CLI built: dotnet build samples/Ghostie.Cli -c Release
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
G() { dotnet "$ROOT/samples/Ghostie.Cli/bin/Release/net10.0/Ghostie.Cli.dll" "$@" </dev/null; }
N=${N:-3000}; ROUNDS=${ROUNDS:-4}
R=$(mktemp -d); trap 'rm -rf "$R"' EXIT
export GHOSTIE_PASSPHRASE='kill-test-pass'
G sync setup --home $R/a --path $R/repo --device a -q || exit 1
G sync setup --home $R/b --path $R/repo --device b -q || exit 1
python3 - "$R/a/memories" $N <<'PY'
import json, os, sys, random
d, n = sys.argv[1], int(sys.argv[2]); random.seed(7)
for i in range(n):
    mid = "01a1f%027x" % i
    rec = {"id": mid, "timestamp": "2026-11-21T10:00:%02d.%06d+00:00" % (i % 60, i), "device_id": "a", "category": "bulk",
           "content": "bulk memory %d %s" % (i, "x" * random.randint(10, 400)), "context": None, "sync_metadata": None}
    json.dump(rec, open(os.path.join(d, mid + ".json"), "w"))
PY
killat() { # killat <seconds> <args...>: start, SIGKILL after <seconds>, print rc
  local t=$1; shift; dotnet "$ROOT/samples/Ghostie.Cli/bin/Release/net10.0/Ghostie.Cli.dll" "$@" </dev/null >$R/k.out 2>$R/k.err & local pid=$!; sleep $t; kill -9 $pid 2>/dev/null && echo "  killed after ${t}s" || echo "  finished before ${t}s"; wait $pid 2>/dev/null; echo "  rc=$? $(head -c 200 $R/k.out $R/k.err | tr "\n" " ")"; }
for i in $(seq 1 $ROUNDS); do
  t=$(python3 -c "import random;random.seed($i);print(round(random.uniform(${LO:-0.3},${HI:-1.2}),2))")
  echo "push round $i"; killat $t sync push --home $R/a
  G memory list --home $R/a >/dev/null; echo "  memory list rc=$?"; G sync status --home $R/a --json >/dev/null; echo "  status rc=$?"
done
G sync push --home $R/a --json > $R/push.json; echo "final push rc=$? $(python3 -c "import json;d=json.load(open('$R/push.json'));print(d['uploaded'],d['success'],len(d['problems']))")"
for i in $(seq 1 $ROUNDS); do
  t=$(python3 -c "import random;random.seed(100+$i);print(round(random.uniform(${LO:-0.3},${HI:-1.2}),2))")
  echo "pull round $i"; killat $t sync pull --home $R/b
  G memory list --home $R/b >/dev/null; echo "  memory list rc=$?"; G sync status --home $R/b --json >/dev/null; echo "  status rc=$?"
done
G sync pull --home $R/b --json > $R/pull.json; echo "final pull rc=$? $(python3 -c "import json;d=json.load(open('$R/pull.json'));print(d['downloaded'],d['success'],len(d['problems']))")"
G sync push --home $R/a --json | python3 -c "import json,sys;d=json.load(sys.stdin);print('push again: uploaded',d['uploaded'])"
echo "memories a=$(ls $R/a/memories | wc -l) b=$(ls $R/b/memories | wc -l) (ls hides the dot-named temp files)"
python3 - $R <<'PY'
import json, os, sys
R = sys.argv[1]
def load(h):
    out = {}
    for f in [f for f in os.listdir(f"{R}/{h}/memories") if f.endswith(".json") and not f.startswith(".")]:
        r = json.load(open(f"{R}/{h}/memories/{f}")); out[r["id"]] = (r["content"], r["category"])
    return out
a, b = load("a"), load("b")
print("converged" if a == b else f"DIFFER: only a {len(a.keys()-b.keys())}, only b {len(b.keys()-a.keys())}, differing {sum(1 for k in a.keys()&b.keys() if a[k]!=b[k])}")
PY
echo "leftover temp files (expected none): $(find $R/a $R/b $R/repo -name "*.tmp*")"
grep -rl "bulk memory" $R/repo | head -2; echo "(no repo file with content = good)"

#!/usr/bin/env bash
# Writes the public API baselines of every library package (src/*/PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt)
# from the build: symbols added since the files were written go into PublicAPI.Unshipped.txt, removed ones leave it.
# Run it after a deliberate change of a public surface and commit the diff with the change; the build fails (RS0016,
# RS0017) on a public change the files do not list.
#   scripts/update-public-api.sh [--ship] [src/<Project> ...]
#   --ship   after writing, move every Unshipped entry into Shipped (at a release)
set -euo pipefail
cd "$(dirname "$0")/.."

ship=0
projects=()
for arg in "$@"; do
  case "$arg" in
    --ship) ship=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) projects+=("$arg") ;;
  esac
done
if [ ${#projects[@]} -eq 0 ]; then
  for d in src/*/; do [ -n "$(ls "$d"*.csproj 2>/dev/null)" ] && projects+=("${d%/}"); done
fi

# Build everything once (the analyzers' findings as warnings), so each package below can be rebuilt alone: an
# up-to-date project reports nothing, so each one is rebuilt without its references and without incremental skips.
dotnet build Ghostie.Sync.sln -c Release -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= -nologo -v q "-clp:NoSummary" >/dev/null 2>&1 || true

for dir in "${projects[@]}"; do
  csproj=$(ls "$dir"/*.csproj 2>/dev/null | head -1)
  [ -n "$csproj" ] || { echo "update-public-api: no project in $dir" >&2; exit 2; }
  for f in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [ -s "$dir/$f" ] || printf '#nullable enable\n' > "$dir/$f"
  done
  echo "update-public-api: $dir" >&2
  # The build names every public symbol the files lack (RS0016) and every listed one the code no longer has
  # (RS0017), each in the exact form the files use: add the first to Unshipped, drop the second, until it builds.
  # (dotnet format's code fix for these finds nothing once the files have entries, so the build is the source.)
  for attempt in 1 2 3; do
    log=$(mktemp)
    dotnet build "$csproj" -c Release --no-incremental -p:BuildProjectReferences=false -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= -nologo -v q "-clp:NoSummary" >"$log" 2>&1 || true
    python3 - "$dir" "$log" <<'PY' || { rm -f "$log"; break; }
import re, sys
folder, log = sys.argv[1], sys.argv[2]
text = open(log, encoding="utf-8", errors="replace").read()
mine = [l for l in text.splitlines() if "/" + folder.rstrip("/") + "/" in l or folder.rstrip("/") in l]
added = set(re.findall(r"RS0016: Symbol '(.+?)' is not part of the declared public API", "\n".join(mine)))
removed = set(re.findall(r"RS0017: Symbol '(.+?)' is part of the declared API", "\n".join(mine)))
if not added and not removed:
    sys.exit(1)  # nothing (more) to change
path = folder + "/PublicAPI.Unshipped.txt"
lines = [l for l in open(path, encoding="utf-8").read().splitlines() if l.strip() and l != "#nullable enable"]
shipped = [l for l in open(folder + "/PublicAPI.Shipped.txt", encoding="utf-8").read().splitlines()]
lines = [l for l in lines if l not in removed] + sorted(added)
for r in removed & set(shipped):
    lines.append("*REMOVED*" + r)  # a shipped symbol's removal is recorded, as the analyzers ask
open(path, "w", encoding="utf-8").write("#nullable enable\n" + "\n".join(sorted(set(lines))) + "\n")
print(f"  +{len(added)} -{len(removed)}", file=sys.stderr)
PY
    rm -f "$log"
  done
  for f in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    # a stable order: the header first, then the entries sorted (ordinal), so diffs show only real changes
    { head -1 "$dir/$f"; tail -n +2 "$dir/$f" | { grep -v '^\s*$' || true; } | LC_ALL=C sort -u; } > "$dir/$f.tmp" && mv "$dir/$f.tmp" "$dir/$f"
  done
  if [ "$ship" = 1 ]; then
    { head -1 "$dir/PublicAPI.Shipped.txt"; { tail -n +2 "$dir/PublicAPI.Shipped.txt"; tail -n +2 "$dir/PublicAPI.Unshipped.txt"; } \
      | { grep -v -e '^\s*$' -e '^\*REMOVED\*' || true; } | LC_ALL=C sort -u; } > "$dir/PublicAPI.Shipped.txt.tmp"
    mv "$dir/PublicAPI.Shipped.txt.tmp" "$dir/PublicAPI.Shipped.txt"
    printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  fi
done

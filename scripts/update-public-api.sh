#!/usr/bin/env bash
# Writes the public API baselines of every library package (src/*/PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt)
# from the code: symbols added since the files were written go into PublicAPI.Unshipped.txt, removed ones leave it.
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

for dir in "${projects[@]}"; do
  csproj=$(ls "$dir"/*.csproj 2>/dev/null | head -1)
  [ -n "$csproj" ] || { echo "update-public-api: no project in $dir" >&2; exit 2; }
  for f in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [ -s "$dir/$f" ] || printf '#nullable enable\n' > "$dir/$f"
  done
  echo "update-public-api: $dir" >&2
  # The analyzers' own code fixes add missing symbols (RS0016) and drop removed ones (RS0017); --severity info makes
  # dotnet format apply them although the build treats them as errors.
  dotnet format analyzers "$csproj" --diagnostics RS0016 RS0017 RS0036 RS0037 --severity info --no-restore >/dev/null 2>&1 \
    || dotnet format analyzers "$csproj" --diagnostics RS0016 RS0017 RS0036 RS0037 --severity info
  for f in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    # a stable order: the header first, then the entries sorted (ordinal), so diffs show only real changes
    { head -1 "$dir/$f"; tail -n +2 "$dir/$f" | grep -v '^\s*$' | LC_ALL=C sort -u; } > "$dir/$f.tmp" && mv "$dir/$f.tmp" "$dir/$f"
  done
  if [ "$ship" = 1 ]; then
    { head -1 "$dir/PublicAPI.Shipped.txt"; { tail -n +2 "$dir/PublicAPI.Shipped.txt"; tail -n +2 "$dir/PublicAPI.Unshipped.txt"; } \
      | grep -v '^\s*$' | grep -v '^\*REMOVED\*' | LC_ALL=C sort -u; } > "$dir/PublicAPI.Shipped.txt.tmp"
    mv "$dir/PublicAPI.Shipped.txt.tmp" "$dir/PublicAPI.Shipped.txt"
    printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  fi
done

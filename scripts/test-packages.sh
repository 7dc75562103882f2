#!/usr/bin/env bash
# The package checks of the test command: scripts/test.sh runs this after the test projects (alone:
# GHOSTIE_TEST_PACKAGES_ONLY=1 bash scripts/test.sh). Each check prints one line "[package test] PASS: <name>" or
# "[package test] FAIL: <name>: <why>" (or SKIP) on stdout; scripts/test.sh counts them into its closing line.
#   1. Directory.Build.props tells libraries from the rest by where a project sits in the repository, also in a
#      checkout under folders named samples/ and tests/.
#   2. Every package packs (the libraries with .snupkg symbols, the `ghostie` tool) into a local feed, warning-free.
#   3. Every package carries its README, repository URL and commit, project URL, tags and description.
#   4. No .dll or .pdb in them names a path of the build machine; every .pdb has a SourceLink map and embeds the
#      generated sources.
#   5. The `ghostie` tool installs from the local feed into a temporary tool path; `ghostie --version` runs.
#   6. The installed tool sets up two homes on a temporary folder repository, pushes from one, pulls on the other.
#   7. tests/consumer, a console app with PackageReferences to the local feed only (no ProjectReference), builds
#      with the README's "## Using the library" C# block as its Program.cs and the packages that section's
#      `dotnet add package` lines name, and runs.
# Nothing is installed globally: the tool goes to a temporary --tool-path, and restores of the freshly packed
# packages use a packages folder of their own under artifacts/ (never ~/.nuget/packages), so a stale copy of the same
# version is never picked up. Arguments: --no-build (the solution is already built in Release).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out="$root/artifacts/package-tests"   # build output, ignored by git (.gitignore: artifacts/)
feed="$out/feed"
packages="$out/nuget-packages"
no_build=()
[ "${1:-}" = "--no-build" ] && no_build=(--no-build)

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/ghostie-package-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT

log() { printf '[test-packages] %s\n' "$*" >&2; }
step_started=$SECONDS
took=0
took() { took="$((SECONDS - step_started)) s"; step_started=$SECONDS; }  # sets $took (no subshell: keeps step_started)
pass() { took; printf '[package test] PASS: %s (%s)\n' "$1" "$took"; }
fail() { # a long list of problems is cut: the first ones say enough
  local why=$2; [ "${#why}" -le 1500 ] || why="${why:0:1500} ..."
  took; printf '[package test] FAIL: %s: %s (%s)\n' "$1" "$why" "$took"
}
skip() { took; printf '[package test] SKIP: %s: %s (%s)\n' "$1" "$2" "$took"; }
started=$SECONDS

prop() { dotnet msbuild "$1" -nologo "-getProperty:$2" 2>/dev/null; }
version=$(prop src/Ghostie.Sync.Core/Ghostie.Sync.Core.csproj Version)
libraries=$(cd src && for d in */; do [ -f "$d${d%/}.csproj" ] && echo "${d%/}"; done)

# --- 1. library or not, by place in the repository -------------------------------------------------------------
name="Directory.Build.props: src/* are libraries, the rest not, in a checkout under samples/ and tests/"
checkout="$work/samples/tests/checkout"
mkdir -p "$checkout"
cp Directory.Build.props Directory.Packages.props "$checkout/"
projects=$(find src tests samples benchmarks -name '*.csproj' -not -path '*/node_modules/*' -not -path 'tests/consumer/*' | sort)
for p in $projects; do mkdir -p "$checkout/$(dirname "$p")" && cp "$p" "$checkout/$p"; done
# One msbuild run evaluates them all: a target added through CustomAfterMicrosoftCommonTargets reports each one's
# IsPackable and NoWarn (no restore or build needed for that).
cat >"$work/kind.targets" <<'EOF'
<Project>
  <Target Name="GhostieKind" Returns="@(GhostieKind)">
    <ItemGroup><GhostieKind Include="$(MSBuildProjectFullPath)" IsPackable="$(IsPackable)" NoWarn="$(NoWarn)" /></ItemGroup>
  </Target>
</Project>
EOF
cat >"$checkout/kinds.proj" <<EOF
<Project>
  <ItemGroup><P Include="$(printf '%s;' $projects)" /></ItemGroup>
  <Target Name="Report">
    <MSBuild Projects="@(P)" Targets="GhostieKind" Properties="CustomAfterMicrosoftCommonTargets=$work/kind.targets">
      <Output TaskParameter="TargetOutputs" ItemName="K" />
    </MSBuild>
    <Message Importance="high" Text="KIND %(K.Identity)|%(K.IsPackable)|%(K.NoWarn)" />
  </Target>
</Project>
EOF
kinds=$(dotnet msbuild "$checkout/kinds.proj" -nologo -t:Report 2>&1)
problems=""
[ "$(grep -c '^src/' <<<"$projects")" -gt 0 ] || problems="no project found under src/;"
for p in $projects; do
  line=$(grep -F "KIND $checkout/$p|" <<<"$kinds" | head -1)
  [ -n "$line" ] || { problems="$problems $p: not evaluated ($(grep -E 'error' <<<"$kinds" | head -1));"; continue; }
  packable=$(cut -d'|' -f2 <<<"$line"); nowarn=$(cut -d'|' -f3 <<<"$line")
  case "$p" in
    src/*) want_packable=true; want_docs=required ;;
    samples/Ghostie.Cli/*) want_packable=true; want_docs=optional ;;
    *) want_packable=false; want_docs=optional ;;
  esac
  docs=required; case "$nowarn" in *CS1591*) docs=optional ;; esac
  [ "$packable" = "$want_packable" ] || problems="$problems $p: IsPackable=$packable, expected $want_packable;"
  [ "$docs" = "$want_docs" ] || problems="$problems $p: XML docs $docs, expected $want_docs;"
done
if [ -z "$problems" ]; then pass "$name"; else fail "$name" "$problems"; fi

# --- 2. pack everything into the local feed ------------------------------------------------------------------
name="dotnet pack: every library (.nupkg + .snupkg) and the ghostie tool into $out/feed, no warnings"
rm -rf "$feed" && mkdir -p "$feed"
dotnet pack Ghostie.Sync.sln -c Release -o "$feed" --nologo "${no_build[@]}" >"$out/pack.log" 2>&1
pack_status=$?
missing=""
for lib in $libraries; do
  for ext in nupkg snupkg; do [ -f "$feed/$lib.$version.$ext" ] || missing="$missing $lib.$version.$ext"; done
done
[ -f "$feed/Ghostie.Cli.$version.nupkg" ] || missing="$missing Ghostie.Cli.$version.nupkg"
warnings=$(grep -E ': warning [A-Z]*[0-9]*|: warning :' "$out/pack.log" | sort -u | head -5)
if [ "$pack_status" -ne 0 ]; then
  fail "$name" "dotnet pack exited $pack_status (see $out/pack.log): $(grep -E ': error' "$out/pack.log" | sort -u | head -3)"
elif [ -n "$missing" ]; then fail "$name" "missing:$missing"
elif [ -n "$warnings" ]; then fail "$name" "warnings: $warnings"
else pass "$name"; fi

# --- 3. metadata ---------------------------------------------------------------------------------------------
name="package metadata: README, repository URL and commit, project URL, tags, description in every package"
problems=""
for pkg in $libraries Ghostie.Cli; do
  file="$feed/$pkg.$version.nupkg"
  [ -f "$file" ] || { problems="$problems $pkg: not packed;"; continue; }
  nuspec=$(unzip -p "$file" "$pkg.nuspec" 2>/dev/null)
  readme=$(unzip -p "$file" README.md 2>/dev/null)
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || problems="$problems $pkg: no <readme>;"
  [ "${#readme}" -gt 200 ] || problems="$problems $pkg: README.md missing or shorter than 200 characters;"
  grep -Eq '<repository type="git" url="https://github.com/[^"]+" (branch="[^"]*" )?commit="[0-9a-f]{40}"' <<<"$nuspec" \
    || problems="$problems $pkg: no <repository> with a GitHub URL and a commit;"
  grep -q '<projectUrl>https://' <<<"$nuspec" || problems="$problems $pkg: no <projectUrl>;"
  grep -Eq '<tags>[^<]*ghostie[^<]*</tags>' <<<"$nuspec" || problems="$problems $pkg: no <tags>;"
  grep -Eq '<description>.{40,}</description>' <<<"$nuspec" || problems="$problems $pkg: no <description>;"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || problems="$problems $pkg: no MIT license expression;"
done
if [ -z "$problems" ]; then pass "$name"; else fail "$name" "$problems"; fi

# --- 4. deterministic paths, SourceLink, embedded generated sources ------------------------------------------
name="no build path (checkout, temp, home) in any packaged .dll or .pdb; every .pdb has SourceLink and embedded generated sources"
problems=""
extract="$work/extracted"
for file in "$feed"/*.nupkg "$feed"/*.snupkg; do
  [ -f "$file" ] || continue
  dir="$extract/$(basename "$file")"
  mkdir -p "$dir" && unzip -qq -o "$file" -d "$dir"
done
# Our own assemblies only: the tool package also carries third-party dlls, whose paths are theirs.
ours=$(find "$extract" -type f \( -name 'Ghostie.*.dll' -o -name 'Ghostie.*.pdb' \) | sort)
[ -n "$ours" ] || problems="nothing extracted;"
# (strings goes to a file first: `strings | grep -q` under pipefail fails when grep stops reading early.)
for f in $ours; do
  strings -a "$f" >"$work/strings.txt"; strings -a -el "$f" >>"$work/strings.txt"
  leaked=$(grep -F -e "$root" -e "$work" -e "${TMPDIR:-/tmp}/" -e "$HOME/" "$work/strings.txt" | head -2)
  [ -z "$leaked" ] || problems="$problems ${f#"$extract"/}: $leaked;"
done
for f in $(find "$extract" -type f -name 'Ghostie.*.pdb' -path '*.snupkg/*' | sort) \
         $(find "$extract/Ghostie.Cli.$version.nupkg" -type f -name 'Ghostie.Cli.pdb' 2>/dev/null); do
  strings -a "$f" >"$work/strings.txt"
  grep -Eq '"documents":\{"/_/\*":"https://raw.githubusercontent.com/[^"]+/[0-9a-f]{40}/\*"' "$work/strings.txt" \
    || problems="$problems ${f#"$extract"/}: no SourceLink map to a GitHub commit;"
  # EmbedUntrackedSources: the generated AssemblyInfo is not in git, so it is embedded in the .pdb.
  grep -q 'AssemblyInfo.cs' "$work/strings.txt" || problems="$problems ${f#"$extract"/}: generated AssemblyInfo.cs not embedded;"
done
lib_pdbs=$(find "$extract" -type f -name 'Ghostie.*.pdb' -path '*.snupkg/*' | wc -l)
[ "$lib_pdbs" -ge "$(echo "$libraries" | wc -w)" ] || problems="$problems only $lib_pdbs library .pdb files in the .snupkg packages;"
if [ -z "$problems" ]; then pass "$name"; else fail "$name" "$problems"; fi

# NuGet settings for everything below: the local feed for Ghostie packages, the usual registry for the rest, and a
# packages folder of our own from which this run's Ghostie packages are removed first.
rm -rf "$packages"/ghostie.* 2>/dev/null
export NUGET_PACKAGES="$packages"

# --- 5. the tool from the local feed -------------------------------------------------------------------------
name="dotnet tool install ghostie $version from the local feed (temporary --tool-path); ghostie --version"
tools="$work/tools"
cat >"$work/tool-nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
  </packageSources>
</configuration>
EOF
ghostie="$tools/ghostie"
if ! dotnet tool install Ghostie.Cli --version "$version" --tool-path "$tools" --configfile "$work/tool-nuget.config" >"$out/tool-install.log" 2>&1; then
  fail "$name" "dotnet tool install failed: $(tail -3 "$out/tool-install.log" | tr '\n' ' ')"
elif ! reported=$("$ghostie" --version 2>&1); then
  fail "$name" "ghostie --version failed: $reported"
elif [ "${reported%%+*}" != "$version" ]; then
  fail "$name" "ghostie --version printed '$reported', expected $version"
else
  pass "$name"
fi

# --- 6. the installed tool, for real ------------------------------------------------------------------------
name="installed ghostie: setup, memory add and push on one home; setup (join) and pull on a second; the memory arrives"
if [ ! -x "$ghostie" ]; then
  fail "$name" "the tool is not installed (see the check before)"
else
  repo="$work/repo"; mkdir -p "$repo"
  text="packaged tool check $RANDOM$RANDOM"
  tool_log="$out/tool-run.log"
  (
    set -e
    GHOSTIE_PASSPHRASE=$(head -c 24 /dev/urandom | base64)
    export GHOSTIE_PASSPHRASE
    export GHOSTIE_HOME="$work/home-a"
    "$ghostie" sync setup --backend folder --path "$repo" --device ci-a
    "$ghostie" memory add "$text" --category tests
    "$ghostie" sync push
    export GHOSTIE_HOME="$work/home-b"
    "$ghostie" sync setup --backend folder --path "$repo" --device ci-b
    "$ghostie" sync pull
    "$ghostie" memory list --json > "$work/list-b.json"
  ) </dev/null >"$tool_log" 2>&1
  run_status=$?
  if [ "$run_status" -ne 0 ]; then
    fail "$name" "a command exited $run_status: $(tail -2 "$tool_log" | tr '\n' ' ')"
  elif ! grep -qF "$text" "$work/list-b.json"; then
    fail "$name" "the second home's memory list does not hold the pushed memory"
  else
    pass "$name"
  fi
fi

# --- 7. the README's snippet, from the packages -------------------------------------------------------------
name="tests/consumer: README \"## Using the library\" C# block built from the local feed's packages and run"
consumer="$out/consumer"
rm -rf "$consumer" && mkdir -p "$consumer" && cp -r tests/consumer/. "$consumer/"
# The section: from its heading to the next "## " heading; the program: its first ```csharp block, as written.
section=$(awk '/^## Using the library[[:space:]]*$/ {on=1; next} on && /^## / {exit} on {print}' README.md)
printf '%s\n' "$section" | awk '/^```csharp[[:space:]]*$/ && !done {on=1; next} on && /^```/ {done=1; on=0; next} on {print}' \
  >"$consumer/Program.cs"
# The packages: every `dotnet add package <id> [--version <v>]` in that section. Ghostie packages come from the
# local feed at this build's version; others at the README's --version, else at the version Directory.Packages.props pins.
refs=""; problems=""
while read -r id given; do
  [ -n "$id" ] || continue
  if [ -n "$given" ]; then v=$given
  elif [[ "$id" == Ghostie.* ]]; then v=$version
  else v=$(grep -oE "<PackageVersion Include=\"$id\" Version=\"[^\"]+\"" Directory.Packages.props | sed -E 's/.*Version="([^"]+)"/\1/')
  fi
  [ -n "$v" ] || { problems="$problems $id has no --version in README.md and no pin in Directory.Packages.props;"; continue; }
  refs="$refs    <PackageReference Include=\"$id\" Version=\"$v\" />"$'\n'
done < <(printf '%s\n' "$section" | grep -oE 'dotnet add package [A-Za-z0-9_.-]+( +--version +[^ `]+)?' \
          | sed -E 's/dotnet add package ([^ ]+)( +--version +([^ ]+))?/\1 \3/' | sort -u)
if [ ! -s "$consumer/Program.cs" ]; then
  fail "$name" "README.md has no \`\`\`csharp block under \"## Using the library\""
elif [ -z "$refs" ]; then
  fail "$name" "README.md's \"## Using the library\" names no package (no \`dotnet add package ...\` line)"
elif [ -n "$problems" ]; then
  fail "$name" "$problems"
else
  printf '<Project>\n  <ItemGroup>\n%s  </ItemGroup>\n</Project>\n' "$refs" >"$consumer/Packages.g.props"
  if ! dotnet build "$consumer/Consumer.csproj" -c Release --nologo >"$out/consumer-build.log" 2>&1; then
    fail "$name" "does not build from the packages (see $out/consumer-build.log): $(grep -E ': error' "$out/consumer-build.log" | sed -E 's/ \[.*//' | sort -u | head -4 | tr '\n' ' ')"
  else
    # It runs with a passphrase in GHOSTIE_PASSPHRASE, HOME and the temp folder in $work, and, where the block
    # names absolute folders (/home/me/..., /mnt/usb/...), in a private mount namespace with an empty tmpfs over
    # each such top-level folder, so nothing is written outside $work. Where that cannot be done (no unshare; the
    # folder does not exist; it holds the checkout, dotnet or $HOME), the block is built but not run: SKIP.
    mounts=""
    for top in $(grep -oE '"/[A-Za-z0-9._-]+/[^"]*"' "$consumer/Program.cs" | sed -E 's|^"/([^/"]+).*|/\1|' | sort -u); do
      case "$top" in /proc|/sys|/dev|/usr|/etc|/bin|/lib|/lib64|/sbin) continue ;; esac
      [ -d "$top" ] || { mounts="unsafe"; break; }  # no folder to mount over: the run would create it for real
      for keep in "$root" "$work" "$(dirname "$(readlink -f "$(command -v dotnet)")")" "$HOME"; do
        case "$keep/" in "$top"/*) mounts="unsafe"; break 2 ;; esac
      done
      mounts="$mounts $top"
    done
    run=(env HOME="$work/consumer-home" TMPDIR="$work" GHOSTIE_PASSPHRASE="$(head -c 24 /dev/urandom | base64)"
         dotnet "$consumer/bin/Release/net10.0/Consumer.dll")
    mkdir -p "$work/consumer-home"
    sandbox=()
    if [ -n "$mounts" ] && [ "$mounts" != "unsafe" ]; then
      script='set -e; for m in '"$mounts"'; do mount -t tmpfs ghostie-consumer "$m"; done; exec "$@"'
      if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
        sandbox=(unshare --mount --propagation private sh -c "$script" sh)
      elif unshare --user --map-root-user --mount true 2>/dev/null; then
        sandbox=(unshare --user --map-root-user --mount sh -c "$script" sh)
      else
        mounts="unsafe"
      fi
    fi
    if [ "$mounts" = "unsafe" ]; then
      skip "$name" "built, not run: the block writes to absolute folders this machine cannot hide (no mount namespace)"
    elif (cd "$work" && "${sandbox[@]}" "${run[@]}") </dev/null >"$out/consumer-run.log" 2>&1; then
      pass "$name"
    else
      fail "$name" "built, but the run failed (see $out/consumer-run.log): $(tail -3 "$out/consumer-run.log" | tr '\n' ' ')"
    fi
  fi
fi

log "package checks took $((SECONDS - started)) s"

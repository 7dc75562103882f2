#!/usr/bin/env bash
# The whole test suite, as README.md gives it: installs what the tests need, builds, runs every test project, then
# the package checks (scripts/test-packages.sh: packs every package into a local feed, installs the `ghostie` tool
# from it and runs it, builds and runs the README's library snippet from the packages), and ends with a plain
# "N passed, N failed, N skipped" line counting both. Exit code: 0 only if everything passed.
# GHOSTIE_TEST_PACKAGES_ONLY=1 runs the package checks alone (no installs, no test projects).
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ "${GHOSTIE_TEST_PACKAGES_ONLY:-}" = 1 ]; then
  log "GHOSTIE_TEST_PACKAGES_ONLY=1: the package checks only"
  bash scripts/test-packages.sh | tee "$out"
  read -r passed failed skipped < <(awk '/^\[package test\] PASS:/ {p++} /^\[package test\] FAIL:/ {f++} /^\[package test\] SKIP:/ {s++} END {print p+0, f+0, s+0}' "$out")
  [ $((passed + failed)) -gt 0 ] || failed=1  # the script stopped before any check reported
  echo "${passed} passed, ${failed} failed, ${skipped} skipped"
  [ "$failed" -eq 0 ]
  exit $?
fi

# The independent decryptor (tests/interop/decrypt.py) runs on Debian's python3 with python3-cryptography, and
# python3-argon2 (argon2-cffi) for Argon2id key files.
PYTHON=/usr/bin/python3
if ! "$PYTHON" -c 'import cryptography, argon2.low_level' 2>/dev/null; then
  log "installing python3-cryptography and python3-argon2 (needed by the interop tests)"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-cryptography python3-argon2) >&2 \
      || log "could not install python3-cryptography and python3-argon2; the interop tests will fail"
  else
    log "not root: install them yourself (sudo apt-get install python3-cryptography python3-argon2)"
  fi
fi
export GHOSTIE_INTEROP_PYTHON="$PYTHON"

# The Node decryptor (tests/interop/decrypt.mjs) takes Argon2id from @noble/hashes, pinned in tests/interop/package-lock.json.
if [ ! -d tests/interop/node_modules/@noble/hashes ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]; then
  log "installing the Node decryptor's packages (@noble/hashes) into tests/interop/node_modules"
  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error >&2 || log "npm ci failed in tests/interop; the Node interop tests will fail"
fi

# Redis 7 (Debian's redis-server): the agent-state tests start their own servers with it on 127.0.0.1.
if ! command -v redis-server >/dev/null 2>&1; then
  log "installing redis-server (needed by the agent-state tests)"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2 \
      || log "could not install redis-server; the agent-state tests will fail"
  else
    log "not root: install redis-server yourself (sudo apt-get install redis-server)"
  fi
fi

# Real servers the backend and vector tests start on 127.0.0.1 (each test assembly starts and stops its own):
# moto_server comes with the machine image; s3rver, Azurite and PGlite (pgvector) are npm packages pinned in
# tests/servers/package-lock.json.
if ! command -v moto_server >/dev/null 2>&1; then
  log "moto_server not found: installing it with pip (needed by the S3 tests)"
  python3 -m pip install --quiet 'moto[server]==5.2.1' >&2 || log "could not install moto_server; the S3 tests will fail"
fi
if [ ! -x tests/servers/node_modules/.bin/azurite-blob ] || [ tests/servers/package-lock.json -nt tests/servers/node_modules/.package-lock.json ]; then
  log "installing the npm test servers (s3rver, azurite, pglite) into tests/servers/node_modules"
  npm ci --prefix tests/servers --no-audit --no-fund --loglevel=error >&2 || log "npm ci failed; the backend tests will fail"
fi

# PostgreSQL 15 for the postgres backend tests: each test assembly initializes its own cluster in a temporary folder
# (as the postgres user when run as root), on 127.0.0.1, and stops it after. Nothing is installed or started here.
export GHOSTIE_PG_BIN="${GHOSTIE_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$GHOSTIE_PG_BIN/initdb" ] || [ ! -x "$GHOSTIE_PG_BIN/postgres" ]; then
  log "PostgreSQL 15 not found in $GHOSTIE_PG_BIN: the postgres backend tests will fail (Debian: apt-get install postgresql-15, or set GHOSTIE_PG_BIN)"
elif [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  log "running as root without a 'postgres' user: initdb refuses root, so the postgres backend tests will fail"
fi

dotnet test Ghostie.Sync.sln -c Release 2>&1 | tee "$out"
status=${PIPESTATUS[0]}

# dotnet test prints one summary per test assembly: "Passed!  - Failed: 0, Passed: 127, Skipped: 0, ...".
read -r passed failed skipped < <(grep -E '^(Passed|Failed)!' "$out" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # the build or the runner failed before any test could report
fi

# The package checks, one test each, on the Release build dotnet test just made.
packages_out=$(mktemp)
bash scripts/test-packages.sh --no-build | tee "$packages_out"
read -r p f s < <(awk '/^\[package test\] PASS:/ {p++} /^\[package test\] FAIL:/ {f++} /^\[package test\] SKIP:/ {s++} END {print p+0, f+0, s+0}' "$packages_out")
rm -f "$packages_out"
[ $((p + f)) -gt 0 ] || f=1  # the script stopped before any check reported
passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
[ "$f" -eq 0 ] || status=1
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"

#!/usr/bin/env bash
# Load benchmark (docs/performance.md, "Load: many users on one PostgreSQL and one Redis"): starts PostgreSQL 15 and
# redis-server on 127.0.0.1 in temporary folders, runs benchmarks/Ghostie.Sync.LoadBench over them, stops them.
#
#   bash benchmarks/compare-load.sh                          users 100,1000,10000 x clients 10,100,1000 (the issue's grid)
#   USERS=100,1000 CLIENTS=10,100 DURATION=10 bash benchmarks/compare-load.sh
#   SHARDS=2 USERS=1000 CLIENTS=100 bash benchmarks/compare-load.sh     the same point on 1 server, then on 2 (split by hash)
#   TENANCY=shared ...                                        one login for every repository (comparison only)
#   MODE=open USERS=1000 CLIENTS=1000 INTERVALS=60,30 DURATION=60 bash benchmarks/compare-load.sh
#                                  open loop: each client (one user) starts a session every INTERVALS seconds (jitter
#                                  JITTER, or ARRIVALS=poisson), latency from the scheduled start; warm-up one interval
#                                  unless WARMUP is set
#   IDLE=300 POOL=2 ...                                       Npgsql Connection Idle Lifetime (s) and Max Pool Size per user
#
# PostgreSQL runs with its durable defaults (fsync on, synchronous_commit on), max_connections 1300 (every user is
# its own login, so every active client is a connection), shared_buffers 512MB. Redis: append-only file, fsync every
# second (its usual production setting). Both servers and the clients share this machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-100,1000,10000}
CLIENTS=${CLIENTS:-10,100,1000}
SECONDS_PER_POINT=${DURATION:-20}   # not SECONDS: bash sets that itself
MODE=${MODE:-closed}
INTERVALS=${INTERVALS:-300,60,10}
ARRIVALS=${ARRIVALS:-uniform}
JITTER=${JITTER:-0.1}
DRAIN=${DRAIN:-60}
IDLE=${IDLE:-2}
POOL=${POOL:-2}
if [ "$MODE" = open ]; then WARMUP=${WARMUP:-auto}; else WARMUP=${WARMUP:-3}; fi
SEED=${SEED:-1}
TENANCY=${TENANCY:-roles}
SHARDS=${SHARDS:-1}
PG_BIN=${GHOSTIE_PG_BIN:-/usr/lib/postgresql/15/bin}
MAX_CONNECTIONS=${MAX_CONNECTIONS:-1300}

[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL 15 is not installed ($PG_BIN/initdb): apt-get install postgresql-15, or set GHOSTIE_PG_BIN" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-server is not installed: apt-get install redis-server" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/ghostie-load-XXXXXX)
chmod 755 "$work"
pids=()
pgdirs=()
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
cleanup() {
  for dir in "${pgdirs[@]}"; do as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
connections=()
for shard in $(seq 1 "$SHARDS"); do
  dir="$work/pg$shard"
  mkdir -p "$dir"
  echo "$password" >"$dir/pw"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A scram-sha-256 --pwfile "$dir/pw" -E UTF8 --locale C --no-instructions >/dev/null
  rm -f "$dir/pw"
  port=$(free_port)
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port -k $dir \
    -c max_connections=$MAX_CONNECTIONS -c shared_buffers=512MB -c log_min_messages=warning" start >/dev/null
  pgdirs+=("$dir")
  connections+=("Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres")
done

redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --save "" --appendonly yes --appendfsync everysec \
  --maxclients 10000 --daemonize no >"$work/redis/log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

dotnet build benchmarks/Ghostie.Sync.LoadBench -c Release -v q -nologo >/dev/null
BENCH=(dotnet benchmarks/Ghostie.Sync.LoadBench/bin/Release/net10.0/Ghostie.Sync.LoadBench.dll)
export GHOSTIE_LOAD_REDIS="127.0.0.1:$redis_port"
GHOSTIE_LOAD_PG=$(IFS='|'; echo "${connections[*]}")
export GHOSTIE_LOAD_PG

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $(free -g | awk '/Mem:/ {print $2 " GiB"}'); $("$PG_BIN/postgres" --version); $(redis-server --version | cut -d' ' -f1-3); dotnet $(dotnet --version)"
echo "# uptime before: $(uptime)"
status=0
MODE_ARGS=(--mode "$MODE" --pool "$POOL" --idle "$IDLE")
[ "$MODE" = open ] && MODE_ARGS+=(--interval "$INTERVALS" --arrivals "$ARRIVALS" --jitter "$JITTER" --drain "$DRAIN")
[ "$WARMUP" = auto ] || MODE_ARGS+=(--warmup "$WARMUP")
if [ "$SHARDS" -gt 1 ]; then
  # The same point on 1 server, then on all SHARDS servers (repositories split by hash of the name); fresh roles each run.
  for servers in 1 "$SHARDS"; do
    echo "## $servers PostgreSQL server(s)"
    "${BENCH[@]}" --users "$USERS" --concurrency "$CLIENTS" --seconds "$SECONDS_PER_POINT" --seed "$SEED" "${MODE_ARGS[@]}" \
      --tenancy "$TENANCY" --servers "$servers" --prefix "s${servers}u" || status=$?
  done
else
  "${BENCH[@]}" --users "$USERS" --concurrency "$CLIENTS" --seconds "$SECONDS_PER_POINT" --seed "$SEED" "${MODE_ARGS[@]}" \
    --tenancy "$TENANCY" --prefix u || status=$?
fi
echo "# uptime after: $(uptime)"
exit "$status"

#!/usr/bin/env bash
# Installs (from Debian packages) and starts PostgreSQL and Redis on loopback for the tests,
# each in a throw-away folder. Prints the export lines for DATABASE_URL and REDIS_URL.
# Usage: eval "$(scripts/ci/services.sh start)"; scripts/ci/services.sh stop
set -euo pipefail
STATE=${SERVICES_DIR:-/tmp/fhir-gateway-services}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  return 1
}

install() {
  if ! pg_bin >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql redis-server >&2
  fi
}

start() {
  install
  local bin; bin=$(pg_bin)
  mkdir -p "$STATE"
  if [ ! -f "$STATE/pg/PG_VERSION" ]; then
    rm -rf "$STATE/pg"; mkdir -p "$STATE/pg"; chown postgres "$STATE/pg" "$STATE"
    su postgres -c "$bin/initdb -D $STATE/pg -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >&2
  fi
  if ! su postgres -c "$bin/pg_ctl -D $STATE/pg status" >/dev/null 2>&1; then
    su postgres -c "$bin/pg_ctl -D $STATE/pg -l $STATE/pg.log -w -o '-c listen_addresses=127.0.0.1 -p $PG_PORT -k $STATE -c max_connections=200 -c fsync=on' start" >&2
  fi
  su postgres -c "$bin/psql -h 127.0.0.1 -p $PG_PORT -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='gateway_test'\"" | grep -q 1 \
    || su postgres -c "$bin/createdb -h 127.0.0.1 -p $PG_PORT -U postgres gateway_test" >&2
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" >&2
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/gateway_test"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

stop() {
  local bin; bin=$(pg_bin) || true
  [ -n "${bin:-}" ] && su postgres -c "$bin/pg_ctl -D $STATE/pg -m fast stop" >&2 || true
  [ -f "$STATE/redis.pid" ] && kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true
}

"${1:-start}"

#!/usr/bin/env bash
# A throwaway PostgreSQL for the cloud's tests. Prints one line on stdout: the URL to put in
# FLASHLINE_TEST_PG_URL. Progress and errors go to stderr.
#
#   export FLASHLINE_TEST_PG_URL="$(bash scripts/ensure-postgres.sh)"   # start, or reuse a running one
#   bash scripts/ensure-postgres.sh --stop                               # stop it and delete its files
#
# When FLASHLINE_TEST_PG_URL is set already, it is printed back and nothing is started. Otherwise
# the cluster lives in ${FLASHLINE_PG_DIR:-$TMPDIR/flashline-pg-<uid>}: initdb with trust auth,
# listening on 127.0.0.1 on a free port (and a unix socket in the same folder), fsync off (the data
# is thrown away). Installs Debian's `postgresql` package when it is missing and we are root;
# otherwise fails naming the package. As root, the server runs as the `postgres` user.
set -euo pipefail

dir=${FLASHLINE_PG_DIR:-${TMPDIR:-/tmp}/flashline-pg-$(id -u)}
data=$dir/data
# How long pg_ctl waits for the server to start or stop (seconds).
PG_CTL_TIMEOUT_S=60

say() { echo "[ensure-postgres] $*" >&2; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

if [ "${1:-}" = "--stop" ]; then
  bin=$(find_bin || true)
  if [ -n "$bin" ] && [ -f "$data/PG_VERSION" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m immediate -t "$PG_CTL_TIMEOUT_S" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  say "stopped and removed $dir"
  exit 0
fi

if [ -n "${FLASHLINE_TEST_PG_URL:-}" ]; then
  echo "$FLASHLINE_TEST_PG_URL"
  exit 0
fi

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bin=$(find_bin || true)
  fi
  if [ -z "$bin" ]; then
    say "PostgreSQL is not installed. Install Debian's package: sudo apt-get install -y postgresql"
    say "(or set FLASHLINE_TEST_PG_URL to a PostgreSQL database the tests may use)"
    exit 1
  fi
fi

mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { say "the postgres user is missing (Debian's postgresql package makes it)"; exit 1; }
  chown postgres: "$dir"
fi

# One starter at a time (vitest workers may call this together). The server must not inherit
# the lock's descriptor (9>&- below), or it would hold the lock for as long as it runs.
exec 9>"$dir/.lock"
flock -w "$PG_CTL_TIMEOUT_S" 9

if [ -f "$dir/port" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
  exit 0
fi

if [ ! -f "$data/PG_VERSION" ]; then
  rm -rf "$data"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
fi

port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();})")
as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t "$PG_CTL_TIMEOUT_S" \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null 9>&- || { say "PostgreSQL did not start; its log:"; tail -n 20 "$dir/server.log" >&2; exit 1; }
echo "$port" > "$dir/port"
say "PostgreSQL $(basename "$(dirname "$bin")") on 127.0.0.1:$port (data in $data)"
echo "postgres://postgres@127.0.0.1:$port/postgres"

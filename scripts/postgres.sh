#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite (installed from Debian's packages if absent).
# Prints the URL to use as RELAY_TEST_PG_URL on its last line.
set -euo pipefail
PGPORT="${RELAY_TEST_PG_PORT:-55432}"
PGDATA="${RELAY_TEST_PG_DATA:-/tmp/crm-relay-test-pg}"

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

if [ -z "$(pgbin)" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing PostgreSQL from Debian's packages..." >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  else
    echo "PostgreSQL is not installed; run: sudo apt-get install postgresql" >&2
    exit 1
  fi
fi
BIN="$(pgbin)"

as_db_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! pg_isready -q -h 127.0.0.1 -p "$PGPORT" 2>/dev/null && ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
  as_db_user "$BIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 >/dev/null
  # Durability off: a test server's data is thrown away; speed matters more.
  as_db_user "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
fi
echo "postgresql://postgres@127.0.0.1:$PGPORT/postgres"

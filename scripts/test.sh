#!/usr/bin/env bash
# The whole test suite on a fresh machine: virtualenv, pinned packages, a PostgreSQL server, pytest.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

# Both store back ends are tested: SQLite always, PostgreSQL from a throwaway local server.
if [ -z "${RELAY_TEST_PG_URL:-}" ]; then
  if url="$(bash scripts/postgres.sh | tail -1)"; then
    export RELAY_TEST_PG_URL="$url"
  else
    echo "warning: no PostgreSQL server; the PostgreSQL half of the suite will fail under CI" >&2
  fi
fi

# The admin UI's browser tests drive Debian's chromium through Playwright (never `playwright install`).
if [ ! -x "${RELAY_TEST_CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing chromium from Debian's packages..." >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 \
      || echo "warning: could not install chromium; the browser tests will fail under CI" >&2
  else
    echo "warning: chromium is missing (sudo apt-get install chromium); the browser tests will fail under CI" >&2
  fi
fi
export RELAY_TEST_CHROMIUM="${RELAY_TEST_CHROMIUM:-/usr/bin/chromium}"

exec .venv/bin/python -m pytest "$@"

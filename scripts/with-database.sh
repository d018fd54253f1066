#!/usr/bin/env bash
# Runs a command with DATABASE_URL set: the caller's, or a private local cluster started for the
# command and stopped after it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${DATABASE_URL:-}" ]; then exec "$@"; fi
# Stopped on every exit, a failed start included.
trap '"$here/local-postgres.sh" stop' EXIT
DATABASE_URL=$("$here/local-postgres.sh" start "${CLERK_PG_DATABASE:-clerk_functions}")
export DATABASE_URL
CLERK_PG_TCP_URL=$(cat "${CLERK_PG_DIR:-$here/../.build/postgres}/tcp-url"); export CLERK_PG_TCP_URL
export CLERK_LOCAL_POSTGRES="$here/local-postgres.sh"   # lets tests restart the server they were given
echo "local PostgreSQL: $DATABASE_URL" >&2
"$@"

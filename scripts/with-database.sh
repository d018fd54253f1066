#!/usr/bin/env bash
# Runs a command with DATABASE_URL set: the caller's, or a private local cluster started for the
# command and stopped after it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${DATABASE_URL:-}" ]; then exec "$@"; fi
# Stopped on every exit, a failed start included.
trap '"$here/local-postgres.sh" stop' EXIT
# With TLS on the TCP listener too (a throwaway CA) unless CLERK_PG_TLS=0: the store's TLS test needs it.
DATABASE_URL=$(CLERK_PG_TLS="${CLERK_PG_TLS:-1}" "$here/local-postgres.sh" start "${CLERK_PG_DATABASE:-clerk_functions}")
export DATABASE_URL
pg_dir="${CLERK_PG_DIR:-$here/../.build/postgres}"
CLERK_PG_TCP_URL=$(cat "$pg_dir/tcp-url"); export CLERK_PG_TCP_URL
if [ -f "$pg_dir/tls-url" ]; then
  CLERK_PG_TLS_URL=$(cat "$pg_dir/tls-url"); CLERK_PG_TLS_CA_FILE=$(cat "$pg_dir/tls-ca")
  export CLERK_PG_TLS_URL CLERK_PG_TLS_CA_FILE
fi
export CLERK_LOCAL_POSTGRES="$here/local-postgres.sh"   # lets tests restart the server they were given
echo "local PostgreSQL: $DATABASE_URL" >&2
"$@"

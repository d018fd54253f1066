#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for `make run` and `make test`:
#   local-postgres.sh start [DB]  -> (re)creates database DB (default clerk_functions), prints its DATABASE_URL
#                                    (Unix socket only, no TCP port)
#   local-postgres.sh stop
# Data lives in .build/postgres (CLERK_PG_DIR overrides). As root, the server runs as the postgres user,
# because initdb and postgres refuse to run as root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base="${CLERK_PG_DIR:-$root/.build/postgres}"
data="$base/data"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

socket_dir() {
  # A Unix socket path must fit in 107 bytes: fall back to a short folder under /tmp for deep checkouts.
  if [ -f "$base/socket-dir" ]; then cat "$base/socket-dir"; return; fi
  local dir="$base/run"
  if [ ${#dir} -gt 80 ]; then dir=$(mktemp -d /tmp/clerkpg.XXXXXX); fi
  mkdir -p "$dir"
  echo "$dir" > "$base/socket-dir"
  echo "$dir"
}

case "${1:-}" in
  start)
    mkdir -p "$base"
    sock=$(socket_dir)
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$base" "$sock"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_server_user "$pgbin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-sync >"$base/initdb.log" 2>&1 \
        || { cat "$base/initdb.log" >&2; exit 1; }
    fi
    if ! as_server_user "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      # Unix socket for everyday use; a free loopback TCP port too, for what cannot see the socket
      # (the packaged bootstrap under chroot).
      python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' > "$base/port"
      as_server_user "$pgbin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 30 \
        -o "-k $sock -p $(cat "$base/port") -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { tail -n 20 "$base/server.log" >&2; exit 1; }
    fi
    port=$(cat "$base/port")
    db="${2:-clerk_functions}"
    # Throwaway by definition: every start gets an empty database.
    "$pgbin/psql" -h "$sock" -p "$port" -U postgres -d postgres -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
      -c "CREATE DATABASE $db" >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/$db" > "$base/tcp-url"
    echo "postgresql://postgres@/$db?host=$sock&port=$port"
    ;;
  stop)
    if [ -f "$data/PG_VERSION" ]; then as_server_user "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true; fi
    ;;
  restart)
    as_server_user "$pgbin/pg_ctl" -D "$data" -m fast -w restart -l "$base/server.log" >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac

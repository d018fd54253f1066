#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for `make run` and `make test`:
#   local-postgres.sh start [DB]  -> (re)creates database DB (default clerk_functions), prints its DATABASE_URL
#                                    (Unix socket; a loopback TCP URL goes to $base/tcp-url)
#   local-postgres.sh stop | restart
#   local-postgres.sh clean       -> stops the server and removes every folder it used
# Files live in .build/postgres (CLERK_PG_DIR overrides). As root, the server runs as the postgres user,
# because initdb and postgres refuse to run as root. When that user cannot reach the checkout (a parent
# folder such as /root or a `mktemp -d` folder is not traversable), or the path has characters that
# pg_ctl's own shell command cannot carry (", $, `, \), the data, socket and logs go to a private folder
# under the system temp directory instead, owned by the server's user. .build/postgres/server-dir
# records where they are, so `stop`, the next `start` and `clean` (make clean) find them.
# With CLERK_PG_TLS=1 the TCP listener also speaks TLS with a certificate for `localhost` (no IP name, so
# sslmode=verify-full to 127.0.0.1 fails as it should) from a throwaway CA made with the openssl CLI in
# the server's folder; .build/postgres/tls-ca records the CA file and tls-url a verify-full URL for it
# (with-database.sh exports them as CLERK_PG_TLS_CA_FILE and CLERK_PG_TLS_URL).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base="${CLERK_PG_DIR:-$root/.build/postgres}"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

case "$base" in /*) ;; *) base="$PWD/$base" ;; esac

as_server_user() {
  # From /: the caller's folder may be out of the postgres user's reach.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Can the server's user create files in folder $1, and is its path safe inside pg_ctl's "…" quoting?
usable_by_server() {
  case "$1" in *[\"\$\`\\]*) return 1 ;; esac
  as_server_user test -d "$1" -a -w "$1" -a -x "$1" 2>/dev/null
}

# The folder holding data/, run/ and the logs: $base, or the private folder recorded in $base/server-dir.
server_dir() {
  local dir=""
  [ -f "$base/server-dir" ] && dir=$(cat "$base/server-dir")
  if [ -n "$dir" ] && [ -d "$dir" ]; then printf '%s\n' "$dir"; return; fi
  [ "${1:-}" = create ] || { printf '%s\n' "$base"; return; }
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$base"; fi
  if usable_by_server "$base"; then
    dir="$base"
  else
    if [ "$(id -u)" -eq 0 ]; then chown root: "$base"; fi
    local tmp="${TMPDIR:-/tmp}"
    usable_by_server "$tmp" || tmp=/tmp
    dir=$(mktemp -d "$tmp/clerk-postgres.XXXXXX")
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    echo "local PostgreSQL: the postgres user cannot reach $base; its files are in $dir" >&2
  fi
  printf '%s\n' "$dir" > "$base/server-dir"
  printf '%s\n' "$dir"
}

socket_dir() {
  # A Unix socket path must fit in 107 bytes: fall back to a short private folder for deep checkouts.
  local dir=""
  [ -f "$base/socket-dir" ] && dir=$(cat "$base/socket-dir")
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    dir="$srv/run"
    if [ ${#dir} -gt 80 ]; then dir=$(mktemp -d /tmp/clerk-pgsock.XXXXXX); else mkdir -p "$dir"; fi
    printf '%s\n' "$dir" > "$base/socket-dir"
  fi
  printf '%s\n' "$dir"
}

# A value for postgresql.conf: '…' with ' doubled.
conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }
# One entry of unix_socket_directories, a list: "…" (spaces and commas allowed) with " doubled.
list_quote() { printf '"%s"' "${1//\"/\"\"}"; }
# Percent-encoding for a URI query value.
uri_encode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/"))' "$1"; }

# The throwaway CA and the server's certificate and key, made by the server's user in $srv/tls.
make_tls() {
  local tls="$srv/tls"
  as_server_user rm -rf -- "$tls"
  as_server_user mkdir -m 700 -p "$tls"
  as_server_user openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=clerk-functions test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1
  as_server_user openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' | as_server_user tee "$tls/ext.cnf" >/dev/null
  as_server_user openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.pem" >/dev/null 2>&1
  as_server_user test -s "$tls/server.pem" || { echo "local PostgreSQL: openssl could not make the TLS certificates" >&2; exit 1; }
  as_server_user chmod 600 "$tls/server.key"   # PostgreSQL refuses a key others can read
  # The CA certificate is public: readable by the caller, whoever runs the server.
  as_server_user chmod 755 "$tls"; as_server_user chmod 644 "$tls/ca.pem"
  printf 'ssl = on\nssl_cert_file = %s\nssl_key_file = %s\n' "$(conf_quote "$tls/server.pem")" "$(conf_quote "$tls/server.key")"
}

case "${1:-}" in
  start)
    [ -n "$pgbin" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
    mkdir -p "$base"
    srv=$(server_dir create)
    data="$srv/data"
    sock=$(socket_dir)
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$sock"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_server_user "$pgbin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-sync >"$srv/initdb.log" 2>&1 \
        || { cat "$srv/initdb.log" >&2; exit 1; }
    fi
    # Settings with paths go through the configuration file, quoted, never through pg_ctl -o (a shell).
    grep -qs "^include_if_exists = 'clerk-local.conf'" "$data/postgresql.conf" \
      || echo "include_if_exists = 'clerk-local.conf'" | as_server_user tee -a "$data/postgresql.conf" >/dev/null
    if ! as_server_user "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      # Unix socket for everyday use; a free loopback TCP port too, for what cannot see the socket
      # (the packaged bootstrap under chroot).
      python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' > "$base/port"
      tls_conf=""
      rm -f -- "$base/tls-ca"
      if [ "${CLERK_PG_TLS:-0}" = 1 ]; then tls_conf=$(make_tls); printf '%s\n' "$srv/tls/ca.pem" > "$base/tls-ca"; fi
      as_server_user tee "$data/clerk-local.conf" >/dev/null <<EOF
# Written by scripts/local-postgres.sh at every start.
unix_socket_directories = $(conf_quote "$(list_quote "$sock")")
port = $(cat "$base/port")
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
$tls_conf
EOF
      as_server_user "$pgbin/pg_ctl" -D "$data" -l "$srv/server.log" -w -t 30 start >/dev/null \
        || { tail -n 20 "$srv/server.log" >&2; exit 1; }
    fi
    port=$(cat "$base/port")
    db="${2:-clerk_functions}"
    # Throwaway by definition: every start gets an empty database.
    PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -h "$sock" -p "$port" -U postgres -d postgres -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
      -c "CREATE DATABASE \"$db\"" >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/$db" > "$base/tcp-url"
    rm -f -- "$base/tls-url"
    if [ -f "$base/tls-ca" ]; then
      echo "postgresql://postgres@localhost:$port/$db?sslmode=verify-full&sslrootcert=$(uri_encode "$(cat "$base/tls-ca")")" > "$base/tls-url"
    fi
    echo "postgresql://postgres@/$db?host=$(uri_encode "$sock")&port=$port"
    ;;
  stop)
    srv=$(server_dir)
    if [ -n "$pgbin" ] && [ -f "$srv/data/PG_VERSION" ]; then
      as_server_user "$pgbin/pg_ctl" -D "$srv/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  restart)
    srv=$(server_dir)
    as_server_user "$pgbin/pg_ctl" -D "$srv/data" -m fast -w restart -l "$srv/server.log" >/dev/null
    ;;
  clean)
    "$0" stop
    for f in server-dir socket-dir; do
      if [ -f "$base/$f" ]; then
        dir=$(cat "$base/$f")
        # Only what this script made: a private folder of ours under a temp directory.
        case "$(basename "$dir")" in clerk-postgres.??????|clerk-pgsock.??????) rm -rf -- "$dir" ;; esac
      fi
    done
    rm -rf -- "$base"
    ;;
  *)
    echo "usage: $0 start [DB] | stop | restart | clean" >&2; exit 2 ;;
esac

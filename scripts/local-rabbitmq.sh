#!/usr/bin/env bash
# A private, throwaway RabbitMQ node for the tests, on loopback:
#   local-rabbitmq.sh start   -> prints RABBITMQ_URL (amqp://guest:guest@127.0.0.1:PORT)
#   local-rabbitmq.sh stop
#   local-rabbitmq.sh pause | resume   -> the same node goes away and comes back, data kept (tests)
#   local-rabbitmq.sh clean   -> stops the node and removes every folder it used
# With CLERK_RMQ_TLS=1, start also opens a TLS listener (amqps) with a throwaway CA and server certificate
# made with the openssl CLI in the node's private folder, and records its URL and CA file in
# .build/rabbitmq/tls-url and tls-ca (with-broker.sh exports them as RABBITMQ_TLS_URL, RABBITMQ_TLS_CA_FILE).
# Its node name, ports and folders (.build/rabbitmq) are its own, so it never meets a system broker.
# As root, the node runs as the rabbitmq user (Debian's package owns the Erlang cookie there). When that
# user cannot reach the checkout (a parent folder such as /root is not traversable), the node's data and
# logs go to a private folder under the system temp directory, owned by rabbitmq and recorded in
# .build/rabbitmq/server-dir, so that stop, pause/resume and clean find it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base="${CLERK_RMQ_DIR:-$root/.build/rabbitmq}"
case "$base" in /*) ;; *) base="$PWD/$base" ;; esac

# The real scripts, not Debian's /usr/sbin wrappers: those refuse any user but root and rabbitmq, and
# /usr/sbin is not on an ordinary user's PATH.
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  rmqbin=/usr/lib/rabbitmq/bin
else
  rmqbin=$(dirname "$(PATH="$PATH:/usr/sbin:/sbin" command -v rabbitmq-server 2>/dev/null || echo /nonexistent/x)")
fi

if [ "$(id -u)" -eq 0 ]; then
  as_user=(runuser -u rabbitmq --); cookie_home=/var/lib/rabbitmq
else
  as_user=(); cookie_home="$HOME"
fi
# From /: the caller's folder may be out of the rabbitmq user's reach.
as_broker_user() { (cd / && "${as_user[@]}" env "$@"); }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The folder holding the node's mnesia/, log/ and plugin list: $base, or a private one in the temp directory.
server_dir() {
  local dir=""
  [ -f "$base/server-dir" ] && dir=$(cat "$base/server-dir")
  if [ -n "$dir" ] && [ -d "$dir" ]; then printf '%s\n' "$dir"; return; fi
  [ "${1:-}" = create ] || { printf '%s\n' "$base"; return; }
  if [ "$(id -u)" -eq 0 ]; then chown rabbitmq: "$base"; fi
  if as_broker_user test -d "$base" -a -w "$base" -a -x "$base" 2>/dev/null; then
    dir="$base"
  else
    if [ "$(id -u)" -eq 0 ]; then chown root: "$base"; fi
    dir=$(mktemp -d /tmp/clerk-rabbitmq.XXXXXX)
    if [ "$(id -u)" -eq 0 ]; then chown rabbitmq: "$dir"; fi
    echo "local RabbitMQ: the rabbitmq user cannot reach $base; its files are in $dir" >&2
  fi
  printf '%s\n' "$dir" > "$base/server-dir"
  printf '%s\n' "$dir"
}

node_env() {
  env_args=(RABBITMQ_NODENAME="$(cat "$base/node")" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$(cat "$base/port")" RABBITMQ_DIST_PORT="$(cat "$base/dist-port")"
    RABBITMQ_MNESIA_BASE="$srv/mnesia" RABBITMQ_LOG_BASE="$srv/log"
    RABBITMQ_ENABLED_PLUGINS_FILE="$srv/enabled_plugins" RABBITMQ_PID_FILE="$srv/pid" HOME="$cookie_home")
  # The TLS listener's configuration (start with CLERK_RMQ_TLS=1 writes it; pause/resume keep it).
  if [ -f "$srv/tls/rabbitmq.conf" ]; then env_args+=(RABBITMQ_CONFIG_FILE="$srv/tls/rabbitmq.conf"); fi
}

# A throwaway CA and a server certificate for localhost/127.0.0.1, made as the node's user in its private
# folder (the key never leaves it), and the config file naming them. The config file's values cannot hold
# spaces, so when the folder's path has one the files are reached through a symlink in a private temp
# folder recorded in $base/tls-link (removed by clean).
make_tls() {
  local tls="$srv/tls" port ref
  port=$(free_port); echo "$port" > "$base/tls-port"
  as_broker_user rm -rf -- "$tls"
  as_broker_user mkdir -p "$tls"
  as_broker_user openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=clerk-functions test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1
  as_broker_user openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' | as_broker_user tee "$tls/ext.cnf" >/dev/null
  as_broker_user openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.pem" >/dev/null 2>&1
  as_broker_user test -s "$tls/server.pem" || { echo "local RabbitMQ: openssl could not make the TLS certificates" >&2; exit 1; }
  ref="$tls"
  case "$tls" in *[[:space:]]*)
    local link=""
    [ -f "$base/tls-link" ] && link=$(cat "$base/tls-link")
    if [ -z "$link" ] || [ ! -d "$link" ]; then link=$(mktemp -d /tmp/clerk-rabbitmq-tls.XXXXXX); fi
    chmod 755 "$link"; ln -sfn "$tls" "$link/tls"; printf '%s\n' "$link" > "$base/tls-link"; ref="$link/tls" ;;
  esac
  printf '%s\n' "listeners.ssl.default = 127.0.0.1:$port" "ssl_options.cacertfile = $ref/ca.pem" \
    "ssl_options.certfile = $ref/server.pem" "ssl_options.keyfile = $ref/server.key" \
    "ssl_options.verify = verify_none" "ssl_options.fail_if_no_peer_cert = false" \
    | as_broker_user tee "$tls/rabbitmq.conf" >/dev/null
  echo "amqps://guest:guest@localhost:$port" > "$base/tls-url"
  printf '%s\n' "$tls/ca.pem" > "$base/tls-ca"
}

ctl() { node_env; as_broker_user "${env_args[@]}" "$rmqbin/rabbitmqctl" -n "$(cat "$base/node")" "$@"; }

# Starts the node described by $base (in the background of its own session: -detached dies with
# runuser's session here) and waits until it accepts work.
launch() {
  node_env
  (cd "$srv" && exec setsid "${as_user[@]}" env "${env_args[@]}" "$rmqbin/rabbitmq-server") \
    >"$srv/start.log" 2>&1 < /dev/null &
  # await_startup gives up at once on a node that has not registered yet: give it a moment first.
  for _ in $(seq 120); do
    ctl -q ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! ctl --timeout 60 await_startup >"$srv/await.log" 2>&1; then
    cat "$srv/await.log" "$srv/start.log" >&2; tail -n 30 "$srv"/log/*.log >&2 || true; exit 1
  fi
}

case "${1:-}" in
  start)
    [ -x "$rmqbin/rabbitmq-server" ] || { echo "rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2; exit 1; }
    mkdir -p "$base"
    srv=$(server_dir create)
    as_broker_user rm -rf -- "$srv/mnesia" "$srv/log"
    as_broker_user mkdir -p "$srv/mnesia" "$srv/log"
    echo "clerkfn$$@localhost" > "$base/node"
    free_port > "$base/port"
    free_port > "$base/dist-port"
    echo "[]." | as_broker_user tee "$srv/enabled_plugins" >/dev/null
    rm -f -- "$base/tls-url" "$base/tls-ca" "$base/tls-port"
    if [ "${CLERK_RMQ_TLS:-0}" = 1 ]; then make_tls; else as_broker_user rm -rf -- "$srv/tls"; fi
    launch
    echo "amqp://guest:guest@127.0.0.1:$(cat "$base/port")"
    ;;
  pause)
    # Stops the node but keeps its name, ports and data (tests: the broker goes away and comes back).
    srv=$(server_dir)
    ctl stop >/dev/null 2>&1 || true
    ;;
  resume)
    srv=$(server_dir)
    launch
    ;;
  stop)
    [ -f "$base/node" ] || exit 0
    srv=$(server_dir)
    # With the pid file, rabbitmqctl also waits until the node's process has exited.
    if [ -f "$srv/pid" ]; then ctl stop "$srv/pid" >/dev/null 2>&1 || true; else ctl stop >/dev/null 2>&1 || true; fi
    ;;
  clean)
    "$0" stop
    if [ -f "$base/server-dir" ]; then
      dir=$(cat "$base/server-dir")
      case "$(basename "$dir")" in clerk-rabbitmq.??????) rm -rf -- "$dir" ;; esac
    fi
    if [ -f "$base/tls-link" ]; then
      dir=$(cat "$base/tls-link")
      case "$(basename "$dir")" in clerk-rabbitmq-tls.??????) rm -rf -- "$dir" ;; esac
    fi
    rm -rf -- "$base"
    ;;
  *) echo "usage: $0 start|stop|pause|resume|clean" >&2; exit 2 ;;
esac

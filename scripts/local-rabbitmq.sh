#!/usr/bin/env bash
# A private, throwaway RabbitMQ node for the tests, on loopback:
#   local-rabbitmq.sh start   -> prints RABBITMQ_URL (amqp://guest:guest@127.0.0.1:PORT)
#   local-rabbitmq.sh stop
#   local-rabbitmq.sh pause | resume   -> the same node goes away and comes back, data kept (tests)
# Its node name, ports and folders (.build/rabbitmq) are its own, so it never meets a system broker.
# As root, the node runs as the rabbitmq user (Debian's package owns the Erlang cookie there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base="${CLERK_RMQ_DIR:-$root/.build/rabbitmq}"
mkdir -p "$base"

as_broker_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u rabbitmq -- env "$@"; else env "$@"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

node_env() {
  echo RABBITMQ_NODENAME="$(cat "$base/node")" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$(cat "$base/port")" \
    RABBITMQ_DIST_PORT="$(cat "$base/dist-port")" RABBITMQ_MNESIA_BASE="$base/mnesia" RABBITMQ_LOG_BASE="$base/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" RABBITMQ_PID_FILE="$base/pid"
}

# Starts the node described by $base (in the background of its own session: -detached dies with
# runuser's session here) and waits until it accepts work.
launch() {
    # shellcheck disable=SC2046
  setsid bash -c "$(declare -f as_broker_user); as_broker_user $(node_env) HOME=/var/lib/rabbitmq rabbitmq-server" \
    >"$base/start.log" 2>&1 < /dev/null &
  # await_startup gives up at once on a node that has not registered yet: give it a moment first.
  for _ in $(seq 120); do
    # shellcheck disable=SC2046
    as_broker_user $(node_env) HOME=/var/lib/rabbitmq rabbitmqctl -n "$(cat "$base/node")" -q ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  # shellcheck disable=SC2046
  if ! as_broker_user $(node_env) HOME=/var/lib/rabbitmq rabbitmqctl -n "$(cat "$base/node")" --timeout 60 await_startup >"$base/await.log" 2>&1; then
    cat "$base/await.log" "$base/start.log" >&2; tail -n 30 "$base"/log/*.log >&2 || true; exit 1
  fi
}

case "${1:-}" in
  start)
    command -v rabbitmq-server >/dev/null || { echo "rabbitmq-server is not installed" >&2; exit 1; }
    rm -rf "$base/mnesia" "$base/log"
    mkdir -p "$base/mnesia" "$base/log"
    echo "clerkfn$$@localhost" > "$base/node"
    free_port > "$base/port"
    free_port > "$base/dist-port"
    echo "[]." > "$base/enabled_plugins"
    if [ "$(id -u)" -eq 0 ]; then chown -R rabbitmq: "$base"; fi
    launch
    echo "amqp://guest:guest@127.0.0.1:$(cat "$base/port")"
    ;;
  pause)
    # Stops the node but keeps its name, ports and data (tests: the broker goes away and comes back).
    # shellcheck disable=SC2046
    as_broker_user $(node_env) HOME=/var/lib/rabbitmq rabbitmqctl -n "$(cat "$base/node")" stop >/dev/null 2>&1 || true
    ;;
  resume)
    launch
    ;;
  stop)
    [ -f "$base/node" ] || exit 0
    # shellcheck disable=SC2046
    as_broker_user $(node_env) HOME=/var/lib/rabbitmq rabbitmqctl -n "$(cat "$base/node")" stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop|pause|resume" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A private, throwaway RabbitMQ node for the tests, on loopback:
#   local-rabbitmq.sh start   -> prints RABBITMQ_URL (amqp://guest:guest@127.0.0.1:PORT)
#   local-rabbitmq.sh stop
#   local-rabbitmq.sh pause | resume   -> the same node goes away and comes back, data kept (tests)
#   local-rabbitmq.sh clean   -> stops the node and removes every folder it used
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
    rm -rf -- "$base"
    ;;
  *) echo "usage: $0 start|stop|pause|resume|clean" >&2; exit 2 ;;
esac

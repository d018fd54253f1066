#!/usr/bin/env bash
# A private, throwaway Kafka-protocol broker for the tests, on loopback: PyPI's noida-db (Debian has no Kafka
# broker), installed into the tests' venv, run as the calling user with its own data folder and port.
#   local-kafka.sh start            -> prints KAFKA_BROKERS (127.0.0.1:PORT)
#   local-kafka.sh stop
#   local-kafka.sh pause | resume   -> the same broker goes away and comes back on its port, data kept (tests)
#   local-kafka.sh clean            -> stops it and removes its folder
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base="${CLERK_KAFKA_DIR:-$root/.build/kafka}"
case "$base" in /*) ;; *) base="$PWD/$base" ;; esac
venv="${CLERK_TOOLS_VENV:-$root/.build/venv}"
version=0.2.3

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { python3 -c 'import socket,sys; s=socket.socket(); s.settimeout(0.2); s.connect(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }

# The broker binary itself, not PyPI's Python wrapper: the wrapper runs it as a child, and a stop by PID
# would leave the broker listening.
install() {
  if ! "$venv/bin/python" -c 'import noida_db' 2>/dev/null; then
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "noida-db==$version" >&2
  fi
  noida=$("$venv/bin/python" -c 'from importlib.resources import files; print(files("noida_db").joinpath("noida-db"))')
  chmod +x "$noida"
  printf '%s\n' "$noida" > "$base/binary"
}

launch() {
  local port noida; port=$(cat "$base/port"); noida=$(cat "$base/binary")
  # Its own session, so the caller's Ctrl-C or exit does not reach it; stopped by PID.
  (cd "$base" && exec setsid "$noida" start --only kafka --host 127.0.0.1 --kafka-port "$port" --data-dir "$base/data") \
    >>"$base/broker.log" 2>&1 </dev/null &
  echo $! > "$base/pid"
  for _ in $(seq 100); do
    listening "$port" && return
    kill -0 "$(cat "$base/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "local Kafka did not start:" >&2; tail -n 20 "$base/broker.log" >&2; exit 1
}

halt() {
  [ -f "$base/pid" ] || return 0
  local pid; pid=$(cat "$base/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$base/pid"
}

case "${1:-}" in
  start)
    mkdir -p "$base"
    halt
    install
    rm -rf "$base/data"; mkdir -p "$base/data"; : > "$base/broker.log"
    free_port > "$base/port"
    launch
    echo "127.0.0.1:$(cat "$base/port")"
    ;;
  stop) halt ;;
  pause) halt ;;
  resume) launch ;;
  clean) halt; rm -rf "$base" ;;
  *) echo "usage: $0 start|stop|pause|resume|clean" >&2; exit 2 ;;
esac

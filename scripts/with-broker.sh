#!/usr/bin/env bash
# Runs a command with RABBITMQ_URL set: the caller's, or a private local node started for the command
# and stopped after it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${RABBITMQ_URL:-}" ]; then exec "$@"; fi
# Stopped on every exit, a failed start included.
trap '"$here/local-rabbitmq.sh" stop' EXIT
# With a TLS listener too (amqps, a throwaway CA) unless CLERK_RMQ_TLS=0: the TLS tests need it.
RABBITMQ_URL=$(CLERK_RMQ_TLS="${CLERK_RMQ_TLS:-1}" "$here/local-rabbitmq.sh" start)
export RABBITMQ_URL
rmq_dir="${CLERK_RMQ_DIR:-$here/../.build/rabbitmq}"
if [ -f "$rmq_dir/tls-url" ]; then
  RABBITMQ_TLS_URL=$(cat "$rmq_dir/tls-url"); RABBITMQ_TLS_CA_FILE=$(cat "$rmq_dir/tls-ca")
  export RABBITMQ_TLS_URL RABBITMQ_TLS_CA_FILE
fi
export CLERK_LOCAL_RABBITMQ="$here/local-rabbitmq.sh"   # lets tests take the broker away and bring it back
echo "local RabbitMQ: $RABBITMQ_URL" >&2
"$@"

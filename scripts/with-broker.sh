#!/usr/bin/env bash
# Runs a command with RABBITMQ_URL set: the caller's, or a private local node started for the command
# and stopped after it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${RABBITMQ_URL:-}" ]; then exec "$@"; fi
# Stopped on every exit, a failed start included.
trap '"$here/local-rabbitmq.sh" stop' EXIT
RABBITMQ_URL=$("$here/local-rabbitmq.sh" start)
export RABBITMQ_URL
export CLERK_LOCAL_RABBITMQ="$here/local-rabbitmq.sh"   # lets tests take the broker away and bring it back
echo "local RabbitMQ: $RABBITMQ_URL" >&2
"$@"

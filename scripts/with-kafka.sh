#!/usr/bin/env bash
# Runs a command with KAFKA_BROKERS set: the caller's, or a private local broker started for the command and
# stopped after it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${KAFKA_BROKERS:-}" ]; then exec "$@"; fi
trap '"$here/local-kafka.sh" stop' EXIT
KAFKA_BROKERS=$("$here/local-kafka.sh" start)
export KAFKA_BROKERS
export CLERK_LOCAL_KAFKA="$here/local-kafka.sh"   # lets tests take the broker away and bring it back
echo "local Kafka: $KAFKA_BROKERS" >&2
"$@"

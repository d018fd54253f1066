#!/usr/bin/env bash
# Regenerates Functions/bootstrap/bootstrap.order, the link order of the functions a Lambda process actually
# runs (see build-release.sh for why). It records, under valgrind's callgrind, every function executed by
#   1. bootstrap itself: a cold start and 200 invocations of the echo function against the neutral mock
#      Runtime API (../shared/bench), as `make bench-runtime` runs it;
#   2. every handler: `make run`'s replay of events/ through the release build of the CLI (the same
#      modules, compiled once, so the same symbol names), against a throwaway PostgreSQL.
# and keeps the names bootstrap defines: the loop's first, then the handlers', each group sorted so the file
# diffs well. A stale file costs memory, never correctness: the linker skips names it does not find.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v valgrind >/dev/null 2>&1 || { echo "order-file: needs valgrind (sudo apt-get install -y valgrind)" >&2; exit 1; }
mock="$root/../shared/bench/mock_runtime_api.py"
[ -f "$mock" ] || { echo "order-file: needs the neutral mock Runtime API at $mock" >&2; exit 1; }
"$root/scripts/build-release.sh" bootstrap clerk-functions
work=$(mktemp -d "${TMPDIR:-/tmp}/clerk-order.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
# Copies without DWARF (valgrind 3.19 gives up on lld's DWARF 5; the symbol table is all this needs).
strip --strip-debug -o "$work/bootstrap" .build/release/bootstrap
strip --strip-debug -o "$work/clerk-functions" .build/release/clerk-functions

# 1. The loop.
python3 "$mock" --port 0 --port-file "$work/port" -n 200 --timeout 300 >/dev/null 2>&1 &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
AWS_LAMBDA_RUNTIME_API="127.0.0.1:$(cat "$work/port")" _HANDLER=echo AWS_LAMBDA_FUNCTION_NAME=echo \
  valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$work/loop.out" "$work/bootstrap" >/dev/null 2>&1 || true
wait "$mock_pid" 2>/dev/null || true

# 2. The handlers.
cat > "$work/cli" <<WRAP
#!/bin/sh
exec valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$work/cli.%p.out" "$work/clerk-functions" "\$@"
WRAP
chmod +x "$work/cli"
CLERK_FUNCTIONS_BIN="$work/cli" scripts/with-database.sh scripts/run-events.sh >/dev/null 2>&1 || true

names() { { grep -ohE '^c?fn=\([0-9]+\) .+' "$@" || true; } | sed -E 's/^c?fn=\([0-9]+\) //' | sort -u; }
nm --defined-only .build/release/bootstrap | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u > "$work/defined"
names "$work/loop.out" | comm -12 - "$work/defined" > "$work/loop"
names "$work"/cli.*.out | comm -12 - "$work/defined" | comm -23 - "$work/loop" > "$work/handlers"
[ -s "$work/loop" ] || { echo "order-file: the loop run recorded nothing" >&2; exit 1; }
cat "$work/loop" "$work/handlers" > Functions/bootstrap/bootstrap.order
echo "Functions/bootstrap/bootstrap.order: $(wc -l < "$work/loop") loop functions, $(wc -l < "$work/handlers") more from the handlers"

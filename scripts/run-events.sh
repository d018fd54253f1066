#!/usr/bin/env bash
# Replays every file in events/ through its function with the local harness and prints each result.
# The function is the file name up to its first dot: events/health.get.json -> health.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${CLERK_FUNCTIONS_BIN:-$root/.build/debug/clerk-functions}"
cd "$root"
"$bin" migrate || exit 1
status=0
for event in events/*.json; do
  name=$(basename "$event"); fn=${name%%.*}
  flags=()
  case "$name" in *.signed.json) flags+=(--sign) ;; esac
  printf '\n== %s -> %s\n' "$event" "$fn"
  out=$("$bin" invoke "$fn" --event "$event" "${flags[@]}" 2>/tmp/clerk-functions-run.log); rc=$?
  echo "$out"
  if [ $rc -ne 0 ]; then echo "(exit $rc)"; status=1; fi
  sed 's/^/   log: /' /tmp/clerk-functions-run.log
done
exit $status

#!/usr/bin/env bash
# Replays every file in events/ through its function with the local harness and prints each result.
# The function is the file name up to its first dot: events/health.get.json -> health.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${CLERK_FUNCTIONS_BIN:-$root/.build/debug/clerk-functions}"
cd "$root"
"$bin" migrate || exit 1
# Webhook events are re-signed on the fly (--sign): with no secret configured here or in .env, use a
# throwaway one for this run.
if [ -z "${CLERK_WEBHOOK_SECRET:-}${PROD_CLERK_WEBHOOK_SECRET:-}${DEV_CLERK_WEBHOOK_SECRET:-}" ] \
   && ! grep -qs 'WEBHOOK_SECRET=' .env; then
  CLERK_WEBHOOK_SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
  export CLERK_WEBHOOK_SECRET
  echo "(using a throwaway webhook secret for this run)"
fi
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
if command -v psql >/dev/null 2>&1; then
  printf '\n== what the database holds now\n'
  psql "$DATABASE_URL" -P pager=off -c "SELECT u.clerk_user_id, u.environment, u.email, u.first_name, s.tier,
         u.deleted_at IS NOT NULL AS deleted FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id
         ORDER BY u.created_at" \
       -c "SELECT svix_id, environment, event_type, outcome FROM webhook_deliveries ORDER BY received_at DESC LIMIT 10"
fi
exit $status

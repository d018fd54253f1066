#!/usr/bin/env bash
# Replays every file in events/ through its function with the local harness and prints each result.
# The function is the file name up to its first dot: events/health.get.json -> health.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${CLERK_FUNCTIONS_BIN:-$root/.build/debug/clerk-functions}"
cd "$root"
# Each invocation's log, shown under its result: a private file of this run, removed on exit.
log=$(mktemp "${TMPDIR:-/tmp}/clerk-functions-run.XXXXXX") || exit 1
trap 'rm -f -- "$log"' EXIT
"$bin" migrate || exit 1
# Webhook events are re-signed on the fly (--sign): with no secret configured here or in .env, use a
# throwaway one for this run.
if [ -z "${CLERK_WEBHOOK_SECRET:-}${PROD_CLERK_WEBHOOK_SECRET:-}${DEV_CLERK_WEBHOOK_SECRET:-}" ] \
   && ! grep -qs 'WEBHOOK_SECRET=' .env; then
  CLERK_WEBHOOK_SECRET="whsec_$(head -c 24 /dev/urandom | base64)"
  export CLERK_WEBHOOK_SECRET
  echo "(using a throwaway webhook secret for this run)"
fi
# Token events carry DEV_SESSION_TOKEN placeholders, minted fresh (--mint-token) with a development key.
if [ -z "${CLERK_DEV_KEY:-}" ] && ! grep -qs 'CLERK_DEV_KEY=' .env; then
  [ -f .build/dev-keys/dev-key.pem ] || "$bin" dev-keys --dir .build/dev-keys >/dev/null
  export CLERK_DEV_KEY=.build/dev-keys/dev-key.pem
  if [ -z "${CLERK_JWT_KEY:-}${CLERK_JWKS_URL:-}${CLERK_SECRET_KEY:-}${PROD_CLERK_ISSUER:-}${DEV_CLERK_ISSUER:-}" ]; then
    CLERK_JWT_KEY=$(cat .build/dev-keys/dev-key.pub.pem); export CLERK_JWT_KEY
    export CLERK_ISSUER=https://clerk.dev.localhost
  fi
  echo "(signing session tokens with the development key in .build/dev-keys)"
fi
status=0
for event in events/*.json; do
  name=$(basename "$event"); fn=${name%%.*}
  flags=()
  case "$name" in *.signed.json) flags+=(--sign) ;; *.token.json) flags+=(--mint-token) ;; esac
  printf '\n== %s -> %s\n' "$event" "$fn"
  out=$("$bin" invoke "$fn" --event "$event" "${flags[@]}" 2>"$log"); rc=$?
  echo "$out"
  if [ $rc -ne 0 ]; then echo "(exit $rc)"; status=1; fi
  sed 's/^/   log: /' "$log"
done
if command -v psql >/dev/null 2>&1; then
  printf '\n== what the database holds now\n'
  psql "$DATABASE_URL" -P pager=off -c "SELECT u.clerk_user_id, u.environment, u.email, u.first_name, s.tier,
         u.deleted_at IS NOT NULL AS deleted FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id
         ORDER BY u.created_at" \
       -c "SELECT svix_id, environment, event_type, outcome FROM webhook_deliveries ORDER BY received_at DESC LIMIT 10"
fi
exit $status

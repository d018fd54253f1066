#!/usr/bin/env bash
# Tests of the shell side (make test runs it): the scripts from checkouts whose path has a space and whose
# parent folder is mode 700 (as root, the postgres and rabbitmq users cannot reach them), two `make run`s
# at the same time from two checkouts, `make clean`, and install-deps's answer to a user who cannot
# install. The checkouts are copies of this working tree; they share its debug binary
# (CLERK_FUNCTIONS_BIN) instead of building their own. Everything it starts is stopped, everything it
# makes is removed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${CLERK_FUNCTIONS_BIN:-$root/.build/debug/clerk-functions}"
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# Never skip: what the tests need must be there.
need=(git make python3 psql flock tar)
[ "$(id -u)" -eq 0 ] && need+=(runuser)
for c in "${need[@]}"; do command -v "$c" >/dev/null 2>&1 || { echo "test-scripts: $c is missing" >&2; exit 1; }; done
[ -x "$bin" ] || { echo "test-scripts: $bin is missing (swift build first)" >&2; exit 1; }
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || PATH="$PATH:/usr/sbin" command -v rabbitmq-server >/dev/null \
  || { echo "test-scripts: rabbitmq-server is missing" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/clerk-test-scripts.XXXXXX")
private="$work/private"           # mode 700: out of reach of the postgres and rabbitmq users
open="$work/open"                 # mode 755
mkdir -p "$private/my project" "$open/my project" "$work/tmp"
chmod 700 "$private"; chmod 755 "$work" "$open"
clones=()

cleanup() {
  local c d pid
  for c in "${clones[@]}"; do
    "$c/scripts/local-postgres.sh" clean >/dev/null 2>&1
    "$c/scripts/local-rabbitmq.sh" clean >/dev/null 2>&1
  done
  # Anything still running from these folders is stopped by its PID.
  for d in "$work" "${private_dirs[@]}"; do
    [ ${#d} -gt 4 ] || continue
    for pid in $(ps -eo pid=,args= | grep -F -- "$d" | grep -v grep | awk '{print $1}'); do
      [ "$pid" != $$ ] && kill "$pid" 2>/dev/null
    done
  done
  for d in "${private_dirs[@]}"; do [ ${#d} -gt 4 ] && rm -rf -- "$d"; done
  rm -rf -- "$work"
}
private_dirs=()
trap cleanup EXIT

# A checkout as a new user has it: the tracked and untracked (not ignored) files of this working tree.
clone() {
  mkdir -p "$1"
  (cd "$root" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | (cd "$1" && tar -xf -)
  clones+=("$1")
}

# Folders a script recorded under .build/ (server-dir, socket-dir), to be removed by make clean.
recorded() { cat "$1"/.build/postgres/server-dir "$1"/.build/postgres/socket-dir "$1"/.build/rabbitmq/server-dir 2>/dev/null; }

echo "== scripts: fixed names in shared temp folders"
fixed=$(grep -nE '/tmp/[A-Za-z]' "$root"/scripts/*.sh "$root"/Makefile | grep -v 'mktemp' | grep -v '^[^:]*:[0-9]*:[[:space:]]*#' || true)
check "no fixed /tmp names in scripts/ or the Makefile" test -z "$fixed"
[ -z "$fixed" ] || echo "$fixed"

echo "== make run twice at once, from two checkouts under a space and a mode-700 parent"
a="$private/my project/a"; b="$private/my project/b"
clone "$a"; clone "$b"
# make -o build: the checkouts share this tree's binary rather than build their own.
t0=$(date +%s)
(cd "$a" && TMPDIR="$work/tmp" CLERK_FUNCTIONS_BIN="$bin" make -s -o build run >"$work/run-a.log" 2>&1; echo $? >"$work/rc-a") &
(cd "$b" && TMPDIR="$work/tmp" CLERK_FUNCTIONS_BIN="$bin" make -s -o build run >"$work/run-b.log" 2>&1; echo $? >"$work/rc-b") &
wait
echo "   (both runs: $(( $(date +%s) - t0 )) s)"
while read -r d; do private_dirs+=("$d"); done < <(recorded "$a"; recorded "$b")
for x in a b; do
  check "make run in checkout $x exits 0" test "$(cat "$work/rc-$x")" = 0
  check "make run in checkout $x: every event succeeded" bash -c '! grep -q "^(exit" "$1" && grep -q "== what the database holds now" "$1"' _ "$work/run-$x.log"
  [ "$(cat "$work/rc-$x")" = 0 ] || tail -n 30 "$work/run-$x.log"
done
url_a=$(grep -o 'local PostgreSQL: postgresql://[^ ]*' "$work/run-a.log"); url_b=$(grep -o 'local PostgreSQL: postgresql://[^ ]*' "$work/run-b.log")
check "the two runs had servers of their own" test -n "$url_a" -a "$url_a" != "$url_b"
if [ "$(id -u)" -eq 0 ]; then
  check "as root, PostgreSQL's files moved out of the mode-700 folder" \
    bash -c 'd=$(cat "$1/.build/postgres/server-dir") && case "$d" in "$2"/*) exit 1 ;; esac && [ "$(stat -c %U:%a "$d")" = postgres:700 ]' _ "$a" "$work"
fi
check "the runs left no log files in TMPDIR" test -z "$(ls -A "$work/tmp")"
check "the servers stopped after make run" \
  bash -c 'for c in "$@"; do d=$(cat "$c/.build/postgres/server-dir"); ps -eo args= | grep -F -- "$d/data" | grep -qv grep && exit 1; done; exit 0' _ "$a" "$b"

echo "== make run again in the same checkout: the recorded folder is found again"
(cd "$a" && CLERK_FUNCTIONS_BIN="$bin" make -s -o build run >"$work/run-a2.log" 2>&1); rc=$?
check "second make run exits 0" test $rc = 0
check "second make run reused the recorded folder" test "$(recorded "$a" | head -n 1)" = "${private_dirs[0]}"

echo "== RabbitMQ from the mode-700 checkout"
rmq_out=$(cd "$a" && scripts/with-broker.sh python3 -c '
import os, socket, urllib.parse
u = urllib.parse.urlparse(os.environ["RABBITMQ_URL"])
s = socket.create_connection((u.hostname, u.port), timeout=5)
s.sendall(b"AMQP\x00\x00\x09\x01")          # the protocol header; the broker answers connection.start
print("answered" if s.recv(1)[:1] == b"\x01" else "no answer")
import ssl                                  # the TLS listener, verified against the throwaway CA
t = urllib.parse.urlparse(os.environ["RABBITMQ_TLS_URL"])
ctx = ssl.create_default_context(cafile=os.environ["RABBITMQ_TLS_CA_FILE"])
with ctx.wrap_socket(socket.create_connection((t.hostname, t.port), timeout=5), server_hostname=t.hostname) as s:
    s.sendall(b"AMQP\x00\x00\x09\x01")
    print("tls answered" if s.recv(1)[:1] == b"\x01" else "tls no answer")' 2>&1); rc=$?
while read -r d; do private_dirs+=("$d"); done < <(recorded "$a")
check "with-broker.sh started a node that speaks AMQP" bash -c '[ "$1" = 0 ] && grep -q answered <<<"$2"' _ "$rc" "$rmq_out"
check "with-broker.sh's node speaks AMQP over TLS with its throwaway CA" bash -c 'grep -qx "tls answered" <<<"$1"' _ "$rmq_out"
[ $rc = 0 ] || echo "$rmq_out" | tail -n 20
check "the node stopped afterwards" bash -c 'for _ in $(seq 20); do ps -eo args= | grep -F -- "$1" | grep -qv grep || exit 0; sleep 0.5; done; exit 1' \
  _ "$(cat "$a/.build/rabbitmq/server-dir" 2>/dev/null || echo "$a")/mnesia"

echo "== make clean removes the private folders"
before=$(recorded "$a")
(cd "$a" && make -s clean >/dev/null 2>&1)
check "make clean removed .build" test ! -e "$a/.build"
check "make clean removed the servers' private folders" bash -c 'for d in $1; do [ -e "$d" ] && exit 1; done; exit 0' _ "$before"

echo "== a path with a space that the server's user can reach: files stay in the checkout"
c="$open/my project/c"
clone "$c"
out=$(cd "$c" && scripts/with-database.sh bash -c 'psql "$DATABASE_URL" -Atc "select 40 + 2"' 2>&1); rc=$?
while read -r d; do private_dirs+=("$d"); done < <(recorded "$c")
check "psql through the socket under a space answers" bash -c '[ "$1" = 0 ] && grep -qx 42 <<<"$2"' _ "$rc" "$out"
check "the cluster lives in the checkout's .build/postgres" test "$(cat "$c/.build/postgres/server-dir" 2>/dev/null)" = "$c/.build/postgres"
check "DATABASE_URL carries the socket folder percent-encoded" grep -q 'host=[^&]*my%20project' <<<"$out"
tls=$(cd "$c" && scripts/with-database.sh bash -c 'psql "$CLERK_PG_TLS_URL" -Atc "select ssl from pg_stat_ssl where pid = pg_backend_pid()"; \
  psql "${CLERK_PG_TLS_URL/localhost/127.0.0.1}" -Atc "select 1"' 2>&1)
check "CLERK_PG_TLS: verify-full against the throwaway CA under a space connects over TLS" grep -qx t <<<"$tls"
check "CLERK_PG_TLS: the certificate names localhost only, so verify-full to 127.0.0.1 fails" grep -q 'does not match host name' <<<"$tls"

echo "== install-deps for a user who cannot install"
fake="$work/fake"; mkdir -p "$fake/bin" "$fake/scripts"
cp "$root/scripts/install-deps.sh" "$fake/scripts/"
printf '#!/bin/sh\n[ "$2" = librabbitmq ] && exit 1\nexec /usr/bin/pkg-config "$@"\n' >"$fake/bin/pkg-config"
printf '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n' >"$fake/bin/sudo"
chmod -R a+rX "$fake"; chmod 755 "$fake/bin"/*
if [ "$(id -u)" -eq 0 ]; then as=(runuser -u nobody --); else as=(); fi
msg=$("${as[@]}" env PATH="$fake/bin:$PATH" "$fake/scripts/install-deps.sh" 2>&1); rc=$?
check "install-deps exits 1 and names the package and the command" \
  bash -c '[ "$1" = 1 ] && grep -q "missing Debian packages: librabbitmq-dev" <<<"$2" && grep -q "sudo apt-get install -y librabbitmq-dev" <<<"$2"' _ "$rc" "$msg"
[ $rc = 1 ] || echo "$msg"

echo "scripts: $pass passed, $fail failed"
[ $fail -eq 0 ]

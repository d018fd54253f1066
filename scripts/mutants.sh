#!/usr/bin/env bash
# make mutants: are the guards the project relies on each caught by a test? Applies the faults of
# scripts/mutants.list one at a time (a lock taken shared, a check removed, a window widened), rebuilds
# incrementally (`swift build --build-tests`, the normal .build), runs only the tests the line names against
# one private PostgreSQL, RabbitMQ and Kafka started for the whole run, and says for each fault whether a test
# failed (caught) or not. Ends with a summary; exits 1 when a fault was not caught or a line is unusable (text
# no longer in the file, a filter naming no test, a fault that does not compile), 2 when it cannot start.
#
#   scripts/mutants.sh [ID…]      only these faults (default: every line)
#   MUTANTS_TIMEOUT=600           seconds a fault's tests may take before they count as hung (caught, marked)
#   MUTANTS_BASELINE=0            skip the first run of every named test on the unchanged source
#
# The source is restored after each fault, also on Ctrl-C or TERM (a trap); it refuses to start when a file it
# would change has uncommitted changes, so the copy it restores is always the committed one. It always starts
# its own servers (DATABASE_URL, RABBITMQ_URL and KAFKA_BROKERS are ignored): it recreates the database before
# each fault, since some faults are in the schema's migrations. Per-fault output: .build/mutants/<id>.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
list="$root/scripts/mutants.list"
work="$root/.build/mutants"
database=clerk_functions_mutants

# The list's reader: tab-separated fields `id file old new filter [note]`; in `old` and `new`, `\n` is a newline,
# `\t` a tab and `\\` a backslash (any other backslash is itself). `check` validates every line (and with a test
# listing, that each filter names a test) and prints `id file filter note` of the chosen ones; `apply` makes one
# fault in place (exit 3: its text is not in the file exactly once).
mutants_py() {
  python3 - "$@" <<'PY'
import re, sys

def unescape(s):
    return re.sub(r'\\(\\|n|t)', lambda m: {'\\': '\\', 'n': '\n', 't': '\t'}[m.group(1)], s)

def read(path):
    rows, problems, ids = [], [], set()
    for number, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        fields = line.split('\t')
        if len(fields) not in (5, 6):
            problems.append(f'line {number}: {len(fields)} tab-separated fields, want 5 or 6')
            continue
        fid, path_, old, new, flt = fields[:5]
        note = fields[5] if len(fields) == 6 else ''
        if fid in ids:
            problems.append(f'line {number}: id {fid} twice')
        ids.add(fid)
        rows.append(dict(number=number, id=fid, file=path_, old=unescape(old), new=unescape(new), filter=flt, note=note))
    return rows, problems

def occurrences(row):
    try:
        text = open(row['file'], encoding='utf-8').read()
    except OSError as e:
        return None, f'{row["file"]}: {e.strerror}'
    return text, None

cmd, path = sys.argv[1], sys.argv[2]
rows, problems = read(path)
if cmd == 'check':
    tests_file, chosen = sys.argv[3], sys.argv[4:]
    tests = open(tests_file).read().split() if tests_file != '-' else None
    known = {r['id'] for r in rows}
    problems += [f'no line has id {c}' for c in chosen if c not in known]
    out = []
    for r in rows:
        if chosen and r['id'] not in chosen:
            continue
        text, err = occurrences(r)
        where = f'line {r["number"]} ({r["id"]})'
        if err:
            problems.append(f'{where}: {err}')
            continue
        n = text.count(r['old'])
        if n != 1:
            problems.append(f'{where}: stale: its text occurs {n} times in {r["file"]} (want exactly once)')
        if r['old'] == r['new']:
            problems.append(f'{where}: the replacement is the text itself')
        if tests is not None:
            try:
                pattern = re.compile(r['filter'])
            except re.error as e:
                problems.append(f'{where}: filter is not a regular expression: {e}')
                continue
            if not any(pattern.search(t) for t in tests):
                problems.append(f'{where}: filter {r["filter"]!r} names no test')
        out.append('\t'.join([r['id'], r['file'], r['filter'], r['note']]))
    for p in problems:
        print(f'mutants.list: {p}', file=sys.stderr)
    if problems:
        sys.exit(2)
    print('\n'.join(out))
elif cmd == 'apply':
    row = next(r for r in rows if r['id'] == sys.argv[3])
    text, err = occurrences(row)
    if err or text.count(row['old']) != 1:
        sys.exit(3)
    with open(row['file'], 'w', encoding='utf-8') as f:
        f.write(text.replace(row['old'], row['new'], 1))
PY
}

mkdir -p "$work"

if [ "${1:-}" != --inner ]; then
  [ -f "$list" ] || { echo "mutants: $list is missing" >&2; exit 2; }
  # Validated before anything is built, so a stale line costs nothing; again below with the test list.
  chosen=$(mutants_py check "$list" - "$@") || exit 2
  files=$(cut -f2 <<<"$chosen" | sort -u)
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 \
    || { echo "mutants: not a git checkout: the run restores each file from the copy it made, and needs git to know that copy is the committed one" >&2; exit 2; }
  # shellcheck disable=SC2086
  dirty=$(git status --porcelain -- $files)
  if [ -n "$dirty" ]; then
    echo "mutants: these files have uncommitted changes, and the run would overwrite them (commit or stash them; after" >&2
    echo "a run killed with SIGKILL, \`git checkout -- <file>\` restores a fault left in place):" >&2
    echo "$dirty" >&2
    exit 2
  fi
  echo "mutants: building the unchanged source" >&2
  swift build --build-tests >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 2; }
  swift test --skip-build --list-tests 2>/dev/null >"$work/tests.txt" || { echo "mutants: could not list the tests" >&2; exit 2; }
  mutants_py check "$list" "$work/tests.txt" "$@" >"$work/chosen.tsv" || exit 2
  unset DATABASE_URL RABBITMQ_URL KAFKA_BROKERS
  export CLERK_PG_DATABASE=$database CLERK_TOOLS_VENV="${CLERK_TOOLS_VENV:-$root/.build/venv}"
  exec "$root/scripts/with-database.sh" "$root/scripts/with-broker.sh" "$root/scripts/with-kafka.sh" "$0" --inner
fi

# --inner: the servers are up; `chosen.tsv` holds the faults to make.
backup="$work/backup"
mkdir -p "$backup"
mutated=""   # the file a fault is in right now
runner=""    # the process group of the tests running now

restore() {
  if [ -n "$mutated" ]; then
    cp -- "$backup/source" "$root/$mutated"
    mutated=""
  fi
}
stop_tests() {
  if [ -n "$runner" ]; then kill -TERM -- "-$runner" 2>/dev/null || true; fi
}
trap 'stop_tests; restore' EXIT
trap 'echo "mutants: interrupted; the source is restored" >&2; exit 130' INT
trap 'echo "mutants: stopped; the source is restored" >&2; exit 143' TERM

fresh_database() {
  "$CLERK_LOCAL_POSTGRES" start "$database" >/dev/null
}

# Runs the tests matching $1 with output to $2, in a process group of their own (timeout's), stopped by the
# traps; the exit status is the tests' (124 when they ran out of time).
run_tests() {
  local status=0
  timeout -k 20 "${MUTANTS_TIMEOUT:-600}" swift test --skip-build --disable-swift-testing --filter "$1" >"$2" 2>&1 &
  runner=$!
  wait "$runner" || status=$?
  runner=""
  return "$status"
}

# The tests that failed, from XCTest's output (an assertion's line names its test even when the process then crashed).
failed_tests() {
  { sed -n "s/^Test Case '\(.*\)' failed.*/\1/p" "$1"; sed -n 's/^.*: error: \([A-Za-z0-9_]*\.test[A-Za-z0-9_]*\) : .*/\1/p' "$1"; } \
    | sort -u | paste -sd' ' -
}

executed() { sed -n 's/.*Executed \([0-9]*\) tests\{0,1\}, with.*/\1/p' "$1" | tail -n 1; }

total=$(wc -l <"$work/chosen.tsv")
if [ "${MUTANTS_BASELINE:-1}" != 0 ]; then
  # Every named test must pass on the unchanged source, or a failure under a fault would prove nothing.
  union=$(cut -f3 "$work/chosen.tsv" | sort -u | paste -sd'|' -)
  echo "mutants: the named tests on the unchanged source" >&2
  fresh_database
  t0=$(date +%s)
  if ! run_tests "$union" "$work/baseline.log"; then
    echo "mutants: these tests fail on the unchanged source (see $work/baseline.log): $(failed_tests "$work/baseline.log")" >&2
    exit 2
  fi
  echo "mutants: baseline: $(executed "$work/baseline.log") tests passed in $(( $(date +%s) - t0 )) s" >&2
fi

caught=0; missed=(); broken=(); i=0
start=$(date +%s)
while IFS=$'\t' read -r id file filter note; do
  i=$((i + 1))
  log="$work/$id.log"
  t0=$(date +%s)
  cp -- "$root/$file" "$backup/source"
  mutated=$file
  if ! mutants_py apply "$list" "$id"; then
    restore
    verdict="STALE (its text is no longer in $file exactly once)"; broken+=("$id")
  elif ! swift build --build-tests >"$log" 2>&1; then
    restore
    verdict="DOES NOT BUILD (see $log)"; broken+=("$id")
  else
    fresh_database
    status=0
    run_tests "$filter" "$log.tests" || status=$?
    restore
    cat "$log.tests" >>"$log"; rm -f -- "$log.tests"
    if [ "$status" -eq 0 ]; then
      if [ "$(executed "$log")" = 0 ] || [ -z "$(executed "$log")" ]; then
        verdict="NO TEST RAN (filter $filter)"; broken+=("$id")
      else
        verdict="NOT CAUGHT by $filter${note:+ ($note)}"; missed+=("$id")
      fi
    elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
      verdict="caught: the tests hung (stopped after ${MUTANTS_TIMEOUT:-600} s)"; caught=$((caught + 1))
    else
      names=$(failed_tests "$log")
      if grep -q "Program crashed\|Fatal error" "$log"; then names="${names:+$names, then }the test process crashed"; fi
      verdict="caught: ${names:-the test process failed (exit $status)}"; caught=$((caught + 1))
    fi
  fi
  printf '[%3d/%d] %-36s %4ss  %s\n' "$i" "$total" "$id" "$(( $(date +%s) - t0 ))" "$verdict"
done <"$work/chosen.tsv"

echo "mutants: rebuilding the unchanged source" >&2
swift build --build-tests >"$work/build.log" 2>&1 || echo "mutants: the unchanged source did not build (see $work/build.log)" >&2

echo
echo "mutants: $caught of $total caught in $(( $(date +%s) - start )) s"
if [ ${#missed[@]} -gt 0 ]; then
  echo "not caught (${#missed[@]}):"
  for id in "${missed[@]}"; do
    awk -F'\t' -v id="$id" '$1 == id { printf "  %s  (%s)%s\n", $1, $2, ($4 != "" ? "  " $4 : "") }' "$work/chosen.tsv"
  done
fi
if [ ${#broken[@]} -gt 0 ]; then echo "unusable lines (${#broken[@]}): ${broken[*]}"; fi
[ ${#missed[@]} -eq 0 ] && [ ${#broken[@]} -eq 0 ]

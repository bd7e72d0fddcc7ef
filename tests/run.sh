#!/usr/bin/env bash
# Runs every test suite of `make check` and adds up their "N passed, N failed" lines.
# KONSIL_SUITES=pg (`make check-pg`) runs only the suites that run on PostgreSQL too.
# A suite that exits non-zero without reporting a failure counts as one failed test, so a
# crash or a suite that ran nothing cannot pass silently. Suites run from the top folder.
set -u
cd "$(dirname "$0")/.."
export KONSIL_BIN=${KONSIL_BIN:-build/konsil}
export KONSIL_ASAN_BIN=${KONSIL_ASAN_BIN:-build/asan/konsil}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
OT_FUZZ_CASES=${OT_FUZZ_CASES:-25000}
# test_access_view_props runs its fixed seed and this one (printed in its log).
export KONSIL_TEST_SEED=${KONSIL_TEST_SEED:-$RANDOM$RANDOM}

total_pass=0
total_fail=0

# PostgreSQL: a throwaway cluster for the suites that run on it too (scripts/pg-cluster.sh),
# its URL in KONSIL_TEST_PG, removed at the end; KONSIL_TEST_PG may name a database already.
# With PostgreSQL installed (scripts/install-deps.sh installs it), a cluster that cannot be
# made is a failure, not a skip.
pg_dir=
pg_stop() { [ -z "$pg_dir" ] || scripts/pg-cluster.sh stop "$pg_dir"; }
trap pg_stop EXIT
if [ -z "${KONSIL_TEST_PG:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  pg_dir=$(mktemp -u "${TMPDIR:-/tmp}/konsil-pg-run.XXXXXX")
  if KONSIL_TEST_PG=$(scripts/pg-cluster.sh start "$pg_dir" 2>"$pg_dir.log"); then
    export KONSIL_TEST_PG
    echo "== PostgreSQL for the suites that run on it: $KONSIL_TEST_PG"
  else
    echo "== PostgreSQL is installed but no cluster could be made:"
    sed 's/^/   | /' "$pg_dir.log"
    total_fail=$((total_fail + 1))
    pg_dir=
  fi
  rm -f "${pg_dir:-/nonexistent}.log"
fi

# The suites that run on PostgreSQL too (with KONSIL_TEST_PG; each says when it skips).
pg_suites=()
for t in build/tests/test_db build/tests/test_schema_backends build/tests/test_store_backends \
         build/asan/tests/test_db build/asan/tests/test_schema_backends \
         build/asan/tests/test_store_backends; do
  [ -x "$t" ] && pg_suites+=("$t")
done

suites=()
if [ "${KONSIL_SUITES:-all}" = pg ]; then
  suites=("${pg_suites[@]}" "node --test --test-reporter=tap tests/cluster/postgres-today.test.js")
else
# Unit test binaries (the compiler leaves .d dependency files beside them).
for t in build/tests/test_* build/asan/tests/test_*; do
  case "$t" in *.d) ;; *) [ -x "$t" ] && suites+=("$t") ;; esac
done
# One `make check` and `make run` on a machine without the packages, in a scratch copy.
suites+=("tests/build/fresh-machine.sh")
suites+=("node tests/ot/vectors-vs-ot-json0.js")
suites+=("node tests/ot/fuzz-diff.js --cases $OT_FUZZ_CASES --konsil $KONSIL_ASAN_BIN --seed ${OT_FUZZ_SEED:-$RANDOM$RANDOM}")
for f in build/fuzz/fuzz_*; do
  case "$f" in *.d) ;; *) [ -x "$f" ] && suites+=("tests/fuzz/run-bounded.sh $f $FUZZ_SECONDS") ;; esac
done
for s in tests/hub/*.test.js tests/cluster/*.test.js; do
  [ -e "$s" ] && suites+=("node --test --test-reporter=tap $s")
done
# The web demo in headless Chromium (the suite builds the bundle itself).
suites+=("node --test --test-concurrency=1 --test-reporter=tap tests/web/")
fi
log_dir=build/test-logs
mkdir -p "$log_dir"
for suite in "${suites[@]}"; do
  name=$(echo "$suite" | tr ' /' '__' | cut -c1-80)
  echo "== $suite"
  start=$(date +%s)
  $suite > "$log_dir/$name.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  # The suite's own closing line, or the counts of node's TAP reporter.
  line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$log_dir/$name.log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/.*(^|[^0-9])([0-9]+) passed, ([0-9]+) failed.*/\2/')
    f=$(echo "$line" | sed -E 's/.*(^|[^0-9])([0-9]+) passed, ([0-9]+) failed.*/\3/')
  else
    p=$(grep -E '^# pass [0-9]+' "$log_dir/$name.log" | tail -n1 | awk '{print $3}')
    f=$(grep -E '^# fail [0-9]+' "$log_dir/$name.log" | tail -n1 | awk '{print $3}')
    p=${p:-0}; f=${f:-0}
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "   (suite ran no test)"; fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  echo "   $p passed, $f failed (${secs}s)"
  if [ "$f" -ne 0 ]; then
    echo "   --- last lines of $log_dir/$name.log"
    tail -n 40 "$log_dir/$name.log" | sed 's/^/   | /'
  fi
done
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

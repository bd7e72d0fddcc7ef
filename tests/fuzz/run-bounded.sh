#!/usr/bin/env bash
# Runs one libFuzzer binary for a bounded time, as a test suite of `make check`.
#
#   tests/fuzz/run-bounded.sh BIN SECONDS
#
# The corpus is a fresh temporary folder seeded from tests/fuzz/seeds/<target>/ (the
# binary's name without "fuzz_"; all of tests/fuzz/seeds/ when there is no such folder),
# so runs do not depend on each other. tests/fuzz/<binary name>.dict is used when present.
# A finding is kept under build/fuzz/artifacts/<binary name>/. Prints the closing line
# "fuzz <name>: 1 passed, 0 failed" or "... 0 passed, 1 failed" and exits 0 or 1.
set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 BIN SECONDS" >&2
  exit 2
fi
bin=$1
seconds=$2
name=$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

fail() {
  echo "$1"
  echo "fuzz $name: 0 passed, 1 failed"
  exit 1
}

[ -x "$bin" ] || fail "no fuzz binary at $bin"
case $seconds in
  ''|*[!0-9]*) fail "SECONDS must be a whole number, got '$seconds'" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX") || fail "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"

seeds="$here/seeds/${name#fuzz_}"
[ -d "$seeds" ] || seeds="$here/seeds"
if [ -d "$seeds" ]; then
  # Flatten into the corpus; libFuzzer names new inputs by their hash, so no clashes.
  find "$seeds" -type f -print0 | while IFS= read -r -d '' f; do
    cp "$f" "$work/corpus/seed-$(basename "$f")"
  done
fi

artifacts="$root/build/fuzz/artifacts/$name"
mkdir -p "$artifacts"

args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
      -artifact_prefix="$artifacts/")
dict="$here/$name.dict"
if [ -f "$dict" ]; then args+=(-dict="$dict"); else dict=""; fi

log="$work/fuzz.log"
echo "fuzz $name: ${seconds}s, corpus from ${seeds#"$root"/}${dict:+, dict ${dict#"$root"/}}"
"$bin" "${args[@]}" "$work/corpus" > "$log" 2>&1
rc=$?

grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$log" | sed 's/^/  /'
if [ "$rc" -eq 0 ]; then
  echo "fuzz $name: 1 passed, 0 failed"
  exit 0
fi

finding=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/^Test unit written to //')
echo "fuzz $name: exit code $rc"
if [ -n "$finding" ]; then
  echo "finding: $finding"
  echo "reproduce: $bin $finding"
else
  echo "finding: (libFuzzer wrote no test unit)"
fi
echo "--- last lines of the fuzzer output"
tail -n 60 "$log"
echo "fuzz $name: 0 passed, 1 failed"
exit 1

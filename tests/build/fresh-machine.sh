#!/usr/bin/env bash
# One `make check` and one `make run` on a machine where scripts/install-deps.sh has yet to
# install the packages: both must build and go on in that same run, and a plain `make` must
# say what is missing. Reproduced without uninstalling anything: a scratch copy of the
# tracked files (as the working tree has them) builds with a `pkg-config` first in PATH that
# prints nothing and fails until make's deps stamp exists, as on a fresh machine where
# pkg-config and the packages' .pc files arrive with the installation, and then hands over to
# the real one. The copy's install-deps.sh runs for real (it finds everything installed; the
# copy's node_modules is this tree's). To build each kind of rule once and no more, the copy
# keeps one unit test and one libFuzzer target, and its tests/run.sh is a stand-in that runs
# what `make check` built (the real suites include this one).
# Prints "N passed, N failed"; the scratch copy is removed at the end.
set -u
cd "$(dirname "$0")/../.."
repo=$(pwd)
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

real_pkg_config=$(command -v pkg-config) || { not_ok "pkg-config is installed here"; finish; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/konsil-fresh.XXXXXX")
tree=$scratch/tree
server_pgid=
cleanup() {
  if [ -n "$server_pgid" ]; then kill -TERM -- "-$server_pgid" 2>/dev/null; wait "$server_pgid" 2>/dev/null; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

# The tracked files as they are in the working tree (a file deleted there is left out).
mkdir -p "$tree" "$scratch/bin"
git ls-files -z | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$tree"
[ -d node_modules ] && ln -s "$(readlink -f node_modules)" "$tree/node_modules"
find "$tree/tests/unit" -name 'test_*.c' ! -name test_auth_audit.c -delete
find "$tree/tests/fuzz" -name 'fuzz_*.c' ! -name fuzz_proto.c -delete
cat > "$tree/tests/run.sh" <<'EOF'
#!/usr/bin/env bash
# Stand-in for the suites: runs each thing `make check` built.
set -eu
cd "$(dirname "$0")/.."
build/konsil --help > /dev/null
build/asan/konsil --help > /dev/null
build/tests/test_auth_audit > /dev/null
build/asan/tests/test_auth_audit > /dev/null
build/fuzz/fuzz_proto -runs=10 > /dev/null 2>&1
echo "stand-in suites ran"
EOF
cat > "$scratch/bin/pkg-config" <<EOF
#!/bin/sh
# Finds nothing until the packages are "installed" (make's deps stamp exists).
[ -e "$tree/build/.deps-installed" ] || exit 1
exec "$real_pkg_config" "\$@"
EOF
chmod +x "$tree/tests/run.sh" "$scratch/bin/pkg-config"

# The scratch make is not part of the make that may be running this suite.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
export PATH="$scratch/bin:$PATH"
cd "$tree"
if "$scratch/bin/pkg-config" --libs libcjson > /dev/null; then
  not_ok "the pkg-config stand-in finds nothing before the deps stamp"
else
  ok "the pkg-config stand-in finds nothing before the deps stamp"
fi

# 1. `make` alone installs nothing: without the packages it stops and names what to run.
make -j2 > "$scratch/make.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'make deps' "$scratch/make.log" && [ ! -e build/konsil ]; then
  ok "make without the packages stops and says 'make deps'"
else
  not_ok "make without the packages stops and says 'make deps' (exit $rc)"
  sed 's/^/  | /' "$scratch/make.log" | tail -n 20
fi

# 2. One `make check`: installs, builds everything it runs, runs it.
rm -rf build
make -j2 check > "$scratch/check.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'stand-in suites ran' "$scratch/check.log"; then
  ok "one make check installs, builds and runs the suites"
else
  not_ok "one make check installs, builds and runs the suites (exit $rc)"
  sed 's/^/  | /' "$scratch/check.log" | tail -n 30
fi

# 3. One `make run`: installs, links the command, builds the web app, serves them. The
# objects compiled above stay (compiling was shown in 2); the packages are "uninstalled"
# again by removing the stamp, so the link needs the flags the installation brings.
rm -f build/.deps-installed build/konsil
KONSIL_LISTEN=127.0.0.1:0 setsid make -j2 run > "$scratch/run.log" 2>&1 &
server_pgid=$!
url=
# Waits for the server's line (or for make to end); a bound against hanging, not a timing.
for _ in $(seq 1 900); do
  url=$(sed -n 's/^listening on \(http:\/\/[0-9.]*:[0-9]*\)$/\1/p' "$scratch/run.log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$server_pgid" 2>/dev/null || break
  sleep 1
done
if [ -n "$url" ] && node -e '
  fetch(process.argv[1] + "/").then(async (r) => {
    const body = await r.text();
    process.exit(r.status === 200 && /<html/i.test(body) ? 0 : 1);
  }, () => process.exit(1));' "$url"; then
  ok "one make run installs, builds and serves the web app ($url)"
else
  not_ok "one make run installs, builds and serves the web app"
  sed 's/^/  | /' "$scratch/run.log" | tail -n 30
fi
finish

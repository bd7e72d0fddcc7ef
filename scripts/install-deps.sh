#!/usr/bin/env bash
# Installs what Konsil needs to build, test and run, and nothing that is already there.
# Idempotent: with everything present it only checks and returns in a few seconds.
#   Debian packages: compiler tool chain, libraries, clang (libFuzzer), Node.js/npm, Chromium,
#                    PostgreSQL 15 and libpq (the shared store of several nodes), HAProxy.
#   A system user:   konsil-pg, which owns the throwaway PostgreSQL clusters the tests make
#                    (initdb refuses to run as root; tests/lib/pg.js runs it as this user).
#   npm packages:    pinned by package-lock.json, installed with `npm ci` into node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  build-essential pkg-config
  libwebsockets-dev libcjson-dev uuid-dev libsqlite3-dev libssl-dev
  clang libclang-rt-dev sqlite3
  chromium
  libwebsockets-evlib-uv   # the load generator runs on libuv's epoll loop
  libwebsockets-evlib-ev libev-dev   # konsil serve runs on libev's epoll loop
  eatmydata                # benchmarks: the cost of fsync, measured by switching it off
  poppler-utils            # pdftotext: the browser test reads the client's copy printed as PDF
  systemd strace groff-base # the install test: systemd-analyze verify/security on the unit,
                            # the server's system calls against its sandbox, the man page
  postgresql libpq-dev     # --db postgresql://…: several nodes on one database (protocol/cluster.md)
  haproxy                  # the proxy in front of several nodes (scripts/haproxy.cfg, tests)
)

missing=()
for pkg in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
# Node.js may come from another source than Debian; only the commands matter.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm  >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The tests' throwaway PostgreSQL clusters belong to an unprivileged user: initdb and the
# server refuse root. Without root (a developer's own account) the clusters are that user's.
if [ "$(id -u)" -eq 0 ] && ! id konsil-pg >/dev/null 2>&1; then
  echo "install-deps: adding the system user konsil-pg (owns the tests' PostgreSQL clusters)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin konsil-pg
fi

# npm ci wipes node_modules; only run it when the lockfile changed since the last install.
stamp=node_modules/.konsil-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

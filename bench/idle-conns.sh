#!/usr/bin/env bash
# Server RSS with many idle connections: raises the open-file limit for the server and
# the client, then runs bench/hub-bench.js idle. Usage: bench/idle-conns.sh [CONNS]
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 8192
exec node bench/hub-bench.js idle --conns "${1:-2000}"

#!/usr/bin/env bash
# The op log on SQLite and on PostgreSQL, on this machine (`make bench-pg`; --quick for a
# short run). A throwaway PostgreSQL cluster (scripts/pg-cluster.sh: fsync and
# synchronous_commit on, as Konsil requires) and an SQLite file in the same temporary folder.
#
#   store_bench: the store's writer thread (group commit) with 1, 16 and 64 clients, each
#     with one op in flight on a document of its own: ops/s, and CPU per op of the Konsil
#     process and, on PostgreSQL, of the database server (its processes' user + system time).
#   store_bench with NODES: 1 and 3 stores on one PostgreSQL database (as 1 and 3 nodes
#     would have), 16 clients each, every batch with its notification to the other nodes:
#     the writing side of adding nodes (no node reads the notifications: cross-node fan-out
#     is not built).
#   db_bench: 1 and 3 writers (as 1 and 3 nodes would be) appending to one PostgreSQL
#     database in transactions of 16 ops, each transaction with the pg_notify a node sends
#     to the others: what the database sustains as nodes are added. It measures the writing
#     side only; no node reads the notifications (cross-node fan-out is not built).
set -euo pipefail
cd "$(dirname "$0")/.."

ops=20000
if [ "${1:-}" = --quick ]; then ops=4000; fi
tmp=${TMPDIR:-/tmp}
dir=$(mktemp -u "$tmp/konsil-pg-bench.XXXXXX")
sqlite="$tmp/konsil-store-bench-$$.db"
cleanup() {
  scripts/pg-cluster.sh stop "$dir" >/dev/null 2>&1 || true
  rm -f "$sqlite" "$sqlite-wal" "$sqlite-shm"
}
trap cleanup EXIT
url=$(scripts/pg-cluster.sh start "$dir")
export PGOPTIONS='-c client_min_messages=warning'

# CPU seconds (user + system) of the cluster's server processes so far: the postmaster with
# the children it has reaped, and the children still running.
server_cpu() {
  local pm ticks=0 pid f
  pm=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || runuser -u konsil-pg -- head -n 1 "$dir/data/postmaster.pid")
  f=($(sed 's/^.*) //' "/proc/$pm/stat"))
  ticks=$(( f[11] + f[12] + f[13] + f[14] ))
  for pid in $(pgrep -P "$pm"); do
    f=($(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null)) || continue
    ticks=$(( ticks + f[11] + f[12] ))
  done
  echo "$ticks $(getconf CLK_TCK)" | awk '{printf "%.3f", $1 / $2}'
}

echo "== store_bench: $ops ops per run ($(nproc) cores)"
for clients in 1 16 64; do
  build/bench/store_bench "$sqlite" "$ops" "$clients"
  before=$(server_cpu)
  line=$(build/bench/store_bench "$url" "$ops" "$clients")
  sleep 1   # the postmaster reaps the bench's backends, adding their time to its own
  after=$(server_cpu)
  echo "$line, $(awk -v a="$before" -v b="$after" -v n="$ops" 'BEGIN {printf "%.1f us server CPU per op", (b - a) / n * 1e6}')"
done
echo "== store_bench: 1 and 3 nodes on one PostgreSQL database, 16 clients each"
for nodes in 1 3; do
  before=$(server_cpu)
  line=$(build/bench/store_bench "$url" "$ops" 16 "$nodes")
  sleep 1
  after=$(server_cpu)
  echo "$line, $(awk -v a="$before" -v b="$after" -v n="$ops" 'BEGIN {printf "%.1f us server CPU per op", (b - a) / n * 1e6}')"
done
echo "== db_bench: writers on one PostgreSQL database, 16 ops and one pg_notify per transaction"
for writers in 1 3; do
  build/bench/db_bench "$url" $(( ops / writers )) 16 "$writers" 1
done

#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benchmarks and trying several nodes by hand.
#
#   scripts/pg-cluster.sh start DIR [PORT]   makes DIR (must not exist), runs initdb and the
#                                            server there, creates the database `konsil`,
#                                            prints its connection URL on stdout
#   scripts/pg-cluster.sh stop DIR           stops the server and removes DIR
#   scripts/pg-cluster.sh url DIR            prints the URL again
#
# The server listens on 127.0.0.1 only (TCP, PORT or a free one) and on a Unix socket inside
# DIR; it trusts its one role `konsil` on loopback, which nothing outside this machine can
# reach. fsync and synchronous_commit stay on: "acked means committed" holds on it as on
# SQLite. initdb and postgres refuse to run as root: as root, DIR belongs to the system user
# konsil-pg (scripts/install-deps.sh adds it) and every PostgreSQL program runs as that user
# through runuser; as anyone else, they run as that user.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR | url DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$2

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$bindir/initdb" ] || { echo "pg-cluster: no initdb (scripts/install-deps.sh installs postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u konsil-pg -- "$@"
  else
    "$@"
  fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

case "$cmd" in
start)
  port=${3:-$(free_port)}
  [ ! -e "$dir" ] || { echo "pg-cluster: $dir exists" >&2; exit 1; }
  mkdir -p "$dir"
  chmod 0700 "$dir"
  [ "$(id -u)" -ne 0 ] || chown konsil-pg: "$dir"
  as_owner "$bindir/initdb" -D "$dir/data" -U konsil -A trust -E UTF8 --locale=C.UTF-8 \
    --no-instructions >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
synchronous_commit = on
EOF
  echo "$port" >"$dir/port"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U konsil konsil
  echo "postgresql://konsil@127.0.0.1:$port/konsil"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
url)
  echo "postgresql://konsil@127.0.0.1:$(cat "$dir/port")/konsil"
  ;;
*) usage ;;
esac

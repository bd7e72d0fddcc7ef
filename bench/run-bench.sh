#!/usr/bin/env bash
# Hub vs ShareDB: runs the same loads from bench/loadgen against `konsil serve` and against a
# ShareDB server (bench/sharedb-server.js), one server at a time, on this machine, and prints
# each figure for both with the ratio. Writes them to the "Hub vs ShareDB" section of
# BENCHMARKS.md unless --no-write. A full run takes about ten minutes, --quick about three.
#
#   bench/run-bench.sh [--quick] [--no-write] [--results DIR] [--only LOADS]
#                      [--server konsil|sharedb] [--seconds S] [--perf] [--record]
#                      [--callgrind] [--encrypted] [--typing-rooms N,N,...]
#                      [--konsil-args "ARGS"]
#
# --typing-rooms runs the typing load at these room counts instead of the ramp (a partial
# run). --konsil-args adds options to `konsil serve` (e.g. "--event-loop poll").
# --only runs some loads (comma-separated names from the list below) and --server one
# server; such partial runs print each load's line but no table and write nothing.
# --seconds sets the measured window of hot room and saturation. --perf counts the
# server's CPU time, context switches, fsyncs (tracepoints, for root) and (where the
# CPU exposes the counter) user-space instructions over each load with `perf stat` (attached for the whole loadgen run:
# setup, warm-up, window, drain and final fetch) and prints them per op applied (for
# Konsil the edits in its op log, every room; for ShareDB the one room's version): figures that depend far less than throughput on
# what else runs on the machine. For example, the saturation load alone against Konsil:
#
#   bench/run-bench.sh --only saturation --server konsil --perf
#
# --record samples the server's call graphs over each load (`perf record --call-graph dwarf`, CPU clock)
# into $results/SERVER-LOAD.perf.data, for `perf report -i`. --callgrind runs Konsil
# under valgrind's callgrind (its threads then take turns, and it runs some 50 times
# slower, so only its instruction counts mean anything) and prints the instructions it
# executed per op applied while the load generator ran; the profile is left in
# $results/konsil-LOAD.callgrind for callgrind_annotate. --encrypted runs Konsil with a
# master key (case data sealed with AES-256-GCM under a key per case, protocol/keystore.md),
# to measure what encryption at rest costs per op beside a run without it.
#
# Loads (see BENCHMARKS.md for what each figure means):
#   typing      rooms of 5 (4 editors at 5 ops/s, 1 observer); the number of rooms doubles
#               until p99 latency passes 50 ms, then one step halfway back: the most rooms held
#   hot room    one room of 50 clients, each at 20 ops/s
#   saturation  one room of 4 clients, one op in flight each, the next sent on the ack
#   idle        2,000 subscribed connections in 400 rooms, no edits: server RSS per connection
#   durability  Konsil's saturation figure with synchronous=FULL and with syncing off
#   growth      Konsil alone: room load, catch-up, a history page and export of one document
#               with 1,000, 100,000 and 1,000,000 ops of history (bench/growth-bench.js)
# The server runs on one core and the load generator on another (taskset); each load starts
# a fresh server with a fresh database. Konsil runs with its access rules: one counsellor
# account, and a session per room made over the REST API from a template whose "log" list
# counsellors may write; the load generator logs in with that account's cookie.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
write=1
results=build/bench/results
only=typing,hot,saturation,idle,durability,growth
servers="konsil sharedb"
seconds=""
perf=0
record=0
callgrind=0
encrypted=0
typing_rooms=""
extra_konsil_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-write) write=0 ;;
    --results) results=$2; shift ;;
    --only) only=$2; write=0; shift ;;
    --server) servers=$2; write=0; shift ;;
    --seconds) seconds=$2; shift ;;
    --perf) perf=1 ;;
    --record) record=1 ;;
    --callgrind) callgrind=1 ;;
    --encrypted) encrypted=1 ;;
    --typing-rooms) typing_rooms=$2; write=0; shift ;;
    --konsil-args) read -r -a extra_konsil_args <<<"$2"; write=0; shift ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

konsil=build/konsil
loadgen=build/bench/loadgen
for f in "$konsil" "$loadgen" node_modules/sharedb/package.json node_modules/ws/package.json; do
  [ -e "$f" ] || { echo "run-bench: $f is missing (make build/konsil build/bench/loadgen deps)" >&2; exit 2; }
done

if [ "$quick" = 1 ]; then
  warmup=1; typing_secs=4; hot_secs=5; sat_secs=5; idle_secs=3; bisect=0
else
  warmup=3; typing_secs=10; hot_secs=15; sat_secs=20; idle_secs=5; bisect=1
fi
[ -n "$seconds" ] && { hot_secs=$seconds; sat_secs=$seconds; }
p99_limit_ms=50
patience=150 # tenths of a second for a server to start or stop
[ "$callgrind" = 1 ] && patience=1200
runs() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
for load in ${only//,/ }; do
  case "$load" in
    typing|hot|saturation|idle|durability|growth) ;;
    *) echo "run-bench: unknown load $load" >&2; exit 2 ;;
  esac
done
for kind in $servers; do
  case "$kind" in
    konsil|sharedb) ;;
    *) echo "run-bench: unknown server $kind" >&2; exit 2 ;;
  esac
done
if [ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
  echo "run-bench: --callgrind needs valgrind" >&2
  exit 2
fi
if [ "$perf$record" != 00 ] && ! command -v perf >/dev/null 2>&1; then
  echo "run-bench: --perf needs perf (linux-perf)" >&2
  exit 2
fi

# Two cores or more: the server on the last one, the load generator on the one before it.
cores=$(nproc)
if [ "$cores" -ge 2 ]; then
  server_pin=(taskset -c $((cores - 1)))
  loadgen_pin=(taskset -c $((cores - 2)))
else
  server_pin=()
  loadgen_pin=()
  echo "run-bench: one core only, server and load generator share it" >&2
fi

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fd_limit=$(ulimit -n)
max_rooms=$(( (fd_limit - 200) / 5 ))
[ "$max_rooms" -gt 5120 ] && max_rooms=5120

# Konsil's per-connection op-rate limit guards against abuse; saturation would measure it
# instead of the server, so it is lifted. The connection and room caps are raised for the ramp:
# every load connection comes from one address with one login, and connects at once; that
# login creates every session and keeps every room loaded, and its typists append all the
# time (saturation grows one sheet past 2 MB), so the per-account creation, room and append
# limits and the sheet's size limits are lifted too. (The
# server lowers --max-conns to fit its descriptors, and says so.)
konsil_args=(--max-conns 100000 --max-conns-addr 100000 --max-conns-principal 100000
             --max-pending 4096 --max-pending-addr 4096
             --max-rooms 100000 --op-rate 1000000 --op-burst 1000000
             --max-creates 1000000 --max-rooms-principal 100000 --append-budget 1073741824
             --max-sheet 268435456 --max-string 268435456
             ${extra_konsil_args[@]+"${extra_konsil_args[@]}"})

# Syncing off for the durability figure: Konsil's own option when it has one, else eatmydata
# (fsync becomes a no-op, which is what synchronous=OFF does to the disk).
if "$konsil" serve --help 2>&1 | grep -q -- '--synchronous'; then
  nosync_how="--synchronous off"
  nosync_prefix=()
  nosync_args=(--synchronous off)
elif command -v eatmydata >/dev/null 2>&1; then
  nosync_how="eatmydata (fsync and fdatasync are no-ops)"
  nosync_prefix=(eatmydata)
  nosync_args=()
else
  nosync_how=""
fi

mkdir -p "$results"
work=$(mktemp -d "${TMPDIR:-/tmp}/konsil-bench.XXXXXX")
bench_password=bench-password-$RANDOM$RANDOM
if [ "$encrypted" = 1 ]; then
  (umask 077; openssl rand -hex 32 > "$work/master.key")
  konsil_args+=(--master-key-file "$work/master.key")
fi

mkdir -p "$work/templates"
cat >"$work/templates/bench.json" <<'EOF'
{"name": "bench", "title": "Load test", "document": {"title": "load test", "log": []},
 "rules": [{"path": [], "read": ["counsellor"], "write": ["lead"]},
           {"path": ["log"], "read": ["counsellor"], "write": ["counsellor"]}]}
EOF

# sessions.js BASE_URL COUNT OUT_FILE PASSWORD: logs in as "bench", creates COUNT sessions
# from the bench template, writes their cases' ids (the documents to load) to OUT_FILE and
# prints the session cookie.
cat >"$work/sessions.js" <<'EOF'
const fs = require('node:fs');
const [base, count, out, password] = process.argv.slice(2);
const json = { 'content-type': 'application/json' };
(async () => {
  const login = await fetch(`${base}/api/login`, {
    method: 'POST', headers: json, body: JSON.stringify({ username: 'bench', password }),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const ids = new Array(Number(count));
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      const res = await fetch(`${base}/api/sessions`, {
        method: 'POST', headers: { ...json, cookie },
        body: JSON.stringify({ title: `room ${i}`, template: 'bench' }),
      });
      if (res.status !== 201) throw new Error(`session ${i}: ${res.status} ${await res.text()}`);
      ids[i] = (await res.json()).case_id;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  fs.writeFileSync(out, ids.join('\n') + '\n');
  console.log(cookie);
})().catch((e) => {
  console.error(`sessions.js: ${e.message}`);
  process.exit(1);
});
EOF
server_pid=""
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server konsil|konsil-nosync|sharedb [NAME]: starts it on a free port; sets
# server_pid, server_url and server_http. NAME names the callgrind profile.
start_server() {
  local kind=$1 log=$work/server.log konsil_prefix=()
  [ "$callgrind" = 1 ] &&
    konsil_prefix=(valgrind --tool=callgrind --instr-atstart=no
                   --callgrind-out-file="$results/konsil-${2:-run}.callgrind")
  rm -rf "$work/db" && mkdir -p "$work/db"
  : > "$log"
  case "$kind" in
    konsil|konsil-nosync)
      printf '%s\n' "$bench_password" |
        "$konsil" user add bench --role counsellor --db "$work/db/konsil.db" >/dev/null
      ;;
  esac
  case "$kind" in
    konsil)
      "${server_pin[@]}" "${konsil_prefix[@]}" "$konsil" serve --listen 127.0.0.1:0 --db "$work/db/konsil.db" \
        --templates "$work/templates" "${konsil_args[@]}" 2>"$log" &
      ;;
    konsil-nosync)
      "${server_pin[@]}" "${nosync_prefix[@]}" "$konsil" serve --listen 127.0.0.1:0 \
        --db "$work/db/konsil.db" --templates "$work/templates" "${konsil_args[@]}" \
        "${nosync_args[@]}" 2>"$log" &
      ;;
    sharedb)
      "${server_pin[@]}" node bench/sharedb-server.js --listen 127.0.0.1:0 2>"$log" &
      ;;
  esac
  server_pid=$!
  local port="" i
  for i in $(seq "$patience"); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "run-bench: $kind did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  server_url="ws://127.0.0.1:$port/ws"
  server_http="http://127.0.0.1:$port"
  sleep 0.5 # let the server settle before its baseline memory is read
}

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for i in $(seq "$patience"); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# json FILE FIELD.PATH: one value from a loadgen summary.
json() {
  node -e 'let v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
           for (const k of process.argv[2].split(".")) v = v == null ? v : v[k];
           console.log(v === undefined || v === null ? "" : v);' "$1" "$2"
}

# cpu_per_op FILE: the server's CPU time per acknowledged op over the window, in µs.
cpu_per_op() {
  node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
           const r = d.server_cpu * 1e6 / d.acked_ops_per_s;
           console.log(d.server_cpu >= 0 && Number.isFinite(r) ? r.toFixed(0) : "");' "$1"
}

# warm_up SERVER: one room with one idle connection, before the idle load reads the
# server's baseline memory, on either server: what the first login, the first document
# and the first subscription bring in once per process (library code paged in, lazily
# compiled code, caches) is not memory per connection.
warm_up() {
  local kind=$1 warm_args=()
  case "$kind" in
    konsil*)
      local cookie
      cookie=$(node "$work/sessions.js" "$server_http" 1 "$work/warm.txt" "$bench_password") || return 0
      warm_args=(--docs "$work/warm.txt" --cookie "$cookie")
      ;;
  esac
  "${loadgen_pin[@]}" "$loadgen" --url "$server_url" --rooms 1 --clients-per-room 1 --idle \
    --warmup 0 --duration 1 "${warm_args[@]}" >/dev/null 2>&1 || true
  sleep 0.5
}

# run_load SERVER NAME ROOMS LOADGEN_ARGS...: a fresh server, one loadgen run; the summary
# is left in $results/SERVER-NAME.json and its path in $summary. Sets baseline_rss to the
# server's RSS before anything was created in it.
run_load() {
  local kind=$1 name=$2 rooms=$3 room_args=()
  shift 3
  summary=$results/$kind-$name.json
  start_server "$kind" "$name"
  [ "$name" = idle ] && warm_up "$kind"
  baseline_rss=$(rss_kib "$server_pid")
  case "$kind" in
    konsil*)
      local cookie
      if ! cookie=$(node "$work/sessions.js" "$server_http" "$rooms" "$work/docs.txt" "$bench_password"); then
        stop_server
        echo "run-bench: could not create the sessions" >&2
        exit 1
      fi
      room_args=(--docs "$work/docs.txt" --cookie "$cookie")
      ;;
  esac
  local perf_pid="" perf_out=$results/$kind-$name.perf
  if [ "$perf" = 1 ]; then
    perf stat -x, -e task-clock,context-switches,instructions:u,syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync -p "$server_pid" -o "$perf_out" &
    perf_pid=$!
  fi
  local record_pid=""
  if [ "$record" = 1 ]; then
    perf record -q --call-graph dwarf,16384 -e cpu-clock -F 1000 -p "$server_pid" -o "$results/$kind-$name.perf.data" 2>/dev/null &
    record_pid=$!
  fi
  [ -n "$perf_pid$record_pid" ] && sleep 0.2
  if [ "$callgrind" = 1 ] && [ "$kind" != sharedb ]; then
    callgrind_control -i on "$server_pid" >/dev/null 2>&1 || true
  fi
  "${loadgen_pin[@]}" "$loadgen" --url "$server_url" --server-pid "$server_pid" \
    --rooms "$rooms" "${room_args[@]}" "$@" >"$summary" 2>"$results/$kind-$name.log" || true
  if [ "$callgrind" = 1 ] && [ "$kind" != sharedb ]; then
    callgrind_control -i off "$server_pid" >/dev/null 2>&1 || true
  fi
  local p
  for p in $perf_pid $record_pid; do
    kill -INT "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  stop_server
  if [ ! -s "$summary" ]; then
    echo "run-bench: $kind $name produced no summary:" >&2
    tail -n 5 "$results/$kind-$name.log" >&2
    echo '{"converged":false,"aborted":true}' >"$summary"
  fi
  printf '  %-8s %-14s p50 %8s ms  p99 %8s ms  acked %9s ops/s  server cpu %5s (%s us/op)  loadgen cpu %5s  converged %s\n' \
    "$kind" "$name" "$(json "$summary" latency_ms.p50)" "$(json "$summary" latency_ms.p99)" \
    "$(json "$summary" acked_ops_per_s)" "$(json "$summary" server_cpu)" "$(cpu_per_op "$summary")" \
    "$(json "$summary" loadgen_cpu)" "$(json "$summary" converged)" >&2
  local ops
  # Ops applied over the whole run: Konsil's op log counts them in every room.
  case "$kind" in
    konsil*) ops=$(sqlite3 "$work/db/konsil.db" "SELECT count(*) FROM ops WHERE kind = 0") ;;
    *) ops=$(json "$summary" check.version_max) ;;
  esac
  if [ "$perf" = 1 ]; then
    awk -F, -v ops="${ops:-0}" '
      $3 == "task-clock" { ms = $1 } $3 == "context-switches" { cs = $1 }
      $3 == "instructions:u" && $1 ~ /^[0-9]/ { ins = $1 }
      $3 ~ /^syscalls:sys_enter_f(data)?sync$/ && $1 ~ /^[0-9]/ { syncs += $1; have_syncs = 1 }
      END { if (ops > 0 && ms != "" && cs != "")
              printf "           %d ops applied: %.1f us CPU/op, %.2f context switches/op%s%s\n", ops,
                     ms * 1000 / ops, cs / ops,
                     have_syncs ? sprintf(", %.2f ops/fsync", syncs > 0 ? ops / syncs : 0) : "",
                     ins != "" ? sprintf(", %.0f instructions/op (user)", ins / ops) : ""
            else print "           perf: no counts (see " FILENAME ")" }' "$perf_out" >&2
  fi
  if [ "$callgrind" = 1 ] && [ "$kind" != sharedb ]; then
    local ir
    ir=$(callgrind_annotate "$results/konsil-$name.callgrind" 2>/dev/null |
         sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    if [ -n "$ir" ] && [ "${ops:-0}" -gt 0 ]; then
      printf '           %d ops applied: %d instructions/op (callgrind, all threads, user space)\n' "$ops" $((ir / ops)) >&2
    else
      echo "           callgrind: no count" >&2
    fi
  fi
}

# A typing step holds when it converged, p99 is under the limit and the server kept up with
# what was typed (at least 95% of the typed tokens acknowledged within the window).
typing_held() {
  node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
           const ok = d.converged && d.latency_ms.p99 < Number(process.argv[2]) &&
                      d.acked_tokens_per_s >= 0.95 * d.typed_tokens_per_s;
           process.exit(ok ? 0 : 1);' "$1" "$p99_limit_ms" 2>/dev/null
}

typing_step() {
  local kind=$1 rooms=$2
  run_load "$kind" "typing-$rooms" "$rooms" --clients-per-room 4 --observers-per-room 1 \
    --rate 5 --warmup "$warmup" --duration "$typing_secs"
  step_rooms="$step_rooms $rooms"
  fig[$kind.step$rooms]="$(json "$summary" server_cpu) ($(cpu_per_op "$summary") µs/op), p99 $(json "$summary" latency_ms.p99) ms"
  fig[$kind.step_cpu$rooms]=$(json "$summary" server_cpu)
  if typing_held "$summary"; then
    return 0
  fi
  fig[$kind.step$rooms]="${fig[$kind.step$rooms]}, failed"
  return 1
}

# Sets held_rooms for the server: doubling from 10, then (full runs) one step halfway
# between the last room count held and the first that failed. When 10 rooms fail already,
# it tries 5, 2 and 1.
typing_ramp() {
  local kind=$1 rooms=10 failed=0 fewer
  held_rooms=0
  if ! typing_step "$kind" "$rooms"; then
    for fewer in 5 2 1; do
      if typing_step "$kind" "$fewer"; then
        held_rooms=$fewer
        break
      fi
    done
    held_note=""
    return
  fi
  held_rooms=$rooms
  rooms=$((rooms * 2))
  while [ "$rooms" -le "$max_rooms" ]; do
    if typing_step "$kind" "$rooms"; then
      held_rooms=$rooms
      rooms=$((rooms * 2))
    else
      failed=$rooms
      break
    fi
  done
  if [ "$bisect" = 1 ] && [ "$failed" -gt 0 ] && [ "$held_rooms" -gt 0 ]; then
    local mid=$(( (held_rooms + failed) / 2 ))
    if [ "$mid" -gt "$held_rooms" ] && typing_step "$kind" "$mid"; then
      held_rooms=$mid
    fi
  fi
  if [ "$failed" = 0 ]; then
    held_note="(the ramp stopped at its cap of $max_rooms rooms)"
  else
    held_note=""
  fi
}

ratio() { # ratio A B: A/B with two significant digits (whole numbers from 10 up), or "–"
  node -e 'const [a, b] = process.argv.slice(1).map((s) => (s === "" ? NaN : Number(s)));
           const r = a / b;
           console.log(Number.isFinite(r) ? (r >= 10 ? r.toFixed(0) : r.toPrecision(2)) + "×" : "–");' "$1" "$2"
}

# Anything else running on these cores shows up in the latencies.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if awk '{ exit !($1 > 0.5) }' /proc/loadavg; then
  echo "run-bench: warning: load average $load_before; other work on this machine skews the figures" >&2
fi
started=$(date +%s)
declare -A fig
step_rooms=""

for kind in $servers; do
  if runs typing && [ -n "$typing_rooms" ]; then
    echo "== $kind: typing at ${typing_rooms//,/, } rooms" >&2
    for r in ${typing_rooms//,/ }; do typing_step "$kind" "$r" || true; done
  elif runs typing; then
    echo "== $kind: typing ramp" >&2
    typing_ramp "$kind"
    fig[$kind.typing]=$held_rooms
    fig[$kind.typing_note]=$held_note
  fi

  if runs hot; then
    echo "== $kind: hot room" >&2
    run_load "$kind" hot 1 --clients-per-room 50 --rate 20 --warmup "$warmup" --duration "$hot_secs"
    fig[$kind.hot_p50]=$(json "$summary" latency_ms.p50)
    fig[$kind.hot_p99]=$(json "$summary" latency_ms.p99)
    fig[$kind.hot_ops]=$(json "$summary" acked_ops_per_s)
    fig[$kind.hot_tokens]=$(json "$summary" acked_tokens_per_s)
    fig[$kind.hot_ok]=$(json "$summary" converged)
  fi

  if runs saturation; then
    echo "== $kind: saturation" >&2
    run_load "$kind" saturation 1 --clients-per-room 4 --rate 0 --warmup 2 --duration "$sat_secs"
    fig[$kind.sat]=$(json "$summary" acked_ops_per_s)
    fig[$kind.sat_p99]=$(json "$summary" ack_latency_ms.p99)
    fig[$kind.sat_ok]=$(json "$summary" converged)
  fi

  if runs idle; then
    echo "== $kind: idle connections" >&2
    run_load "$kind" idle 400 --clients-per-room 5 --idle --warmup 0 --duration "$idle_secs"
    fig[$kind.idle_base]=$baseline_rss
    fig[$kind.idle_loaded]=$(json "$summary" server_rss_kib.loaded)
    fig[$kind.idle]=$(node -p "const [after, before] = ['${fig[$kind.idle_loaded]}', '$baseline_rss'].map(Number);
                                after > 0 && before > 0 ? ((after - before) / 2000).toFixed(1) : ''")
    fig[$kind.idle_ok]=$(json "$summary" converged)
    echo "           RSS $baseline_rss KiB before the rooms, ${fig[$kind.idle_loaded]} KiB loaded: ${fig[$kind.idle]} KiB per connection" >&2
  fi
done

if ! runs durability || [[ " $servers " != *" konsil "* ]]; then
  :
elif [ -n "$nosync_how" ]; then
  echo "== konsil: saturation with syncing off ($nosync_how)" >&2
  run_load konsil-nosync saturation 1 --clients-per-room 4 --rate 0 --warmup 2 --duration "$sat_secs"
  fig[konsil.sat_off]=$(json "$summary" acked_ops_per_s)
  fig[konsil.sat_off_ok]=$(json "$summary" converged)
else
  fig[konsil.sat_off]=""
  fig[konsil.sat_off_ok]="not run: konsil serve has no --synchronous option and eatmydata is not installed"
fi
growth_table=""
if runs growth && [[ " $servers " == *" konsil "* ]]; then
  echo "== konsil: costs against the length of the history" >&2
  if [ "$quick" = 1 ]; then growth_args=(--sizes 1000,100000 --repeat 3); else growth_args=(); fi
  growth_table=$(node bench/growth-bench.js --konsil "$konsil" "${growth_args[@]}" \
                   --json "$results/konsil-growth.json" 2>"$results/konsil-growth.log") ||
    growth_table="growth bench failed: $(tail -n 1 "$results/konsil-growth.log")"
  echo "$growth_table" >&2
fi
elapsed=$(( $(date +%s) - started ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

if [ "$only" != typing,hot,saturation,idle,durability,growth ] || [ "$servers" != "konsil sharedb" ] ||
   [ -n "$typing_rooms" ]; then
  echo "run took ${elapsed}s (partial run: no table); loadgen summaries in $results/" >&2
  exit 0
fi

# A figure whose run did not converge is marked; it is not a valid measurement.
mark() { [ "$2" = true ] && echo "$1" || echo "$1 (did not converge)"; }

table=$(cat <<EOF
| figure | Konsil (durable) | ShareDB (in memory) | Konsil / ShareDB |
|---|---|---|---|
| typing: most rooms of 5 with p99 < ${p99_limit_ms} ms | ${fig[konsil.typing]}${fig[konsil.typing_note]:+ ${fig[konsil.typing_note]}} | ${fig[sharedb.typing]}${fig[sharedb.typing_note]:+ ${fig[sharedb.typing_note]}} | $(ratio "${fig[konsil.typing]}" "${fig[sharedb.typing]}") |
| hot room (50 × 20 ops/s): p50 latency | $(mark "${fig[konsil.hot_p50]} ms" "${fig[konsil.hot_ok]}") | $(mark "${fig[sharedb.hot_p50]} ms" "${fig[sharedb.hot_ok]}") | $(ratio "${fig[sharedb.hot_p50]}" "${fig[konsil.hot_p50]}") faster |
| hot room: p99 latency | ${fig[konsil.hot_p99]} ms | ${fig[sharedb.hot_p99]} ms | $(ratio "${fig[sharedb.hot_p99]}" "${fig[konsil.hot_p99]}") faster |
| hot room: acked ops/s (edits/s) | ${fig[konsil.hot_ops]} (${fig[konsil.hot_tokens]}) | ${fig[sharedb.hot_ops]} (${fig[sharedb.hot_tokens]}) | $(ratio "${fig[konsil.hot_tokens]}" "${fig[sharedb.hot_tokens]}") (edits) |
| saturation (1 room, 4 clients): acked ops/s | $(mark "${fig[konsil.sat]}" "${fig[konsil.sat_ok]}") | $(mark "${fig[sharedb.sat]}" "${fig[sharedb.sat_ok]}") | $(ratio "${fig[konsil.sat]}" "${fig[sharedb.sat]}") |
| idle: server KiB per subscribed connection | $(mark "${fig[konsil.idle]}" "${fig[konsil.idle_ok]}") | $(mark "${fig[sharedb.idle]}" "${fig[sharedb.idle_ok]}") | $(ratio "${fig[konsil.idle]}" "${fig[sharedb.idle]}") |
| durability: Konsil saturation, synchronous=FULL vs off | ${fig[konsil.sat]} vs ${fig[konsil.sat_off]:-–} ops/s | | $(ratio "${fig[konsil.sat]}" "${fig[konsil.sat_off]}") of off |
EOF
)

# Every typing step either server ran: the server's CPU (fraction of its core, and per
# acknowledged op), its p99, and Konsil's CPU as a fraction of ShareDB's at the same load.
steps_table="| rooms of 5 (ops/s typed) | Konsil server CPU | ShareDB server CPU | Konsil CPU / ShareDB CPU |
|---|---|---|---|"
for r in $(printf '%s\n' $step_rooms | sort -n -u); do
  steps_table="$steps_table
| $r ($((r * 20))) | ${fig[konsil.step$r]:-–} | ${fig[sharedb.step$r]:-–} | $(ratio "${fig[konsil.step_cpu$r]:-}" "${fig[sharedb.step_cpu$r]:-}") |"
done

echo
echo "$table"
echo
echo "$steps_table"
echo
echo "$growth_table"
echo
echo "run took ${elapsed}s; loadgen summaries in $results/"

[ "$write" = 1 ] || exit 0

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
konsil_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src 2>/dev/null || konsil_rev="$konsil_rev with uncommitted changes in src/"
pkg_version() { node -p "require('./node_modules/$1/package.json').version"; }
command_line=bench/run-bench.sh
[ "$quick" = 1 ] && command_line="$command_line --quick"

section=$(cat <<EOF
## Hub vs ShareDB

The same client load from \`bench/loadgen\` (C, libwebsockets, ShareDB wire protocol) against
\`konsil serve\` (durable: every op is fsync'ed before its ack and broadcast) and against a ShareDB
server (\`bench/sharedb-server.js\`: npm sharedb with its in-memory database, json0, presence on),
one after the other in the same run. Command: \`$command_line\` ($(date -u +%Y-%m-%d), took ${elapsed} s).

$table

Server CPU at each typing step (fraction of one core over the window, the same per op
acknowledged, and the step's p99; "failed" marks a step past the server's limit):

$steps_table

Costs against the length of one document's history (\`bench/growth-bench.js\`: median
of $([ "$quick" = 1 ] && echo 3 || echo 5) runs, export once; a fresh server for each room load; the history is appended by
SQL inserts of valid ops that keep the document small, with a milestone every 100
versions):

$growth_table

Machine: $cores cores, $cpu_model, $(uname -sr), $(($(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024)) MiB RAM, database on $(df -T "$work" | awk 'NR==2 {print $2}').
Load average (1, 5, 15 min) before the run: $load_before; after: $load_after.
Versions: Konsil $konsil_rev, libwebsockets $(pkg-config --modversion libwebsockets | sed 's/-$//'), SQLite $(pkg-config --modversion sqlite3),
cJSON $(pkg-config --modversion libcjson); Node.js $(node --version), sharedb $(pkg_version sharedb), ws $(pkg_version ws), ot-json0 $(pkg_version ot-json0).

How it is measured:
- The server is pinned to one core and the load generator to another (\`taskset\`); every load
  starts a fresh server with an empty database. Both report their CPU use in
  \`$results/*.json\` (\`server_cpu\`, \`loadgen_cpu\`: fraction of one core over the window).
- Each op inserts a token at the front of the document's \`log\` list; the token carries the time
  it was typed, and every other client of the room records the latency when the op reaches it
  (author's keystroke → another participant's receipt, including any wait behind the author's op
  in flight). Tokens typed while an op is in flight go out composed in the next op, as the stock
  ShareDB client does, so "edits/s" can exceed "ops/s".
- After each load the ops drain and one client per room fetches the snapshot: every acknowledged
  token must be in it exactly once, and every client must have seen every version. A figure
  from a run that failed this is marked "did not converge".
- Typing: ${warmup} s warm-up, then ${typing_secs} s measured per step; rooms double from 10 until a
  step fails (p99 ≥ ${p99_limit_ms} ms, fewer than 95% of typed edits acknowledged, or no
  convergence)$([ "$bisect" = 1 ] && echo ", then one step halfway back"); when 10 rooms fail
  already, 5, 2 and 1 are tried. Hot room: ${hot_secs} s,
  saturation: ${sat_secs} s measured. Idle: 400 rooms × 5 subscribed connections (each room's
  document created, no edits); the server's resident memory (VmRSS) ${idle_secs} s after the last
  subscription, minus its RSS before the rooms were made (after a warm-up of one room with
  one idle connection, on both servers), divided by 2,000.
- Konsil runs with its access rules (one counsellor account, a session per room from a
  template whose \`log\` list counsellors write) and with
  \`${konsil_args[*]}\`:
  the per-connection op-rate limit would otherwise cap saturation. Syncing off: $([ -n "$nosync_how" ] && echo "$nosync_how" || echo "not measured (${fig[konsil.sat_off_ok]})").
EOF
)

bench_md=BENCHMARKS.md
[ -f "$bench_md" ] || printf '# Benchmarks\n' >"$bench_md"
# Replace the section (up to the next "## " heading) or append it.
SECTION="$section" awk '
  BEGIN { section = ENVIRON["SECTION"] }
  /^## / { if (skipping) skipping = 0; if ($0 == "## Hub vs ShareDB") { print section; print ""; skipping = 1; done = 1; next } }
  !skipping { print }
  END { if (!done) { print ""; print section } }
' "$bench_md" >"$work/BENCHMARKS.md"
cp "$work/BENCHMARKS.md" "$bench_md"
echo "wrote the \"Hub vs ShareDB\" section of $bench_md"

'use strict';
// What an op against an old version costs the server (not part of `make check`):
//
//   node bench/lag-bench.js [--history 100000] [--lags 10,100,1000,10000,100000]
//                           [--reps 5] [--bin build/konsil] [--args "..."]
//
//
// One case sheet gets `--history` typing ops (si into one string, pipelined, the op-rate
// limit lifted). Then, for each lag L, a second connection submits `--reps` ops based on
// the version L behind the head (each one a typing op into another string, so it is
// transformed across every op in between), one at a time (at least --reps of them, and
// more for small lags: enough to cross 300,000 versions, at most 1,000 ops), and the server's CPU time
// (utime + stime of /proc/PID/stat) for them is printed per op and per version crossed,
// beside the CPU time of an op at the head. Ops older than --tail-ops are read back from
// the database on the reader thread; the transforms run on the service thread.
// --max-op-lag is raised for the run so that every lag is measured.
const fs = require('node:fs');
const WebSocket = require('ws');
const { startProtocolServer } = require('../tests/hub/lib/protocol');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const TICK_MS = 1000 / 100;     /* USER_HZ */

function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

function open(url, cookie) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Cookie: cookie } });
    ws.on('error', reject);
    ws.on('open', () => resolve(ws));
  });
}

// Messages of a socket, waited for by predicate.
function inbox(ws) {
  const box = { msgs: [], waiters: [] };
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    const w = box.waiters.findIndex((x) => x.pred(m));
    if (w >= 0) box.waiters.splice(w, 1)[0].resolve(m);
    else box.msgs.push(m);
  });
  box.next = (pred) => {
    const i = box.msgs.findIndex(pred);
    if (i >= 0) return Promise.resolve(box.msgs.splice(i, 1)[0]);
    return new Promise((resolve) => box.waiters.push({ pred, resolve }));
  };
  return box;
}

async function main() {
  const history = Number(arg('history', 100000));
  const lags = String(arg('lags', '10,100,1000,10000,100000')).split(',').map(Number).filter((l) => l <= history);
  const reps = Number(arg('reps', 5));
  const extra = arg('args', '').split(' ').filter(Boolean);
  const p = await startProtocolServer({
    templates: { lag: { a: '', b: '' } },
    args: ['--op-rate', '1000000', '--op-burst', '1000000', '--max-op-lag', String(history + 10),
           '--append-budget', '1G', ...extra],
    bin: arg('bin', undefined),
  });
  try {
    const doc = await p.newDoc('lag');
    const cookie = await p.cookie('dev');
    const ws = await open(p.url, cookie);
    const box = inbox(ws);
    ws.send(JSON.stringify({ a: 'hs', id: null, protocol: 1, protocolMinor: 2 }));
    await box.next((m) => m.a === 'hs');
    // The history: typing into `a`, pipelined in windows of 500 (acks counted as they come).
    let acked = 0;
    let sent = 0;
    const window = 500;
    let wake = null;
    const onAck = (d) => {
      const m = JSON.parse(d.toString());
      if (m.a === 'op' && m.seq <= history && !m.op) {
        if (m.error) throw new Error(JSON.stringify(m.error));
        acked++;
        if (wake) wake();
      }
    };
    ws.on('message', onAck);
    const t0 = Date.now();
    while (acked < history) {
      while (sent < history && sent - acked < window) {
        sent++;
        ws.send(JSON.stringify({ a: 'op', c: 'cases', d: doc, seq: sent, op: [{ p: ['a', 0], si: 'x' }] }));
      }
      await new Promise((r) => { wake = r; });
    }
    ws.off('message', onAck);
    box.msgs.length = 0;
    const head = 1 + history;
    console.log(`history: ${history} ops in ${((Date.now() - t0) / 1000).toFixed(1)} s; head at v${head}`);
    const box2 = box;
    let seq = sent;
    const one = async (v) => {
      seq++;
      ws.send(JSON.stringify({ a: 'op', c: 'cases', d: doc, seq, v, op: [{ p: ['b', 0], si: 'y' }] }));
      const ack = await box2.next((m) => m.a === 'op' && m.seq === seq);
      if (ack.error) throw new Error(JSON.stringify(ack.error));
      box2.msgs.length = 0;
      return ack.v;
    };
    // At the head: the cost of an op that needs no transform.
    let v = await one(null) + 1;
    const headReps = 200;
    let before = cpuMs(p.proc.pid);
    for (let i = 0; i < headReps; i++) v = await one(v) + 1;
    const headMs = (cpuMs(p.proc.pid) - before) / headReps;
    console.log(`op at the head: ${(headMs * 1000).toFixed(0)} us of server CPU (mean of ${headReps})`);
    console.log('lag (versions) | server CPU per op | per version crossed | / op at the head');
    for (const lag of lags) {
      // enough ops that the 10 ms clock ticks of /proc do not dominate
      const n = Math.min(1000, Math.max(reps, Math.ceil(300000 / lag)));
      before = cpuMs(p.proc.pid);
      for (let i = 0; i < n; i++) v = await one(v - lag) + 1;
      const ms = (cpuMs(p.proc.pid) - before) / n;
      console.log(`${String(lag).padStart(14)} | ${ms.toFixed(1).padStart(14)} ms | ${(ms * 1000 / lag).toFixed(2).padStart(16)} us | ${(ms / headMs).toFixed(0).padStart(8)}x`);
    }
    ws.close();
  } finally {
    await p.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

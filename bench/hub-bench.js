'use strict';
// Short measurements of `konsil serve` (not part of `make check`):
//
//   node bench/hub-bench.js ops  [--clients 4] [--seconds 5] [--bin build/konsil]
//     One document, N clients subscribed to it, each keeping exactly one op in flight
//     (send, wait for the ack, send the next). Prints acked ops per second, and the ack
//     latency percentiles. Every op is fanned out to the other N-1 clients and fsync'ed
//     before its ack. The op-rate limit is lifted for the run.
//
//   node bench/hub-bench.js idle [--conns 2000] [--bin build/konsil]
//     Opens N WebSocket connections that complete the handshake and subscribe to one
//     document each, then prints the server's RSS (VmRSS) before and after. Raise
//     `ulimit -n` first (bench/idle-conns.sh does).
//
// Both log in as one account and work on case sheets made by POST /api/cases
// (tests/hub/lib/protocol.js); every connection carries that login's cookie.
const fs = require('node:fs');
const WebSocket = require('ws');
const { startProtocolServer } = require('../tests/hub/lib/protocol');

// One login holds every connection of a run, from one address.
const MANY = ['--max-conns-principal', '100000', '--max-conns-addr', '100000', '--max-pending-addr', '1024'];

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

function open(url, cookie) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Cookie: cookie } });
    ws.on('error', reject);
    ws.on('open', () => resolve(ws));
  });
}

function waitFor(ws, pred) {
  return new Promise((resolve) => {
    const on = (data) => {
      const m = JSON.parse(data.toString());
      if (pred(m)) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

async function handshake(ws) {
  const hs = waitFor(ws, (m) => m.a === 'hs');
  ws.send(JSON.stringify({ a: 'hs', id: null, protocol: 1, protocolMinor: 2 }));
  return (await hs).id;
}

async function ops(bin) {
  const clients = Number(arg('clients', 4));
  const seconds = Number(arg('seconds', 5));
  const srv = await startProtocolServer({ bin, args: ['--op-rate', '1000000', '--op-burst', '1000000', ...MANY],
                                         templates: { bench: { n: 0, log: [] } } });
  const doc = await srv.newDoc('bench');
  const cookie = await srv.cookie();
  const conns = [];
  for (let i = 0; i < clients; i++) {
    const ws = await open(srv.url, cookie);
    const id = await handshake(ws);
    const sub = waitFor(ws, (m) => m.a === 's');
    ws.send(JSON.stringify({ a: 's', c: 'cases', d: doc }));
    await sub;
    conns.push({ ws, id });
  }

  let acked = 0;
  const latencies = [];
  let running = true;
  const loops = conns.map(({ ws, id }, k) => new Promise((resolve) => {
    let seq = 1;
    let sentAt = 0;
    const send = () => {
      if (!running) return resolve();
      sentAt = process.hrtime.bigint();
      const op = k % 2 ? [{ p: ['n'], na: 1 }] : [{ p: ['log', 0], li: `c${k}-${seq}` }];
      ws.send(JSON.stringify({ a: 'op', c: 'cases', d: doc, seq, op }));
    };
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.a === 'op' && m.src === id && m.seq === seq && !m.op) {
        latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
        acked++;
        seq++;
        send();
      }
    });
    send();
  }));
  const start = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  running = false;
  const elapsed = (Date.now() - start) / 1000;
  const done = acked;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 1000))]);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2);
  console.log(`clients=${clients} seconds=${elapsed.toFixed(1)} acked=${done} ` +
              `ops/s=${Math.round(done / elapsed)} ack-ms p50=${pct(0.5)} p99=${pct(0.99)} max=${pct(1)}`);
  conns.forEach(({ ws }) => ws.close());
  await srv.stop();
}

async function idle(bin) {
  const n = Number(arg('conns', 2000));
  const srv = await startProtocolServer({ bin, args: MANY, templates: { idle: {} } });
  const docs = [];
  for (let i = 0; i < 50; i++) docs.push(await srv.newDoc('idle'));
  const cookie = await srv.cookie();
  const before = rssKiB(srv.proc.pid);
  const socks = [];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) {
      batch.push(open(srv.url, cookie).then(async (ws) => {
        await handshake(ws);
        const sub = waitFor(ws, (m) => m.a === 's');
        ws.send(JSON.stringify({ a: 's', c: 'cases', d: docs[j % 50] }));
        await sub;
        return ws;
      }));
    }
    socks.push(...(await Promise.all(batch)));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKiB(srv.proc.pid);
  console.log(`connections=${socks.length} (subscribed to 50 documents) server RSS: ` +
              `${before} KiB before, ${after} KiB after, ${((after - before) / socks.length).toFixed(1)} KiB per connection`);
  socks.forEach((ws) => ws.terminate());
  await srv.stop();
}

const mode = process.argv[2];
const bin = arg('bin', undefined);
(mode === 'idle' ? idle(bin) : mode === 'ops' ? ops(bin) : Promise.reject(new Error('usage: hub-bench.js ops|idle')))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });

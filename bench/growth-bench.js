'use strict';
// Costs that must not grow with a case's history: for one document with 1,000, 100,000
// and 1,000,000 ops of history, times against a real `konsil serve`
//   room load   the first subscription to the document (`s`), the server loading it
//               from the store (a fresh server each time, so the room is not in memory);
//   catch-up    a client 1,000 versions behind subscribes with its version (`s` with
//               `v`) and receives the 1,000 ops (room loaded);
//   history     one page of GET /api/cases/{id}/history from the middle of the log;
//   export      `konsil export ID --format jsonl` of the whole history (this one grows
//               with the history by its nature: it is reported, not held to a bound).
// Each figure is the median of --repeat runs (default 5; export 1). The databases are
// built quickly: a real server creates the account and the case (its create op at
// version 0), then the history is appended by SQL inserts of valid ops that the server
// would have written itself: alternately inserting and removing one item of the
// document's `log` list, so the document stays small and only the history grows, with a
// milestone every 100 versions as the server writes them.
//
//   node bench/growth-bench.js [--konsil build/konsil] [--sizes 1000,100000,1000000]
//                              [--repeat 5] [--json FILE]
//
// Prints a table with the growth ratio from the smallest to the largest size; the
// target (issue 17) is at most 2× for room load, catch-up and history page.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const konsil = path.resolve(opt('--konsil', 'build/konsil'));
const sizes = opt('--sizes', '1000,100000,1000000').split(',').map(Number);
const repeat = Number(opt('--repeat', '5'));
const jsonOut = opt('--json', '');
const BEHIND = 1000;
const PASSWORD = 'growth-bench-password';

const TEMPLATE = {
  name: 'bench', title: 'Load test', document: { title: 'load test', log: [] },
  rules: [{ path: [], read: ['counsellor'], write: ['lead'] },
    { path: ['log'], read: ['counsellor'], write: ['counsellor'] }],
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function startServer(dir) {
  const proc = spawn(konsil, ['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'konsil.db'),
    '--templates', path.join(dir, 'templates')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  const exited = new Promise((r) => proc.on('exit', r));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('konsil serve did not start: ' + out)), 60000);
    proc.stderr.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          stop: () => { proc.kill('SIGTERM'); return exited; },
        });
      }
    });
    exited.then((code) => reject(new Error(`konsil serve exited (${code}): ${out}`)));
  });
}

async function login(srv) {
  const res = await fetch(`http://127.0.0.1:${srv.port}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bench', password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status}`);
  return res.headers.get('set-cookie').split(';')[0];
}

// A WebSocket that hands over parsed messages in order.
function connect(srv, cookie) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, { headers: { cookie } });
  const queue = [];
  let waiter = null;
  ws.on('message', (data) => {
    queue.push(JSON.parse(data));
    if (waiter) { const w = waiter; waiter = null; w(); }
  });
  const next = async () => {
    while (!queue.length) await new Promise((r) => { waiter = r; });
    return queue.shift();
  };
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', async () => {
      const init = await next();
      if (init.a !== 'init') reject(new Error('no init: ' + JSON.stringify(init)));
      resolve({ ws, next, send: (m) => ws.send(JSON.stringify(m)) });
    });
  });
}

const sqlite = (db, sql) => execFileSync('sqlite3', [db], { input: sql, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();

// A database whose one document has `n` versions: the server makes the account, the
// case and its create op; SQL appends ops 1 … n-1 and their milestones.
async function build(n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'konsil-growth-'));
  const db = path.join(dir, 'konsil.db');
  fs.mkdirSync(path.join(dir, 'templates'));
  fs.writeFileSync(path.join(dir, 'templates', 'bench.json'), JSON.stringify(TEMPLATE));
  execFileSync(konsil, ['user', 'add', 'bench', '--role', 'counsellor', '--db', db], { input: PASSWORD + '\n' });
  const srv = await startServer(dir);
  const cookie = await login(srv);
  const res = await fetch(`http://127.0.0.1:${srv.port}/api/cases`, {
    method: 'POST', headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ title: 'growth', template: 'bench' }),
  });
  if (res.status !== 201) throw new Error(`case: ${res.status} ${await res.text()}`);
  const id = (await res.json()).id;
  await srv.stop();
  const doc = JSON.stringify(TEMPLATE.document).replace(/'/g, "''");
  const one = JSON.stringify({ ...TEMPLATE.document, log: ['x'] }).replace(/'/g, "''");
  const t = sqlite(db, `SELECT author || '|' || ts FROM ops WHERE doc = '${id}' AND v = 0;`).split('|');
  const [author, ts0] = [t[0], Number(t[1])];
  // Op v (v >= 1) inserts 'x' at log[0] when v is odd and removes it when v is even, so
  // the document at version v (ops 0 … v-1 applied) holds the one item when v is even.
  sqlite(db, `BEGIN;
    WITH RECURSIVE k(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM k WHERE v < ${n - 1})
    INSERT INTO ops (doc, v, kind, src, seq, ts, author, op)
      SELECT '${id}', v, 0, 'growth-bench', v, ${ts0} + v, '${author}',
             CASE v % 2 WHEN 1 THEN '[{"p":["log",0],"li":"x"}]'
                        ELSE '[{"p":["log",0],"ld":"x"}]' END FROM k;
    WITH RECURSIVE k(v) AS (SELECT 100 UNION ALL SELECT v + 100 FROM k WHERE v + 100 <= ${n})
    INSERT INTO milestones (doc, v, ts, type, data)
      SELECT '${id}', v, ${ts0} + v - 1, 'http://sharejs.org/types/JSONv0',
             CASE v % 2 WHEN 0 THEN '${one}' ELSE '${doc}' END FROM k;
    COMMIT;`);
  return { dir, db, id, head: n };
}

async function measure(b) {
  const f = { load: [], catchup: [], page: [], export: [] };
  for (let r = 0; r < repeat; r++) {
    const srv = await startServer(b.dir);
    const cookie = await login(srv);
    const a = await connect(srv, cookie);
    let t = nowMs();
    a.send({ a: 's', c: 'cases', d: b.id });
    let m = await a.next();
    f.load.push(nowMs() - t);
    if (m.a !== 's' || !m.data || m.data.v !== b.head) throw new Error('subscribe: ' + JSON.stringify(m).slice(0, 200));
    const behind = Math.max(0, b.head - BEHIND);
    const c = await connect(srv, cookie);
    t = nowMs();
    c.send({ a: 's', c: 'cases', d: b.id, v: behind });
    let ops = 0;
    while ((m = await c.next()).a === 'op') ops++;
    f.catchup.push(nowMs() - t);
    if (m.a !== 's' || ops !== b.head - behind) throw new Error(`catch-up: ${ops} ops, then ${JSON.stringify(m).slice(0, 200)}`);
    const from = Math.floor(b.head / 2);
    t = nowMs();
    const res = await fetch(`http://127.0.0.1:${srv.port}/api/cases/${b.id}/history?from=${from}`, { headers: { cookie } });
    const page = await res.json();
    f.page.push(nowMs() - t);
    if (res.status !== 200 || page.ops.length !== Math.min(1000, b.head - from)) throw new Error(`history: ${res.status} ${page.ops && page.ops.length}`);
    a.ws.close();
    c.ws.close();
    if (r === 0) {
      t = nowMs();
      const out = execFileSync(konsil, ['export', b.id, '--format', 'jsonl', '--db', b.db], { maxBuffer: 2 ** 31 });
      f.export.push(nowMs() - t);
      if (out.length === 0) throw new Error('export: nothing written');
    }
    await srv.stop();
  }
  return { load: median(f.load), catchup: median(f.catchup), page: median(f.page), export: median(f.export) };
}

(async () => {
  const rows = [];
  for (const n of sizes) {
    const t = nowMs();
    const b = await build(n);
    process.stderr.write(`growth-bench: ${n} ops built in ${((nowMs() - t) / 1000).toFixed(1)} s\n`);
    rows.push({ n, ...(await measure(b)) });
    fs.rmSync(b.dir, { recursive: true, force: true });
    const r = rows[rows.length - 1];
    process.stderr.write(`  room load ${r.load.toFixed(2)} ms, catch-up ${r.catchup.toFixed(2)} ms, history page ${r.page.toFixed(2)} ms, export ${r.export.toFixed(0)} ms\n`);
  }
  const first = rows[0], last = rows[rows.length - 1];
  const ratio = (k) => (last[k] / first[k]).toFixed(2) + '×';
  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  console.log(`| ops of history | room load (ms) | catch-up of ${BEHIND} ops (ms) | history page (ms) | export (ms) |`);
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.n.toLocaleString('en')} | ${fmt(r.load)} | ${fmt(r.catchup)} | ${fmt(r.page)} | ${fmt(r.export)} |`);
  console.log(`| growth ${first.n.toLocaleString('en')} → ${last.n.toLocaleString('en')} | ${ratio('load')} | ${ratio('catchup')} | ${ratio('page')} | ${ratio('export')} |`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(rows, null, 2) + '\n');
})().catch((e) => {
  console.error('growth-bench: ' + e.message);
  process.exit(1);
});

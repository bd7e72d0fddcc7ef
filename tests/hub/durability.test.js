'use strict';
// Acked means durable (invariant 2): the server is SIGKILLed under continuous load from
// several clients, restarted on the same database, and every op acked before the kill
// is there, exactly once; the database passes PRAGMA integrity_check. Repeated.
// A SIGTERM under load exits 0, closes clients with 1001 and loses nothing acked; the
// server waits for a client's close frame before it closes the TCP connection. On real
// logins (tests/hub/lib/protocol.js): the documents are case sheets made by POST
// /api/cases, written by four accounts of their teams; accounts, login sessions and the
// documents live in the database and survive every restart.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { sql, tempDir } = require('./lib/server');
const { startProtocolServer, newAccounts } = require('./lib/protocol');
const c = require('./lib/clients');
const wire = require('./lib/wire');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const NAMES = ['dur-a', 'dur-b', 'dur-shared'];
const WRITERS = ['wa', 'wb', 'ws1', 'ws2'];

// A server on db whose documents `docs` (name → session id) exist: made on the first
// start, found again on later ones.
async function start(db, accounts, docs, opts = {}) {
  const srv = await startProtocolServer({ db, accounts, templates: { list: { list: [] } }, ...opts });
  for (const name of NAMES) {
    if (!docs[name]) docs[name] = await srv.newDoc('list', { title: name, members: WRITERS });
  }
  return srv;
}

// One writer: keeps `window` ops in flight on its document (no version: applied at the
// current one) and records the version of every ack. `who` is its account, `name` marks
// its ops.
async function writer(srv, d, who, name, acked) {
  const raw = await srv.raw(who);
  let seq = 0;
  let inFlight = 0;
  const pending = new Map();
  const pump = () => {
    while (inFlight < 16 && raw.ws.readyState === 1) {
      seq++;
      const marker = `${name}#${seq}`;
      pending.set(seq, marker);
      raw.send({ a: 'op', c: 'cases', d, seq, op: [{ p: ['list', 0], li: marker }] });
      inFlight++;
    }
  };
  raw.ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.a === 'op' && m.src === raw.id && !m.op && !m.error) {
      acked.push({ d, v: m.v, marker: pending.get(m.seq) });
      inFlight--;
      pump();
    }
  });
  return raw.handshake().then(() => {
    pump();
    return raw;
  });
}

function storedOps(db) {
  const out = sql(db, "SELECT doc || '|' || v || '|' || json_extract(op, '$[0].li') FROM ops WHERE kind = 0");
  return out.split('\n').filter(Boolean).map((line) => {
    const [d, v, marker] = line.split('|');
    return { d, v: Number(v), marker };
  });
}

function verify(db, acked, docs) {
  assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
  const stored = storedOps(db);
  const byMarker = new Map();
  for (const r of stored) {
    const marker = r.marker;
    assert.ok(!byMarker.has(marker), `op ${marker} stored twice`);
    byMarker.set(marker, r);
  }
  for (const a of acked) {
    const r = byMarker.get(a.marker);
    assert.ok(r, `acked op ${a.marker} (${a.d} v${a.v}) is missing`);
    assert.equal(r.d, a.d);
    assert.equal(r.v, a.v, `acked op ${a.marker} at the version its ack said`);
  }
  // Versions are contiguous per document (invariant 1).
  for (const d of Object.values(docs)) {
    const n = Number(sql(db, `SELECT COUNT(*) FROM ops WHERE doc = '${d}'`));
    const max = Number(sql(db, `SELECT COALESCE(MAX(v), -1) FROM ops WHERE doc = '${d}'`));
    assert.equal(n, max + 1, `${d}: versions 0..${max} without gaps`);
  }
}

test('every acked op survives SIGKILL under load, five times over', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'konsil.db');
  const accounts = newAccounts();
  const docs = {};
  const acked = [];
  for (let round = 0; round < 5; round++) {
    const srv = await start(db, accounts, docs);
    const before = acked.length;
    const writers = await Promise.all([
      writer(srv, docs['dur-a'], 'wa', `r${round}a`, acked),
      writer(srv, docs['dur-b'], 'wb', `r${round}b`, acked),
      writer(srv, docs['dur-shared'], 'ws1', `r${round}s1`, acked),
      writer(srv, docs['dur-shared'], 'ws2', `r${round}s2`, acked),
    ]);
    await sleep(150 + Math.random() * 350);
    await srv.kill();
    await Promise.all(writers.map((w) => w.closed));
    assert.ok(acked.length - before > 20, `round ${round}: load was running (${acked.length - before} acks)`);
    verify(db, acked, docs);
  }
  // After a restart every acked op is in the documents the clients see.
  const srv = await start(db, accounts, docs);
  const reader = await srv.stock();
  for (const d of Object.values(docs)) {
    const doc = reader.connection.get('cases', d);
    await c.fetch(doc);
    const have = new Set(doc.data.list);
    for (const a of acked.filter((x) => x.d === d)) assert.ok(have.has(a.marker), `${a.marker} in ${d}`);
    assert.equal(doc.data.list.length, new Set(doc.data.list).size, 'no op applied twice');
    assert.equal(doc.version, Number(sql(db, `SELECT MAX(v) + 1 FROM ops WHERE doc = '${d}'`)));
  }
  reader.close();
  assert.equal((await srv.stop()).code, 0);
});

test('SIGTERM under load closes clients with 1001, writes everything, exits 0', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'konsil.db');
  const docs = {};
  const srv = await start(db, newAccounts(), docs, { asan: true });
  const acked = [];
  const writers = await Promise.all([
    writer(srv, docs['dur-a'], 'wa', 'ta', acked),
    writer(srv, docs['dur-shared'], 'ws1', 'ts', acked),
  ]);
  await sleep(300);
  const exit = await srv.stop('SIGTERM');
  const closes = await Promise.all(writers.map((w) => w.closed));
  assert.equal(exit.code, 0, srv.output());
  for (const cl of closes) assert.equal(cl.code, 1001);
  assert.ok(acked.length > 10);
  verify(db, acked, docs);
});

// RFC 6455 §7.1.1: the server closes the TCP connection after the client's close frame.
// A client under load has not read the 1001 yet and is still sending ops; had the
// server closed the socket right after its frame, those ops would be answered with a
// reset, and a client whose next write fails first never reads the 1001 (it sees 1006).
// The client here goes on sending for a while before it answers (a pause between ops,
// so the server's close would arrive in between): the connection stays open until its
// close frame, and then ends without an error.
test('after its 1001 the server reads on until the client answers the close', async () => {
  const docs = {};
  const srv = await start(undefined, newAccounts(), docs, { asan: true });
  const conn = await wire.connect(srv.url, { Cookie: await srv.cookie('wa') });
  await conn.next(0x1);    // init
  const exit = srv.stop('SIGTERM');
  const close = await conn.next(0x8);
  assert.equal(close.payload.readUInt16BE(0), 1001);
  for (let seq = 1; seq <= 50; seq++) {
    conn.socket.write(wire.text({ a: 'op', c: 'cases', d: docs['dur-a'], seq, op: [{ p: ['list', 0], li: `late#${seq}` }] }));
    await sleep(1);
  }
  assert.equal(conn.ended, false, 'the server kept the connection open until the client answered');
  assert.equal(conn.error, null);
  conn.socket.write(wire.closeFrame(1001));
  const closed = await conn.closed;
  assert.equal(closed.hadError, false, `the connection ended cleanly, not ${closed.error && closed.error.code}`);
  assert.equal((await exit).code, 0, srv.output());
  assert.equal(sql(srv.db, "SELECT COUNT(*) FROM ops WHERE op LIKE '%late#%'"), '0', 'ops after the close are dropped');
});

'use strict';
// Live editing through the real sharedb client: handshake, concurrent editors
// converging (text with emoji, list inserts and deletes), ack order and versions under
// 500 fast ops, bulk requests and static files. Real logins: every client is an account
// with a login cookie, and every document a case sheet made by POST /api/cases
// (tests/hub/lib/protocol.js), at version 1 with its template's document.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { tempDir } = require('./lib/server');
const { startProtocolServer } = require('./lib/protocol');
const c = require('./lib/clients');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let srv;
let webDir;

test.before(async () => {
  webDir = tempDir();
  fs.writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>konsil</title>');
  // One op below carries an item of 300 KB (a frame test): items and strings may be 1 MiB.
  srv = await startProtocolServer({ args: ['--web', webDir, '--max-item', '1M', '--max-string', '1M'], templates: {
    empty: {}, converge: { text: 'start 😀', list: [1, 2, 3] }, counter: { n: 0 }, list: { list: [] },
    stale: { t: 'abc' }, 'bulk-a': { d: 'bulk-a' }, 'bulk-b': { d: 'bulk-b' } } });
});
test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, 'clean exit on SIGTERM: ' + srv.output());
});

test('the server greets with init and answers hs like ShareDB 1.2', async () => {
  const raw = await srv.raw();
  const init = await raw.next((m) => m.a === 'init');
  assert.equal(init.protocol, 1);
  assert.equal(init.protocolMinor, 2);
  assert.equal(init.type, 'http://sharejs.org/types/JSONv0');
  assert.equal(typeof init.id, 'string');
  const hs = await raw.handshake('previous-id');
  assert.deepEqual(hs, { a: 'hs', protocol: 1, protocolMinor: 2, id: 'previous-id',
                         type: 'http://sharejs.org/types/JSONv0' });
  raw.send({ a: 'pp' });
  assert.deepEqual(await raw.next((m) => m.a === 'pp'), { a: 'pp' });
  await raw.close();
});

test('a document before its create has version 0 and type null; one of no case is forbidden', async () => {
  const client = await srv.stock();
  const id = await srv.newDoc('empty');
  const snap = await c.fetchSnapshot(client.connection, 'cases', id, 0);
  assert.equal(snap.v, 0);
  assert.equal(snap.type, null);
  const doc = client.connection.get('cases', 'nothing-here');
  await assert.rejects(c.fetch(doc), (e) => e.code === 'ERR_FORBIDDEN');
  client.close();
});

function randomString() {
  const pieces = ['a', 'ä', '😀', 'xy', ' ', '👩‍⚕️'];
  return pieces[Math.floor(Math.random() * pieces.length)];
}

// An offset into s that does not split a surrogate pair.
function safeOffset(s, off) {
  const code = s.charCodeAt(off - 1);
  return off > 0 && code >= 0xd800 && code <= 0xdbff ? off - 1 : off;
}

function randomOp(data) {
  const r = Math.random();
  if (r < 0.4) {
    const off = safeOffset(data.text, Math.floor(Math.random() * (data.text.length + 1)));
    return [{ p: ['text', off], si: randomString() }];
  }
  if (r < 0.6 && data.text.length > 0) {
    const start = safeOffset(data.text, Math.floor(Math.random() * data.text.length));
    const end = safeOffset(data.text, Math.min(data.text.length, start + 1 + Math.floor(Math.random() * 3)));
    if (end > start) return [{ p: ['text', start], sd: data.text.slice(start, end) }];
  }
  if (r < 0.85 || data.list.length === 0) {
    const i = Math.floor(Math.random() * (data.list.length + 1));
    return [{ p: ['list', i], li: { n: Math.floor(Math.random() * 1000), s: randomString() } }];
  }
  const i = Math.floor(Math.random() * data.list.length);
  return [{ p: ['list', i], ld: data.list[i] }];
}

test('six clients editing one document concurrently converge', async () => {
  const editors = Array.from({ length: 6 }, (_, i) => 'editor' + i);
  const id = await srv.newDoc('converge', { lead: editors[0], members: editors.slice(1) });
  const clients = await Promise.all(editors.map((e) => srv.stock(e)));
  const docs = clients.map((cl) => cl.connection.get('cases', id));
  await c.subscribe(docs[0]);
  assert.deepEqual(docs[0].data, { text: 'start 😀', list: [1, 2, 3] });
  await Promise.all(docs.slice(1).map(c.subscribe));
  const errors = [];
  await Promise.all(docs.map(async (doc) => {
    doc.on('error', (e) => errors.push(e));
    for (let k = 0; k < 60; k++) {
      doc.submitOp(randomOp(doc.data), (err) => err && errors.push(err));
      await sleep(Math.random() * 3);
    }
  }));
  await Promise.all(docs.map(c.whenNothingPending));
  for (let tries = 0; tries < 200; tries++) {
    if (docs.every((d) => d.version === docs[0].version)) break;
    await sleep(20);
  }
  assert.deepEqual(errors, []);
  const versions = docs.map((d) => d.version);
  assert.ok(versions.every((v) => v === versions[0]), 'all at one version: ' + versions);
  for (const d of docs) assert.deepEqual(d.data, docs[0].data);
  const late = await srv.stock(editors[0]);
  const fresh = late.connection.get('cases', id);
  await c.fetch(fresh);
  assert.equal(fresh.version, versions[0]);
  assert.deepEqual(fresh.data, docs[0].data);
  late.close();
  clients.forEach((cl) => cl.close());
});

test('500 fast ops are acked in order, versions increasing by one, and relayed in order', async () => {
  const fast = await srv.newDoc('counter');
  const watcher = await srv.raw();
  await watcher.handshake();
  const writer = await srv.stock();
  const doc = writer.connection.get('cases', fast);
  await c.subscribe(doc);
  const base = doc.version;
  assert.equal(base, 1);
  watcher.send({ a: 's', c: 'cases', d: fast });
  await watcher.next((m) => m.a === 's');
  const acks = [];
  writer.connection.on('receive', (req) => {
    const m = req.data;
    if (m.a === 'op' && !m.op && !m.create && !m.error && m.src === writer.connection.id) acks.push(m.v);
  });
  doc.preventCompose = true;
  const done = [];
  await new Promise((resolve, reject) => {
    for (let i = 0; i < 500; i++) {
      doc.submitOp([{ p: ['n'], na: 1 }], (err) => {
        if (err) return reject(err);
        done.push(i);
        if (done.length === 500) resolve();
      });
    }
  });
  assert.deepEqual(done, [...Array(500).keys()], 'callbacks in submit order');
  assert.deepEqual(acks, Array.from({ length: 500 }, (_, i) => base + i));
  assert.equal(doc.data.n, 500);
  assert.equal(doc.version, base + 500);
  const seen = [];
  while (seen.length < 500) {
    const m = await watcher.next((x) => x.a === 'op' && x.op);
    seen.push(m.v);
  }
  assert.deepEqual(seen, Array.from({ length: 500 }, (_, i) => base + i));
  await watcher.close();
  writer.close();
});

test('500 pipelined ops from one raw client commit in order', async () => {
  // Items of mixed sizes: the relays of one batch go out as several frames in one
  // write when small, alone when long (either side of 126 bytes, up to several KiB).
  const item = (i) => (i % 7 === 3 ? 'x'.repeat(2000 + 3 * i) : i % 7 === 5 ? 'y'.repeat(i % 40) : i);
  const pipelined = await srv.newDoc('list');
  const raw = await srv.raw();
  await raw.handshake();
  const watcher = await srv.raw();
  await watcher.handshake();
  watcher.send({ a: 's', c: 'cases', d: pipelined });
  const snap = await watcher.next((m) => m.a === 's');
  assert.deepEqual(snap.data, { v: 1, data: { list: [] } });
  for (let i = 0; i < 500; i++) {
    raw.send({ a: 'op', c: 'cases', d: pipelined, v: 1 + i, seq: 2 + i, op: [{ p: ['list', i], li: item(i) }] });
  }
  for (let i = 0; i < 500; i++) {
    const ack = await raw.next((m) => m.a === 'op');
    assert.deepEqual(ack, { a: 'op', c: 'cases', d: pipelined, src: raw.id, seq: 2 + i, v: 1 + i });
  }
  for (let i = 0; i < 500; i++) {
    const op = await watcher.next((m) => m.a === 'op');
    assert.equal(op.v, 1 + i);
    assert.deepEqual(op.op, [{ p: ['list', i], li: item(i) }]);
    assert.equal(op.src, raw.id);
  }
  raw.send({ a: 'f', c: 'cases', d: pipelined });
  const f = await raw.next((m) => m.a === 'f');
  assert.equal(f.data.v, 501);
  assert.deepEqual(f.data.data.list, [...Array(500).keys()].map(item));
  await raw.close();
  await watcher.close();
});

test('an op larger than one frame reaches every subscriber intact', async () => {
  const big = await srv.newDoc('list');
  const writer = await srv.raw();
  await writer.handshake();
  const readers = [];
  for (let i = 0; i < 3; i++) {
    const r = await srv.raw();
    await r.handshake();
    r.send({ a: 's', c: 'cases', d: big });
    await r.next((m) => m.a === 's');
    readers.push(r);
  }
  // 300 KB of text with emoji spans several 64 KiB frames of one shared message.
  const text = '😀ab'.repeat(300000 / 4);
  writer.send({ a: 'op', c: 'cases', d: big, v: 1, seq: 2, op: [{ p: ['list', 0], li: text }] });
  writer.send({ a: 'op', c: 'cases', d: big, v: 2, seq: 3, op: [{ p: ['list', 1], li: 'small' }] });
  for (const r of readers) {
    const first = await r.next((m) => m.a === 'op');
    assert.equal(first.v, 1);
    assert.equal(first.op[0].li, text);
    assert.equal((await r.next((m) => m.a === 'op')).op[0].li, 'small');
    await r.close();
  }
  await writer.close();
});

test('an op at an old version is transformed against what was committed since', async () => {
  const stale = await srv.newDoc('stale');
  const a = await srv.raw();
  await a.handshake();
  a.send({ a: 'op', c: 'cases', d: stale, v: 1, seq: 2, op: [{ p: ['t', 0], si: 'X' }] });
  await a.next((m) => m.a === 'op' && m.seq === 2);
  const b = await srv.raw();
  await b.handshake();
  // b is not subscribed and still at version 1: it gets the op it missed, then its ack.
  b.send({ a: 'op', c: 'cases', d: stale, v: 1, seq: 1, op: [{ p: ['t', 3], si: 'Y' }] });
  const missed = await b.next((m) => m.a === 'op');
  assert.equal(missed.v, 1);
  assert.deepEqual(missed.op, [{ p: ['t', 0], si: 'X' }]);
  const ack = await b.next((m) => m.a === 'op');
  assert.deepEqual(ack, { a: 'op', c: 'cases', d: stale, src: b.id, seq: 1, v: 2 });
  b.send({ a: 'f', c: 'cases', d: stale });
  assert.deepEqual((await b.next((m) => m.a === 'f')).data, { v: 3, data: { t: 'XabcY' } });
  await a.close();
  await b.close();
});

test('bulk fetch and subscribe answer in both forms, and bulk unsubscribe', async () => {
  const bulkA = await srv.newDoc('bulk-a');
  const bulkB = await srv.newDoc('bulk-b');
  const w = await srv.raw();
  await w.handshake();
  const r = await srv.raw();
  await r.handshake();
  r.send({ a: 'bs', c: 'cases', b: [bulkA, bulkB, 'bulk-none'] });
  const bs = await r.next((m) => m.a === 'bs');
  // A document of no case answers its error in place of a snapshot.
  assert.equal(bs.data['bulk-none'].error.code, 'ERR_FORBIDDEN');
  delete bs.data['bulk-none'];
  assert.deepEqual(bs, { a: 'bs', c: 'cases', data: {
    [bulkA]: { v: 1, data: { d: 'bulk-a' } },
    [bulkB]: { v: 1, data: { d: 'bulk-b' } } } });
  w.send({ a: 'op', c: 'cases', d: bulkB, v: 1, seq: 3, op: [{ p: ['x'], oi: 1 }] });
  const live = await r.next((m) => m.a === 'op');
  assert.equal(live.d, bulkB);
  assert.equal(live.v, 1);
  r.send({ a: 'bf', c: 'cases', b: { [bulkA]: 0, [bulkB]: 1 } });
  const streamed = await r.next((m) => m.a === 'op' && m.d === bulkA);
  assert.equal(streamed.v, 0);
  assert.ok(streamed.create);
  assert.deepEqual(await r.next((m) => m.a === 'bf'), { a: 'bf', c: 'cases', b: { [bulkA]: 0, [bulkB]: 1 } });
  r.send({ a: 'bu', c: 'cases', b: [bulkA, bulkB] });
  assert.deepEqual(await r.next((m) => m.a === 'bu'), { a: 'bu', c: 'cases', b: [bulkA, bulkB] });
  w.send({ a: 'op', c: 'cases', d: bulkB, v: 2, seq: 4, op: [{ p: ['x'], od: 1, oi: 2 }] });
  await w.next((m) => m.a === 'op' && m.seq === 4);
  r.send({ a: 'pp' });
  await r.next((m) => m.a === 'pp');
  assert.equal(r.messages.filter((m) => m.a === 'op' && m.v === 2).length, 0, 'no ops after bu');
  await w.close();
  await r.close();
});

test('by default a message of 1 MiB passes and a larger one closes with 1009', async () => {
  const ok = await srv.raw();
  await ok.handshake();
  const pad = 'p'.repeat(1024 * 1024 - JSON.stringify({ a: 'pp', pad: '' }).length);
  ok.send(JSON.stringify({ a: 'pp', pad }));
  await ok.next((m) => m.a === 'pp');
  await ok.close();
  const big = await srv.raw();
  await big.handshake();
  big.send(JSON.stringify({ a: 'pp', pad: pad + 'x' }));
  assert.equal((await big.closed).code, 1009);
});

test('static files are served from --web on the same port', async () => {
  const body = await new Promise((resolve, reject) => {
    http.get(srv.httpUrl + '/', (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode, data }));
    }).on('error', reject);
  });
  assert.equal(body.status, 200);
  assert.match(body.data, /konsil/);
});

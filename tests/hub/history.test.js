'use strict';
// Reconnection and history: an op in flight when the socket drops is applied exactly
// once (raw resend and the stock client's own resend), late subscribers and
// fetchSnapshot / fetchSnapshotByTimestamp see exactly what each version was (across
// milestones and history reads beyond the in-memory tail), and presence appears and
// is cleared when its connection goes. On real logins (tests/hub/lib/protocol.js):
// documents are case sheets made by POST /api/cases, at version 1 with their
// template's data, and every client is an account.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startProtocolServer } = require('./lib/protocol');
const c = require('./lib/clients');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let srv;

test.before(async () => {
  // A small tail and milestone interval so history reads and milestones are exercised.
  srv = await startProtocolServer({ asan: true, args: ['--tail-ops', '16', '--tail-bytes', '4K', '--milestone-every', '25',
                                                       '--read-chunk', '7'],
                                    templates: { text: { t: '' }, items: { items: [] }, history: { log: [], text: '' },
                                                 empty: {} } });
});
test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, 'clean exit: ' + srv.output());
});

test('a raw op whose ack was lost is acked, not applied again, when resent', async () => {
  const dropRaw = await srv.newDoc('text', { members: ['mallory'] });
  const a = await srv.raw();
  await a.handshake();
  const other = await srv.raw();
  await other.handshake();
  other.send({ a: 's', c: 'cases', d: dropRaw });
  await other.next((m) => m.a === 's');
  const id = a.id;
  a.send({ a: 'op', c: 'cases', d: dropRaw, v: 1, seq: 2, op: [{ p: ['t', 0], si: 'once' }] });
  // Committed (the other subscriber has it), but a never reads its ack.
  assert.equal((await other.next((m) => m.a === 'op')).v, 1);
  a.ws.terminate();
  await a.closed;
  other.send({ a: 'op', c: 'cases', d: dropRaw, v: 2, seq: 1, op: [{ p: ['u'], oi: 1 }] });
  await other.next((m) => m.a === 'op' && m.seq === 1);

  // The client reconnects with its old id and resends from its old version.
  const b = await srv.raw();
  await b.handshake(id);
  b.send({ a: 'op', c: 'cases', d: dropRaw, v: 1, seq: 2, src: id, op: [{ p: ['t', 0], si: 'once' }] });
  const ack = await b.next((x) => x.a === 'op');
  assert.deepEqual(ack, { a: 'op', c: 'cases', d: dropRaw, src: id, seq: 2, v: 1 });
  // A different principal reusing the id and seq is not taken for the same op.
  const mallory = await srv.raw('mallory');
  await mallory.handshake(id);
  mallory.send({ a: 'op', c: 'cases', d: dropRaw, v: 1, seq: 2, src: id, op: [{ p: ['t', 0], si: 'M' }] });
  const streamed = await mallory.next((x) => x.a === 'op');
  assert.equal(streamed.v, 1, 'the ops it missed come first');
  assert.equal(streamed.src, `${await srv.id('dev')}/${id}`,
               "another principal's op never carries a bare src it could match");
  assert.equal((await mallory.next((x) => x.a === 'op')).v, 2);
  assert.deepEqual(await mallory.next((x) => x.a === 'op'),
                   { a: 'op', c: 'cases', d: dropRaw, src: id, seq: 2, v: 3 });
  b.send({ a: 'f', c: 'cases', d: dropRaw });
  const snap = await b.next((m) => m.a === 'f');
  assert.deepEqual(snap.data, { v: 4, data: { t: 'Monce', u: 1 } });
  await b.close();
  await other.close();
  await mallory.close();
});

test('the stock client resends its inflight op after reconnecting; it applies once', async () => {
  const dropStock = await srv.newDoc('items');
  const observer = await srv.stock();
  const odoc = observer.connection.get('cases', dropStock);
  await c.subscribe(odoc);
  assert.deepEqual(odoc.data, { items: [] });

  for (let round = 0; round < 5; round++) {
    const client = await srv.stock();
    const doc = client.connection.get('cases', dropStock);
    await c.subscribe(doc);
    let dropped = false;
    // Drop the socket right after the op leaves, before any ack can arrive.
    client.connection.on('send', (msg) => {
      if (msg.a === 'op' && !dropped) {
        dropped = true;
        setImmediate(() => client.ws.terminate());
      }
    });
    const acked = c.submit(doc, [{ p: ['items', 0], li: `round ${round}` }]);
    await new Promise((resolve) => client.ws.once('close', resolve));
    await sleep(round * 5);
    client.reconnect();
    await acked;
    await c.whenNothingPending(doc);
    client.close();
  }
  for (let tries = 0; tries < 100 && odoc.data.items.length < 5; tries++) await sleep(20);
  assert.deepEqual([...odoc.data.items].sort(), [0, 1, 2, 3, 4].map((r) => `round ${r}`));
  assert.equal(odoc.version, 6, 'one create and exactly five inserts');
  observer.close();
});

test('late subscribers and snapshots at past versions and times see exactly those versions', async () => {
  const history = await srv.newDoc('history');
  const writer = await srv.stock();
  const doc = writer.connection.get('cases', history);
  await c.subscribe(doc);
  assert.deepEqual(doc.data, { log: [], text: '' });
  const expected = [undefined, JSON.parse(JSON.stringify(doc.data))];
  const times = [];
  doc.preventCompose = true;
  for (let i = 0; i < 120; i++) {
    const op = i % 3 === 0 ? [{ p: ['log', doc.data.log.length], li: { i } }]
             : [{ p: ['text', doc.data.text.length], si: i % 2 ? '😀' : String(i % 10) }];
    await c.submit(doc, op);
    expected[doc.version] = JSON.parse(JSON.stringify(doc.data));
    if (i % 40 === 10) {
      // Everything up to this version was committed before `t`, the next op after it.
      await sleep(15);
      times.push({ t: Date.now(), v: doc.version });
      await sleep(15);
    }
  }
  assert.equal(doc.version, 121);

  const reader = await srv.stock();
  for (const v of [0, 1, 2, 24, 25, 26, 50, 51, 99, 100, 101, 110, 120, 121]) {
    const snap = await c.fetchSnapshot(reader.connection, 'cases', history, v);
    assert.equal(snap.v, v);
    if (v === 0) {
      assert.equal(snap.type, null);
    } else {
      assert.equal(snap.type, 'http://sharejs.org/types/JSONv0');
      assert.deepEqual(snap.data, expected[v], `snapshot at version ${v}`);
    }
  }
  const latest = await c.fetchSnapshot(reader.connection, 'cases', history, null);
  assert.equal(latest.v, 121);
  await assert.rejects(c.fetchSnapshot(reader.connection, 'cases', history, 500),
                       (e) => e.code === 'ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT');
  for (const { t, v } of times) {
    const snap = await c.fetchSnapshotByTimestamp(reader.connection, 'cases', history, t);
    assert.equal(snap.v, v, 'version at time');
    assert.deepEqual(snap.data, expected[v]);
  }
  const before = await c.fetchSnapshotByTimestamp(reader.connection, 'cases', history, 1);
  assert.equal(before.v, 0);

  // A late subscriber gets the current document; one resuming from an old version gets
  // every op since (read back from the store, the tail holds only 16).
  const late = reader.connection.get('cases', history);
  await c.subscribe(late);
  assert.equal(late.version, 121);
  assert.deepEqual(late.data, expected[121]);
  const raw = await srv.raw();
  await raw.handshake();
  raw.send({ a: 's', c: 'cases', d: history, v: 3 });
  const versions = [];
  for (;;) {
    const m = await raw.next((x) => x.a === 'op' || x.a === 's');
    if (m.a === 's') break;
    versions.push(m.v);
  }
  assert.deepEqual(versions, Array.from({ length: 118 }, (_, i) => 3 + i));
  await c.submit(doc, [{ p: ['text', 0], si: '!' }]);
  assert.equal((await raw.next((x) => x.a === 'op')).v, 121, 'live after catching up');
  // An op based on version 5 is transformed across 116 ops, most read from the store.
  raw.send({ a: 'op', c: 'cases', d: history, v: 5, seq: 1, op: [{ p: ['log', 0], li: 'first' }] });
  const ack = await raw.next((x) => x.a === 'op' && x.seq === 1 && x.src === raw.id);
  assert.equal(ack.v, 122);
  await c.fetch(late);
  await sleep(50);
  assert.equal(late.data.log[0], 'first');
  await raw.close();
  reader.close();
  writer.close();
});

test('presence appears for others and is cleared when its connection goes', async () => {
  // The untyped presence channel of a session is its id.
  const channel = await srv.newDoc('empty', { members: ['alice', 'bob', 'carol'] });
  const a = await srv.stock('alice');
  const b = await srv.stock('bob');
  await Promise.all([c.whenConnected(a.connection), c.whenConnected(b.connection)]);
  const pa = a.connection.getPresence(channel);
  const pb = b.connection.getPresence(channel);
  await c.promisify((cb) => pa.subscribe(cb));
  await c.promisify((cb) => pb.subscribe(cb));
  const received = [];
  pb.on('receive', (id, value) => received.push({ id, value }));
  const local = pa.create('alice-cursor');
  await c.promisify((cb) => local.submit({ index: 3, length: 0 }, cb));
  for (let i = 0; i < 100 && received.length < 1; i++) await sleep(10);
  // (Bob's subscribe asked alice to re-send, so the value may arrive twice.)
  assert.deepEqual(received[0], { id: 'alice-cursor', value: { index: 3, length: 0 } });
  assert.deepEqual({ ...pb.remotePresences }, { 'alice-cursor': { index: 3, length: 0 } });

  // A late subscriber asks (ps → pr) and alice re-sends.
  const late = await srv.stock('carol');
  const pc = late.connection.getPresence(channel);
  await c.promisify((cb) => pc.subscribe(cb));
  for (let i = 0; i < 100 && !pc.remotePresences['alice-cursor']; i++) await sleep(10);
  assert.deepEqual(pc.remotePresences['alice-cursor'], { index: 3, length: 0 });

  a.ws.terminate();
  const gone = () => received.find((r) => r.value === null);
  for (let i = 0; i < 100 && !gone(); i++) await sleep(10);
  assert.deepEqual(gone(), { id: 'alice-cursor', value: null });
  assert.deepEqual({ ...pb.remotePresences }, {});
  b.close();
  late.close();
});

test('relayed presence carries the sender principal, stamped by the server', async () => {
  const stamp = await srv.newDoc('empty', { members: ['alice', 'bob'] });
  const a = await srv.raw('alice');
  const b = await srv.raw('bob');
  await a.handshake();
  await b.handshake();
  b.send({ a: 'ps', ch: stamp, seq: 1 });
  await b.next((m) => m.a === 'ps');
  a.send({ a: 'p', ch: stamp, id: 'c1', p: { index: 1 }, pv: 0, u: { id: await srv.id('bob') }, src: 'forged' });
  const got = await b.next((m) => m.a === 'p');
  assert.deepEqual(got, { a: 'p', ch: stamp, src: a.id, id: 'c1', p: { index: 1 }, pv: 0,
                          u: { id: await srv.id('alice'), name: 'alice', role: 'counsellor' } });
  await a.close();
  await b.close();
});

test('typed doc presence is refused (json0 cannot transform it)', async () => {
  // On a session's channel (any other is refused first, with ERR_FORBIDDEN).
  const x = await srv.newDoc('empty');
  const raw = await srv.raw();
  await raw.handshake();
  raw.send({ a: 'p', ch: x, id: 'p1', p: { i: 1 }, pv: 0, c: 'cases', d: x, v: 0,
             t: 'http://sharejs.org/types/JSONv0' });
  const reply = await raw.next((m) => m.a === 'p');
  assert.equal(reply.error.code, 'ERR_TYPE_DOES_NOT_SUPPORT_PRESENCE');
  await raw.close();
});

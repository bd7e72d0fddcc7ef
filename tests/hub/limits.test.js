'use strict';
// The configurable limits of protocol/limits.md, each against its own server: a slow
// consumer is closed (never an op dropped) and catches up after reconnecting; the op
// rate is enforced by pausing reads; connections and rooms are capped; silent peers
// are hung up on; TLS serves wss. On real logins (tests/hub/lib/protocol.js): documents
// are case sheets made by POST /api/cases, at version 1 with their template's data.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const { tempDir, binary, root } = require('./lib/server');
const { startProtocolServer } = require('./lib/protocol');
const c = require('./lib/clients');

const LIST = { list: { list: [] } };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a consumer that stops reading is closed with 1013 and catches up on reconnect', async () => {
  // 1,200 items of 8 KB: a sheet of 9.6 MB, beyond the default sheet and append limits.
  const srv = await startProtocolServer({ args: ['--max-outq', '256K', '--max-sheet', '64M', '--append-budget', '64M'],
                                          templates: LIST });
  try {
    const flood = await srv.newDoc('list');
    const writer = await srv.raw();
    await writer.handshake();
    const slow = await srv.raw();
    await slow.handshake();
    slow.send({ a: 's', c: 'cases', d: flood });
    const snap = await slow.next((m) => m.a === 's');
    let seen = snap.data.v;
    slow.ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.a === 'op' && m.v === seen) seen++;
    });
    slow.ws._socket.pause();   // stop reading: the server's queue for it grows

    const payload = 'x'.repeat(8000);
    let acked = 0;
    for (let seq = 2; seq < 1202; seq++) {
      writer.send({ a: 'op', c: 'cases', d: flood, seq, op: [{ p: ['list', 0], li: payload }] });
      if (seq % 100 === 0) {
        while (acked < seq - 101) {
          await writer.next((m) => m.a === 'op' && m.src === writer.id);
          acked++;
        }
      }
    }
    while (acked < 1200) {
      await writer.next((m) => m.a === 'op' && m.src === writer.id);
      acked++;
    }
    slow.ws._socket.resume();
    const closed = await slow.closed;
    assert.ok([1013, 1006].includes(closed.code), 'closed by the server: ' + closed.code);
    assert.ok(seen < 1201, 'it had fallen behind');

    // Reconnecting from its last version it gets every op it missed, in order.
    const again = await srv.raw();
    await again.handshake();
    again.send({ a: 's', c: 'cases', d: flood, v: seen });
    for (let v = seen; v < 1201; v++) assert.equal((await again.next((m) => m.a === 'op')).v, v);
    await again.next((m) => m.a === 's');
    await again.close();
    await writer.close();
  } finally {
    await srv.stop();
  }
});

test('the op rate of a connection is limited by pausing its reads', async () => {
  const srv = await startProtocolServer({ args: ['--op-rate', '100', '--op-burst', '20'], templates: { counter: { n: 0 } } });
  try {
    const rate = await srv.newDoc('counter');
    const raw = await srv.raw();
    await raw.handshake();
    const start = Date.now();
    for (let seq = 2; seq <= 121; seq++) raw.send({ a: 'op', c: 'cases', d: rate, seq, op: [{ p: ['n'], na: 1 }] });
    for (let seq = 2; seq <= 121; seq++) await raw.next((m) => m.a === 'op' && m.seq === seq);
    const took = Date.now() - start;
    // 121 ops with a burst of 20 at 100/s need about one second; none is refused.
    assert.ok(took >= 850, `took ${took} ms`);
    assert.ok(took < 4000, `took ${took} ms`);
    raw.send({ a: 'pp' });
    await raw.next((m) => m.a === 'pp');
    await raw.close();
  } finally {
    await srv.stop();
  }
});

test('connections beyond --max-conns are refused', async () => {
  const srv = await startProtocolServer({ args: ['--max-conns', '3'] });
  try {
    const open = [];
    for (let i = 0; i < 3; i++) {
      const r = await srv.raw();
      await r.handshake();
      open.push(r);
    }
    const refused = await srv.raw();
    await assert.rejects(refused.open());
    await refused.closed;
    await open.pop().close();
    await sleep(50);
    const later = await srv.raw();
    await later.handshake();
    await later.close();
    for (const r of open) await r.close();
  } finally {
    await srv.stop();
  }
});

test('documents beyond --max-rooms are refused until an idle one is evicted', async () => {
  const srv = await startProtocolServer({ args: ['--max-rooms', '2', '--room-idle-secs', '1'], templates: { empty: {} } });
  try {
    const room = [null];
    for (let i = 1; i <= 4; i++) room.push(await srv.newDoc('empty'));
    const raw = await srv.raw();
    await raw.handshake();
    raw.send({ a: 's', c: 'cases', d: room[1] });
    await raw.next((m) => m.a === 's');
    raw.send({ a: 'f', c: 'cases', d: room[2] });
    await raw.next((m) => m.a === 'f');
    raw.send({ a: 's', c: 'cases', d: room[1] });
    await raw.next((m) => m.a === 's');
    // room 2 is idle (fetched, not subscribed), so it makes way for room 3.
    raw.send({ a: 'f', c: 'cases', d: room[3] });
    assert.equal((await raw.next((m) => m.a === 'f')).data.v, 1);
    raw.send({ a: 's', c: 'cases', d: room[3] });
    await raw.next((m) => m.a === 's');
    raw.send({ a: 'f', c: 'cases', d: room[4] });
    const refused = await raw.next((m) => m.a === 'f');
    assert.equal(refused.error.code, 'ERR_TOO_MANY_ROOMS');
    raw.send({ a: 'u', c: 'cases', d: room[3] });
    await raw.next((m) => m.a === 'u');
    raw.send({ a: 'f', c: 'cases', d: room[4] });
    assert.equal((await raw.next((m) => m.a === 'f')).data.v, 1);
    await raw.close();
  } finally {
    await srv.stop();
  }
});

test('a peer that answers no pings is hung up on; one that does stays', async () => {
  const srv = await startProtocolServer({ args: ['--ping-secs', '1', '--idle-secs', '2'] });
  try {
    const silent = await srv.raw('dev', { autoPong: false });
    const lively = await srv.raw();
    await silent.handshake();
    await lively.handshake();
    const start = Date.now();
    await silent.closed;
    const took = Date.now() - start;
    assert.ok(took >= 1500 && took < 6000, `hung up after ${took} ms`);
    await sleep(500);
    assert.equal(lively.closeInfo, null);
    lively.send({ a: 'pp' });
    await lively.next((m) => m.a === 'pp');
    await lively.close();
  } finally {
    await srv.stop();
  }
});

test('a peer that has sent pp and then falls silent is hung up on; one that never pings or keeps pinging stays', async () => {
  const srv = await startProtocolServer({ args: ['--heartbeat-secs', '1'] });
  try {
    const silent = await srv.raw();
    const quiet = await srv.raw();
    const beating = await srv.raw();
    for (const peer of [silent, quiet, beating]) await peer.handshake();
    silent.send({ a: 'pp' });
    await silent.next((m) => m.a === 'pp');
    const start = Date.now();
    const beat = setInterval(() => beating.send({ a: 'pp' }), 300);
    try {
      await silent.closed;
      const took = Date.now() - start;
      assert.ok(took >= 900 && took < 6000, `hung up after ${took} ms`);
      await sleep(1500);
    } finally {
      clearInterval(beat);
    }
    assert.equal(quiet.closeInfo, null, 'a connection that never pinged is not held to the heartbeat');
    assert.equal(beating.closeInfo, null, 'one that keeps pinging stays');
    quiet.send({ a: 'pp' });
    await quiet.next((m) => m.a === 'pp');
    await quiet.close();
    await beating.close();
  } finally {
    await srv.stop();
  }
});

test('a bulk reply holds at most half of --max-outq: a snapshot beyond it is an error for its document', async () => {
  const srv = await startProtocolServer({ args: ['--max-outq', '64K'], templates: LIST });
  try {
    const big = await srv.newDoc('list');
    const small = await srv.newDoc('list');
    const raw = await srv.raw();
    await raw.handshake();
    raw.send({ a: 'op', c: 'cases', d: big, seq: 1, op: [{ p: ['list', 0], li: 'x'.repeat(40000) }] });
    assert.equal((await raw.next((m) => m.a === 'op' && m.seq === 1)).error, undefined);
    raw.send({ a: 'bs', c: 'cases', b: [small, big] });
    const reply = await raw.next((m) => m.a === 'bs');
    assert.equal(reply.data[small].v, 1);
    assert.equal(reply.data[big].error.code, 'ERR_LIMIT_EXCEEDED');
    assert.match(reply.data[big].error.message, /fetch this document alone/);
    // Alone it comes (one message may exceed the bound when nothing else is queued), and
    // the refused subscription did not start: ops of big reach this connection only
    // after its own s.
    raw.send({ a: 's', c: 'cases', d: big });
    const alone = await raw.next((m) => m.a === 's');
    assert.equal(alone.data.data.list[0].length, 40000);
    await raw.close();
  } finally {
    await srv.stop();
  }
});

test('with the smallest --rx-buffer, messages up to --max-message, fragments, pings and closes get through', async () => {
  const srv = await startProtocolServer({ asan: true, args: ['--rx-buffer', '128', '--max-message', '300K',
                                                            '--max-item', '1M', '--max-string', '1M'], templates: LIST });
  try {
    const narrow = await srv.newDoc('list');
    const writer = await srv.raw();
    await writer.handshake();
    const reader = await srv.raw();
    await reader.handshake();
    reader.send({ a: 's', c: 'cases', d: narrow });
    await reader.next((m) => m.a === 's');

    // 200 KB arrive in some 1,600 callbacks of 128 bytes, emoji split across them.
    const big = '😀ab'.repeat(200000 / 4);
    writer.send({ a: 'op', c: 'cases', d: narrow, v: 1, seq: 2, op: [{ p: ['list', 0], li: big }] });
    assert.equal((await writer.next((m) => m.a === 'op' && m.seq === 2)).v, 1);
    assert.equal((await reader.next((m) => m.a === 'op')).op[0].li, big);

    const text = JSON.stringify({ a: 'f', c: 'cases', d: narrow, pad: 'y'.repeat(1000) });
    reader.ws.send(text.slice(0, 1), { fin: false });
    reader.ws.send(text.slice(1, 201), { fin: false });
    reader.ws.send(text.slice(201), { fin: true });
    assert.equal((await reader.next((m) => m.a === 'f')).data.v, 2);

    // Control frames carry up to 125 bytes; they must fit the buffer whole.
    const payload = Buffer.alloc(125, 'q');
    const pong = new Promise((resolve) => reader.ws.once('pong', resolve));
    reader.ws.ping(payload);
    assert.deepEqual(await pong, payload);
    reader.ws.close(4000, 'r'.repeat(123));
    assert.equal((await reader.closed).code, 4000);

    const pad = 'p'.repeat(300 * 1024 - JSON.stringify({ a: 'pp', pad: '' }).length);
    writer.send(JSON.stringify({ a: 'pp', pad }));
    await writer.next((m) => m.a === 'pp');
    writer.send(JSON.stringify({ a: 'pp', pad: pad + 'x' }));
    assert.equal((await writer.closed).code, 1009);
  } finally {
    await srv.stop();
  }
});

test('with --tls-cert and --tls-key it serves wss', async () => {
  const dir = tempDir();
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                           '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const srv = await startProtocolServer({ tls: true, dir, args: ['--tls-cert', cert, '--tls-key', key],
                                         templates: { secure: { ok: true } } });
  try {
    assert.match(srv.output(), /listening on https:\/\/127\.0\.0\.1:\d+/);
    const secure = await srv.newDoc('secure');
    const client = await srv.stock();
    const doc = client.connection.get('cases', secure);
    await c.subscribe(doc);
    assert.deepEqual(doc.data, { ok: true });
    assert.equal(doc.version, 1);
    await c.submit(doc, [{ p: ['ok'], od: true, oi: false }]);
    assert.equal(doc.version, 2);
    client.close();
  } finally {
    await srv.stop();
  }
});

test('--help and protocol/limits.md document the same limits, and bad values are refused', () => {
  const help = execFileSync(binary(), ['serve', '--help'], { encoding: 'utf8' });
  const limits = fs.readFileSync(path.join(root, 'protocol/limits.md'), 'utf8');
  const options = [...limits.matchAll(/`(--[a-z-]+)`/g)].map((m) => m[1]);
  assert.ok(options.length >= 20);
  for (const o of new Set(options)) assert.ok(help.includes(o), `--help lacks ${o}`);
  // And the other way: every limit --help lists has its row (default, what happens) there.
  const listed = [...help.slice(help.indexOf('Limits')).matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
  assert.ok(listed.length >= 50, `${listed.length} limits in --help`);
  for (const o of listed) assert.ok(options.includes(o), `protocol/limits.md lacks ${o}`);
  for (const o of ['--listen', '--db', '--web', '--tls-cert', '--tls-key']) assert.ok(help.includes(o));
  for (const bad of [['--max-outq', 'lots'], ['--listen', 'nohost'], ['--ping-secs', '0'], ['--bogus', '1'],
                     ['--tls-cert', 'only.pem'], ['--rx-buffer', '127'],
                     ['--dev-principals', 'on'], ['--public-origin', 'https://konsil.example/path'],
                     ['--event-loop', 'libuv'], ['--commit-wait-us', '-1'], ['--commit-wait-us', 'soon'],
                     ['--max-sheet', 'big'], ['--max-op-lag', '0'], ['--append-window-secs', '70000'],
                     ['--max-creates', '1.5']]) {
    let status = 0;
    try {
      execFileSync(binary(), ['serve', ...bad], { stdio: 'ignore' });
    } catch (e) {
      status = e.status;
    }
    assert.equal(status, 2, bad.join(' '));
  }
});

// The default loop is libev's (epoll); lws's own poll() loop stays selectable, and a
// writer that never waits for company (--commit-wait-us 0) commits each op as before.
test('--event-loop poll with --commit-wait-us 0 acks ops, relays them and closes with 1001', async () => {
  const srv = await startProtocolServer({ asan: true, args: ['--event-loop', 'poll', '--commit-wait-us', '0'],
                                          templates: LIST });
  const doc = await srv.newDoc('list');
  const a = await srv.raw();
  await a.handshake();
  const b = await srv.raw();
  await b.handshake();
  for (const x of [a, b]) {
    x.send({ a: 's', c: 'cases', d: doc });
    await x.next((m) => m.a === 's');
  }
  for (let seq = 1; seq <= 20; seq++) {
    a.send({ a: 'op', c: 'cases', d: doc, v: seq, seq, op: [{ p: ['list', 0], li: seq }] });
    assert.equal((await a.next((m) => m.a === 'op' && m.seq === seq)).v, seq);
    assert.deepEqual((await b.next((m) => m.a === 'op' && m.seq === seq)).op, [{ p: ['list', 0], li: seq }]);
  }
  const exit = await srv.stop('SIGTERM');
  assert.equal(exit.code, 0, srv.output());
  assert.equal((await a.closed).code, 1001);
  assert.equal((await b.closed).code, 1001);
});

test('SIGINT stops the server cleanly too', async () => {
  const srv = await startProtocolServer({ asan: true });
  const raw = await srv.raw();
  await raw.handshake();
  const exit = await srv.stop('SIGINT');
  assert.equal(exit.code, 0, srv.output());
  assert.equal((await raw.closed).code, 1001);
});

'use strict';
// Bad input gets a clear error and changes nothing (invariant 5): every kind of
// malformed message is answered in ShareDB's error format, framing abuse closes the
// socket with the right code, and meanwhile the document and another editor of it are
// unaffected. Runs against the ASan+UBSan build when it exists, on real logins
// (tests/hub/lib/protocol.js): `dev` leads the document, `editor` edits it too.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startProtocolServer } = require('./lib/protocol');
const c = require('./lib/clients');

let srv;
let editor;
let edoc;
let target;

test.before(async () => {
  srv = await startProtocolServer({ asan: true, args: ['--max-message', '64K', '--max-name', '128'],
                                    templates: { target: { text: 'hello', list: [1, 2], n: 1 }, doomed: { a: 1 } } });
  target = { c: 'cases', d: await srv.newDoc('target', { members: ['editor'] }) };
  editor = await srv.stock('editor');
  edoc = editor.connection.get('cases', target.d);
  await c.subscribe(edoc);
  assert.deepEqual(edoc.data, { text: 'hello', list: [1, 2], n: 1 });
});
test.after(async () => {
  editor.close();
  const { code } = await srv.stop();
  assert.equal(code, 0, 'clean exit: ' + srv.output());
});

async function expectError(raw, message, code) {
  raw.send(message);
  const reply = await raw.next((m) => m.error);
  assert.equal(reply.error.code, code, `${JSON.stringify(message).slice(0, 80)} → ${JSON.stringify(reply)}`);
  assert.equal(typeof reply.error.message, 'string');
  return reply;
}

const BAD = 'ERR_MESSAGE_BADLY_FORMED';

test('malformed messages get ShareDB errors and change nothing', async () => {
  const raw = await srv.raw();
  await raw.handshake();
  const before = { v: edoc.version, data: JSON.parse(JSON.stringify(edoc.data)) };

  await expectError(raw, 'not json at all', BAD);
  await expectError(raw, '{"a":"op",', BAD);
  await expectError(raw, '[1,2,3]', BAD);
  await expectError(raw, '"a string"', BAD);
  await expectError(raw, '{"a":"nf","id":1,"c":"cases","d":"x","v":' + '['.repeat(3000) + ']'.repeat(3000) + '}', BAD);
  const unknown = await expectError(raw, { a: 'zz', keep: [1, 2] }, BAD);
  assert.deepEqual(unknown.keep, [1, 2], 'the request is echoed');
  await expectError(raw, {}, BAD);
  await expectError(raw, { a: 7 }, BAD);
  await expectError(raw, { a: 'f' }, BAD);
  await expectError(raw, { a: 'f', c: 'cases', d: 5 }, BAD);
  await expectError(raw, { a: 'f', c: 'cases', d: '' }, BAD);
  await expectError(raw, { a: 'f', c: 'cases', d: '__proto__' }, BAD);
  await expectError(raw, { a: 'f', c: 'cases', d: 'x'.repeat(129) }, BAD);
  await expectError(raw, { a: 'f', c: 'cases', d: 'x', v: -1 }, BAD);
  await expectError(raw, { a: 's', c: 'cases', d: 'x', v: 1.5 }, BAD);
  await expectError(raw, { a: 's', c: 'elsewhere', d: 'x' }, 'ERR_FORBIDDEN');
  await expectError(raw, { a: 'hs', id: 42, protocol: 1 }, BAD);
  await expectError(raw, { a: 'bs', c: 'cases', b: 'doc' }, BAD);
  await expectError(raw, { a: 'bs', c: 'cases', b: ['a', 'a'] }, BAD);
  await expectError(raw, { a: 'bf', c: 'cases', b: { x: 'one' } }, BAD);
  await expectError(raw, { a: 'nf', c: 'cases', d: 'target', v: 1 }, BAD);
  await expectError(raw, { a: 'nt', id: 1, c: 'cases', d: 'target', ts: 'yesterday' }, BAD);
  await expectError(raw, { a: 'p', ch: 'x', id: 'p', p: 1, pv: -3 }, BAD);
  await expectError(raw, { a: 'ps', ch: 5, seq: 1 }, BAD);
  await expectError(raw, { a: 'qf', id: 1, c: 'cases', q: {} }, 'ERR_DATABASE_METHOD_NOT_IMPLEMENTED');
  await expectError(raw, { a: 'qs', id: 2, c: 'cases', q: {} }, 'ERR_DATABASE_METHOD_NOT_IMPLEMENTED');
  await expectError(raw, { a: 'qu', id: 2 }, 'ERR_DATABASE_METHOD_NOT_IMPLEMENTED');

  const v = edoc.version;
  const op = (extra) => ({ a: 'op', ...target, v, seq: 1, ...extra });
  await expectError(raw, op({ seq: undefined, op: [] }), BAD);
  await expectError(raw, op({ seq: 2 ** 53, op: [] }), 'ERR_CONNECTION_SEQ_INTEGER_OVERFLOW');
  await expectError(raw, op({}), BAD);
  await expectError(raw, op({ op: { p: ['n'], na: 1 } }), 'ERR_OT_OP_BADLY_FORMED');
  await expectError(raw, op({ op: [{ p: [{}], si: 'x' }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [{ p: [1.5], si: 'x' }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [{ p: 'text', si: 'x' }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [7] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [{ p: ['list', '0'], ld: 1 }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [{ p: ['text', 1], sd: 'zz' }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [{ p: ['missing', 'deeper'], oi: 1 }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [{ p: ['text', 99], si: 'x' }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ op: [{ p: ['n'], na: 'one' }] }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ src: 17, op: [] }), 'ERR_OT_OP_BADLY_FORMED');
  await expectError(raw, op({ v: v + 5, op: [{ p: ['n'], na: 1 }] }), 'ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT');
  // Documents are made by the server (POST /api/cases): a create is refused (what the
  // room itself answers without access rules, ERR_DOC_ALREADY_CREATED here, is in
  // tests/unit/test_room.c).
  await expectError(raw, op({ create: { type: 'json0', data: {} } }), 'ERR_OP_SUBMIT_REJECTED');
  await expectError(raw, op({ create: { type: 'rich-text', data: {} } }), 'ERR_DOC_TYPE_NOT_RECOGNIZED');
  await expectError(raw, op({ del: 1 }), 'ERR_OT_OP_BADLY_FORMED');
  // A document of no case is nobody's (the room's ERR_DOC_DOES_NOT_EXIST: test_room.c).
  await expectError(raw, { a: 'op', c: 'cases', d: 'never-created', v: 0, seq: 1, op: [{ p: ['x'], oi: 1 }] },
                    'ERR_FORBIDDEN');
  await expectError(raw, { a: 'op', c: 'cases', d: 'never-created', v: 0, seq: 2, del: true },
                    'ERR_FORBIDDEN');
  await expectError(raw, { a: 'nf', id: 9, ...target, v: 10000 }, 'ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT');

  // The document, its editor and this connection carry on as before.
  raw.send({ a: 'f', ...target });
  const f = await raw.next((m) => m.a === 'f');
  assert.deepEqual(f.data, before);
  assert.equal(edoc.version, before.v);
  await c.submit(edoc, [{ p: ['n'], na: 1 }]);
  assert.equal(edoc.version, before.v + 1);
  assert.equal(raw.closeInfo, null);
  await raw.close();
});

test('a delete is refused and the document stays; an edit at its version goes on', async () => {
  // Nobody deletes a case sheet; what a room does with a delete and an edit based on the
  // version before it (ERR_DOC_WAS_DELETED, then {v, type: null}) is in test_room.c.
  const doomed = await srv.newDoc('doomed');
  const raw = await srv.raw();
  await raw.handshake();
  await expectError(raw, { a: 'op', c: 'cases', d: doomed, v: 1, seq: 2, del: true }, 'ERR_OP_SUBMIT_REJECTED');
  raw.send({ a: 'op', c: 'cases', d: doomed, v: 1, seq: 3, op: [{ p: ['a'], na: 1 }] });
  assert.deepEqual(await raw.next((m) => m.a === 'op' && m.seq === 3), { a: 'op', c: 'cases', d: doomed, src: raw.id, seq: 3, v: 1 });
  raw.send({ a: 'f', c: 'cases', d: doomed });
  assert.deepEqual((await raw.next((m) => m.a === 'f')).data, { v: 2, data: { a: 2 } });
  await raw.close();
});

test('a message over the size limit closes the socket with 1009', async () => {
  const raw = await srv.raw();
  await raw.handshake();
  raw.send(JSON.stringify({ a: 'pp', pad: 'x'.repeat(70 * 1024) }));
  assert.equal((await raw.closed).code, 1009);
});

test('a fragmented message is reassembled, and its total size is limited', async () => {
  const raw = await srv.raw();
  await raw.handshake();
  const text = JSON.stringify({ a: 'f', ...target, pad: 'y'.repeat(20000) });
  raw.ws.send(text.slice(0, 7), { fin: false });
  raw.ws.send(text.slice(7, 9000), { fin: false });
  raw.ws.send(text.slice(9000), { fin: true });
  assert.equal((await raw.next((m) => m.a === 'f')).data.v, edoc.version);
  for (let i = 0; i < 5; i++) raw.ws.send('z'.repeat(20000), { fin: false });
  raw.ws.send('z', { fin: true });
  assert.equal((await raw.closed).code, 1009);
});

test('a binary frame closes the socket with 1003', async () => {
  const raw = await srv.raw();
  await raw.handshake();
  raw.ws.send(Buffer.from(JSON.stringify({ a: 'pp' })), { binary: true });
  assert.equal((await raw.closed).code, 1003);
});

test('invalid UTF-8 in a text frame closes the socket with 1007', async () => {
  const raw = await srv.raw('dev', { skipUTF8Validation: true });
  await raw.handshake();
  raw.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
  assert.equal((await raw.closed).code, 1007);
});

test('upgrades on other paths are refused', async () => {
  const raw = new c.RawClient(srv.url.replace('/ws', '/other'), { ws: { headers: { Cookie: await srv.cookie() } } });
  const { code } = await raw.closed;
  assert.notEqual(code, 1000);
  assert.equal(raw.messages.length, 0);
});

test('after all that the editor is unaffected', async () => {
  const v = edoc.version;
  await c.submit(edoc, [{ p: ['text', 5], si: ' world' }]);
  assert.equal(edoc.version, v + 1);
  const check = await srv.stock();
  const d = check.connection.get('cases', target.d);
  await c.fetch(d);
  assert.deepEqual(d.data, edoc.data);
  check.close();
});

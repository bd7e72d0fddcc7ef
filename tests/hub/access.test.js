'use strict';
// Every role boundary against a real `konsil serve` with accounts: cookies on the
// upgrade and the REST API, membership, projection of snapshots, ops and presence,
// refused writes that leave no trace, join links, and the audit chain.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const { startServer, sql, binary } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login, cookieOf } = require('./lib/auth');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let srv, lead, other, outsider, sup, clientCookie, session, session2, caseId, caseId2;

function raw(cookie) {
  return new c.RawClient(srv.url, { ws: cookie ? { headers: { Cookie: cookie } } : {} });
}

function upgradeStatus(cookie, headers = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(srv.url, { headers: { ...(cookie ? { Cookie: cookie } : {}), ...headers } });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => resolve('error'));
  });
}

async function leadDoc() {
  const r = raw(lead);
  await r.handshake();
  r.send({ a: 'f', c: 'cases', d: caseId });
  const m = await r.next((x) => x.a === 'f');
  await r.close();
  return m.data;
}

test.before(async () => {
  srv = await startServer({ asan: true });
  srv.stop0 = srv.stop;
  addUser(srv.db, 'lead', 'counsellor', 'pw-lead', 'debt');
  addUser(srv.db, 'other', 'counsellor', 'pw-other', 'housing');
  addUser(srv.db, 'outsider', 'counsellor', 'pw-out');
  addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
  lead = await login(srv, 'lead', 'pw-lead');
  other = await login(srv, 'other', 'pw-other');
  outsider = await login(srv, 'outsider', 'pw-out');
  sup = await login(srv, 'sup', 'pw-sup');
  let res = await api(srv, 'POST', '/api/sessions', { cookie: lead, body: { title: 'Fall' } });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  session = res.json.id;
  caseId = res.json.case_id;
  res = await api(srv, 'POST', '/api/sessions', { cookie: outsider, body: { title: 'Anderer Fall' } });
  session2 = res.json.id;
  caseId2 = res.json.case_id;
  for (const u of ['other', 'sup']) {
    res = await api(srv, 'POST', `/api/sessions/${session}/participants`, { cookie: lead, body: { username: u } });
    assert.equal(res.status, 201, JSON.stringify(res.json));
  }
  res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: lead, body: { expires_in_s: 600, max_uses: 1 } });
  assert.equal(res.status, 201);
  assert.match(res.json.url, /^\/j\/[A-Za-z0-9_-]{43}$/);
  const join = await api(srv, 'POST', '/api/join', { body: { token: res.json.token } });
  assert.equal(join.status, 200, JSON.stringify(join.json));
  assert.deepEqual(join.json, { session_id: session, role: 'client' });
  clientCookie = cookieOf(join);
  const again = await api(srv, 'POST', '/api/join', { body: { token: res.json.token } });
  assert.equal(again.status, 410);
  assert.equal(again.json.error.code, 'link_used_up');
});
test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

test('missing, forged and expired cookies: 401 on the upgrade and on /api/me', async () => {
  assert.equal(await upgradeStatus(null), 401);
  assert.equal(await upgradeStatus('konsil_session=' + 'A'.repeat(43)), 401);
  assert.equal(await upgradeStatus('konsil_session=x\'; DROP TABLE logins;--'), 401);
  assert.equal(await upgradeStatus(lead, { Origin: 'http://evil.example' }), 403);
  assert.equal(await upgradeStatus(lead), 101);
  assert.equal((await api(srv, 'GET', '/api/me')).status, 401);
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: 'konsil_session=' + 'B'.repeat(43) })).status, 401);
  const me = await api(srv, 'GET', '/api/me', { cookie: clientCookie });
  assert.equal(me.json.role, 'client');
  assert.equal(me.json.session_id, session);
  // Expired: a server with one-second idle expiry.
  const short = await startServer({ args: ['--session-idle-secs', '1'] });
  try {
    addUser(short.db, 'x', 'counsellor', 'pw');
    const ck = await login(short, 'x', 'pw');
    assert.equal((await api(short, 'GET', '/api/me', { cookie: ck })).status, 200);
    await sleep(2200);
    assert.equal((await api(short, 'GET', '/api/me', { cookie: ck })).status, 401);
  } finally {
    await short.stop();
  }
});

test('login failures, SQL metacharacters, oversized bodies', async () => {
  let res = await api(srv, 'POST', '/api/login', { body: { username: "lead' OR '1'='1", password: "' OR 1=1 --" } });
  assert.equal(res.status, 401);
  assert.equal(res.json.error.code, 'invalid_credentials');
  res = await api(srv, 'POST', '/api/login', { raw: '{"username":' });
  assert.equal(res.status, 400);
  res = await api(srv, 'POST', '/api/sessions', { cookie: lead, body: { title: "x'); DROP TABLE users;--" } });
  assert.equal(res.status, 201);
  assert.equal(res.json.title, "x'); DROP TABLE users;--");
  res = await api(srv, 'POST', '/api/sessions', { cookie: lead, body: { title: 'x'.repeat(100000) } });
  assert.equal(res.status, 413);
  res = await api(srv, 'POST', '/api/sessions', { cookie: lead, body: { title: 'x'.repeat(300) } });
  assert.equal(res.status, 400);
  res = await api(srv, 'POST', `/api/sessions/${session}/participants`, { cookie: lead, body: { username: "' OR 1=1 --" } });
  assert.equal(res.status, 404);
  res = await api(srv, 'POST', '/api/join', { body: { token: "' OR 1=1 --" } });
  assert.equal(res.status, 404);
  res = await api(srv, 'POST', '/api/sessions', { cookie: sup, body: { title: 'nope' } });
  assert.equal(res.status, 403);
  assert.equal(sql(srv.db, 'SELECT count(*) FROM users'), '4');
});

test('the client never reads internal notes: s, f, nf, bulk', async () => {
  const r = raw(clientCookie);
  await r.handshake();
  r.send({ a: 's', c: 'cases', d: caseId });
  const s = await r.next((m) => m.a === 's');
  assert.equal(s.data.v, 1);
  assert.equal(s.data.data.internal, undefined);
  assert.deepEqual(Object.keys(s.data.data.sections.debt), ['client_summary']);
  assert.equal(s.data.data.situation.assessment, undefined);
  r.send({ a: 'nf', id: 1, c: 'cases', d: caseId, v: 1 });
  const nf = await r.next((m) => m.a === 'nf');
  assert.equal(nf.data.internal, undefined);
  r.send({ a: 'bf', c: 'cases', b: [caseId, caseId2] });
  const bf = await r.next((m) => m.a === 'bf');
  assert.equal(bf.data[caseId].data.internal, undefined);
  assert.equal(bf.data[caseId2].error.code, 'ERR_FORBIDDEN');
  // A note written now reaches the client as an empty op: versions line up.
  const l = raw(lead);
  await l.handshake();
  l.send({ a: 'op', c: 'cases', d: caseId, v: 1, seq: 1, op: [{ p: ['internal', 'secret'], oi: 'risk' }] });
  const ack = await l.next((m) => m.a === 'op' && m.seq === 1);
  assert.equal(ack.error, undefined, JSON.stringify(ack));
  const op = await r.next((m) => m.a === 'op' && m.v === 1);
  assert.deepEqual(op.op, []);
  r.send({ a: 'f', c: 'cases', d: caseId, v: 1 });
  const catchup = await r.next((m) => m.a === 'op' && m.v === 1);
  assert.deepEqual(catchup.op, []);
  // An op the client reads in part reaches it as that part, one it reads whole as is.
  const part = [{ p: ['concern', 'own_words', 0], si: 'a' }];
  l.send({ a: 'op', c: 'cases', d: caseId, v: 2, seq: 2, op: [{ p: ['internal', 'more'], oi: 'risk' }, ...part] });
  assert.equal((await l.next((m) => m.a === 'op' && m.seq === 2)).error, undefined);
  assert.deepEqual((await r.next((m) => m.a === 'op' && m.v === 2)).op, part);
  const whole = [{ p: ['concern', 'own_words', 1], si: 'b' }];
  l.send({ a: 'op', c: 'cases', d: caseId, v: 3, seq: 3, op: whole });
  assert.equal((await l.next((m) => m.a === 'op' && m.seq === 3)).error, undefined);
  assert.deepEqual((await r.next((m) => m.a === 'op' && m.v === 3)).op, whole);
  assert.ok(!JSON.stringify(r.messages).includes('risk'));
  await l.close();
  await r.close();
});

test('the client cannot write other sections, not at an old version, not half', async () => {
  const before = await leadDoc();
  const r = raw(clientCookie);
  await r.handshake();
  const tries = [
    [{ p: ['internal', 'x'], oi: 'client was here' }],
    [{ p: ['concern', 'own_words', 0], si: 'ok ' }, { p: ['internal', 'y'], oi: 'half' }],
    [{ p: ['sections', 'debt', 'notes', 0], li: 'z' }],
    [{ p: ['concern', 'own_words'], t: 'text0', o: [{ p: 0, i: 'x' }] }],
  ];
  let seq = 1;
  for (const op of tries) {
    r.send({ a: 'op', c: 'cases', d: caseId, v: before.v, seq: seq++, op });
    const m = await r.next((x) => x.a === 'op' && x.seq === seq - 1);
    assert.equal(m.error && m.error.code, 'ERR_OP_SUBMIT_REJECTED', JSON.stringify(m));
  }
  r.send({ a: 'op', c: 'cases', d: caseId, v: 1, seq: seq++, op: [{ p: ['internal', 'old'], oi: 1 }] });
  const old = await r.next((x) => x.a === 'op' && x.seq === seq - 1);
  assert.equal(old.error.code, 'ERR_OP_SUBMIT_REJECTED');
  r.send({ a: 'op', c: 'cases', d: caseId, seq: seq++, create: { type: 'json0', data: {} } });
  assert.equal((await r.next((x) => x.a === 'op' && x.seq === seq - 1)).error.code, 'ERR_OP_SUBMIT_REJECTED');
  const after = await leadDoc();
  assert.deepEqual(after, before, 'no trace in the document');
  // What the client may write, it writes.
  r.send({ a: 'op', c: 'cases', d: caseId, v: after.v, seq: seq++, op: [{ p: ['concern', 'own_words', 0], si: 'Miete' }] });
  const ok = await r.next((x) => x.a === 'op' && x.seq === seq - 1);
  assert.equal(ok.error, undefined, JSON.stringify(ok));
  await r.close();
});

test('outsiders, other sessions, supervisors', async () => {
  const o = raw(outsider);
  await o.handshake();
  for (const a of ['s', 'f']) {
    o.send({ a, c: 'cases', d: caseId });
    assert.equal((await o.next((m) => m.a === a)).error.code, 'ERR_FORBIDDEN');
  }
  o.send({ a: 'nf', id: 7, c: 'cases', d: caseId, v: 1 });
  assert.equal((await o.next((m) => m.a === 'nf')).error.code, 'ERR_FORBIDDEN');
  o.send({ a: 'nt', id: 8, c: 'cases', d: caseId, ts: Date.now() });
  assert.equal((await o.next((m) => m.a === 'nt')).error.code, 'ERR_FORBIDDEN');
  o.send({ a: 'op', c: 'cases', d: caseId, v: 1, seq: 1, op: [{ p: ['internal', 'o'], oi: 1 }] });
  assert.equal((await o.next((m) => m.a === 'op')).error.code, 'ERR_FORBIDDEN');
  o.send({ a: 'ps', ch: caseId, seq: 1 });
  assert.equal((await o.next((m) => m.a === 'ps')).error.code, 'ERR_FORBIDDEN');
  await o.close();
  assert.equal((await api(srv, 'GET', `/api/sessions/${session}`, { cookie: outsider })).status, 404);
  // The client's cookie is bound to its one session.
  const cl = raw(clientCookie);
  await cl.handshake();
  cl.send({ a: 's', c: 'cases', d: caseId2 });
  assert.equal((await cl.next((m) => m.a === 's')).error.code, 'ERR_FORBIDDEN');
  await cl.close();
  // The housing counsellor does not see the debt section's notes.
  const h = raw(other);
  await h.handshake();
  h.send({ a: 'f', c: 'cases', d: caseId });
  const hf = await h.next((m) => m.a === 'f');
  // (its view holds the section's place, empty without the client's share consent)
  assert.deepEqual(hf.data.data.sections.debt, {});
  assert.equal(hf.data.data.internal.secret, 'risk');
  await h.close();
  // Supervisors read and never write.
  const s = raw(sup);
  await s.handshake();
  s.send({ a: 'f', c: 'cases', d: caseId });
  assert.ok((await s.next((m) => m.a === 'f')).data.data.internal);
  s.send({ a: 'op', c: 'cases', d: caseId, seq: 1, op: [{ p: ['internal', 's'], oi: 1 }] });
  const m = await s.next((x) => x.a === 'op');
  assert.equal(m.error.code, 'ERR_OP_SUBMIT_REJECTED');
  assert.match(m.error.message, /supervisors never write/);
  await s.close();
});

test('presence: server-stamped identity, hidden places relayed as present without a place', async () => {
  const cl = raw(clientCookie);
  const ld = raw(lead);
  await cl.handshake();
  await ld.handshake();
  cl.send({ a: 'ps', ch: caseId, seq: 1 });
  await cl.next((m) => m.a === 'ps');
  ld.send({ a: 'ps', ch: caseId, seq: 1 });
  await ld.next((m) => m.a === 'ps');
  ld.send({ a: 'p', ch: caseId, id: 'c1', p: { path: ['internal', 'secret'], index: 1 }, pv: 1 });
  const hidden = await cl.next((m) => m.a === 'p' && m.id === 'c1');
  assert.deepEqual(hidden.p, { path: null }, 'still present, the place not shown (null would mean gone)');
  assert.equal(hidden.u.role, 'counsellor');
  ld.send({ a: 'p', ch: caseId, id: 'c2', p: { path: ['concern', 'own_words'], index: 1 }, pv: 1, u: { name: 'fake' } });
  const shown = await cl.next((m) => m.a === 'p' && m.id === 'c2');
  assert.deepEqual(shown.p.path, ['concern', 'own_words']);
  assert.equal(shown.u.name, 'lead');
  assert.equal(shown.u.specialty, 'debt');
  await cl.close();
  await ld.close();
});

test('links: revoked and expired ones are refused; the lobby admits', async () => {
  let res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: lead, body: { expires_in_s: 600 } });
  const revoked = res.json;
  res = await api(srv, 'DELETE', `/api/sessions/${session}/links/${revoked.id}`, { cookie: lead });
  assert.equal(res.status, 204);
  res = await api(srv, 'POST', '/api/join', { body: { token: revoked.token } });
  assert.equal(res.json.error.code, 'link_revoked');
  res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: lead, body: { expires_in_s: 1 } });
  const expiring = res.json;
  await sleep(1100);
  res = await api(srv, 'POST', '/api/join', { body: { token: expiring.token } });
  assert.equal(res.status, 410);
  assert.equal(res.json.error.code, 'link_expired');
  res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: lead, body: { expires_in_s: 600, lobby: true } });
  res = await api(srv, 'POST', '/api/join', { body: { token: res.json.token, display_name: 'K.' } });
  assert.equal(res.status, 202);
  const waiting = cookieOf(res);
  assert.equal(await upgradeStatus(waiting), 401);
  const lobby = await api(srv, 'GET', `/api/sessions/${session}/lobby`, { cookie: lead });
  assert.equal(lobby.json.waiting.length, 1);
  res = await api(srv, 'POST', `/api/sessions/${session}/lobby/${lobby.json.waiting[0].id}/admit`, { cookie: lead });
  assert.equal(res.status, 204);
  assert.equal((await api(srv, 'GET', '/api/join/status', { cookie: waiting })).json.status, 'admitted');
  assert.equal(await upgradeStatus(waiting), 101);
});

test('a closed session is read-only; the audit chain detects tampering', async () => {
  let res = await api(srv, 'POST', `/api/sessions/${session}/close`, { cookie: other });
  assert.equal(res.status, 403);
  res = await api(srv, 'POST', `/api/sessions/${session}/close`, { cookie: lead });
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'closed');
  const l = raw(lead);
  await l.handshake();
  l.send({ a: 'op', c: 'cases', d: caseId, seq: 9, op: [{ p: ['internal', 'late'], oi: 1 }] });
  const m = await l.next((x) => x.a === 'op' && x.seq === 9);
  assert.equal(m.error.code, 'ERR_OP_SUBMIT_REJECTED');
  await l.close();
  await sleep(300);
  const verify = (db) => {
    try {
      return { code: 0, out: execFileSync(binary(), ['audit', 'verify', '--db', db], { encoding: 'utf8' }) };
    } catch (e) {
      return { code: e.status, out: e.stdout };
    }
  };
  let v = verify(srv.db);
  assert.equal(v.code, 0, v.out);
  const actions = sql(srv.db, 'SELECT group_concat(DISTINCT action) FROM audit');
  for (const a of ['login.ok', 'login.failed', 'link.create', 'link.use', 'link.revoke', 'join', 'session.read.open', 'lobby.admit']) {
    assert.ok(actions.includes(a), a + ' in ' + actions);
  }
  sql(srv.db, "UPDATE audit SET actor = 'someone-else' WHERE seq = 3");
  v = verify(srv.db);
  assert.equal(v.code, 1);
  assert.match(v.out, /BROKEN/);
});

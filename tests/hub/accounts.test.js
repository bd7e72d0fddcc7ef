'use strict';
// Accounts, login sessions, join links and the audit chain against a real
// `konsil serve`: login sessions survive a restart, `konsil user disable` ends a live
// socket and the next login, the login rate limits, the join page's headers and a token
// that never reaches the log, the lobby (waiting, admit, decline), and `konsil audit
// verify` on tables altered, added to and cut.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const { startServer, sql, tempDir, binary } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login, cookieOf } = require('./lib/auth');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function upgradeStatus(srv, cookie) {
  return new Promise((resolve) => {
    const ws = new WebSocket(srv.url, { headers: cookie ? { Cookie: cookie } : {} });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => resolve('error'));
  });
}

function verify(db) {
  try {
    return { code: 0, out: execFileSync(binary(), ['audit', 'verify', '--db', db], { encoding: 'utf8' }) };
  } catch (e) {
    return { code: e.status, out: e.stdout };
  }
}

// A session (and its case, whose document the session's people edit): {id, case_id, …}.
async function newSession(srv, cookie) {
  const res = await api(srv, 'POST', '/api/sessions', { cookie, body: { title: 'Fall' } });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

test('login sessions survive a restart; the socket works with the old cookie', async () => {
  const dir = tempDir();
  let srv = await startServer({ dir });
  addUser(srv.db, 'anna', 'counsellor', 'pw-anna', 'debt');
  const cookie = await login(srv, 'anna', 'pw-anna');
  const { case_id: caseId } = await newSession(srv, cookie);
  assert.equal((await srv.stop()).code, 0, srv.output());
  srv = await startServer({ dir });
  try {
    const me = await api(srv, 'GET', '/api/me', { cookie });
    assert.equal(me.status, 200);
    assert.equal(me.json.name, 'anna');
    const client = c.stockClient(srv.url, { cookie });
    const doc = client.connection.get('cases', caseId);
    await c.fetch(doc);
    assert.equal(doc.version, 1);
    assert.equal(doc.data.meta.case_id, caseId);
    client.close();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('konsil user disable closes live sockets with 1008 and refuses the next login', async () => {
  const srv = await startServer();
  try {
    addUser(srv.db, 'bert', 'counsellor', 'pw-bert');
    addUser(srv.db, 'carla', 'counsellor', 'pw-carla');
    const bert = await login(srv, 'bert', 'pw-bert');
    const carla = await login(srv, 'carla', 'pw-carla');
    const rb = new c.RawClient(srv.url, { ws: { headers: { Cookie: bert } } });
    const rc = new c.RawClient(srv.url, { ws: { headers: { Cookie: carla } } });
    await rb.handshake();
    await rc.handshake();
    execFileSync(binary(), ['user', 'disable', 'bert', '--db', srv.db]);
    const closed = await Promise.race([rb.closed, sleep(5000).then(() => null)]);
    assert.ok(closed, 'the socket was closed within 5 s');
    assert.equal(closed.code, 1008);
    const res = await api(srv, 'POST', '/api/login', { body: { username: 'bert', password: 'pw-bert' } });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'invalid_credentials');
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: bert })).status, 401);
    assert.equal(await upgradeStatus(srv, bert), 401);
    // Others stay.
    assert.equal(rc.closeInfo, null);
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: carla })).status, 200);
    await rc.close();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('login attempts are limited per user and address and per address (429)', async () => {
  const srv = await startServer({ args: ['--login-max-pair', '3', '--login-max-addr', '6',
                                                     '--login-slow-after', '100'] });
  try {
    addUser(srv.db, 'dora', 'counsellor', 'pw-dora');
    addUser(srv.db, 'emil', 'counsellor', 'pw-emil');
    const attempt = (username, password) => api(srv, 'POST', '/api/login', { body: { username, password } });
    // Successes are taken back: they never use up the budget.
    for (let i = 0; i < 5; i++) assert.equal((await attempt('emil', 'pw-emil')).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await attempt('dora', 'wrong')).status, 401);
    let res = await attempt('dora', 'pw-dora');
    assert.equal(res.status, 429, 'per user and address, even with the right password');
    assert.equal(res.json.error.code, 'rate_limited');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal(res.headers.get('set-cookie'), null);
    assert.equal((await attempt('emil', 'pw-emil')).status, 200, 'another user still logs in');
    for (let i = 0; i < 3; i++) assert.equal((await attempt(`nobody${i}`, 'x')).status, 401);
    res = await attempt('emil', 'pw-emil');
    assert.equal(res.status, 429, 'per address: six failures from 127.0.0.1');
    assert.equal(res.json.error.code, 'rate_limited');
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('the join page: no referrer, and the token never reaches the log', async () => {
  const web = tempDir();
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>Konsil</title>');
  const srv = await startServer({ args: ['--web', web] });
  let token;
  try {
    addUser(srv.db, 'fritz', 'counsellor', 'pw-fritz');
    const cookie = await login(srv, 'fritz', 'pw-fritz');
    const { id: session } = await newSession(srv, cookie);
    const link = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie, body: { expires_in_s: 600 } });
    token = link.json.token;
    const page = await fetch(`${srv.httpUrl}/j/${token}`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.match(await page.text(), /<title>Konsil<\/title>/);
    const join = await api(srv, 'POST', '/api/join', { body: { token } });
    assert.equal(join.status, 200);
    assert.equal(join.headers.get('referrer-policy'), 'no-referrer');
    // A used, a revoked and a malformed link: refused, and still not logged.
    await api(srv, 'DELETE', `/api/sessions/${session}/links/${link.json.id}`, { cookie });
    assert.equal((await api(srv, 'POST', '/api/join', { body: { token } })).status, 410);
    await fetch(`${srv.httpUrl}/j/${token}x`);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  assert.ok(!srv.output().includes(token), 'the token is not in the server output');
  assert.ok(!srv.output().includes(token.slice(0, 20)));
  const dump = execFileSync('sqlite3', [srv.db, '.dump'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.ok(!dump.includes(token), 'only the hash is stored');
});

test('the lobby: a client waits (202), is admitted or declined', async () => {
  const srv = await startServer();
  try {
    addUser(srv.db, 'gina', 'counsellor', 'pw-gina');
    addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
    const gina = await login(srv, 'gina', 'pw-gina');
    const sup = await login(srv, 'sup', 'pw-sup');
    const { id: session, case_id: caseId } = await newSession(srv, gina);
    await api(srv, 'POST', `/api/sessions/${session}/participants`, { cookie: gina, body: { username: 'sup' } });
    const link = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: gina, body: { expires_in_s: 600, lobby: true } });
    assert.equal(link.json.lobby, true);
    const join = async (name) => {
      const res = await api(srv, 'POST', '/api/join', { body: { token: link.json.token, display_name: name } });
      assert.equal(res.status, 202);
      assert.deepEqual(res.json, { session_id: session, status: 'waiting' });
      return cookieOf(res);
    };
    const k1 = await join('K. eins');
    const k2 = await join('K. zwei');
    let me = await api(srv, 'GET', '/api/me', { cookie: k1 });
    assert.equal(me.json.status, 'waiting');
    assert.equal((await api(srv, 'GET', '/api/join/status', { cookie: k1 })).json.status, 'waiting');
    let res = await api(srv, 'GET', `/api/sessions/${session}`, { cookie: k1 });
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'waiting');
    assert.equal((await api(srv, 'GET', `/api/sessions/${session}/history`, { cookie: k1 })).status, 403);
    assert.equal(await upgradeStatus(srv, k1), 401);
    const lobby = await api(srv, 'GET', `/api/sessions/${session}/lobby`, { cookie: gina });
    assert.deepEqual(lobby.json.waiting.map((w) => w.name), ['K. eins', 'K. zwei']);
    const [w1, w2] = lobby.json.waiting;
    // Only counsellors of the session decide.
    res = await api(srv, 'POST', `/api/sessions/${session}/lobby/${w1.id}/admit`, { cookie: sup });
    assert.equal(res.status, 403);
    res = await api(srv, 'POST', `/api/sessions/${session}/lobby/${w1.id}/admit`, { cookie: gina });
    assert.equal(res.status, 204);
    res = await api(srv, 'POST', `/api/sessions/${session}/lobby/${w2.id}/decline`, { cookie: gina });
    assert.equal(res.status, 204);
    res = await api(srv, 'POST', `/api/sessions/${session}/lobby/${w2.id}/admit`, { cookie: gina });
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, 'not_waiting');
    me = await api(srv, 'GET', '/api/me', { cookie: k1 });
    assert.equal(me.json.status, 'admitted');
    assert.equal(me.json.id, w1.id);
    assert.equal(await upgradeStatus(srv, k1), 101);
    assert.equal((await api(srv, 'GET', `/api/sessions/${session}`, { cookie: k1 })).status, 200);
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: k2 })).status, 401, 'declined: the cookie is dead');
    assert.equal((await api(srv, 'GET', '/api/join/status', { cookie: k2 })).status, 401);
    assert.equal(await upgradeStatus(srv, k2), 401);
    assert.deepEqual((await api(srv, 'GET', `/api/sessions/${session}/lobby`, { cookie: gina })).json.waiting, []);
    // Audit entries name the case they are about.
    const actions = sql(srv.db, `SELECT group_concat(action, ' ') FROM audit WHERE session = '${caseId}'`);
    for (const a of ['lobby.admit', 'lobby.decline', 'join']) assert.ok(actions.includes(a), actions);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('konsil audit verify: an altered, an inserted and a removed entry', async () => {
  const srv = await startServer();
  addUser(srv.db, 'hans', 'counsellor', 'pw-hans');
  const cookie = await login(srv, 'hans', 'pw-hans');
  await newSession(srv, cookie);
  await api(srv, 'POST', '/api/login', { body: { username: 'hans', password: 'nope' } });
  await login(srv, 'hans', 'pw-hans');
  await sleep(200);
  assert.equal((await srv.stop()).code, 0, srv.output());
  assert.ok(Number(sql(srv.db, 'SELECT count(*) FROM audit')) >= 5);
  assert.equal(verify(srv.db).code, 0, verify(srv.db).out);
  const copy = (name) => {
    const f = path.join(srv.dir, name);
    fs.copyFileSync(srv.db, f);
    return f;
  };
  const altered = copy('altered.db');
  sql(altered, "UPDATE audit SET details = '{\"addr\":\"10.0.0.1\"}' WHERE seq = 3");
  let v = verify(altered);
  assert.equal(v.code, 1);
  assert.match(v.out, /BROKEN at seq 3: .*altered/);
  const inserted = copy('inserted.db');
  sql(inserted, 'UPDATE audit SET seq = seq + 1000000 WHERE seq >= 3; UPDATE audit SET seq = seq - 999999 WHERE seq >= 1000000;' +
    " INSERT INTO audit (seq, ts, actor, action, session, details, prev_hash, hash) SELECT 3, ts, 'forger', 'login.ok', NULL, NULL, hash, hash FROM audit WHERE seq = 2");
  v = verify(inserted);
  assert.equal(v.code, 1);
  assert.match(v.out, /BROKEN at seq 3: .*inserted/);
  const removed = copy('removed.db');
  sql(removed, 'DELETE FROM audit WHERE seq = 3');
  v = verify(removed);
  assert.equal(v.code, 1);
  assert.match(v.out, /BROKEN at seq 3: .*removed/);
  assert.equal(verify(srv.db).code, 0, 'the original is untouched');
});

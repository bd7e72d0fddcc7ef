'use strict';
// Accounts kept by an admin over the REST API: only admins list and change them; a new
// account gets a one-time set-password link (token shown once, kept hashed) instead of a
// password; the link sets a password once (too short refused), expires, and a newer
// link revokes the older; disabling ends the account's login sessions and closes its
// WebSockets at once; an admin cannot disable itself; every change is audited.
const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { startServer, sql } = require('./lib/server');
const { addUser, api, login } = require('./lib/auth');

const tokenOf = (link) => /^\/#\/password\/([A-Za-z0-9_-]{43})$/.exec(link.url)[1];

function audit(db, action) {
  return sql(db, `SELECT actor || '|' || COALESCE(details, '') FROM audit WHERE action = '${action}' ORDER BY seq`)
    .split('\n').filter(Boolean);
}

test('an admin creates an account whose owner sets its password through a one-time link', async () => {
  const srv = await startServer({ asan: true, args: ['--password-min', '12'] });
  try {
    const adaId = addUser(srv.db, 'ada', 'admin', 'ada-password');
    addUser(srv.db, 'cleo', 'counsellor', 'cleo-password');
    const admin = await login(srv, 'ada', 'ada-password');
    const cleo = await login(srv, 'cleo', 'cleo-password');
    assert.equal((await api(srv, 'GET', '/api/users', { cookie: cleo })).status, 403);
    assert.equal((await api(srv, 'POST', '/api/users', { cookie: cleo, body: { username: 'x', role: 'counsellor' } })).status, 403);
    assert.equal((await api(srv, 'GET', '/api/users')).status, 401);
    for (const bad of [{ username: 'has space', role: 'counsellor' }, { username: 'x', role: 'client' },
                       { username: 'x', role: 'supervisor', specialty: 'debt' }, { username: '', role: 'admin' },
                       { username: 'x', role: 'counsellor', specialty: 'astrology' }]) {
      assert.equal((await api(srv, 'POST', '/api/users', { cookie: admin, body: bad })).status, 400, JSON.stringify(bad));
    }
    let res = await api(srv, 'POST', '/api/users', { cookie: admin, body: { username: 'dana', name: 'Dana Berg', role: 'counsellor', specialty: 'housing' } });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const dana = res.json.user;
    assert.deepEqual({ ...dana, id: undefined, created_at: undefined },
                     { id: undefined, created_at: undefined, username: 'dana', name: 'Dana Berg', role: 'counsellor', specialty: 'housing', disabled: false, has_password: false,
                       totp: { enabled: false, enabled_at: null, recovery_codes_left: 0 } });
    const token = tokenOf(res.json.link);
    assert.equal(res.json.link.token, token);
    assert.ok(res.json.link.expires_at > Date.now());
    // The token is kept only as its hash.
    assert.equal(sql(srv.db, `SELECT count(*) FROM password_links WHERE token_hash = '${token}'`), '0');
    assert.equal((await api(srv, 'POST', '/api/users', { cookie: admin, body: { username: 'dana', role: 'admin' } })).json.error.code, 'username_taken');
    // No password yet: no login.
    assert.equal((await api(srv, 'POST', '/api/login', { body: { username: 'dana', password: 'x' } })).status, 401);

    res = await api(srv, 'POST', '/api/password/info', { body: { token } });
    assert.equal(res.status, 200);
    assert.equal(res.json.username, 'dana');
    assert.equal(res.json.name, 'Dana Berg');
    res = await api(srv, 'POST', '/api/password', { body: { token, password: 'short-one' } });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'password_too_short');
    assert.equal((await api(srv, 'POST', '/api/password', { body: { token: 'x'.repeat(43), password: 'a long enough password' } })).status, 404);
    res = await api(srv, 'POST', '/api/password', { body: { token, password: 'a long enough password' } });
    assert.equal(res.status, 204, JSON.stringify(res.json));
    assert.ok(await login(srv, 'dana', 'a long enough password'));
    // Used once: used up.
    res = await api(srv, 'POST', '/api/password', { body: { token, password: 'another long password' } });
    assert.equal(res.status, 410);
    assert.equal(res.json.error.code, 'link_used_up');
    assert.equal((await api(srv, 'POST', '/api/password/info', { body: { token } })).json.error.code, 'link_used_up');

    // A reset link: a newer one revokes the older, and using it ends the login sessions.
    const danaCookie = await login(srv, 'dana', 'a long enough password');
    const first = await api(srv, 'POST', `/api/users/${dana.id}/password-link`, { cookie: admin });
    assert.equal(first.status, 201);
    const second = await api(srv, 'POST', `/api/users/${dana.id}/password-link`, { cookie: admin });
    assert.equal((await api(srv, 'POST', '/api/password', { body: { token: tokenOf(first.json), password: 'revoked link password' } })).json.error.code, 'link_revoked');
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: danaCookie })).status, 200);
    assert.equal((await api(srv, 'POST', '/api/password', { body: { token: tokenOf(second.json), password: 'the newest password' } })).status, 204);
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: danaCookie })).status, 401, 'the new password ended the login');
    assert.ok(await login(srv, 'dana', 'the newest password'));

    res = await api(srv, 'GET', '/api/users', { cookie: admin });
    assert.deepEqual(res.json.users.map((u) => u.username), ['ada', 'cleo', 'dana']);
    assert.equal(res.json.users[2].has_password, true);
    assert.equal(audit(srv.db, 'user.add').filter((e) => e.startsWith(`${adaId}|`)).length, 1);
    assert.equal(audit(srv.db, 'user.password_link').length, 2);
    assert.equal(audit(srv.db, 'user.passwd').filter((e) => /"by":"link"/.test(e)).length, 2);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a set-password link expires', async () => {
  const srv = await startServer({ args: ['--password-link-secs', '1'] });
  try {
    addUser(srv.db, 'ada', 'admin', 'ada-password');
    const admin = await login(srv, 'ada', 'ada-password');
    const res = await api(srv, 'POST', '/api/users', { cookie: admin, body: { username: 'eve', role: 'supervisor' } });
    await new Promise((r) => setTimeout(r, 1500));
    const set = await api(srv, 'POST', '/api/password', { body: { token: tokenOf(res.json.link), password: 'too late for this one' } });
    assert.equal(set.status, 410);
    assert.equal(set.json.error.code, 'link_expired');
  } finally {
    await srv.stop();
  }
});

test('disabling ends the login sessions and closes the WebSockets at once; enabling lets log in again', async () => {
  const srv = await startServer();
  try {
    const adaId = addUser(srv.db, 'ada', 'admin', 'ada-password');
    const cleoId = addUser(srv.db, 'cleo', 'counsellor', 'cleo-password');
    const admin = await login(srv, 'ada', 'ada-password');
    const cleo = await login(srv, 'cleo', 'cleo-password');
    const ws = new WebSocket(srv.url, { headers: { Cookie: cleo } });
    await new Promise((r) => ws.on('open', r));
    const closed = new Promise((r) => ws.on('close', (code) => r(code)));
    let res = await api(srv, 'POST', `/api/users/${cleoId}/disable`, { cookie: admin });
    assert.equal(res.status, 200);
    assert.equal(res.json.disabled, true);
    assert.equal(await closed, 1008);
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: cleo })).status, 401);
    assert.equal((await api(srv, 'POST', '/api/login', { body: { username: 'cleo', password: 'cleo-password' } })).status, 401);
    // Still gone after the next refresh of the login cache.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: cleo })).status, 401);
    res = await api(srv, 'POST', `/api/users/${cleoId}/enable`, { cookie: admin });
    assert.equal(res.json.disabled, false);
    assert.equal((await api(srv, 'GET', '/api/me', { cookie: cleo })).status, 401, 'enabling brings no login back');
    assert.ok(await login(srv, 'cleo', 'cleo-password'));
    res = await api(srv, 'POST', `/api/users/${adaId}/disable`, { cookie: admin });
    assert.equal(res.status, 409);
    assert.equal(res.json.error.code, 'cannot_disable_self');
    assert.equal((await api(srv, 'POST', '/api/users/no-such-user/disable', { cookie: admin })).status, 404);
    assert.deepEqual(audit(srv.db, 'user.disable'), [`${adaId}|{"user":"${cleoId}","username":"cleo"}`]);
    assert.deepEqual(audit(srv.db, 'user.enable'), [`${adaId}|{"user":"${cleoId}","username":"cleo"}`]);
  } finally {
    await srv.stop();
  }
});

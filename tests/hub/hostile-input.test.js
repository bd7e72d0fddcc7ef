'use strict';
// SQL metacharacters and oversized strings in every field of every REST endpoint
// (bodies, path segments, query arguments, the cookie), against a real `konsil serve`
// under ASan: each is refused with a 4xx or stored verbatim, nothing answers 500, the
// server stays up, and nothing else in the database changes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { startServer, sql, binary } = require('./lib/server');
const { addUser, api, login, cookieOf } = require('./lib/auth');

const HOSTILE = ["'; DROP TABLE users; --", '" OR 1=1', "x' OR '1'='1", 'Robert\'); DELETE FROM audit;--', 'ä\u0000b', 'x'.repeat(1 << 20)];
let srv, lead, session, link, clientCookie;

function tables() {
  return sql(srv.db, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)");
}

// Sends one request and checks the server neither failed nor died. Returns the response.
async function hostile(method, path, opts = {}) {
  let res;
  try {
    res = await api(srv, method, path, opts);
  } catch (e) {
    res = { status: 'dropped' };   // lws refuses over-long request lines by closing
  }
  assert.ok(res.status === 'dropped' || (res.status >= 200 && res.status < 500),
    `${method} ${path.slice(0, 80)} ${JSON.stringify(opts.body || '').slice(0, 80)}: ${res.status} ${String(JSON.stringify(res.json)).slice(0, 200)}`);
  return res;
}

test.before(async () => {
  srv = await startServer({ asan: true, args: ['--max-body', '2M'] });
  addUser(srv.db, 'lead', 'counsellor', 'pw-lead', 'debt');
  addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
  lead = await login(srv, 'lead', 'pw-lead');
  let res = await api(srv, 'POST', '/api/sessions', { cookie: lead, body: { title: 'Fall' } });
  session = res.json.id;
  res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: lead, body: { expires_in_s: 600 } });
  link = res.json;
  res = await api(srv, 'POST', '/api/join', { body: { token: link.token } });
  clientCookie = cookieOf(res);
});

test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
  assert.ok(!/AddressSanitizer|runtime error/.test(srv.output()), srv.output());
});

test('every body field of every endpoint', async () => {
  const before = { tables: tables(), users: sql(srv.db, 'SELECT count(*) FROM users') };
  const stored = [];
  for (const v of HOSTILE) {
    const long = v.length > 1000;
    const bodies = [
      ['POST', '/api/login', { username: v, password: 'x' }, null],
      ['POST', '/api/login', { username: 'lead', password: v }, null],
      ['POST', '/api/sessions', { title: v }, lead],
      ['POST', '/api/sessions', { title: 'ok', template: v }, lead],
      ['POST', `/api/sessions/${session}/participants`, { username: v }, lead],
      ['POST', `/api/sessions/${session}/links`, { expires_in_s: v }, lead],
      ['POST', `/api/sessions/${session}/links`, { expires_in_s: 60, max_uses: v }, lead],
      ['POST', `/api/sessions/${session}/links`, { expires_in_s: 60, lobby: v }, lead],
      ['POST', '/api/join', { token: v }, null],
      ['POST', '/api/join', { token: link.token, display_name: v }, null],
      ['POST', '/api/logout', { anything: v }, null],
    ];
    for (const [method, path, body, cookie] of bodies) {
      const res = await hostile(method, path, { body, cookie });
      const field = Object.keys(body).find((k) => body[k] === v);
      if (path === '/api/logout') assert.equal(res.status, 204, 'logout answers 204 whatever it is sent');
      else if (res.status < 300) stored.push({ path, field, v, res });
      else assert.ok(res.json && res.json.error && res.json.error.code, `${path} ${field}: an error body`);
      if (long) assert.notEqual(res.status, 200, `${path} ${field}: 1 MB accepted`);
    }
  }
  // What was accepted is stored verbatim: titles and display names of plain text.
  for (const s of stored) {
    if (s.field === 'title') {
      const got = await api(srv, 'GET', `/api/sessions/${s.res.json.id}`, { cookie: lead });
      assert.equal(got.json.title, s.v);
    } else if (s.field === 'display_name') {
      const me = await api(srv, 'GET', '/api/me', { cookie: cookieOf(s.res) });
      assert.equal(me.json.name, s.v);
    } else {
      assert.fail(`${s.path} accepted ${JSON.stringify(s.v).slice(0, 40)} in ${s.field}`);
    }
  }
  assert.deepEqual(stored.filter((s) => s.field === 'title').map((s) => s.v), HOSTILE.slice(0, 4));
  assert.equal(tables(), before.tables);
  assert.equal(sql(srv.db, 'SELECT count(*) FROM users'), before.users);
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: lead })).status, 200);
});

test('path segments, query arguments and the cookie', async () => {
  const before = { tables: tables(), users: sql(srv.db, 'SELECT count(*) FROM users') };
  for (const v of HOSTILE.slice(0, 5).concat(['x'.repeat(4000)])) {
    const seg = encodeURIComponent(v);
    const requests = [
      ['GET', `/api/sessions/${seg}`],
      ['POST', `/api/sessions/${seg}/close`],
      ['POST', `/api/sessions/${seg}/participants`, { username: 'sup' }],
      ['POST', `/api/sessions/${seg}/links`, { expires_in_s: 60 }],
      ['DELETE', `/api/sessions/${session}/links/${seg}`],
      ['DELETE', `/api/sessions/${seg}/links/${link.id}`],
      ['GET', `/api/sessions/${seg}/lobby`],
      ['POST', `/api/sessions/${session}/lobby/${seg}/admit`],
      ['POST', `/api/sessions/${session}/lobby/${seg}/decline`],
      ['GET', `/api/sessions/${seg}/history`],
      ['GET', `/api/sessions/${session}/history?from=${seg}`],
      ['GET', `/api/sessions/${session}/history?from=0&to=${seg}`],
      ['GET', `/api/sessions/${session}/history?${seg}=1`],
      ['GET', `/api/sessions/${session}/snapshot?v=${seg}`],
      ['GET', `/api/${seg}`],
      ['GET', `/j/${seg}`],
    ];
    for (const [method, path, body] of requests) {
      const res = await hostile(method, path, { body, cookie: lead });
      assert.ok(res.status === 'dropped' || res.status >= 400 || path.includes('history?') || path.startsWith('/j/'),
        `${method} ${path.slice(0, 60)}: ${res.status}`);
    }
    for (const path of ['/api/me', `/api/sessions/${session}`, '/api/sessions']) {
      const res = await hostile('GET', path, { headers: { Cookie: `konsil_session=${seg.slice(0, 3000)}` } });
      assert.equal(res.status, 401);
    }
    // The client's own cookie with something appended.
    assert.equal((await hostile('GET', '/api/me', { headers: { Cookie: `${clientCookie}${seg.slice(0, 100)}` } })).status, 401);
  }
  assert.equal(tables(), before.tables);
  assert.equal(sql(srv.db, 'SELECT count(*) FROM users'), before.users);
  assert.equal(sql(srv.db, `SELECT ended_at IS NULL FROM sessions WHERE id = '${session}'`), '1');
  assert.equal(sql(srv.db, `SELECT revoked_at IS NULL FROM links WHERE id = '${link.id}'`), '1');
  const out = execFileSync(binary(), ['audit', 'verify', '--db', srv.db], { encoding: 'utf8' });
  assert.match(out, /^intact/);
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: lead })).status, 200);
});

test('a body just over --max-body, arriving with its headers, gets 413 too', async () => {
  const small = await startServer({ args: ['--max-body', '1K'] });
  try {
    for (const size of [1025, 2000, 3000]) {
      const res = await api(small, 'POST', '/api/login', { raw: JSON.stringify({ username: 'x', password: 'y'.repeat(size) }) });
      assert.equal(res.status, 413, `${size} bytes`);
      assert.equal(res.json.error.code, 'payload_too_large');
    }
    const ok = await api(small, 'POST', '/api/login', { body: { username: 'x', password: 'y' } });
    assert.equal(ok.status, 401);
  } finally {
    assert.equal((await small.stop()).code, 0, small.output());
  }
});

test('the default body limit refuses 1 MB before reading it (413)', async () => {
  const small = await startServer();
  try {
    for (const path of ['/api/login', '/api/join', '/api/sessions']) {
      const res = await api(small, 'POST', path, { body: { title: 'x'.repeat(1 << 20), username: 'x', token: 'x' } });
      assert.equal(res.status, 413);
      assert.equal(res.json.error.code, 'payload_too_large');
    }
  } finally {
    assert.equal((await small.stop()).code, 0, small.output());
  }
});

'use strict';
// Attacks on a live server's edge, each reproduced from issue 13 and refused with the
// error protocol/ documents, while an honest pair of participants
// (tests/hub/lib/adversary.js) keeps logging in, connecting and seeing each other's
// edits: CSRF, hardening details, logins, connection floods. The attacks on case sheets
// (sizes, output, rooms, lag, removal, presence) are in adversarial-sheets.test.js. Loops
// are bounded; memory is measured from /proc and printed, never timed.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, tempDir, root } = require('./lib/server');
const { addUser } = require('./lib/auth');
const { request, call, loginAs, honestPair, loginFlood, rssKiB, joinCookie, upgrade } = require('./lib/adversary');
const { sql } = require('./lib/server');

const EVIL = 'http://evil.example';

test('CSRF: a page elsewhere cannot create, add, link or close with the user\'s cookie', async () => {
  const srv = await startServer({ asan: true });
  try {
    const honest = await honestPair(srv);
    addUser(srv.db, 'victim', 'counsellor', 'pw-victim');
    addUser(srv.db, 'extra', 'counsellor', 'pw-extra');
    const victim = await loginAs(srv, 'victim', 'pw-victim');
    let res = await call(srv, 'POST', '/api/sessions', victim, { title: 'Fall' });
    assert.equal(res.status, 201);
    const session = res.json.id;
    // The attack of the issue: the victim's cookie, a foreign Origin, text/plain (what a
    // form or a no-cors fetch can send).
    const attacks = [
      ['POST', '/api/sessions', { title: 'forged' }],
      ['POST', `/api/sessions/${session}/participants`, { username: 'extra' }],
      ['POST', `/api/sessions/${session}/links`, { expires_in_s: 600 }],
      ['POST', `/api/sessions/${session}/close`, undefined],
      ['POST', '/api/logout', undefined],
    ];
    const variants = [
      [{ Origin: EVIL, 'Content-Type': 'text/plain' }, 403, 'cross_origin'],
      [{ Origin: EVIL, 'Content-Type': 'application/json' }, 403, 'cross_origin'],
      [{ Origin: 'null', 'Content-Type': 'application/json' }, 403, 'cross_origin'],
      [{ 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json' }, 403, 'cross_origin'],
      [{ 'Sec-Fetch-Site': 'same-site', 'Content-Type': 'application/json' }, 403, 'cross_origin'],
      [{ 'Content-Type': 'text/plain' }, 415, 'unsupported_media_type'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
      [{}, 415, 'unsupported_media_type'],
    ];
    for (const [method, p, body] of attacks) {
      for (const [headers, status, code] of variants) {
        const r = await request(srv, { method, path: p, headers: { ...headers, Cookie: victim },
                                       body: body === undefined ? undefined : JSON.stringify(body) });
        assert.equal(r.status, status, `${method} ${p} ${JSON.stringify(headers)}: ${r.text}`);
        assert.equal(r.json.error.code, code);
      }
    }
    // Login and join are state-changing too.
    for (const p of ['/api/login', '/api/join']) {
      const body = JSON.stringify(p === '/api/login' ? { username: 'victim', password: 'pw-victim' } : { token: 'x' });
      let r = await request(srv, { method: 'POST', path: p, headers: { 'Content-Type': 'text/plain' }, body });
      assert.equal(r.status, 415);
      r = await request(srv, { method: 'POST', path: p, headers: { 'Content-Type': 'application/json', Origin: EVIL }, body });
      assert.equal(r.status, 403);
    }
    // Nothing changed: one session, open, the victim alone, no link, the cookie alive.
    res = await call(srv, 'GET', '/api/sessions', victim);
    assert.equal(res.status, 200);
    assert.equal(res.json.sessions.length, 1);
    assert.equal(res.json.sessions[0].status, 'open');
    assert.deepEqual(res.json.sessions[0].participants.map((x) => x.name), ['victim']);
    // The server's own origin, and no Origin at all (scripts), keep working.
    const own = `http://127.0.0.1:${srv.port}`;
    res = await call(srv, 'POST', `/api/sessions/${session}/links`, victim, { expires_in_s: 600 }, { headers: {
      'Content-Type': 'application/json; charset=utf-8', Cookie: victim, Origin: own, 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(res.status, 201, res.text);
    res = await call(srv, 'POST', `/api/sessions/${session}/close`, victim);
    assert.equal(res.status, 200, res.text);
    // Reads from another origin are refused too (a history read leaves an audit entry).
    res = await request(srv, { path: '/api/me', headers: { Cookie: victim, Origin: EVIL } });
    assert.equal(res.status, 403);
    res = await request(srv, { path: '/api/me', headers: { Cookie: victim, Origin: own } });
    assert.equal(res.status, 200);
    await honest.check();
  } finally {
    await srv.stop();
  }
});

test('an Origin too long to read is refused on the REST API and on the /ws upgrade', async () => {
  const srv = await startServer({ asan: true });
  try {
    const honest = await honestPair(srv);
    const cookie = await loginAs(srv, 'hana', honest.password);
    const own = `http://127.0.0.1:${srv.port}`;
    for (const len of [600, 1500, 3000]) {
      const origin = own + '/' + 'a'.repeat(len - own.length - 1);
      const r = await call(srv, 'POST', '/api/sessions', cookie, { title: 'x' }, {
        headers: { 'Content-Type': 'application/json', Cookie: cookie, Origin: origin } });
      assert.equal(r.status, 403, `Origin of ${len} bytes: ${r.text}`);
      assert.equal(r.json.error.code, 'cross_origin');
      const u = await upgrade(srv, { Cookie: cookie, Origin: origin });
      assert.equal(u.status, 403, `upgrade with an Origin of ${len} bytes`);
      assert.equal(u.json.error.code, 'cross_origin');
    }
    // Before: an Origin over 511 bytes read as absent. The message says why now.
    const long = await call(srv, 'POST', '/api/sessions', cookie, { title: 'x' }, {
      headers: { 'Content-Type': 'application/json', Cookie: cookie, Origin: own + 'a'.repeat(1100) } });
    assert.match(long.json.error.message, /too long/);
    let u = await upgrade(srv, { Cookie: cookie, Origin: EVIL });
    assert.equal(u.status, 403);
    u = await upgrade(srv, { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site' });
    assert.equal(u.status, 403);
    u = await upgrade(srv, { Cookie: cookie, Origin: own });
    assert.equal(u.status, 101);
    u.ws.close();
    u = await upgrade(srv, {});
    assert.equal(u.status, 401);
    assert.equal(u.json.error.code, 'unauthorized');
    await honest.check();
  } finally {
    await srv.stop();
  }
});

function selfSigned(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                           '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

test('over TLS: HSTS, and the login cookie is __Host-konsil_session (Secure, Path=/, no Domain)', async () => {
  const dir = tempDir();
  const { cert, key } = selfSigned(dir);
  const srv = await startServer({ tls: true, dir, args: ['--tls-cert', cert, '--tls-key', key] });
  try {
    const honest = await honestPair(srv);
    const res = await request(srv, { method: 'POST', path: '/api/login', tls: true,
                                     headers: { 'Content-Type': 'application/json' },
                                     body: { username: 'hana', password: honest.password } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    const set = res.headers['set-cookie'][0];
    assert.match(set, /^__Host-konsil_session=[A-Za-z0-9_-]{43}; /);
    assert.match(set, /; Secure/);
    assert.match(set, /; Path=\/;/);
    assert.doesNotMatch(set, /Domain/i);
    const token = /=([^;]*)/.exec(set)[1];
    // Only the __Host- name is read over https: a cookie planted under the bare name
    // (by a sibling host or a plain-HTTP page) is nobody.
    let me = await request(srv, { path: '/api/me', tls: true, headers: { Cookie: `__Host-konsil_session=${token}` } });
    assert.equal(me.status, 200);
    me = await request(srv, { path: '/api/me', tls: true, headers: { Cookie: `konsil_session=${token}` } });
    assert.equal(me.status, 401);
    const u = await upgrade(srv, { Cookie: `konsil_session=${token}` });
    assert.equal(u.status, 401);
    const out = await request(srv, { method: 'POST', path: '/api/logout', tls: true,
                                     headers: { 'Content-Type': 'application/json', Cookie: `__Host-konsil_session=${token}` } });
    assert.match(out.headers['set-cookie'][0], /^__Host-konsil_session=; .*Secure/);
    await honest.check();
  } finally {
    await srv.stop();
  }
  // Plain HTTP (loopback): no HSTS, the bare name without Secure (browsers refuse
  // __Host- without Secure).
  const plain = await startServer();
  try {
    addUser(plain.db, 'p', 'counsellor', 'pw');
    const res = await request(plain, { method: 'POST', path: '/api/login', headers: { 'Content-Type': 'application/json' },
                                       body: { username: 'p', password: 'pw' } });
    assert.equal(res.headers['strict-transport-security'], undefined);
    assert.match(res.headers['set-cookie'][0], /^konsil_session=[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
  } finally {
    await plain.stop();
  }
});

test('an https --public-origin (TLS at a proxy) gets the __Host- cookie and HSTS too', async () => {
  const srv = await startServer({ args: ['--public-origin', 'https://konsil.example'] });
  try {
    addUser(srv.db, 'p', 'counsellor', 'pw');
    const res = await request(srv, { method: 'POST', path: '/api/login',
                                     headers: { 'Content-Type': 'application/json', Origin: 'https://konsil.example' },
                                     body: { username: 'p', password: 'pw' } });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['set-cookie'][0], /^__Host-konsil_session=.*; Secure$/);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    const cookie = /^[^;]*/.exec(res.headers['set-cookie'][0])[0];
    // The Host the proxy forwards is not what counts: the public origin is.
    let r = await call(srv, 'POST', '/api/sessions', cookie, { title: 'x' }, { headers: {
      'Content-Type': 'application/json', Cookie: cookie, Origin: `http://127.0.0.1:${srv.port}` } });
    assert.equal(r.status, 403);
    r = await call(srv, 'POST', '/api/sessions', cookie, { title: 'x' }, { headers: {
      'Content-Type': 'application/json', Cookie: cookie, Origin: 'https://konsil.example' } });
    assert.equal(r.status, 201);
  } finally {
    await srv.stop();
  }
});

test('a symbolic link inside --web to a file outside it is not followed', async () => {
  const dir = tempDir();
  const web = path.join(dir, 'web');
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(path.join(web, 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>konsil</title>');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside the web folder');
  fs.symlinkSync('/etc/passwd', path.join(web, 'passwd.txt'));     // the case
  fs.symlinkSync('/etc/passwd', path.join(web, 'passwd'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(web, 'secret.txt'));
  fs.symlinkSync(outside, path.join(web, 'sub', 'out'));
  fs.symlinkSync('index.html', path.join(web, 'same.html'));
  const srv = await startServer({ dir, args: ['--web', web] });
  try {
    const honest = await honestPair(srv);
    // Before: /passwd.txt answered 200 with /etc/passwd.
    for (const p of ['/passwd.txt', '/passwd', '/secret.txt', '/sub/out/secret.txt', '/sub/out/']) {
      const r = await request(srv, { path: p });
      assert.equal(r.status, 404, `${p}: ${r.status}`);
      assert.doesNotMatch(r.text, /root:|outside the web folder/);
    }
    // Links that stay inside are served; so is the folder's own content, and the join
    // page opened from a link on another site.
    const join = await request(srv, { path: '/j/' + 'T'.repeat(43), headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(join.status, 200);
    for (const p of ['/', '/index.html', '/same.html']) {
      const r = await request(srv, { path: p });
      assert.equal(r.status, 200, p);
      assert.match(r.text, /konsil/);
    }
    await honest.check();
  } finally {
    await srv.stop();
  }
});

test('the web build writes no source map, so none is served', async () => {
  const dist = path.join(root, 'web-demo', 'dist');
  execFileSync(process.execPath, [path.join(root, 'web-demo', 'build.js')], { cwd: root, stdio: 'pipe' });
  const script = /src="(\/assets\/app\.[0-9a-f]+\.js)"/.exec(fs.readFileSync(path.join(dist, 'index.html'), 'utf8'))[1];
  const files = fs.readdirSync(path.join(dist, 'assets'));
  assert.deepEqual(files.filter((f) => /\.map(\.gz)?$/.test(f)), [], 'a plain build leaves no source map');
  assert.doesNotMatch(fs.readFileSync(path.join(dist, script), 'utf8').slice(-300), /sourceMappingURL/);
  const srv = await startServer({ args: ['--web', dist] });
  try {
    assert.equal((await request(srv, { path: script })).status, 200);
    assert.equal((await request(srv, { path: `${script}.map` })).status, 404);
  } finally {
    await srv.stop();
  }
});

test('disable ends every login session: enabling the account again brings none back', async () => {
  const { binary, sql } = require('./lib/server');
  const c = require('./lib/clients');
  const srv = await startServer({ asan: true });
  try {
    const honest = await honestPair(srv);
    addUser(srv.db, 'dora', 'counsellor', 'pw-dora');
    const cookie = await loginAs(srv, 'dora', 'pw-dora');
    const second = await loginAs(srv, 'dora', 'pw-dora');
    const raw = new c.RawClient(srv.url, { ws: { headers: { Cookie: cookie } } });
    await raw.handshake();
    execFileSync(binary(), ['user', 'disable', 'dora', '--db', srv.db]);
    // In the same transaction as the flag: no login session of dora is left.
    assert.equal(sql(srv.db, "SELECT count(*) FROM logins l JOIN users u ON u.id = l.principal WHERE u.username = 'dora'"), '0');
    const closed = await raw.closed;
    assert.equal(closed.code, 1008);
    execFileSync(binary(), ['user', 'enable', 'dora', '--db', srv.db]);
    // Before: after enable, both cookies worked again. Now they stay dead, on every channel.
    for (const ck of [cookie, second]) {
      assert.equal((await call(srv, 'GET', '/api/me', ck)).status, 401);
      assert.equal((await upgrade(srv, { Cookie: ck })).status, 401);
    }
    // Past the server's next refresh of login sessions too.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await call(srv, 'GET', '/api/me', cookie)).status, 401);
    // A new login works.
    const fresh = await loginAs(srv, 'dora', 'pw-dora');
    assert.equal((await call(srv, 'GET', '/api/me', fresh)).status, 200);
    await honest.check();
  } finally {
    await srv.stop();
  }
});

// The audit entries of one action, details parsed.
function auditOf(db, action) {
  const rows = sql(db, `SELECT details FROM audit WHERE action = '${action}' ORDER BY seq`);
  return rows ? rows.split('\n').map((r) => JSON.parse(r)) : [];
}

test('lockout on demand: wrong passwords from another address cannot lock the owner out', async () => {
  // Default limits, but a shorter longest wait for the owner (8 s by default).
  const srv = await startServer({ asan: true, args: ['--login-max-delay-secs', '2'] });
  try {
    const honest = await honestPair(srv);
    const attempt = (password, localAddress) => request(srv, {
      method: 'POST', path: '/api/login', localAddress, headers: { 'Content-Type': 'application/json' },
      body: { username: 'hana', password } });
    // The attack of the issue: ten wrong passwords for hana from 127.0.0.2, and more.
    const seen = [];
    for (let i = 0; i < 20; i++) seen.push((await attempt(`guess-${i}`, '127.0.0.2')).status);
    assert.deepEqual(seen, [...Array(10).fill(401), ...Array(10).fill(429)]);
    const refused = await attempt(honest.password, '127.0.0.2');
    assert.equal(refused.status, 429, 'the attacker\'s address has lost hana, even with her password');
    assert.equal(refused.json.error.code, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) > 800);
    // Before: hana was locked out for 15 minutes. Now she logs in from her own address
    // (slowed, never refused), and so does everyone else.
    const own = await attempt(honest.password, '127.0.0.1');
    assert.equal(own.status, 200, own.text);
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  // One summary per key and window, not one entry per attempt (flushed at shutdown).
  const throttled = auditOf(srv.db, 'login.throttled');
  const pair = throttled.filter((d) => d.key === 'pair');
  const user = throttled.filter((d) => d.key === 'user');
  assert.equal(pair.length, 1, JSON.stringify(throttled));
  assert.deepEqual({ username: pair[0].username, addr: pair[0].addr, refused: pair[0].refused, failed: pair[0].failed },
                   { username: 'hana', addr: '127.0.0.2', refused: 11, failed: 10 });
  assert.equal(user.length, 1);
  assert.equal(user[0].username, 'hana');
  assert.ok(user[0].slowed >= 1);
  assert.equal(auditOf(srv.db, 'login.failed').length, 10);
});

test('a flood of distinct usernames: bounded memory, refused without a password check, summarised', async () => {
  // Plain build: resident memory is what is measured (ASan keeps freed memory). Five
  // failures per address instead of 50: each is a real password check (scrypt).
  const srv = await startServer({ args: ['--login-max-addr', '5'] });
  let warm, after;
  try {
    const honest = await honestPair(srv);
    // Warm up (the first 5 failures are real password checks, then the address is
    // refused), then the measured flood: 200,000 more usernames, none seen before.
    let st = await loginFlood(srv, { count: 2000, prefix: 'warm', localAddress: '127.0.0.3' });
    assert.deepEqual(st, { 401: 5, 429: 1995 });
    warm = rssKiB(srv.proc.pid);
    st = await loginFlood(srv, { count: 200000, prefix: 'flood', localAddress: '127.0.0.3' });
    assert.deepEqual(st, { 429: 200000 });
    after = rssKiB(srv.proc.pid);
    console.log(`login flood: 202,000 distinct usernames from one address; server RSS ${warm} KiB after 2,000, ` +
                `${after} KiB after 202,000 (${after - warm} KiB for the last 200,000)`);
    // Before: every username took ~210 bytes for 15 minutes (200,000: some 40 MiB).
    assert.ok(after - warm < 1024, `grew ${after - warm} KiB`);
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  const throttled = auditOf(srv.db, 'login.throttled');
  assert.equal(throttled.length, 1, JSON.stringify(throttled));
  assert.deepEqual({ key: throttled[0].key, addr: throttled[0].addr, failed: throttled[0].failed, refused: throttled[0].refused },
                   { key: 'address', addr: '127.0.0.3', failed: 5, refused: 201995 });
  assert.equal(auditOf(srv.db, 'login.failed').length, 5);
});

test('pipelined requests with a body close the connection instead of running again', async () => {
  const net = require('node:net');
  const srv = await startServer({ asan: true });
  try {
    const honest = await honestPair(srv);
    addUser(srv.db, 'pia', 'counsellor', 'pw-pia');
    const cookie = await loginAs(srv, 'pia', 'pw-pia');
    const body = JSON.stringify({ title: 'Pipelined' });
    const one = `POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n` +
                `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const cpuBefore = Number(fs.readFileSync(`/proc/${srv.proc.pid}/stat`, 'utf8').split(' ')[13]);
    const closed = await new Promise((resolve) => {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' }, () => s.write(one.repeat(5)));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('error', () => {});
      s.on('close', () => resolve(got));
    });
    assert.ok(!/HTTP\/1\.1 201[^]*HTTP\/1\.1 201/.test(closed), 'at most the first is answered');
    // Before: lws reported the body complete again on every pass over the waiting
    // input, and each report ran the request: one POST made several sessions while the
    // service thread spun. Now at most the first runs.
    await new Promise((r) => setTimeout(r, 500));
    const list = await call(srv, 'GET', '/api/sessions', cookie);
    assert.ok(list.json.sessions.length <= 1, `${list.json.sessions.length} sessions`);
    const cpuAfter = Number(fs.readFileSync(`/proc/${srv.proc.pid}/stat`, 'utf8').split(' ')[13]);
    console.log(`pipelined POSTs: ${list.json.sessions.length} session(s) made, server user CPU ${cpuAfter - cpuBefore} ticks`);
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

// Opens n WebSockets with a cookie from localAddress; resolves with the statuses (101 or
// the refusal's) and the open sockets.
async function openMany(srv, n, cookie, localAddress) {
  const open = [];
  const statuses = {};
  for (let i = 0; i < n; i++) {
    const r = await upgrade(srv, { Cookie: cookie }, { localAddress });
    statuses[r.status] = (statuses[r.status] || 0) + 1;
    if (r.status === 101) open.push(r.ws);
    else if (r.json) statuses[r.json.error.code] = (statuses[r.json.error.code] || 0) + 1;
  }
  return { statuses, open };
}

test('one client with a link cannot take every WebSocket slot: per principal and per address', async () => {
  const srv = await startServer({ asan: true,
                                  args: ['--max-conns-principal', '32', '--max-conns-addr', '50'] });
  const sockets = [];
  try {
    const honest = await honestPair(srv);
    const lead = await loginAs(srv, 'hana', honest.password);
    const link = await call(srv, 'POST', `/api/sessions/${honest.session}/links`, lead, { expires_in_s: 600 });
    assert.equal(link.status, 201);
    // The attack of the issue: a client joins by the link and opens sockets in a loop.
    const first = await joinCookie(srv, link.json.token, '127.0.0.5');
    let r = await openMany(srv, 40, first, '127.0.0.5');
    sockets.push(...r.open);
    assert.deepEqual(r.statuses, { 101: 32, 429: 8, too_many_connections: 8 });
    // Joining again makes another principal, but the address has its own bound.
    const second = await joinCookie(srv, link.json.token, '127.0.0.5');
    r = await openMany(srv, 40, second, '127.0.0.5');
    sockets.push(...r.open);
    assert.deepEqual(r.statuses, { 101: 18, 429: 22, too_many_connections: 22 });
    // Before: 10,000 sockets in 3 s, and a counsellor of another session could not
    // connect. Now everyone else connects and edits.
    await honest.check();
    // A closed socket gives its place back.
    sockets.pop().terminate();
    await new Promise((res) => setTimeout(res, 300));
    r = await openMany(srv, 1, second, '127.0.0.5');
    sockets.push(...r.open);
    assert.deepEqual(r.statuses, { 101: 1 });
  } finally {
    for (const s of sockets) s.terminate();
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a link client\'s WebSocket flood, measured: 2,100 upgrades from three joins at one address', async () => {
  // Plain build and default limits (32 per principal, 500 per address): the server's
  // resident memory is what is measured.
  const srv = await startServer();
  const sockets = [];
  try {
    const honest = await honestPair(srv);
    const lead = await loginAs(srv, 'hana', honest.password);
    const link = await call(srv, 'POST', `/api/sessions/${honest.session}/links`, lead, { expires_in_s: 600 });
    assert.equal(link.status, 201);
    const rssBefore = rssKiB(srv.proc.pid);
    const statuses = {};
    for (let k = 0; k < 3; k++) {
      const cookie = await joinCookie(srv, link.json.token, '127.0.0.9');
      const r = await openMany(srv, 700, cookie, '127.0.0.9');
      sockets.push(...r.open);
      for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] || 0) + n;
    }
    const rssFlood = rssKiB(srv.proc.pid);
    console.log(`websocket flood: 2,100 upgrades by three clients of one link from 127.0.0.9: ` +
                `${JSON.stringify(statuses)}; server RSS ${rssBefore} -> ${rssFlood} KiB`);
    assert.deepEqual(statuses, { 101: 96, 429: 2004, too_many_connections: 2004 });
    // The documented bound (limits.md, "Memory bounds"): per WebSocket --max-outq and
    // --max-message; these hold nothing queued, so far less.
    assert.ok(rssFlood - rssBefore < 96 * (8 * 1024 + 1024), `grew ${rssFlood - rssBefore} KiB`);
    await honest.check();
  } finally {
    for (const s of sockets) s.terminate();
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

function rawSocket(srv, localAddress) {
  const net = require('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress });
    const info = { socket: s, data: '', closedBy: null };
    info.closed = new Promise((done) => s.on('close', () => {
      info.closedBy = info.closedBy || 'server';
      done();
    }));
    s.on('data', (d) => (info.data += d));
    s.on('error', () => {});
    s.on('connect', () => resolve(info));
    s.on('close', () => resolve(info));
  });
}

test('a flood of unauthenticated sockets and slowloris requests: capped per address, closed at the deadline', async () => {
  const { rssKiB, fdCount } = require('./lib/adversary');
  // Plain build (its memory is measured); a short deadline so the test does not wait.
  const srv = await startServer({ args: ['--handshake-secs', '3', '--max-pending-addr', '64'] });
  const held = [];
  try {
    const honest = await honestPair(srv);
    const rssBefore = rssKiB(srv.proc.pid);
    const fdsBefore = fdCount(srv.proc.pid);
    // 2,000 sockets from one address that never send a request, and 200 more that send
    // a request's headers one byte at a time (slowloris).
    for (let i = 0; i < 2000; i++) held.push(await rawSocket(srv, '127.0.0.6'));
    const slow = [];
    for (let i = 0; i < 200; i++) slow.push(await rawSocket(srv, '127.0.0.7'));
    const text = 'GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(100);
    let stop = false;
    const trickle = (async () => {
      for (let k = 0; !stop && k < text.length; k++) {
        for (const s of slow) if (!s.socket.destroyed) s.socket.write(text[k]);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const rssFlood = rssKiB(srv.proc.pid);
    const fdsFlood = fdCount(srv.proc.pid);
    const refusedAtAccept = held.filter((s) => s.closedBy && s.data.startsWith('HTTP/1.1 503')).length;
    const refusedSlow = slow.filter((s) => s.closedBy).length;
    console.log(`socket flood: 2,000 idle sockets from 127.0.0.6 and 200 slowloris from 127.0.0.7; ` +
                `server RSS ${rssBefore} -> ${rssFlood} KiB, descriptors ${fdsBefore} -> ${fdsFlood}; ` +
                `${refusedAtAccept} and ${refusedSlow} refused at accept`);
    // Everyone beyond 64 per address was refused at once, with a 503 to read.
    assert.ok(refusedAtAccept >= 2000 - 64, `${refusedAtAccept} refused with 503`);
    assert.ok(refusedSlow >= 200 - 64);
    assert.ok(fdsFlood - fdsBefore <= 2 * 64 + 8, `${fdsFlood - fdsBefore} more descriptors`);
    // The documented bound (limits.md, "Memory bounds"): each pending connection holds at most
    // its headers (4 KiB) and --max-body (64 KiB); 64 of them per address here.
    assert.ok(rssFlood - rssBefore < 2 * 64 * (4 + 64), `grew ${rssFlood - rssBefore} KiB`);
    // Meanwhile the honest pair logs in, connects and edits.
    await honest.check();
    // The deadline closes what was held, trickling or not (lws alone let a trickle live).
    await Promise.all(held.map((s) => s.closed));
    await Promise.all(slow.map((s) => s.closed));
    stop = true;
    await trickle;
    assert.ok(held.every((s) => s.closedBy === 'server'));
    // And the address may come back.
    const again = await rawSocket(srv, '127.0.0.6');
    again.socket.write('GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.match(again.data, /^HTTP\/1.1 401/);
    again.socket.destroy();
    await honest.check();
  } finally {
    for (const s of held) s.socket.destroy();
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a request body sent one byte at a time is closed at the deadline', async () => {
  const srv = await startServer({ asan: true, args: ['--handshake-secs', '2'] });
  try {
    const honest = await honestPair(srv);
    const s = await rawSocket(srv, '127.0.0.8');
    s.socket.write('POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    let sent = 0;
    while (!s.closedBy && sent < 200) {
      s.socket.write('x');
      sent++;
      await new Promise((r) => setTimeout(r, 100));
    }
    await s.closed;
    assert.equal(s.closedBy, 'server');
    assert.ok(sent < 200, `the server let ${sent} bytes trickle in`);
    await honest.check();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('at a low descriptor limit the limits fit inside it, and a socket flood leaves room for others', async () => {
  const { binary } = require('./lib/server');
  const { fdCount } = require('./lib/adversary');
  const dir = tempDir();
  // A hard limit of 400 descriptors, a soft one of 100: the defaults (10000 WebSockets
  // + 2 x 1024 pending + 64) do not fit.
  const wrapper = path.join(dir, 'konsil-400');
  fs.writeFileSync(wrapper, `#!/bin/bash\nulimit -Sn 100 && ulimit -Hn 400 && exec "${binary()}" "$@"\n`, { mode: 0o755 });
  const srv = await startServer({ dir, bin: wrapper, args: ['--handshake-secs', '3'] });
  const held = [];
  try {
    assert.match(srv.output(), /400 open files allowed: --max-conns 10000 -> 168, --max-pending 1024 -> 84/);
    const limits = fs.readFileSync(`/proc/${srv.proc.pid}/limits`, 'utf8');
    assert.match(limits, /Max open files\s+400\s+400/, 'the soft limit was raised to the hard one');
    const honest = await honestPair(srv);
    // Before: sockets were accepted until the descriptors ran out, and then normal
    // requests failed. Now one address gets its 64 and the rest is refused at once.
    for (let i = 0; i < 1000; i++) held.push(await rawSocket(srv, '127.0.0.9'));
    assert.ok(fdCount(srv.proc.pid) < 400 - 64);
    await honest.check();
  } finally {
    for (const s of held) s.socket.destroy();
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

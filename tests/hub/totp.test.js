'use strict';
// The second factor against a real server with the default --totp-required
// (admin,supervisor) and a master key: a supervisor cannot log in before setting one up;
// the setup hands out an otpauth URI whose secret the test's own RFC 6238 code (node's
// HMAC-SHA-1) turns into codes; the first code turns it on and hands out ten recovery
// codes once; a replayed code, an earlier one and a wrong one are refused, a code of the
// next step is taken (the window); a recovery code works once; counsellors may set one up
// and then need it; an admin resets one (audited); the secret is sealed at rest and
// another master key cannot open it; without a master key nothing can be set up; wrong
// codes count against the login throttle; a master key file others may read stops the
// start.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startServer, sql, tempDir, binary } = require('./lib/server');
const { addUser, api, cookieOf } = require('./lib/auth');

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// RFC 6238: HMAC-SHA-1 of the 30-second step, dynamically truncated, 6 digits.
function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1000000).padStart(6, '0');
}
const stepNow = () => Math.floor(Date.now() / 1000 / 30);

function masterKey(dir, mode = 0o600) {
  const file = path.join(dir, 'master.key');
  fs.writeFileSync(file, crypto.randomBytes(32).toString('hex') + '\n', { mode });
  fs.chmodSync(file, mode);
  return file;
}

const login = (srv, body) => api(srv, 'POST', '/api/login', { body });

function audit(db, action) {
  return sql(db, `SELECT actor || '|' || COALESCE(details, '') FROM audit WHERE action = '${action}' ORDER BY seq`)
    .split('\n').filter(Boolean);
}

// The setup at login: the secret from the otpauth URI.
async function setUp(srv, username, password) {
  const res = await api(srv, 'POST', '/api/login/totp', { body: { username, password } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const uri = new URL(res.json.uri);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), `/Konsil:${username}`);
  assert.equal(uri.searchParams.get('issuer'), 'Konsil');
  assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
  assert.equal(uri.searchParams.get('secret'), res.json.secret);
  assert.match(res.json.secret, /^[A-Z2-7]{32}$/);
  return res.json.secret;
}

test('a supervisor sets up TOTP at its first login; codes work once, in a window of one step', async () => {
  const dir = tempDir();
  const key = masterKey(dir);
  const srv = await startServer({ dir, asan: true, args: ['--master-key-file', key, '--totp-required', 'admin,supervisor'] });
  try {
    addUser(srv.db, 'sven', 'supervisor', 'sven-password');
    const pw = { username: 'sven', password: 'sven-password' };
    let res = await login(srv, pw);
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'totp_setup_required');
    assert.equal((await api(srv, 'POST', '/api/login/totp', { body: { ...pw, password: 'wrong' } })).status, 401);
    const secret = await setUp(srv, 'sven', 'sven-password');
    // A second setup replaces the pending secret; the first one's codes no longer confirm.
    const secret2 = await setUp(srv, 'sven', 'sven-password');
    assert.notEqual(secret, secret2);
    res = await login(srv, { ...pw, totp: totp(secret, stepNow()) });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'totp_invalid');
    const s0 = stepNow();
    res = await login(srv, { ...pw, totp: totp(secret2, s0) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.role, 'supervisor');
    assert.ok(cookieOf(res));
    const codes = res.json.recovery_codes;
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    assert.equal(new Set(codes).size, 10);
    // Set up once: no second setup, and now a code is needed.
    assert.equal((await api(srv, 'POST', '/api/login/totp', { body: pw })).status, 409);
    res = await login(srv, pw);
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'totp_required');
    // The same code again, and the one before it: refused (used, or older than used).
    const window = [s0 - 1, s0, s0 + 1, s0 + 2].map((x) => totp(secret2, x));
    const wrong = ['000000', '999999', '123456'].find((c) => !window.includes(c));
    for (const code of [totp(secret2, s0), totp(secret2, s0 - 1), wrong]) {
      res = await login(srv, { ...pw, totp: code });
      assert.equal(res.status, 401, `code ${code}`);
      assert.equal(res.json.error.code, 'totp_invalid');
    }
    // The next step's code is within the window, and later than the last one used.
    res = await login(srv, { ...pw, totp: totp(secret2, s0 + 1) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    res = await login(srv, { ...pw, totp: totp(secret2, s0 + 1) });
    assert.equal(res.status, 401, 'replayed');
    // Two steps ahead is outside the window.
    res = await login(srv, { ...pw, totp: totp(secret2, s0 + 3) });
    assert.equal(res.status, 401);
    // A recovery code works once; it also works in lower case and without dashes.
    res = await login(srv, { ...pw, recovery_code: codes[0].toLowerCase().replace(/-/g, '') });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.recovery_codes_left, 9);
    res = await login(srv, { ...pw, recovery_code: codes[0] });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'totp_invalid');
    res = await login(srv, { ...pw, recovery_code: 'AAAA-BBBB-CCCC-DDDD' });
    assert.equal(res.status, 401);
    // The wrong password stays the wrong password, whatever the code.
    res = await login(srv, { ...pw, password: 'wrong', totp: totp(secret2, s0 + 2) });
    assert.equal(res.json.error.code, 'invalid_credentials');

    // At rest: a sealed BLOB, not the secret.
    assert.equal(sql(srv.db, "SELECT typeof(totp_secret) FROM users WHERE username = 'sven'"), 'blob');
    assert.equal(sql(srv.db, `SELECT instr(totp_secret, '${secret2}') FROM users WHERE username = 'sven'`), '0');
    assert.equal(sql(srv.db, "SELECT count(*) FROM recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.username = 'sven'"), '10');
    for (const c of codes) assert.equal(sql(srv.db, `SELECT count(*) FROM recovery_codes WHERE hash LIKE '%${c}%'`), '0');
    // Audited: setups, failures of the second factor, the use of a recovery code.
    assert.equal(audit(srv.db, 'totp.enable').length, 1);
    assert.equal(audit(srv.db, 'totp.recovery_used').length, 1);
    assert.ok(audit(srv.db, 'login.failed').some((e) => /"failed":"second factor"/.test(e)));
    assert.ok(audit(srv.db, 'login.ok').some((e) => /"second_factor":"recovery"/.test(e)));
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  // Another master key opens nothing: the server does not start on this key store.
  const other = path.join(dir, 'other.key');
  fs.writeFileSync(other, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
  await assert.rejects(startServer({ dir, db: srv.db, args: ['--master-key-file', other, '--totp-required', 'admin,supervisor'] }),
                       /the master key does not open this key store/);
});

test('counsellors may set one up and then need it; an admin resets one, audited', async () => {
  const dir = tempDir();
  const key = masterKey(dir);
  const srv = await startServer({ dir, args: ['--master-key-file', key, '--totp-required', 'admin'] });
  try {
    addUser(srv.db, 'ada', 'admin', 'ada-password');
    addUser(srv.db, 'cleo', 'counsellor', 'cleo-password');
    // The admin sets one up first (required for admins here).
    const adaSecret = await setUp(srv, 'ada', 'ada-password');
    let res = await login(srv, { username: 'ada', password: 'ada-password', totp: totp(adaSecret, stepNow()) });
    assert.equal(res.status, 200);
    const admin = cookieOf(res);
    // A counsellor logs in with its password alone, then sets a second factor up.
    res = await login(srv, { username: 'cleo', password: 'cleo-password' });
    assert.equal(res.status, 200);
    const cleo = cookieOf(res);
    res = await api(srv, 'GET', '/api/me/totp', { cookie: cleo });
    assert.deepEqual(res.json, { enabled: false, enabled_at: null, pending: false, recovery_codes_left: 0, required: false, available: true });
    res = await api(srv, 'POST', '/api/me/totp', { cookie: cleo });
    assert.equal(res.status, 200);
    const secret = res.json.secret;
    assert.equal((await api(srv, 'POST', '/api/me/totp/confirm', { cookie: cleo, body: { code: '000000' } })).status, 401);
    const s = stepNow();
    res = await api(srv, 'POST', '/api/me/totp/confirm', { cookie: cleo, body: { code: totp(secret, s) } });
    assert.equal(res.status, 200);
    assert.equal(res.json.recovery_codes.length, 10);
    assert.equal((await api(srv, 'GET', '/api/me/totp', { cookie: cleo })).json.enabled, true);
    res = await login(srv, { username: 'cleo', password: 'cleo-password' });
    assert.equal(res.json.error.code, 'totp_required');
    // New recovery codes need a current code; the old ones stop working.
    res = await api(srv, 'POST', '/api/me/recovery-codes', { cookie: cleo, body: { code: totp(secret, s + 1) } });
    assert.equal(res.status, 200);
    assert.equal(res.json.recovery_codes.length, 10);
    // Only admins reset, and the store says so too.
    const cleoId = sql(srv.db, "SELECT id FROM users WHERE username = 'cleo'");
    assert.equal((await api(srv, 'POST', `/api/users/${cleoId}/totp/reset`, { cookie: cleo })).status, 403);
    res = await api(srv, 'POST', `/api/users/${cleoId}/totp/reset`, { cookie: admin });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.totp.enabled, false);
    res = await login(srv, { username: 'cleo', password: 'cleo-password' });
    assert.equal(res.status, 200, 'a counsellor needs none once reset');
    const adaId = sql(srv.db, "SELECT id FROM users WHERE username = 'ada'");
    assert.deepEqual(audit(srv.db, 'totp.reset'), [`${adaId}|{"user":"${cleoId}","username":"cleo"}`]);
    // A counsellor may turn its own off; an admin, whose role requires one, may not.
    res = await api(srv, 'POST', '/api/me/totp/disable', { cookie: admin, body: { code: totp(adaSecret, stepNow() + 1) } });
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'totp_required_for_role');
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('without a master key nothing can be set up, and required roles are told so', async () => {
  const srv = await startServer({ args: ['--totp-required', 'admin,supervisor'] });
  try {
    addUser(srv.db, 'sven', 'supervisor', 'sven-password');
    const res = await api(srv, 'POST', '/api/login/totp', { body: { username: 'sven', password: 'sven-password' } });
    assert.equal(res.status, 503);
    assert.equal(res.json.error.code, 'totp_unavailable');
    assert.match(srv.output(), /without --master-key-file no second factor can be set up/);
  } finally {
    await srv.stop();
  }
});

test('wrong codes count against the login throttle', async () => {
  const dir = tempDir();
  const srv = await startServer({ dir, args: ['--master-key-file', masterKey(dir), '--totp-required', 'supervisor', '--login-max-pair', '3'] });
  try {
    addUser(srv.db, 'sven', 'supervisor', 'sven-password');
    const secret = await setUp(srv, 'sven', 'sven-password');
    const pw = { username: 'sven', password: 'sven-password' };
    let res = await login(srv, { ...pw, totp: totp(secret, stepNow()) });
    assert.equal(res.status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await login(srv, { ...pw, totp: '00000' + i })).status, 401);
    res = await login(srv, { ...pw, totp: totp(secret, stepNow() + 1) });
    assert.equal(res.status, 429, 'refused for this name from this address');
  } finally {
    await srv.stop();
  }
});

test('a master key file others may read, or that is no key, stops the start', () => {
  const dir = tempDir();
  for (const [file, expect] of [[masterKey(dir, 0o644), /chmod 600/], [path.join(dir, 'none.key'), /No such file/]]) {
    const r = spawnSync(binary(), ['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'k.db'), '--master-key-file', file], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, expect);
  }
  const bad = path.join(dir, 'bad.key');
  fs.writeFileSync(bad, 'not hex', { mode: 0o600 });
  const r = spawnSync(binary(), ['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'k.db'), '--master-key-file', bad], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /64 hex digits/);
  assert.equal(spawnSync(binary(), ['serve', '--totp-required', 'client'], { encoding: 'utf8' }).status, 2);
});

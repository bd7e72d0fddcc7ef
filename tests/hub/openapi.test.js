'use strict';
// protocol/openapi.yaml against the real server: the document is valid OpenAPI 3.1
// (@seriousme/openapi-schema-validator), and a walk through every operation it
// describes — accounts, second factor, cases, sessions, links and lobby, history,
// retention, erasure, the client's copy, the operators' endpoints — checks every answer
// (successes and the refusals met on the way) against the operation's responses with
// Ajv (JSON Schema 2020-12). Every operation must have been answered with a success, and
// every request the walk makes must be one the document describes.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, tempDir } = require('./lib/server');
const { addUser, cookieOf } = require('./lib/auth');
const k = require('./lib/cases');
const oa = require('./lib/openapi');

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// RFC 6238 (HMAC-SHA-1, 30 s, 6 digits).
function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1000000).padStart(6, '0');
}

// Codes of one secret, each for a step later than the one before and within the
// server's window (the current step ± 1), so none is a replay.
function codes(secret) {
  let last = -Infinity;
  return () => {
    const step = Math.max(last + 1, Math.floor(Date.now() / 30000) - 1);
    last = step;
    return totp(secret, step);
  };
}

test('protocol/openapi.yaml is valid OpenAPI 3.1', async () => {
  const doc = oa.load();
  assert.equal(doc.openapi.slice(0, 4), '3.1.');
  const res = await oa.validateDocument(doc);
  assert.ok(res.valid, JSON.stringify(res.errors, null, 1));
  const ids = oa.operations(doc).map((o) => o.id);
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  assert.ok(ids.every(Boolean), 'every operation has an id');
});

test('every operation answers as protocol/openapi.yaml describes it', async () => {
  const doc = oa.load();
  const checker = new oa.Checker(doc);
  const problems = [];
  const dir = tempDir();
  const master = k.masterKey(dir);
  const web = path.join(dir, 'web');
  fs.mkdirSync(web);
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>Konsil</title>\n');
  const srv = await startServer({ dir, asan: true, args: ['--master-key-file', master, '--web', web, '--totp-required', 'supervisor'] });

  // Every request of the walk goes through here and is checked.
  async function call(method, url, { cookie, body, bad } = {}) {
    // A request the walk sends on purpose outside the document (bad) is not checked.
    if (!bad) problems.push(...checker.checkRequest(method, url, body));
    const headers = {};
    if (cookie) headers.Cookie = cookie;
    if (method !== 'GET') headers['Content-Type'] = 'application/json';
    const res = await fetch(srv.httpUrl + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const type = res.headers.get('content-type') || '';
    let parsed = text;
    if (type.startsWith('application/json') && text !== '') parsed = JSON.parse(text);
    problems.push(...checker.check(method, url, res.status, type, parsed));
    return { status: res.status, json: typeof parsed === 'object' ? parsed : null, text, headers: res.headers };
  }
  async function ok(method, url, opts, status = 200) {
    const res = await call(method, url, opts);
    assert.equal(res.status, status, `${method} ${url}: ${res.text.slice(0, 300)}`);
    return res;
  }
  async function logIn(username, password, extra = {}) {
    const res = await ok('POST', '/api/login', { body: { username, password, ...extra } });
    return { cookie: cookieOf(res), json: res.json };
  }

  try {
    addUser(srv.db, 'lead', 'counsellor', 'pw-lead', 'debt');
    addUser(srv.db, 'other', 'counsellor', 'pw-other', 'housing');
    addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
    addUser(srv.db, 'admin', 'admin', 'pw-admin');
    addUser(srv.db, 'tina', 'supervisor', 'pw-tina');
    const c = {};
    const ids = {};
    for (const name of ['lead', 'other', 'sup', 'admin']) {
      if (name === 'sup') {
        // Supervisors need a second factor here: set up at the first login.
        await call('POST', '/api/login', { body: { username: 'sup', password: 'pw-sup' } });
        const s = (await ok('POST', '/api/login/totp', { body: { username: 'sup', password: 'pw-sup' } })).json;
        c.sup = (await logIn('sup', 'pw-sup', { totp: codes(s.secret)() })).cookie;
      } else c[name] = (await logIn(name, `pw-${name}`)).cookie;
      ids[name] = (await ok('GET', '/api/me', { cookie: c[name] })).json.id;
    }
    // Refusals are described too.
    await call('GET', '/api/me');
    await call('POST', '/api/login', { body: { username: 'lead', password: 'wrong' } });
    await call('GET', '/api/users', { cookie: c.lead });
    await call('GET', '/api/cases/AAAAAAAAAAAAAAAAAAAAAA', { cookie: c.lead });

    // Operators.
    await ok('GET', '/healthz');
    await ok('GET', '/readyz');
    await ok('GET', '/metrics');

    // Templates, cases, team.
    const templates = await ok('GET', '/api/templates', { cookie: c.lead });
    assert.ok(templates.json.templates.length > 0);
    const kase = (await ok('POST', '/api/cases', { cookie: c.lead, body: { title: 'Familie B.' } }, 201)).json;
    await call('POST', '/api/cases', { cookie: c.lead, body: { title: '' }, bad: true });
    await ok('GET', '/api/cases', { cookie: c.lead });
    await ok('GET', `/api/cases/${kase.id}`, { cookie: c.lead });
    await ok('POST', `/api/cases/${kase.id}/team`, { cookie: c.lead, body: { username: 'other' } }, 201);
    await ok('POST', `/api/cases/${kase.id}/team`, { cookie: c.lead, body: { username: 'sup' } }, 201);
    await call('POST', `/api/cases/${kase.id}/team`, { cookie: c.lead, body: { username: 'sup' } });
    await call('POST', `/api/cases/${kase.id}/team`, { cookie: c.lead, body: { username: 'tina', role: 'counsellor' } });
    await ok('POST', `/api/cases/${kase.id}/team`, { cookie: c.lead, body: { username: 'tina', role: 'supervisor' } }, 201);

    // A session, its links, the lobby and clients.
    const session = (await ok('POST', `/api/cases/${kase.id}/sessions`, { cookie: c.lead }, 201)).json;
    await ok('GET', `/api/sessions/${session.id}`, { cookie: c.lead });
    const lobbyLink = (await ok('POST', `/api/sessions/${session.id}/links`, { cookie: c.lead, body: { expires_in_s: 600, lobby: true, max_uses: 5 } }, 201)).json;
    const waiting = await ok('POST', '/api/join', { body: { token: lobbyLink.token, display_name: 'Frau K.' } }, 202);
    const client = cookieOf(waiting);
    await ok('GET', '/api/join/status', { cookie: client });
    await call('GET', '/api/me/copy', { cookie: client });
    const lobby = (await ok('GET', `/api/sessions/${session.id}/lobby`, { cookie: c.lead })).json;
    const clientId = lobby.waiting[0].id;
    await ok('POST', `/api/sessions/${session.id}/lobby/${clientId}/admit`, { cookie: c.lead }, 204);
    const declined = cookieOf(await ok('POST', '/api/join', { body: { token: lobbyLink.token } }, 202));
    const declinedId = (await ok('GET', '/api/me', { cookie: declined })).json.id;
    await ok('POST', `/api/sessions/${session.id}/lobby/${declinedId}/decline`, { cookie: c.lead }, 204);
    await ok('GET', '/api/me', { cookie: client });
    await ok('GET', `/api/sessions/${session.id}`, { cookie: client });
    await ok('GET', '/api/sessions', { cookie: client });
    const link = (await ok('POST', `/api/sessions/${session.id}/links`, { cookie: c.lead, body: { expires_in_s: 600 } }, 201)).json;
    const second = cookieOf(await ok('POST', '/api/join', { body: { token: link.token, display_name: 'Herr L.' } }));
    const secondId = (await ok('GET', '/api/me', { cookie: second })).json.id;
    await ok('DELETE', `/api/sessions/${session.id}/clients/${secondId}`, { cookie: c.lead }, 204);
    await ok('DELETE', `/api/sessions/${session.id}/links/${link.id}`, { cookie: c.lead }, 204);
    const langLink = (await ok('POST', `/api/sessions/${session.id}/links`, { cookie: c.lead, body: { expires_in_s: 600, max_uses: 1, lang: 'de-x-ls' } }, 201)).json;
    await call('POST', `/api/sessions/${session.id}/links`, { cookie: c.lead, body: { expires_in_s: 600, lang: '-x' }, bad: true });
    const third = cookieOf(await ok('POST', '/api/join', { body: { token: langLink.token, display_name: 'Frau M.' } }));
    await ok('GET', `/api/sessions/${session.id}/links`, { cookie: c.lead });
    await call('GET', `/api/sessions/${session.id}/links`, { cookie: c.sup });
    await call('DELETE', `/api/sessions/${session.id}/links/${langLink.id}?end_clients=yes`, { cookie: c.lead });
    await ok('DELETE', `/api/sessions/${session.id}/links/${langLink.id}?end_clients=true`, { cookie: c.lead }, 204);
    await call('GET', '/api/me', { cookie: third });
    await call('POST', '/api/join', { body: { token: link.token } });
    await ok('GET', '/j/' + lobbyLink.token);

    // Text in the case, then its history and snapshots, plain and identified.
    const ack = await k.submit(srv, c.lead, kase.id, [{ p: ['concern', 'own_words', 0], si: 'Miete seit März offen' }]);
    assert.equal(ack.error, undefined, JSON.stringify(ack));
    await ok('GET', `/api/cases/${kase.id}/history`, { cookie: c.lead });
    await ok('GET', `/api/cases/${kase.id}/history?from=1&to=2`, { cookie: c.lead });
    await call('GET', `/api/cases/${kase.id}/history?from=x`, { cookie: c.lead });
    await ok('GET', `/api/cases/${kase.id}/snapshot?v=1`, { cookie: c.lead });
    await ok('GET', `/api/sessions/${session.id}/history`, { cookie: c.lead });
    await ok('GET', `/api/sessions/${session.id}/snapshot`, { cookie: c.lead });
    await ok('POST', `/api/cases/${kase.id}/grants`, { cookie: c.lead, body: { username: 'sup', expires_in_s: 600 } }, 201);
    await ok('POST', `/api/sessions/${session.id}/grants`, { cookie: c.lead, body: { username: 'sup', expires_in_s: 600 } }, 201);
    await ok('GET', `/api/cases/${kase.id}/history?identified=1`, { cookie: c.sup });
    await ok('GET', `/api/sessions/${session.id}/history`, { cookie: client });

    // The client's copy, the client's view, tasks.
    await ok('GET', '/api/me/copy', { cookie: client });
    await ok('GET', `/api/cases/${kase.id}/clients/${clientId}/copy`, { cookie: c.lead });
    await ok('GET', `/api/cases/${kase.id}/client-view`, { cookie: c.lead });
    const task = await k.submit(srv, c.lead, kase.id, [{ p: ['help_plan', 'tasks', 0], li: { what: 'Antrag stellen', owner: ids.lead, due: '2020-01-31', done: false } }]);
    assert.equal(task.error, undefined, JSON.stringify(task));
    const tasks = (await ok('GET', '/api/me/tasks', { cookie: c.lead })).json.tasks;
    assert.equal(tasks.length, 1);

    // Retention: class, keep, holds, restriction; the session ends, the lead changes,
    // a member leaves, the case closes.
    const record = (await ok('GET', `/api/cases/${kase.id}`, { cookie: c.lead })).json;
    await ok('POST', `/api/cases/${kase.id}/retention`, { cookie: c.lead, body: { class: record.retention.classes[0].name } });
    await ok('POST', `/api/cases/${kase.id}/keep`, { cookie: c.lead });
    const hold = (await ok('POST', `/api/cases/${kase.id}/holds`, { cookie: c.lead, body: { reason: 'Klage anhängig' } }, 201)).json;
    await ok('POST', `/api/cases/${kase.id}/holds/${hold.id}/lift`, { cookie: c.admin, body: { reason: 'Verfahren beendet' } });
    await ok('POST', `/api/cases/${kase.id}/restrict`, { cookie: c.lead, body: { reason: 'Art. 18' } });
    await call('POST', `/api/cases/${kase.id}/restrict`, { cookie: c.lead, body: { reason: 'Art. 18' } });
    await ok('POST', `/api/cases/${kase.id}/unrestrict`, { cookie: c.lead, body: { reason: 'geklärt' } });
    const s2 = (await ok('POST', `/api/cases/${kase.id}/sessions`, { cookie: c.lead }, 201)).json;
    await ok('POST', `/api/sessions/${s2.id}/end`, { cookie: c.lead });
    await ok('POST', `/api/cases/${kase.id}/lead`, { cookie: c.lead, body: { user_id: ids.other } });
    await ok('DELETE', `/api/cases/${kase.id}/team/${ids.sup}`, { cookie: c.other }, 204);
    await ok('POST', `/api/cases/${kase.id}/close`, { cookie: c.other });

    // The legacy session calls.
    const legacy = (await ok('POST', '/api/sessions', { cookie: c.lead, body: { title: 'Herr M.' } }, 201)).json;
    await ok('GET', '/api/sessions', { cookie: c.lead });
    await ok('POST', `/api/sessions/${legacy.id}/participants`, { cookie: c.lead, body: { username: 'other' } }, 201);
    await ok('POST', `/api/sessions/${legacy.id}/close`, { cookie: c.lead });

    // Erasure: asked, withdrawn, asked again and confirmed by a second person.
    const doomed = (await ok('POST', '/api/cases', { cookie: c.lead, body: { title: 'Zu löschen' } }, 201)).json;
    const asked = (await ok('POST', `/api/cases/${doomed.id}/erasure`, { cookie: c.lead, body: { reason: 'Art. 17' } }, 201)).json;
    await ok('POST', `/api/cases/${doomed.id}/erasure/${asked.id}/cancel`, { cookie: c.lead }, 204);
    const again = (await ok('POST', `/api/cases/${doomed.id}/erasure`, { cookie: c.lead, body: { reason: 'Art. 17' } }, 201)).json;
    await call('POST', `/api/cases/${doomed.id}/erasure/${again.id}/confirm`, { cookie: c.lead });
    await ok('POST', `/api/cases/${doomed.id}/erasure/${again.id}/confirm`, { cookie: c.admin });
    // The officer's view with a hold, a restriction and a request standing in it.
    const kept = (await ok('POST', '/api/cases', { cookie: c.lead, body: { title: 'Gehalten' } }, 201)).json;
    await ok('POST', `/api/cases/${kept.id}/holds`, { cookie: c.admin, body: { reason: 'Prüfung', until: Date.now() + 86400000 } }, 201);
    await ok('POST', `/api/cases/${kept.id}/restrict`, { cookie: c.lead, body: { reason: 'Art. 18' } });
    const pending = (await ok('POST', '/api/cases', { cookie: c.lead, body: { title: 'Offen' } }, 201)).json;
    await ok('POST', `/api/cases/${pending.id}/erasure`, { cookie: c.lead, body: { reason: 'Art. 17' } }, 201);
    await ok('GET', `/api/cases/${pending.id}`, { cookie: c.lead });
    await ok('GET', `/api/cases/${kept.id}`, { cookie: c.admin });
    const officer = (await ok('GET', '/api/admin/retention', { cookie: c.admin })).json;
    assert.deepEqual([officer.holds.length, officer.restrictions.length, officer.requests.length, officer.erasures.length], [1, 1, 1, 1]);

    // Accounts kept by an admin.
    await ok('GET', '/api/users', { cookie: c.admin });
    const made = (await ok('POST', '/api/users', { cookie: c.admin, body: { username: 'dana', name: 'Dana Berg', role: 'counsellor', specialty: 'housing' } }, 201)).json;
    await ok('POST', '/api/password/info', { body: { token: made.link.token } });
    await call('POST', '/api/password', { body: { token: made.link.token, password: 'x' } });
    await ok('POST', '/api/password', { body: { token: made.link.token, password: 'a long enough password' } }, 204);
    await call('POST', '/api/password/info', { body: { token: made.link.token } });
    await ok('POST', `/api/users/${made.user.id}/password-link`, { cookie: c.admin }, 201);
    await ok('POST', `/api/users/${made.user.id}/disable`, { cookie: c.admin });
    await ok('POST', `/api/users/${made.user.id}/enable`, { cookie: c.admin });
    await call('POST', `/api/users/${ids.admin}/disable`, { cookie: c.admin });

    // The second factor: set up at login, a recovery code, reset by an admin.
    const setup = (await ok('POST', '/api/login/totp', { body: { username: 'tina', password: 'pw-tina' } })).json;
    const tinaCode = codes(setup.secret);
    const on = await logIn('tina', 'pw-tina', { totp: tinaCode() });
    assert.equal(on.json.recovery_codes.length, 10);
    await call('POST', '/api/login', { body: { username: 'tina', password: 'pw-tina' } });
    await logIn('tina', 'pw-tina', { recovery_code: on.json.recovery_codes[0] });
    await call('POST', '/api/login', { body: { username: 'tina', password: 'pw-tina', recovery_code: on.json.recovery_codes[0] } });
    const tinaId = (await ok('GET', '/api/me', { cookie: on.cookie })).json.id;
    await ok('POST', `/api/users/${tinaId}/totp/reset`, { cookie: c.admin });
    // …and set up, renewed and turned off by the account itself.
    await ok('GET', '/api/me/totp', { cookie: c.other });
    const mine = (await ok('POST', '/api/me/totp', { cookie: c.other })).json;
    const myCode = codes(mine.secret);
    await call('POST', '/api/me/totp/confirm', { cookie: c.other, body: { code: '000000' } });
    await ok('POST', '/api/me/totp/confirm', { cookie: c.other, body: { code: myCode() } });
    await ok('POST', '/api/me/recovery-codes', { cookie: c.other, body: { code: myCode() } });
    await ok('POST', '/api/me/totp/disable', { cookie: c.other, body: { code: myCode() } }, 204);

    await ok('POST', '/api/logout', { cookie: c.lead }, 204);
    await call('GET', '/api/me', { cookie: c.lead });
  } finally {
    await srv.stop();
  }

  assert.deepEqual(problems, []);
  const unanswered = oa.operations(doc)
    .filter((o) => ![...(checker.seen.get(o.id) || [])].some((s) => s >= 200 && s < 300))
    .map((o) => `${o.method} ${o.path}`);
  assert.deepEqual(unanswered, [], 'every operation was answered with a success');
});

test('the check refuses answers the document does not describe', () => {
  const checker = new oa.Checker(oa.load());
  const json = 'application/json';
  assert.deepEqual(checker.check('GET', '/api/me', 200, json, { id: 'a', name: 'A', role: 'counsellor' }), []);
  assert.equal(checker.check('GET', '/api/me', 200, json, { id: 'a', name: 'A', role: 'janitor' }).length, 1);
  assert.equal(checker.check('GET', '/api/me', 200, json, { id: 'a', role: 'client' }).length, 1);
  assert.equal(checker.check('GET', '/api/me', 401, json, { message: 'no' }).length, 1);
  assert.equal(checker.check('GET', '/api/me', 302, json, {}).length, 1, 'a status not described');
  assert.equal(checker.check('PUT', '/api/me', 200, json, {}).length, 1, 'no such operation');
  assert.equal(checker.check('POST', '/api/logout', 204, json, '{}').length, 1, 'a body where none is');
  assert.equal(checker.check('GET', '/metrics', 200, json, {}).length, 1, 'another content type');
  assert.equal(oa.find(oa.load(), 'POST', '/api/sessions/x/lobby/y/admit').id, 'admitClient');
});

'use strict';
// The upgrade to cases, in place, on a database the previous release's binary wrote
// (tests/fixtures/schema4.db, its facts in schema4.json; see make-schema4-db.js): every
// session becomes a case with the same id and that one session, ids keep resolving on
// REST and /ws, no op is lost, the closed session's case is closed, the open session's
// admitted client still reaches the sheet while its session runs, logins, links and
// grants still work and the audit chain still verifies with its old entries unchanged.
// The cases stay on their old template (protocol/access.md, "Cases on templates from
// before consents and stamps"): their supervisors read free text masked, and a consent
// record of the old shape counts for nothing.
//
// Time has passed since the fixture was written: its login sessions, link and grant
// have expired. Before the upgrade the test gives two client login sessions, the open
// session's link and the grant a known token or a later expiry (as if the upgrade ran
// the day the fixture was written); everything else is the old release's own data.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const { startServer, sql, tempDir, binary } = require('./lib/server');
const c = require('./lib/clients');
const { api, login, cookieOf } = require('./lib/auth');

const fixtures = path.join(__dirname, '..', 'fixtures');
const facts = JSON.parse(fs.readFileSync(path.join(fixtures, 'schema4.json'), 'utf8'));
const ids = Object.keys(facts.sessions);
const closedId = ids.find((id) => facts.sessions[id].closed);
const busyId = ids.find((id) => id !== closedId && id !== facts.empty);
const FAR = Date.now() + 30 * 24 * 3600 * 1000;

let srv, db, lead, sup;
const before = {};
const tokens = {};

function token() {
  const t = crypto.randomBytes(32).toString('base64url');
  return { text: t, hash: crypto.createHash('sha256').update(t).digest('hex') };
}

function upgradeStatus(cookie) {
  return new Promise((resolve) => {
    const ws = new WebSocket(srv.url, { headers: { Cookie: cookie } });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => resolve('error'));
  });
}

async function fetchDoc(cookie, id) {
  const client = c.stockClient(srv.url, { cookie });
  const doc = client.connection.get('cases', id);
  await c.fetch(doc);
  client.close();
  return { v: doc.version, data: doc.data };
}

test.before(async () => {
  const dir = tempDir();
  db = path.join(dir, 'konsil.db');
  fs.copyFileSync(path.join(fixtures, 'schema4.db'), db);
  assert.equal(sql(db, 'PRAGMA user_version'), '4');
  before.audit = sql(db, 'SELECT seq || \' \' || hash FROM audit ORDER BY seq');
  before.ops = sql(db, 'SELECT doc || \' \' || v || \' \' || ts || \' \' || author || \' \' || quote(op) FROM ops ORDER BY doc, v');
  for (const name of ['Jon', 'Mira']) {
    tokens[name] = token();
    sql(db, `INSERT INTO logins (token_hash, principal, kind, session, created_at, last_used, expires_at)
             SELECT '${tokens[name].hash}', id, 'client', session, created_at, ${Date.now()}, ${FAR} FROM clients WHERE display_name = '${name}'`);
  }
  tokens.link = token();
  sql(db, `UPDATE links SET token_hash = '${tokens.link.hash}', expires_at = ${FAR} WHERE session = '${busyId}'`);
  sql(db, `UPDATE grants SET expires_at = ${FAR}`);
  srv = await startServer({ asan: true, dir, db });
  lead = await login(srv, 'lead', 'pw-lead');
  sup = await login(srv, 'sup', 'pw-sup');
});

test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

test('every session became a case with the same id and that one session', async () => {
  assert.equal(sql(db, 'PRAGMA user_version'), '9', 'migrated to the schema this konsil writes');
  assert.equal(sql(db, "SELECT count(*) FROM sqlite_master WHERE name = 'ops_create'"), '1',
    'migration 9: the index of create ops');
  assert.equal(sql(db, 'SELECT count(*) FROM cases'), String(ids.length));
  for (const id of ids) {
    const f = facts.sessions[id];
    const session = await api(srv, 'GET', `/api/sessions/${id}`, { cookie: lead });
    assert.equal(session.status, 200, JSON.stringify(session.json));
    assert.equal(session.json.case_id, id, 'the case has the session\'s id');
    assert.equal(session.json.title, f.title);
    assert.equal(session.json.status, f.closed ? 'closed' : 'open');
    assert.equal(session.json.from, 0);
    assert.equal(session.json.to, f.closed ? f.version : null);
    const kase = await api(srv, 'GET', `/api/cases/${id}`, { cookie: lead });
    assert.equal(kase.status, 200);
    assert.equal(kase.json.status, f.closed ? 'closed' : 'open');
    assert.deepEqual(kase.json.sessions.map((s) => s.id), [id]);
    assert.equal(kase.json.template.name, 'default');
    assert.equal(kase.json.template.version, 1, 'the template the session was made with');
    const team = kase.json.team.map((m) => `${m.name}:${m.team_role}`).sort();
    assert.deepEqual(team, id === facts.empty ? ['lead:lead'] : ['lead:lead', 'other:counsellor', 'sup:supervisor']);
  }
  const cases = await api(srv, 'GET', '/api/cases', { cookie: lead });
  assert.deepEqual(cases.json.cases.map((x) => x.id).sort(), [...ids].sort());
  // The shipped templates are offered besides the one the old sessions used.
  const list = execFileSync(binary(), ['template', 'list', '--db', db], { encoding: 'utf8' });
  assert.match(list, /default\s+1\s+migration/);
  assert.match(list, /hilfeplangespraech\s+1\s+konsil/);
});

test('no op lost: the same versions and documents on /ws and in the op log', async () => {
  const after = sql(db, 'SELECT doc || \' \' || v || \' \' || ts || \' \' || author || \' \' || quote(op) FROM ops ORDER BY doc, v');
  assert.equal(after.split('\n').length, facts.ops);
  assert.ok(after.startsWith(before.ops), 'every old op as it was');
  for (const id of ids) {
    const doc = await fetchDoc(lead, id);
    assert.equal(doc.v, facts.sessions[id].version, id);
    assert.deepEqual(doc.data, facts.sessions[id].data, id);
  }
  const history = await api(srv, 'GET', `/api/sessions/${closedId}/history`, { cookie: lead });
  assert.equal(history.status, 200);
  assert.deepEqual(history.json.session, { id: closedId, from: 0, to: facts.sessions[closedId].version });
  assert.equal(history.json.ops.length, facts.sessions[closedId].version);
  assert.ok(history.json.ops.every((o) => o.session === closedId));
  assert.ok(history.json.events.some((e) => e.kind === 'session.close'), 'the old close event is still there');
});

test('the closed session\'s case is read-only; its client reaches nothing', async () => {
  const r = new c.RawClient(srv.url, { ws: { headers: { Cookie: lead } } });
  await r.handshake();
  r.send({ a: 'op', c: 'cases', d: closedId, seq: 1, op: [{ p: ['internal', 'x'], oi: 1 }] });
  const reply = await r.next((m) => m.a === 'op');
  assert.equal(reply.error.code, 'ERR_OP_SUBMIT_REJECTED');
  await r.close();
  const mira = `konsil_session=${tokens.Mira.text}`;
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: mira })).json.status, 'ended');
  assert.equal(await upgradeStatus(mira), 401);
});

test('the open session\'s admitted client still reaches and edits the sheet while it runs', async () => {
  const jon = `konsil_session=${tokens.Jon.text}`;
  const me = await api(srv, 'GET', '/api/me', { cookie: jon });
  assert.equal(me.status, 200);
  assert.deepEqual([me.json.role, me.json.session_id, me.json.case_id, me.json.status], ['client', busyId, busyId, 'admitted']);
  const client = c.stockClient(srv.url, { cookie: jon });
  const doc = client.connection.get('cases', busyId);
  await c.subscribe(doc);
  assert.equal(doc.version, facts.sessions[busyId].version);
  assert.equal(doc.data.internal, undefined, 'still projected for a client');
  await c.submit(doc, [{ p: ['concern', 'own_words', 0], si: 'Nach dem Update. ' }]);
  client.close();
  // The session's link of the old release (max_uses 2, used once) takes one more client.
  let join = await api(srv, 'POST', '/api/join', { body: { token: tokens.link.text, display_name: 'Nachzügler' } });
  assert.equal(join.status, 200, JSON.stringify(join.json));
  assert.match((await fetchDoc(cookieOf(join), busyId)).data.concern.own_words, /^Nach dem Update\. /);
  join = await api(srv, 'POST', '/api/join', { body: { token: tokens.link.text } });
  assert.equal(join.json.error.code, 'link_used_up');
  // Its session ends like any other: then the client reaches nothing, and a follow-up
  // session of the migrated case starts where the sheet stands.
  let res = await api(srv, 'POST', `/api/cases/${busyId}/sessions`, { cookie: lead });
  assert.equal(res.status, 409, 'the migrated session still runs');
  res = await api(srv, 'POST', `/api/sessions/${busyId}/end`, { cookie: lead });
  assert.equal(res.status, 200);
  assert.equal(await upgradeStatus(jon), 401);
  res = await api(srv, 'POST', `/api/cases/${busyId}/sessions`, { cookie: lead });
  assert.equal(res.status, 201);
  assert.equal(res.json.from, facts.sessions[busyId].version + 1);
  assert.notEqual(res.json.id, busyId, 'a new session has an id of its own');
});

test('logins and grants of the old release still work', async () => {
  for (const u of ['other', 'admin']) await login(srv, u, 'pw-' + u);
  // The grant: sup reads the closed case identified.
  const pseudo = await api(srv, 'GET', `/api/sessions/${closedId}/snapshot`, { cookie: sup });
  assert.equal(pseudo.json.data.person.display_name, 'Klient:in A');
  const identified = await api(srv, 'GET', `/api/cases/${closedId}/snapshot?identified=1`, { cookie: sup });
  assert.equal(identified.status, 200);
  assert.equal(identified.json.data.person.display_name, 'Mira');
  assert.deepEqual(JSON.parse(sql(db, 'SELECT details FROM audit ORDER BY seq DESC LIMIT 1')), { identified: true, v: 5 });
  const fresh = await api(srv, 'GET', `/api/cases/${facts.empty}`, { cookie: lead });
  assert.equal(fresh.json.running_session, facts.empty);
  const link = await api(srv, 'POST', `/api/sessions/${facts.empty}/links`, { cookie: lead, body: { expires_in_s: 60 } });
  const join = await api(srv, 'POST', '/api/join', { body: { token: link.json.token } });
  assert.equal(join.status, 200, 'a migrated running session takes new clients');
  assert.equal((await fetchDoc(cookieOf(join), facts.empty)).v, 1);
});

test('a case on its template from before consents: free text masked for its supervisor, an old-shape consent record counts for nothing', async () => {
  const kase = await api(srv, 'GET', `/api/cases/${closedId}`, { cookie: lead });
  assert.equal(kase.json.template.consents ?? null, null, 'the old template keeps no consent list');
  const closed = await api(srv, 'GET', `/api/sessions/${closedId}/snapshot`, { cookie: sup });
  const own = facts.sessions[closedId].data.concern.own_words;
  assert.equal(closed.json.data.concern.own_words, '•'.repeat(own.length));
  assert.equal(closed.json.data.person.display_name, 'Klient:in A');
  // The lead writes a record of the old shape; the old template takes it as written, and
  // the supervisor still reads every free-text string masked.
  const client = c.stockClient(srv.url, { cookie: lead });
  const doc = client.connection.get('cases', busyId);
  await c.subscribe(doc);
  await c.submit(doc, [{ p: ['consents', 0], li: { type: 'supervision', scope: 'alle Inhalte', given: true } }]);
  assert.deepEqual(doc.data.consents[0], { type: 'supervision', scope: 'alle Inhalte', given: true }, 'nothing stamped');
  client.close();
  const seen = (await fetchDoc(sup, busyId)).data;
  assert.match(seen.concern.own_words, /^•+$/);
  assert.match(seen.situation.summary, /^•+$/);
  assert.ok(!JSON.stringify(seen).includes('Nach dem Update'));
});

test('the audit chain verifies, its old entries unchanged', async () => {
  const entries = sql(db, 'SELECT seq || \' \' || hash FROM audit ORDER BY seq');
  assert.ok(entries.startsWith(before.audit), 'the old entries as they were');
  assert.ok(entries.split('\n').length > facts.audit);
  const out = execFileSync(binary(), ['audit', 'verify', '--db', db], { encoding: 'utf8' });
  assert.match(out, /^intact/);
});

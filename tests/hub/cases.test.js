'use strict';
// Cases that outlive a session, against a real `konsil serve` with accounts: a case
// with three sessions whose sheet carries over, the team editing between sessions, a
// client of session 2 who loses the sheet when it ends (REST and /ws, its open socket
// included), a removed specialist whose open page loses the case at once, a lead
// transfer, per-session history and replay, closing the case, task owners checked by
// the server and the tasks a counsellor owns across cases, templates that keep their
// version, a supervisor invited as such.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const { startServer, sql, binary } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login, cookieOf } = require('./lib/auth');

let srv;
const cookies = {};
const ids = {};
let caseId;
const sessions = [];
const clientCookies = [];

function raw(cookie) {
  return new c.RawClient(srv.url, { ws: { headers: { Cookie: cookie } } });
}

function upgradeStatus(cookie) {
  return new Promise((resolve) => {
    const ws = new WebSocket(srv.url, { headers: { Cookie: cookie } });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', () => resolve('error'));
  });
}

// A raw connection subscribed to the case: {r, data, v}.
async function subscribed(cookie, doc = caseId) {
  const r = raw(cookie);
  await r.handshake();
  r.send({ a: 's', c: 'cases', d: doc });
  const s = await r.next((m) => m.a === 's');
  assert.equal(s.error, undefined, JSON.stringify(s));
  return { r, data: s.data.data, v: s.data.v };
}

// Submits one op over a fresh connection as cookie; resolves with the ack or refusal.
async function submit(cookie, op, doc = caseId) {
  const { r, v } = await subscribed(cookie, doc);
  r.send({ a: 'op', c: 'cases', d: doc, v, seq: 1, op });
  const reply = await r.next((m) => m.a === 'op' && m.seq === 1);
  await r.close();
  return reply;
}

async function sheet(cookie, doc = caseId) {
  const { r, data } = await subscribed(cookie, doc);
  await r.close();
  return data;
}

async function startSession() {
  const res = await api(srv, 'POST', `/api/cases/${caseId}/sessions`, { cookie: cookies.lead });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.case_id, caseId);
  assert.equal(res.json.status, 'open');
  sessions.push(res.json);
  return res.json;
}

async function joinClient(session, name) {
  const link = await api(srv, 'POST', `/api/sessions/${session.id}/links`, { cookie: cookies.lead, body: { expires_in_s: 600 } });
  assert.equal(link.status, 201, JSON.stringify(link.json));
  const join = await api(srv, 'POST', '/api/join', { body: { token: link.json.token, display_name: name } });
  assert.equal(join.status, 200, JSON.stringify(join.json));
  const cookie = cookieOf(join);
  const me = await api(srv, 'GET', '/api/me', { cookie });
  assert.equal(me.json.session_id, session.id);
  assert.equal(me.json.case_id, caseId, 'the client learns which document is its case');
  return cookie;
}

test.before(async () => {
  srv = await startServer({ asan: true, args: ['--milestone-every', '10'] });
  const people = [['lead', 'counsellor', 'debt'], ['housing', 'counsellor', 'housing'], ['lotse', 'counsellor', 'social_law'],
    ['sup', 'supervisor'], ['outsider', 'counsellor', 'family']];
  for (const [name, role, specialty] of people) {
    ids[name] = addUser(srv.db, name, role, 'pw-' + name, specialty);
    cookies[name] = await login(srv, name, 'pw-' + name);
  }
  const res = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Familie B.' } });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  caseId = res.json.id;
  assert.equal(res.json.status, 'open');
  assert.deepEqual(res.json.sessions, [], 'no session yet');
  assert.equal(res.json.lead, ids.lead);
  assert.deepEqual(res.json.template, { name: 'default', version: res.json.template.version });
  for (const u of ['housing', 'lotse', 'sup']) {
    const added = await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie: cookies.lead, body: { username: u } });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    assert.equal(added.json.id, ids[u]);
    assert.equal(added.json.team_role, u === 'sup' ? 'supervisor' : 'counsellor');
  }
});

test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

test('POST /api/cases and its refusals; the creator leads; GET lists my cases', async () => {
  let res = await api(srv, 'POST', '/api/cases', { cookie: cookies.sup, body: { title: 'x' } });
  assert.equal(res.status, 403);
  res = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: '' } });
  assert.equal(res.status, 400);
  res = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'x', template: 'nope' } });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, 'unknown_template');
  res = await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie: cookies.lead, body: { username: 'housing' } });
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, 'already_member');
  res = await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie: cookies.housing, body: { username: 'outsider' } });
  assert.equal(res.status, 403, 'only the lead adds to the team');
  res = await api(srv, 'GET', '/api/cases', { cookie: cookies.housing });
  assert.ok(res.json.cases.some((x) => x.id === caseId && x.my_role === 'counsellor'));
  res = await api(srv, 'GET', '/api/cases', { cookie: cookies.outsider });
  assert.ok(!res.json.cases.some((x) => x.id === caseId));
  res = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.outsider });
  assert.equal(res.status, 404);
  res = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.housing });
  assert.equal(res.status, 200);
  assert.ok(Array.isArray(res.json.rules) && res.json.rules.length > 10, 'the template rules come with the case');
  assert.equal(res.json.template.title, 'Integrierte Sozialberatung');
  const data = await sheet(cookies.lead);
  assert.equal(data.meta.case_id, caseId);
  assert.equal(data.meta.title, 'Familie B.');
});

test('three sessions: the sheet carries over, the team edits between them', async () => {
  // Session 1: a client writes its concern, the lead the debt section.
  const s1 = await startSession();
  const again = await api(srv, 'POST', `/api/cases/${caseId}/sessions`, { cookie: cookies.lead });
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, 'session_running');
  const supStart = await api(srv, 'POST', `/api/cases/${caseId}/sessions`, { cookie: cookies.sup });
  assert.equal(supStart.status, 403);
  clientCookies[0] = await joinClient(s1, 'Frau B.');
  let reply = await submit(clientCookies[0], [{ p: ['concern', 'own_words', 0], si: 'Mietschulden seit März.' }]);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  reply = await submit(cookies.lead, [{ p: ['sections', 'debt', 'client_summary', 0], si: 'Wir sprechen mit dem Vermieter.' }]);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  let res = await api(srv, 'POST', `/api/sessions/${s1.id}/end`, { cookie: cookies.lead });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(res.json.status, 'closed');
  assert.equal(typeof res.json.to, 'number');
  res = await api(srv, 'POST', `/api/sessions/${s1.id}/end`, { cookie: cookies.lead });
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, 'session_ended');

  // Between sessions: the housing specialist and the lead go on; the client cannot.
  reply = await submit(cookies.housing, [{ p: ['sections', 'housing', 'client_summary', 0], si: 'Wohngeld beantragen.' }]);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  reply = await submit(cookies.lead, [{ p: ['situation', 'assessment', 0], si: 'Belastet, aber stabil.' }]);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  assert.equal(await upgradeStatus(clientCookies[0]), 401, 'the client of session 1 reaches nothing');

  // Session 2 and 3: new clients (new links) see what was carried over.
  for (let k = 2; k <= 3; k++) {
    const s = await startSession();
    assert.ok(s.from > s1.to, 'a session starts where the sheet stands');
    clientCookies[k - 1] = await joinClient(s, `Frau B. (${k})`);
    const data = await sheet(clientCookies[k - 1]);
    assert.match(data.concern.own_words, /^Mietschulden seit März\./);
    assert.equal(data.sections.debt.client_summary, 'Wir sprechen mit dem Vermieter.');
    assert.equal(data.sections.housing.client_summary, 'Wohngeld beantragen.');
    assert.equal(data.situation.assessment, undefined, 'the assessment stays the team\'s');
    reply = await submit(clientCookies[k - 1], [{ p: ['concern', 'own_words', data.concern.own_words.length], si: ` Termin ${k}.` }]);
    assert.equal(reply.error, undefined, JSON.stringify(reply));
    if (k === 2) break;     // session 2 is ended by the next test, with its client's socket open
  }
});

test('a client of session 2 loses the sheet when it ends: its open socket, REST and /ws', async () => {
  const s2 = sessions[1];
  const cookie = clientCookies[1];
  const open = await subscribed(cookie);
  const stock = c.stockClient(srv.url, { cookie });
  const doc = stock.connection.get('cases', caseId);
  await c.subscribe(doc);
  assert.equal((await api(srv, 'GET', `/api/sessions/${s2.id}`, { cookie })).status, 200);

  const res = await api(srv, 'POST', `/api/sessions/${s2.id}/end`, { cookie: cookies.housing });
  assert.equal(res.status, 200, 'any counsellor of the team ends a session');
  const closed = await open.r.closed;
  assert.equal(closed.code, 4001);
  assert.match(closed.reason, /ended/);
  await new Promise((resolve) => (stock.ws.readyState === WebSocket.CLOSED ? resolve() : stock.ws.once('close', resolve)));
  stock.close();

  assert.equal(await upgradeStatus(cookie), 401, 'no new socket');
  const me = await api(srv, 'GET', '/api/me', { cookie });
  assert.equal(me.status, 200);
  assert.equal(me.json.status, 'ended');
  for (const p of [`/api/sessions/${s2.id}`, `/api/sessions/${s2.id}/history`, `/api/sessions/${s2.id}/snapshot`]) {
    const r = await api(srv, 'GET', p, { cookie });
    assert.equal(r.status, 403, p);
    assert.equal(r.json.error.code, 'session_ended');
  }
  // Its link admits nobody any more.
  const link = await api(srv, 'POST', `/api/sessions/${s2.id}/links`, { cookie: cookies.lead, body: { expires_in_s: 600 } });
  assert.equal(link.status, 409);
  assert.equal(link.json.error.code, 'session_closed');

  // Session 3: a new client sees everything session 2's client wrote.
  const s3 = await startSession();
  clientCookies[2] = await joinClient(s3, 'Frau B. (3)');
  const data = await sheet(clientCookies[2]);
  assert.match(data.concern.own_words, /Termin 2\.$/);
  const reply = await submit(clientCookies[2], [{ p: ['concern', 'own_words', data.concern.own_words.length], si: ' Termin 3.' }]);
  assert.equal(reply.error, undefined);
  assert.equal((await api(srv, 'POST', `/api/sessions/${s3.id}/end`, { cookie: cookies.lead })).status, 200);
  const view = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.lead });
  assert.equal(view.json.sessions.length, 3);
  assert.equal(view.json.running_session, null);
  for (let i = 1; i < 3; i++) assert.ok(view.json.sessions[i].from >= view.json.sessions[i - 1].to, 'sessions do not overlap');
});

test('per-session history and replay; the case history marks edits between sessions', async () => {
  const [s1, s2] = sessions;
  let res = await api(srv, 'GET', `/api/sessions/${s1.id}/history`, { cookie: cookies.lead });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const page = res.json;
  assert.deepEqual(page.session, { id: s1.id, from: sessions[0].from, to: page.session.to });
  assert.equal(page.snapshot.v, s1.from);
  assert.ok(page.ops.length > 0);
  for (const op of page.ops) {
    assert.ok(op.v >= page.session.from && op.v < page.session.to, 'only that session\'s versions');
    assert.equal(op.session, s1.id);
  }
  // Replaying the session's ops on its first snapshot gives the sheet as it ended.
  let data = page.snapshot.data;
  for (const op of page.ops) data = c.json0.apply(structuredClone(data), op.op);
  const end = await api(srv, 'GET', `/api/sessions/${s1.id}/snapshot`, { cookie: cookies.lead });
  assert.equal(end.json.v, page.session.to, 'a session\'s snapshot defaults to its last version');
  assert.deepEqual(data, end.json.data);
  assert.ok(page.events.some((e) => e.kind === 'join' && e.session === s1.id));
  assert.ok(page.events.some((e) => e.kind === 'session.end'));
  assert.ok(!page.events.some((e) => e.session && e.session !== s1.id), 'no other session\'s events');
  res = await api(srv, 'GET', `/api/sessions/${s1.id}/history?from=${page.session.to + 1}`, { cookie: cookies.lead });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, 'version_out_of_range');
  res = await api(srv, 'GET', `/api/sessions/${s2.id}/snapshot?v=0`, { cookie: cookies.lead });
  assert.equal(res.status, 400);

  // The whole case: every op says its session, or null between sessions.
  res = await api(srv, 'GET', `/api/cases/${caseId}/history?from=0`, { cookie: cookies.housing });
  assert.equal(res.status, 200);
  const between = res.json.ops.filter((op) => op.session === null);
  assert.ok(between.some((op) => op.author.id === ids.housing), 'the specialist\'s edit between sessions');
  assert.equal(res.json.ops[0].session, null, 'the case was created before its first session');
  assert.equal(res.json.sessions.length, 3);
  for (const op of res.json.ops.filter((o) => o.session)) {
    const s = res.json.sessions.find((x) => x.id === op.session);
    assert.ok(op.v >= s.from && op.v < s.to);
  }
  // Clients never read the case's history, supervisors read it pseudonymised.
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/history`, { cookie: clientCookies[2] })).status, 403);
  res = await api(srv, 'GET', `/api/cases/${caseId}/history?from=0`, { cookie: cookies.sup });
  assert.equal(res.status, 200);
  assert.ok(!JSON.stringify(res.json).includes('Frau B.'), 'pseudonymised for supervisors');
});

test('a removed specialist loses the case at once; its other cases go on', async () => {
  const other = await api(srv, 'POST', '/api/cases', { cookie: cookies.housing, body: { title: 'Anderer Fall' } });
  assert.equal(other.status, 201);
  const page = await subscribed(cookies.housing);
  const elsewhere = await subscribed(cookies.housing, other.json.id);
  let res = await api(srv, 'DELETE', `/api/cases/${caseId}/team/${ids.housing}`, { cookie: cookies.lotse });
  assert.equal(res.status, 403, 'only the lead removes');
  res = await api(srv, 'DELETE', `/api/cases/${caseId}/team/${ids.lead}`, { cookie: cookies.lead });
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, 'lead_cannot_leave');
  res = await api(srv, 'DELETE', `/api/cases/${caseId}/team/${ids.housing}`, { cookie: cookies.lead });
  assert.equal(res.status, 204);
  const closed = await page.r.closed;
  assert.equal(closed.code, 4001);
  elsewhere.r.send({ a: 'pp' });
  assert.deepEqual(await elsewhere.r.next((m) => m.a === 'pp'), { a: 'pp' }, 'the other case stays open');
  await elsewhere.r.close();
  const again = raw(cookies.housing);
  await again.handshake();
  again.send({ a: 's', c: 'cases', d: caseId });
  assert.equal((await again.next((m) => m.a === 's')).error.code, 'ERR_FORBIDDEN');
  await again.close();
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.housing })).status, 404);
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/history`, { cookie: cookies.housing })).status, 404);
  res = await api(srv, 'DELETE', `/api/cases/${caseId}/team/${ids.housing}`, { cookie: cookies.lead });
  assert.equal(res.status, 404);
  assert.equal(res.json.error.code, 'not_member');
  const actions = sql(srv.db, `SELECT group_concat(action, ' ') FROM audit WHERE session = '${caseId}'`);
  assert.match(actions, /participant\.remove/);
});

test('a supervisor invited as such: an account of another role is refused and nothing changes', async () => {
  const kase = (await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Rollen' } })).json;
  const wrong = await api(srv, 'POST', `/api/cases/${kase.id}/team`, { cookie: cookies.lead, body: { username: 'housing', role: 'supervisor' } });
  assert.equal(wrong.status, 422);
  assert.equal(wrong.json.error.code, 'role_mismatch');
  assert.match(wrong.json.error.message, /counsellor, not a supervisor/);
  const bad = await api(srv, 'POST', `/api/cases/${kase.id}/team`, { cookie: cookies.lead, body: { username: 'sup', role: 'admin' } });
  assert.equal(bad.status, 400);
  const after = await api(srv, 'GET', `/api/cases/${kase.id}`, { cookie: cookies.lead });
  assert.deepEqual(after.json.team.map((m) => m.name), ['lead'], 'nobody was added');
  const right = await api(srv, 'POST', `/api/cases/${kase.id}/team`, { cookie: cookies.lead, body: { username: 'sup', role: 'supervisor' } });
  assert.equal(right.status, 201);
  assert.equal(right.json.team_role, 'supervisor');
  const counsellor = await api(srv, 'POST', `/api/cases/${kase.id}/team`, { cookie: cookies.lead, body: { username: 'housing', role: 'counsellor' } });
  assert.equal(counsellor.status, 201);
});

test('a lead transfer: audited, the old lead loses the lead\'s rights, open pages reopen', async () => {
  let res = await api(srv, 'POST', `/api/cases/${caseId}/lead`, { cookie: cookies.lotse, body: { user_id: ids.lotse } });
  assert.equal(res.status, 403);
  res = await api(srv, 'POST', `/api/cases/${caseId}/lead`, { cookie: cookies.lead, body: { user_id: ids.sup } });
  assert.equal(res.status, 422);
  assert.equal(res.json.error.code, 'invalid_role');
  res = await api(srv, 'POST', `/api/cases/${caseId}/lead`, { cookie: cookies.lead, body: { user_id: ids.outsider } });
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, 'not_member');
  res = await api(srv, 'POST', `/api/cases/${caseId}/lead`, { cookie: cookies.lead, body: {} });
  assert.equal(res.status, 400);
  const oldPage = await subscribed(cookies.lead);
  const newPage = await subscribed(cookies.lotse);
  assert.deepEqual(newPage.data.sections.debt, {}, 'a social-law counsellor reads nothing of the debt section (its place only)');
  res = await api(srv, 'POST', `/api/cases/${caseId}/lead`, { cookie: cookies.lead, body: { user_id: ids.lotse } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(res.json.lead, ids.lotse);
  assert.equal(res.json.team.find((m) => m.id === ids.lead).team_role, 'counsellor');
  assert.equal((await oldPage.r.closed).code, 4002);
  assert.equal((await newPage.r.closed).code, 4002);
  // Reopened: the new lead reads what the lead reads, writes the meta; the old lead not.
  const reopened = await sheet(cookies.lotse);
  assert.equal(reopened.sections.debt.client_summary, 'Wir sprechen mit dem Vermieter.');
  let reply = await submit(cookies.lead, [{ p: ['meta', 'status'], od: 'erstkontakt', oi: 'aktiv' }]);
  assert.equal(reply.error && reply.error.code, 'ERR_OP_SUBMIT_REJECTED');
  reply = await submit(cookies.lotse, [{ p: ['meta', 'status'], od: 'erstkontakt', oi: 'aktiv' }]);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie: cookies.lead, body: { username: 'outsider' } })).status, 403);
  const entry = JSON.parse(sql(srv.db, `SELECT details FROM audit WHERE action = 'case.lead' AND session = '${caseId}'`));
  assert.deepEqual(entry, { from: ids.lead, to: ids.lotse });
});

test('task owners: a counsellor of the team, "client" or nobody; my tasks across cases', async () => {
  const task = (owner, due) => ({ what: 'Kontoauszüge besorgen', owner, due, done: false });
  let reply = await submit(cookies.lotse, [{ p: ['help_plan', 'tasks', 0], li: task(ids.lead, '2001-01-01') }]);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  reply = await submit(cookies.lotse, [{ p: ['help_plan', 'tasks', 1], li: task('client', '') }]);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  for (const [owner, why] of [[ids.outsider, 'not in the team'], [ids.sup, 'a supervisor'], [ids.housing, 'removed'], [42, 'not an id']]) {
    reply = await submit(cookies.lotse, [{ p: ['help_plan', 'tasks', 2], li: task(owner, '2030-01-01') }]);
    assert.equal(reply.error && reply.error.code, 'ERR_OP_SUBMIT_REJECTED', why);
    assert.match(reply.error.message, /owner/, why);
  }
  reply = await submit(cookies.lotse, [{ p: ['help_plan', 'tasks', 1, 'owner'], od: 'client', oi: ids.outsider }]);
  assert.match(reply.error.message, /not a counsellor of this case's team/);
  reply = await submit(cookies.lotse, [{ p: ['help_plan', 'tasks', 1, 'owner', 0], si: 'x' }]);
  assert.match(reply.error.message, /set whole/);
  reply = await submit(cookies.lotse, [{ p: ['help_plan', 'tasks', 1, 'owner'], od: 'client', oi: ids.lotse }]);
  assert.equal(reply.error, undefined);
  // An appointment in the future is the case's next meeting.
  reply = await submit(cookies.lotse, [{ p: ['appointments', 0], li: { start: '2099-03-01T10:00', mode: 'vor_ort', place: 'Beratungsstelle', status: 'gebucht' } }]);
  assert.equal(reply.error, undefined);

  const mine = await api(srv, 'GET', '/api/me/tasks', { cookie: cookies.lead });
  assert.equal(mine.status, 200);
  assert.equal(mine.json.tasks.length, 1);
  assert.deepEqual(mine.json.tasks[0], { index: 0, what: 'Kontoauszüge besorgen', due: '2001-01-01', done: false, overdue: true, case_id: caseId, case_title: 'Familie B.' });
  assert.equal((await api(srv, 'GET', '/api/me/tasks', { cookie: cookies.lotse })).json.tasks[0].overdue, false);
  assert.deepEqual((await api(srv, 'GET', '/api/me/tasks', { cookie: cookies.sup })).json.tasks, []);
  const list = await api(srv, 'GET', '/api/cases', { cookie: cookies.lotse });
  const entry = list.json.cases.find((x) => x.id === caseId);
  assert.equal(entry.next_meeting.start, '2099-03-01T10:00');
  assert.equal(entry.my_role, 'lead');
});

test('a client removed from its session loses the sheet at once; its cookie stops working', async () => {
  const kase = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Entfernen' } });
  await api(srv, 'POST', `/api/cases/${kase.json.id}/team`, { cookie: cookies.lead, body: { username: 'sup' } });
  const session = await api(srv, 'POST', `/api/cases/${kase.json.id}/sessions`, { cookie: cookies.lead });
  const link = await api(srv, 'POST', `/api/sessions/${session.json.id}/links`, { cookie: cookies.lead, body: { expires_in_s: 600, lobby: true } });
  const join = await api(srv, 'POST', '/api/join', { body: { token: link.json.token, display_name: 'Gast' } });
  const cookie = cookieOf(join);
  const lobby = await api(srv, 'GET', `/api/sessions/${session.json.id}/lobby`, { cookie: cookies.lead });
  const client = lobby.json.waiting[0].id;
  assert.equal((await api(srv, 'POST', `/api/sessions/${session.json.id}/lobby/${client}/admit`, { cookie: cookies.lead })).status, 204);
  const open = await subscribed(cookie, kase.json.id);
  let res = await api(srv, 'DELETE', `/api/sessions/${session.json.id}/clients/${client}`, { cookie: cookies.sup });
  assert.equal(res.status, 403, 'supervisors remove nobody');
  res = await api(srv, 'DELETE', `/api/sessions/${session.json.id}/clients/${client}`, { cookie: cookies.lead });
  assert.equal(res.status, 204);
  assert.equal((await open.r.closed).code, 4001);
  assert.equal((await api(srv, 'GET', '/api/me', { cookie })).status, 401);
  assert.equal(await upgradeStatus(cookie), 401);
  res = await api(srv, 'DELETE', `/api/sessions/${session.json.id}/clients/${client}`, { cookie: cookies.lead });
  assert.equal(res.status, 404);
  assert.equal(res.json.error.code, 'client_not_found');
  // A lobby decision after the session ended admits nobody.
  const late = await api(srv, 'POST', '/api/join', { body: { token: link.json.token, display_name: 'Spät' } });
  const waiting = (await api(srv, 'GET', `/api/sessions/${session.json.id}/lobby`, { cookie: cookies.lead })).json.waiting[0].id;
  assert.equal((await api(srv, 'POST', `/api/sessions/${session.json.id}/end`, { cookie: cookies.lead })).status, 200);
  res = await api(srv, 'POST', `/api/sessions/${session.json.id}/lobby/${waiting}/admit`, { cookie: cookies.lead });
  assert.equal(res.status, 409);
  assert.equal((await api(srv, 'GET', '/api/join/status', { cookie: cookieOf(late) })).json.status, 'ended');
  assert.match(sql(srv.db, `SELECT group_concat(action, ' ') FROM audit WHERE session = '${kase.json.id}'`), /client\.remove/);
});

test('closing the case: read-only for everyone, open pages learn it, nothing starts again', async () => {
  const s4 = await startSession();
  const client = await joinClient(s4, 'Frau B. (4)');
  const clientPage = await subscribed(client);
  const teamPage = await subscribed(cookies.lead);
  let res = await api(srv, 'POST', `/api/cases/${caseId}/close`, { cookie: cookies.lead });
  assert.equal(res.status, 403, 'only the lead closes');
  res = await api(srv, 'POST', `/api/cases/${caseId}/close`, { cookie: cookies.lotse });
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'closed');
  assert.equal(res.json.running_session, null, 'its running session ended');
  assert.equal((await clientPage.r.closed).code, 4001);
  assert.equal((await teamPage.r.closed).code, 4002);
  const reply = await submit(cookies.lotse, [{ p: ['situation', 'summary', 0], si: 'x' }]);
  assert.equal(reply.error.code, 'ERR_OP_SUBMIT_REJECTED');
  assert.match(reply.error.message, /case is closed/);
  assert.equal((await sheet(cookies.lead)).meta.title, 'Familie B.', 'still readable by the team');
  res = await api(srv, 'POST', `/api/cases/${caseId}/sessions`, { cookie: cookies.lotse });
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, 'case_closed');
  res = await api(srv, 'POST', `/api/cases/${caseId}/close`, { cookie: cookies.lotse });
  assert.equal(res.status, 409);
  const verify = execFileSync(binary(), ['audit', 'verify', '--db', srv.db], { encoding: 'utf8' });
  assert.match(verify, /^intact/);
  const actions = sql(srv.db, `SELECT group_concat(DISTINCT action) FROM audit WHERE session = '${caseId}'`);
  for (const a of ['case.create', 'participant.add', 'participant.remove', 'session.create', 'session.end', 'case.lead', 'case.close', 'join', 'history.read']) {
    assert.ok(actions.split(',').includes(a), `${a} in ${actions}`);
  }
});

test('templates: the shipped ones are offered; a case keeps the version it started with', async () => {
  let res = await api(srv, 'GET', '/api/templates', { cookie: cookies.lead });
  const names = res.json.templates.map((t) => t.name);
  for (const n of ['default', 'schuldnerberatung-erstgespraech', 'hilfeplangespraech']) assert.ok(names.includes(n), n);
  res = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'HPG', template: 'hilfeplangespraech' } });
  assert.equal(res.status, 201);
  const before = res.json;
  assert.equal(before.template.version, 1);
  // A new version: its own title and an extra section.
  const file = path.join(srv.dir, 'hpg2.json');
  const text = JSON.parse(fs.readFileSync(path.join(__dirname, '../../protocol/templates/hilfeplangespraech.json'), 'utf8'));
  text.title = 'Hilfeplangespräch (Fassung 2)';
  text.document.extra = '';
  fs.writeFileSync(file, JSON.stringify(text));
  const out = execFileSync(binary(), ['template', 'add', file, '--db', srv.db], { encoding: 'utf8' });
  assert.match(out, /added hilfeplangespraech version 2/);
  fs.writeFileSync(file, '{"name": "broken", "title": "x", "document": {}, "rules": [{"path": ["nope"], "read": [], "write": []}]}');
  assert.throws(() => execFileSync(binary(), ['template', 'add', file, '--db', srv.db], { stdio: 'pipe' }), (e) => e.status === 1 && /not an object key/.test(e.stderr));
  const listed = execFileSync(binary(), ['template', 'list', '--db', srv.db], { encoding: 'utf8' });
  assert.match(listed, /hilfeplangespraech\s+2\s+cli/);
  res = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'HPG 2', template: 'hilfeplangespraech' } });
  assert.equal(res.json.template.version, 2);
  assert.equal((await sheet(cookies.lead, res.json.id)).extra, '');
  const kept = await api(srv, 'GET', `/api/cases/${before.id}`, { cookie: cookies.lead });
  assert.equal(kept.json.template.version, 1);
  assert.equal(kept.json.template.title, 'Hilfeplangespräch – Fortschreibung');
  assert.equal((await sheet(cookies.lead, before.id)).extra, undefined);
});

test('konsil serve --templates: each file a version of its name; an invalid one stops the start, naming it', async () => {
  const dir = fs.mkdtempSync(path.join(srv.dir, 'templates-'));
  const text = JSON.parse(fs.readFileSync(path.join(__dirname, '../../protocol/templates/schuldnerberatung-erstgespraech.json'), 'utf8'));
  text.name = 'hausbesuch';
  text.title = 'Hausbesuch';
  fs.writeFileSync(path.join(dir, 'hausbesuch.json'), JSON.stringify(text));
  const other = await startServer({ args: ['--templates', dir] });
  try {
    addUser(other.db, 'x', 'counsellor', 'pw-x');
    const cookie = await login(other, 'x', 'pw-x');
    const list = await api(other, 'GET', '/api/templates', { cookie });
    assert.deepEqual(list.json.templates.find((t) => t.name === 'hausbesuch'), { name: 'hausbesuch', version: 1, title: 'Hausbesuch', description: text.description });
    const made = await api(other, 'POST', '/api/cases', { cookie, body: { title: 'Besuch', template: 'hausbesuch' } });
    assert.equal(made.status, 201);
    assert.match(sql(other.db, "SELECT added_by FROM templates WHERE name = 'hausbesuch'"), /^serve$/);
  } finally {
    assert.equal((await other.stop()).code, 0);
  }
  fs.writeFileSync(path.join(dir, 'kaputt.json'), '{"name": "kaputt"}');
  await assert.rejects(startServer({ args: ['--templates', dir] }), /kaputt\.json: template: /);
});

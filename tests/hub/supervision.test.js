'use strict';
// Supervision against a real `konsil serve`: a client fills in its identity fields and
// chats; a supervisor's history, snapshots and /ws subscription hold none of the
// client's identity values (each searched for, the display name too), and, without the
// client's supervision consent, none of its free text (masked), while the lead's
// history has them; identified reading needs the lead's grant and ends when it expires;
// non-members get nothing; history pages list the session events (pseudonymised for
// supervisors); `konsil export` writes pseudonymised or full JSON lines and
// Markdown, refuses unknown sessions and is audited.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { startServer, sql, binary } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login, cookieOf } = require('./lib/auth');

const IDENTITY = {
  display_name: 'Mira',
  legal_name: 'Mira Sommerfeld',
  date_of_birth: '1988-04-12',
  address: 'Lindenweg 4, 12345 Berlin',
  phone: '0171 5551234',
  email: 'mira.sommerfeld@example.org',
};
const JOIN_NAME = 'Mira S.';
const SECRETS = [...Object.values(IDENTITY), JOIN_NAME, 'Sommerfeld', 'Lindenweg', '5551234'];

let srv, session, caseId;
const cookies = {};
const clients = {};
const me = {};

function leaks(text) {
  return SECRETS.filter((s) => text.includes(s));
}

async function allHistory(who, query = '') {
  const pages = [];
  let next = 0;
  while (next !== null) {
    const res = await api(srv, 'GET', `/api/sessions/${session}/history?from=${next}${query}`, { cookie: cookies[who] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    pages.push(res.json);
    next = res.json.next;
  }
  return pages;
}

async function snapshot(who, query = '') {
  return api(srv, 'GET', `/api/sessions/${session}/snapshot?${query}`, { cookie: cookies[who] });
}

function exportSession(args) {
  return spawnSync(binary(true), ['export', ...args, '--db', srv.db], { encoding: 'utf8' });
}

test.before(async () => {
  srv = await startServer({ asan: true, args: ['--milestone-every', '5', '--history-page', '4'] });
  addUser(srv.db, 'lead', 'counsellor', 'pw-lead', 'debt');
  addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
  addUser(srv.db, 'sup2', 'supervisor', 'pw-sup2');
  addUser(srv.db, 'outsider', 'supervisor', 'pw-outsider');
  for (const u of ['lead', 'sup', 'sup2', 'outsider']) cookies[u] = await login(srv, u, 'pw-' + u);
  let res = await api(srv, 'POST', '/api/sessions', { cookie: cookies.lead, body: { title: 'Supervision' } });
  session = res.json.id;
  caseId = res.json.case_id;
  for (const u of ['sup', 'sup2']) {
    res = await api(srv, 'POST', `/api/sessions/${session}/participants`, { cookie: cookies.lead, body: { username: u } });
    assert.equal(res.status, 201);
  }
  res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: cookies.lead, body: { expires_in_s: 600 } });
  const join = await api(srv, 'POST', '/api/join', { body: { token: res.json.token, display_name: JOIN_NAME } });
  assert.equal(join.status, 200);
  cookies.client = cookieOf(join);
  for (const u of ['lead', 'client', 'sup']) {
    me[u] = (await api(srv, 'GET', '/api/me', { cookie: cookies[u] })).json;
    clients[u] = c.stockClient(srv.url, { cookie: cookies[u] });
    await c.whenConnected(clients[u].connection);
  }
  // Everything the supervisor's socket receives, raw.
  srv.supWire = [];
  clients.sup.ws.on('message', (data) => srv.supWire.push(data.toString()));
  const docs = {};
  for (const u of ['lead', 'client', 'sup']) {
    docs[u] = clients[u].connection.get('cases', caseId);
    docs[u].preventCompose = true;
    await c.subscribe(docs[u]);
  }
  const d = docs.client;
  // Typed in pieces, as an editor sends them.
  await c.submit(d, [{ p: ['person', 'legal_name', 0], si: 'Mira ' }]);
  await c.submit(d, [{ p: ['person', 'legal_name', 5], si: 'Sommerfeld' }]);
  for (const k of ['display_name', 'date_of_birth', 'address', 'phone', 'email']) {
    await c.submit(d, [{ p: ['person', k, 0], si: IDENTITY[k] }]);
  }
  await c.submit(d, [{ p: ['person', 'age_bracket', 0], si: '30-39' }]);
  await c.submit(d, [{ p: ['concern', 'own_words', 0], si: 'Die Miete ist seit März offen.' }]);
  await c.submit(d, [{ p: ['chat', 0], li: { text: 'Hallo, ich bin Mira Sommerfeld, Lindenweg 4.' } }]);
  await c.whenNothingPending(d);
  await c.submit(docs.lead, [{ p: ['chat', 1], li: { text: 'Willkommen! Was führt Sie her?' } }]);
  await c.submit(docs.lead, [{ p: ['internal', 'notes', 0], li: 'Mietschulden klären' }]);
  for (const u of Object.keys(docs)) await c.whenNothingPending(docs[u]);
  while (docs.sup.version < docs.lead.version) await new Promise((r) => setTimeout(r, 20));
  srv.supLive = structuredClone(docs.sup.data);
  srv.head = docs.lead.version;
});

test.after(async () => {
  for (const u of Object.keys(clients)) clients[u].close();
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

test("the supervisor's history, snapshots and /ws hold none of the client's identity", async () => {
  const pages = await allHistory('sup');
  const text = JSON.stringify(pages);
  assert.deepEqual(leaks(text), []);
  // What stays: the pseudonym, structured fields, the counsellor's name; the concern's
  // text is masked (no supervision consent), its length and edits shown.
  assert.ok(text.includes('Klient:in A') && text.includes('30-39') && !text.includes('Miete ist seit'));
  const ops = pages.flatMap((p) => p.ops);
  assert.equal(ops.length, srv.head, 'versions line up');
  assert.ok(ops.some((e) => e.author.id === me.client.id && e.author.name === 'Klient:in A' && e.author.role === 'client'));
  assert.ok(ops.some((e) => e.author.id === me.lead.id && e.author.name === 'lead'));
  // The replay of the pseudonymised history is the pseudonymised live document.
  let data = null;
  for (const e of ops) data = e.create ? structuredClone(e.create.data) : c.json0.apply(data, e.op);
  assert.deepEqual(data, srv.supLive);
  assert.equal(data.person.legal_name, 'Klient:in A');
  assert.equal(data.person.age_bracket, '30-39');
  assert.equal(data.concern.own_words, '•'.repeat('Die Miete ist seit März offen.'.length));
  assert.match(data.chat[0].text, /^•+$/);
  assert.equal(data.chat[0].from, me.client.id, 'stamped by the server: an id, never a name');
  for (const v of [0, 3, 7, srv.head]) {
    const res = await snapshot('sup', `v=${v}`);
    assert.equal(res.status, 200);
    assert.deepEqual(leaks(JSON.stringify(res.json)), [], `snapshot v${v}`);
  }
  const latest = await snapshot('sup');
  assert.deepEqual(latest.json.data, srv.supLive);
  // /ws: the live subscription and a fetched old version.
  const old = await c.fetchSnapshot(clients.sup.connection, 'cases', caseId, 4);
  assert.deepEqual(leaks(JSON.stringify(old)), []);
  assert.ok(srv.supWire.length > 0);
  const wireLeaks = srv.supWire.filter((m) => leaks(m).length);
  assert.equal(wireLeaks.length, 0, wireLeaks.join("\n"));
  assert.deepEqual(leaks(JSON.stringify(srv.supLive)), []);
});

test("presence: supervisors see the client as its pseudonym, the lead by the name it joined with", async () => {
  const rawClient = (cookie) => new c.RawClient(srv.url, { ws: { headers: { Cookie: cookie } } });
  const [cl, sup, lead] = [rawClient(cookies.client), rawClient(cookies.sup), rawClient(cookies.lead)];
  for (const r of [cl, sup, lead]) await r.handshake();
  for (const r of [sup, lead]) {
    r.send({ a: 'ps', ch: caseId, seq: 1 });
    await r.next((m) => m.a === 'ps');
  }
  cl.send({ a: 'p', ch: caseId, id: 'cursor', p: { path: ['concern', 'own_words'] }, pv: 1 });
  const seenBySup = await sup.next((m) => m.a === 'p' && m.id === 'cursor');
  const seenByLead = await lead.next((m) => m.a === 'p' && m.id === 'cursor');
  assert.equal(seenBySup.u.name, 'Klient:in A');
  assert.equal(seenBySup.u.role, 'client');
  assert.deepEqual(leaks(JSON.stringify(seenBySup)), []);
  assert.equal(seenByLead.u.name, JOIN_NAME);
  await cl.close();
  // Leaving relays p:null, with the pseudonym again.
  const gone = await sup.next((m) => m.a === 'p' && m.id === 'cursor' && m.p === null);
  assert.equal(gone.u.name, 'Klient:in A');
  await sup.close();
  await lead.close();
});

test("the lead's history has the identity values; the client's name is its own", async () => {
  const text = JSON.stringify(await allHistory('lead'));
  for (const s of SECRETS) assert.ok(text.includes(s), s);
  const res = await snapshot('lead');
  assert.equal(res.json.data.person.legal_name, IDENTITY.legal_name);
});

test('identified reading: only with the lead\'s grant, until it expires', async () => {
  // Asking is not enough.
  let res = await snapshot('sup', 'identified=1');
  assert.equal(res.status, 200);
  assert.deepEqual(leaks(JSON.stringify(res.json)), []);
  // Only the lead grants, only to a supervisor taking part.
  res = await api(srv, 'POST', `/api/sessions/${session}/grants`, { cookie: cookies.sup, body: { username: 'sup', expires_in_s: 60 } });
  assert.equal(res.status, 403);
  res = await api(srv, 'POST', `/api/sessions/${session}/grants`, { cookie: cookies.lead, body: { username: 'outsider', expires_in_s: 60 } });
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, 'not_participant');
  res = await api(srv, 'POST', `/api/sessions/${session}/grants`, { cookie: cookies.lead, body: { username: 'sup', expires_in_s: 0 } });
  assert.equal(res.status, 400);
  // A short grant: identified while it lasts, pseudonymised after.
  res = await api(srv, 'POST', `/api/sessions/${session}/grants`, { cookie: cookies.lead, body: { username: 'sup', expires_in_s: 1 } });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.user.name, 'sup');
  const grant = res.json.id;
  res = await snapshot('sup', 'identified=1');
  assert.equal(res.json.data.person.legal_name, IDENTITY.legal_name);
  const hist = await api(srv, 'GET', `/api/sessions/${session}/history?from=0&to=20&identified=1`, { cookie: cookies.sup });
  assert.ok(JSON.stringify(hist.json).includes(JOIN_NAME));
  // Without asking, even a granted supervisor reads pseudonymised.
  res = await snapshot('sup');
  assert.deepEqual(leaks(JSON.stringify(res.json)), []);
  await new Promise((r) => setTimeout(r, 1100));
  res = await snapshot('sup', 'identified=1');
  assert.equal(res.json.data.person.legal_name, 'Klient:in A');
  assert.deepEqual(leaks(JSON.stringify(res.json)), []);
  // Another supervisor's grant is not this one's.
  res = await api(srv, 'POST', `/api/sessions/${session}/grants`, { cookie: cookies.lead, body: { username: 'sup2', expires_in_s: 600 } });
  assert.equal(res.status, 201);
  res = await snapshot('sup', 'identified=1');
  assert.deepEqual(leaks(JSON.stringify(res.json)), []);
  // Audited: the grants, and the identified reads as such.
  assert.match(sql(srv.db, `SELECT details FROM audit WHERE action = 'grant.create' AND actor = '${me.lead.id}'`), new RegExp(grant));
  assert.ok(Number(sql(srv.db, `SELECT count(*) FROM audit WHERE action IN ('snapshot.read', 'history.read') AND actor = '${me.sup.id}' AND details LIKE '%"identified":true%'`)) >= 2);
});

test('a non-member gets nothing', async () => {
  for (const path of [`/api/sessions/${session}/history?from=0`, `/api/sessions/${session}/snapshot?identified=1`]) {
    const res = await api(srv, 'GET', path, { cookie: cookies.outsider });
    assert.equal(res.status, 404);
    assert.deepEqual(leaks(JSON.stringify(res.json)), []);
  }
  const res = await api(srv, 'POST', `/api/sessions/${session}/grants`, { cookie: cookies.outsider, body: { username: 'outsider', expires_in_s: 60 } });
  assert.equal(res.status, 404);
});

test('history pages list the session events: enter, leave, link use, join, close', async () => {
  const pages = await allHistory('sup');
  const events = pages.flatMap((p) => p.events);
  const kinds = events.map((e) => e.kind);
  for (const k of ['session.create', 'participant.add', 'link.use', 'join', 'enter']) assert.ok(kinds.includes(k), k);
  const clientEvents = events.filter((e) => e.actor.id === me.client.id);
  assert.ok(clientEvents.length >= 2 && clientEvents.every((e) => e.actor.name === 'Klient:in A'));
  assert.deepEqual(leaks(JSON.stringify(events)), []);
  // Pages split the events without repeats: a single page holds the same ones.
  const one = await api(srv, 'GET', `/api/sessions/${session}/history?from=0`, { cookie: cookies.lead });
  assert.ok(one.json.events.some((e) => e.actor.name === JOIN_NAME));
  for (const e of events) assert.ok(typeof e.ts === 'number' && e.actor.id !== undefined);
});

test('konsil export: jsonl and md, pseudonymised or not, audited; unknown sessions fail', async () => {
  const count = () => Number(sql(srv.db, "SELECT count(*) FROM audit WHERE action = 'export' AND actor = 'cli'"));
  const before = count();
  for (const format of ['jsonl', 'md']) {
    const res = exportSession([session, '--format', format, '--pseudonymise']);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(leaks(res.stdout), [], `${format} --pseudonymise`);
    assert.ok(res.stdout.includes('Klient:in A') && !res.stdout.includes('Miete ist seit'));
    const full = exportSession([session, '--format', format]);
    assert.equal(full.status, 0, full.stderr);
    for (const s of [IDENTITY.legal_name, IDENTITY.email]) assert.ok(full.stdout.includes(s), `${format}: ${s}`);
  }
  assert.equal(count(), before + 4);
  assert.match(sql(srv.db, "SELECT details FROM audit WHERE action = 'export' ORDER BY seq DESC LIMIT 1"), /"format":"md","pseudonymised":false/);
  // jsonl: one op or event per line, every version once, in time order.
  const lines = exportSession([session, '--pseudonymise']).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const ops = lines.filter((l) => l.type === 'op');
  assert.deepEqual(ops.map((l) => l.v), [...Array(srv.head).keys()]);
  assert.ok(lines.some((l) => l.type === 'event' && l.kind === 'join'));
  for (let i = 1; i < lines.length; i++) assert.ok(lines[i].ts >= lines[i - 1].ts, 'time order');
  assert.ok(ops.every((l) => l.author && typeof l.ts === 'number' && (l.op || l.create)));
  // md: title, participants, the case sheet's sections, a timeline.
  const md = exportSession([session, '--format', 'md', '--pseudonymise']).stdout;
  // (the case's title is free text: masked without the supervision consent)
  for (const part of [`# ${'•'.repeat('Supervision'.length)}`, '## Participants', '**lead** (counsellor, debt) — lead', '**Klient:in A** (client, pseudonym)', '### person', '### concern', '## Timeline', 'event: enter']) {
    assert.ok(md.includes(part), part);
  }
  // Unknown session: a clear error, nothing written, nothing audited.
  const bad = exportSession(['00000000-0000-4000-8000-000000000000']);
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /no case or session 00000000-0000-4000-8000-000000000000/);
  assert.equal(count(), before + 6, "the failed export is not audited");
  assert.equal(exportSession(['--format', 'pdf', session]).status, 2);
  assert.equal(spawnSync(binary(), ['export', '--help'], { encoding: 'utf8' }).status, 0);
});

'use strict';
// What each principal receives, against a real `konsil serve` with the stock sharedb
// client (protocol/access.md, "What each principal receives", "The stamping op"):
//   - stamped fields: a forged one is refused naming the field; an item inserted
//     without them is stamped by the server's op (author konsil), which every page,
//     the submitter's included, receives, and which is durable with the client's op;
//   - consent: the housing counsellor's open page gains the debt section's summary when
//     the client shares it with housing and loses it, without a reload, when the client
//     revokes; its history and snapshots read afterwards hold none of it;
//   - supervision: a supervisor without the client's supervision consent finds none of
//     what the client typed, or its name, anywhere it reads: /ws (ops, snapshots,
//     presence), history pages, snapshots, the lobby, the session and case resources,
//     `konsil export --pseudonymise`; with the consent it reads the text with the
//     client's names replaced;
//   - the resources: the case's title is free text (masked for that supervisor), its
//     people named as each reader's view names them, and "readers" says who reads each
//     part now and under which consent.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { startServer, sql, binary } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login, cookieOf } = require('./lib/auth');

const NAME = 'Oktavia Zebrafink';           // the client's self-chosen name
const TYPED = 'Quittenbaum am Ufer brennt';  // what it types; none of it is a name
const SUMMARY = 'Wir verhandeln mit der Bank.';
const SECRETS = ['Oktavia', 'Zebrafink', 'Quittenbaum', 'Ufer brennt'];

let srv, caseId, session;
const cookies = {};
const ids = {};
const pages = {};   // stock clients: {client, doc}
const wires = {};   // every frame a page received

function leaks(text) {
  return SECRETS.filter((s) => text.includes(s));
}

async function open(who) {
  const client = c.stockClient(srv.url, { cookie: cookies[who] });
  wires[who] = [];
  client.ws.on('message', (data) => wires[who].push(data.toString()));
  await c.whenConnected(client.connection);
  const doc = client.connection.get('cases', caseId);
  doc.preventCompose = true;
  await c.subscribe(doc);
  pages[who] = { client, doc };
  return pages[who];
}

// Until every page holds the server's latest version. The lead's page may not have
// received the server's own op (the stamps committed with a client's op) when the
// submitter's ack comes, so it fetches first: the fetch is answered after both.
async function settle() {
  for (const p of Object.values(pages)) await c.whenNothingPending(p.doc);
  await c.fetch(pages.lead.doc);
  const v = pages.lead.doc.version;
  for (const p of Object.values(pages)) {
    while (p.doc.version < v) await new Promise((r) => setTimeout(r, 10));
  }
}

async function refused(who, op) {
  const raw = new c.RawClient(srv.url, { ws: { headers: { Cookie: cookies[who] } } });
  await raw.handshake();
  raw.send({ a: 's', c: 'cases', d: caseId });
  const s = await raw.next((m) => m.a === 's');
  raw.send({ a: 'op', c: 'cases', d: caseId, v: s.data.v, src: raw.id, seq: 1, op });
  const reply = await raw.next((m) => m.a === 'op' && m.seq === 1 && m.src === raw.id);
  await raw.close();
  return reply.error;
}

async function history(who, from = 0) {
  const out = [];
  let next = from;
  while (next !== null) {
    const res = await api(srv, 'GET', `/api/cases/${caseId}/history?from=${next}`, { cookie: cookies[who] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    out.push(res.json);
    next = res.json.next;
  }
  return out;
}

test.before(async () => {
  srv = await startServer({ asan: true, args: ['--milestone-every', '4', '--history-page', '5'] });
  addUser(srv.db, 'lead', 'counsellor', 'pw-lead', 'debt');
  addUser(srv.db, 'housing', 'counsellor', 'pw-housing', 'housing');
  addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
  for (const u of ['lead', 'housing', 'sup']) cookies[u] = await login(srv, u, 'pw-' + u);
  let res = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Fall Zebrafink' } });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  caseId = res.json.id;
  for (const u of ['housing', 'sup']) {
    res = await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie: cookies.lead, body: { username: u } });
    assert.equal(res.status, 201, JSON.stringify(res.json));
  }
  res = await api(srv, 'POST', `/api/cases/${caseId}/sessions`, { cookie: cookies.lead });
  session = res.json.id;
  res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: cookies.lead, body: { expires_in_s: 600 } });
  const join = await api(srv, 'POST', '/api/join', { body: { token: res.json.token, display_name: NAME } });
  assert.equal(join.status, 200);
  cookies.client = cookieOf(join);
  for (const u of ['lead', 'housing', 'sup', 'client']) {
    ids[u] = (await api(srv, 'GET', '/api/me', { cookie: cookies[u] })).json.id;
    await open(u);
  }
});

test.after(async () => {
  for (const p of Object.values(pages)) p.client.close();
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

test('stamped fields: forged ones are refused naming the field; the server stamps new items', async () => {
  const forged = [
    ['client', [{ p: ['chat', 0], li: { text: 'hi', from: ids.lead } }], /"from" of a new item of \["chat"\] is stamped/],
    ['client', [{ p: ['chat', 0], li: { text: 'hi', from_role: 'counsellor' } }], /"from_role"/],
    ['client', [{ p: ['chat', 0], li: { text: 'hi', at: 1000 } }], /"at"/],
    ['client', [{ p: ['consents', 0], li: { kind: 'processing', status: 'revoked', given_by: ids.lead } }], /"given_by" of a consent record is stamped/],
    ['client', [{ p: ['consents', 0], li: { kind: 'processing', status: 'given', how: 'paper' } }], /"how" of a consent the client records is stamped/],
    ['lead', [{ p: ['consents', 0], li: { kind: 'release', with: 'Jobcenter', status: 'given' } }], /needs "how" it was given/],
    ['lead', [{ p: ['consents', 0], li: { kind: 'release', with: 'Jobcenter', status: 'given', how: 'paper', recorded_by: ids.client } }], /"recorded_by"/],
    ['lead', [{ p: ['help_plan', 'tasks', 0], li: { what: 'x', owner: '', due: '', done: false, created_by: ids.client } }], /"created_by"/],
  ];
  for (const [who, op, message] of forged) {
    const err = await refused(who, op);
    assert.equal(err && err.code, 'ERR_OP_SUBMIT_REJECTED', JSON.stringify(op));
    assert.match(err.message, message);
  }
  const before = pages.lead.doc.version;
  await c.submit(pages.client.doc, [{ p: ['chat', 0], li: { text: 'Guten Tag' } }]);
  await c.submit(pages.lead.doc, [{ p: ['consents', 0], li: { kind: 'release', with: 'Jobcenter', status: 'given', how: 'paper' } }]);
  await settle();
  const msg = pages.client.doc.data.chat[0];
  assert.equal(msg.from, ids.client);
  assert.equal(msg.from_role, 'client');
  assert.equal(typeof msg.at, 'number');
  assert.deepEqual(pages.lead.doc.data.chat[0], msg, 'every page holds the stamped item');
  const rec = pages.lead.doc.data.consents[0];
  assert.equal(rec.given_by, 'client');
  assert.equal(rec.recorded_by, ids.lead);
  assert.equal(rec.how, 'paper');
  assert.equal(pages.lead.doc.version, before + 4, 'two ops, each followed by the server\'s');
  const logged = before + 4;
  // The submitter received the stamping op as another's op (src qualified by its author).
  const stamp = wires.client.map((t) => JSON.parse(t)).find((m) => m.a === 'op' && m.v === before + 1);
  assert.equal(stamp.src, 'konsil/konsil');
  // Changing a stamped field later is refused as well.
  await c.submit(pages.lead.doc, [{ p: ['help_plan', 'tasks', 0], li: { what: 'Kontoauszüge', owner: '', due: '', done: false } }]);
  await settle();
  assert.equal(pages.client.doc.data.help_plan.tasks[0].created_by, ids.lead);
  const err = await refused('client', [{ p: ['help_plan', 'tasks', 0, 'created_by'], od: ids.lead, oi: ids.client }]);
  assert.match(err.message, /\["help_plan","tasks",0,"created_by"\] is stamped by the server/);
  // Both ops are in the log, the server's authored by konsil, and the history names it.
  assert.equal(sql(srv.db, `SELECT author FROM ops WHERE doc = '${caseId}' AND v = ${before + 1}`), 'konsil');
  assert.ok(logged <= pages.lead.doc.version);
  const page = (await history('lead', before))[0];
  assert.deepEqual(page.ops[1].author, { id: 'konsil', name: 'Konsil', role: 'server' });
  assert.equal(page.ops[0].author.id, ids.client);
  assert.equal(page.ops[0].author.name_self_chosen, true);
});

test('a revoked share removes the summary from the other counsellor\'s open page and its history', async () => {
  const housing = pages.housing.doc;
  await c.submit(pages.lead.doc, [{ p: ['sections', 'debt', 'client_summary', 0], si: SUMMARY }]);
  await settle();
  assert.deepEqual(housing.data.sections.debt, {}, 'without the consent: the section\'s place only');
  await c.submit(pages.client.doc, [{ p: ['consents', pages.client.doc.data.consents.length], li: { kind: 'share', with: 'housing', status: 'given' } }]);
  await settle();
  assert.equal(housing.data.sections.debt.client_summary, SUMMARY, 'given: the open page reads it');
  assert.deepEqual(housing.data, pages.housing.client.connection.get('cases', caseId).data);
  let text = JSON.stringify(await history('housing'));
  assert.ok(text.includes(SUMMARY), 'and its history');
  await c.submit(pages.client.doc, [{ p: ['consents', pages.client.doc.data.consents.length], li: { kind: 'share', with: 'housing', status: 'revoked' } }]);
  await settle();
  assert.deepEqual(housing.data.sections.debt, {}, 'revoked: gone from the open page, no reload');
  // A fresh fetch says the same as the open page.
  const fresh = c.stockClient(srv.url, { cookie: cookies.housing });
  await c.whenConnected(fresh.connection);
  const doc = fresh.connection.get('cases', caseId);
  await c.fetch(doc);
  assert.deepEqual(doc.data, housing.data);
  fresh.close();
  text = JSON.stringify(await history('housing'));
  assert.ok(!text.includes('verhandeln'), 'history read after the revocation: not even old versions');
  for (const v of [0, 5, housing.version]) {
    const snap = await api(srv, 'GET', `/api/cases/${caseId}/snapshot?v=${v}`, { cookie: cookies.housing });
    assert.ok(!JSON.stringify(snap.json).includes('verhandeln'), `snapshot at ${v}`);
  }
  // The history as the housing counsellor reads it replays to what its page holds.
  let data = null;
  for (const p of await history('housing')) {
    if (data === null) data = p.snapshot.data;
    for (const e of p.ops) data = e.create ? structuredClone(e.create.data) : c.json0.apply(data, e.op);
  }
  assert.deepEqual(data, housing.data);
});

test('a supervisor without the supervision consent reads none of the client\'s text or name', async () => {
  const client = pages.client.doc;
  const sup = pages.sup.doc;
  // The client types, in pieces, as an editor sends them; says where it is.
  await c.submit(client, [{ p: ['concern', 'own_words', 0], si: 'Quitten' }]);
  await c.submit(client, [{ p: ['concern', 'own_words', 7], si: 'baum am Ufer brennt' }]);
  await c.submit(client, [{ p: ['chat', client.data.chat.length], li: { text: `Ich bin ${NAME}. ${TYPED}.` } }]);
  const presence = pages.client.client.connection.getPresence(caseId);
  await c.promisify((cb) => presence.subscribe(cb));
  const supPresence = pages.sup.client.connection.getPresence(caseId);
  await c.promisify((cb) => supPresence.subscribe(cb));
  const local = presence.create('caret');
  await c.promisify((cb) => local.submit({ path: ['concern', 'own_words'], index: 4, label: NAME }, cb));
  await settle();
  while (!Object.keys(supPresence.remotePresences).length) await new Promise((r) => setTimeout(r, 10));
  // A second device of the client waits in a lobby.
  let res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: cookies.lead, body: { expires_in_s: 600, lobby: true } });
  await api(srv, 'POST', '/api/join', { body: { token: res.json.token, display_name: NAME } });

  assert.equal(sup.data.concern.own_words, '•'.repeat(TYPED.length), 'masked, same length');
  assert.equal(sup.data.chat[1].text.length, `Ich bin ${NAME}. ${TYPED}.`.length);
  const remote = Object.values(supPresence.remotePresences)[0];
  assert.deepEqual(remote, { path: ['concern', 'own_words'], index: 4 });
  const reads = [wires.sup.join('\n')];
  for (const p of await history('sup')) reads.push(JSON.stringify(p));
  for (const v of [1, 6, sup.version]) {
    reads.push(JSON.stringify((await api(srv, 'GET', `/api/cases/${caseId}/snapshot?v=${v}`, { cookie: cookies.sup })).json));
  }
  res = await api(srv, 'GET', `/api/sessions/${session}/lobby`, { cookie: cookies.sup });
  assert.equal(res.status, 200);
  assert.deepEqual(res.json.waiting.map((w) => [w.name, w.pseudonym]), [['Klient:in A', true]]);
  reads.push(JSON.stringify(res.json));
  for (const path of [`/api/sessions/${session}`, `/api/cases/${caseId}`, '/api/cases', '/api/sessions']) {
    res = await api(srv, 'GET', path, { cookie: cookies.sup });
    assert.equal(res.status, 200, path);
    reads.push(JSON.stringify(res.json));
  }
  const nf = await c.fetchSnapshot(pages.sup.client.connection, 'cases', caseId, sup.version);
  reads.push(JSON.stringify(nf));
  const exp = spawnSync(binary(true), ['export', caseId, '--pseudonymise', '--db', srv.db], { encoding: 'utf8' });
  assert.equal(exp.status, 0, exp.stderr);
  reads.push(exp.stdout);
  const md = spawnSync(binary(true), ['export', caseId, '--pseudonymise', '--format', 'md', '--db', srv.db], { encoding: 'utf8' });
  reads.push(md.stdout);
  for (const [i, text] of reads.entries()) assert.deepEqual(leaks(text), [], `read ${i}: ${text.slice(0, 300)}`);
  // The lobby read is audited.
  assert.equal(sql(srv.db, `SELECT count(*) FROM audit WHERE action = 'lobby.read' AND actor = '${ids.sup}'`), '1');
  // The team reads the client's own words and its self-chosen name.
  assert.equal(pages.lead.doc.data.concern.own_words, TYPED);
  const full = spawnSync(binary(true), ['export', caseId, '--db', srv.db], { encoding: 'utf8' });
  assert.ok(full.stdout.includes(TYPED));

  // With the client's supervision consent: the text, its names replaced, on the open page.
  await c.submit(client, [{ p: ['consents', client.data.consents.length], li: { kind: 'supervision', status: 'given' } }]);
  await settle();
  assert.equal(sup.data.concern.own_words, TYPED);
  assert.equal(sup.data.chat[1].text, `Ich bin Klient:in A. ${TYPED}.`);
  await c.submit(client, [{ p: ['concern', 'own_words', TYPED.length], si: ', sagt Oktavia' }]);
  await settle();
  assert.equal(sup.data.concern.own_words, `${TYPED}, sagt Klient:in A`);
  const text = JSON.stringify(await history('sup'));
  assert.ok(text.includes('Quittenbaum') && !text.includes('Oktavia') && !text.includes('Zebrafink'));
  // Revoked again: masks, without a reload.
  await c.submit(client, [{ p: ['consents', client.data.consents.length], li: { kind: 'supervision', status: 'revoked' } }]);
  await settle();
  assert.ok(/^•+$/.test(sup.data.concern.own_words));
});

test('the resources: title as free text, people as each view names them, who reads each part', async () => {
  const sup = (await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.sup })).json;
  const lead = (await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.lead })).json;
  assert.equal(lead.title, 'Fall Zebrafink');
  assert.equal(sup.title, '•'.repeat('Fall Zebrafink'.length), 'no supervision consent now: masked');
  const client = (await api(srv, 'GET', `/api/sessions/${session}`, { cookie: cookies.client })).json;
  assert.equal(client.title, 'Fall Zebrafink');
  const named = (r) => r.people.filter((p) => p.role === 'client').map((p) => [p.name, p.pseudonym || false, p.name_self_chosen || false]);
  assert.deepEqual(named(sup), [['Klient:in A', true, false]]);
  assert.deepEqual(named(lead), [[NAME, false, true]]);
  assert.deepEqual(named(client), [[NAME, false, true]]);
  assert.deepEqual(lead.template.stamps.find((x) => x.path[0] === 'chat').fields, { from: 'author', from_role: 'author_role', at: 'now' });
  assert.deepEqual(lead.template.consents.path, ['consents']);
  const readersOf = (res, path) => res.readers.find((r) => JSON.stringify(r.path) === JSON.stringify(path)).readers;
  const summary = readersOf(lead, ['sections', 'debt', 'client_summary']);
  const byRole = Object.fromEntries(summary.map((r) => [r.id || r.role, r]));
  assert.equal(byRole.client.reads, 'text');
  assert.equal(byRole[ids.lead].reads, 'text');
  assert.deepEqual(byRole[ids.housing], { id: ids.housing, name: 'housing', role: 'counsellor', specialty: 'housing', reads: 'nothing', consent: { kind: 'share', with: 'housing', given: false, reads: 'text' } });
  assert.deepEqual(byRole[ids.sup].consent, { kind: 'supervision', given: false, reads: 'names_replaced' });
  assert.equal(byRole[ids.sup].reads, 'free_text_hidden');
  // internal notes: the team, never the client
  const internal = readersOf(client, ['internal']).map((r) => r.id || r.role);
  assert.ok(!internal.includes('client') && internal.includes(ids.lead) && internal.includes(ids.housing));
  // The lists say the title as each reader reads it.
  const list = (await api(srv, 'GET', '/api/cases', { cookie: cookies.sup })).json.cases;
  assert.equal(list.find((x) => x.id === caseId).title, sup.title);
});

test('konsil audit report: who read and wrote what of the case, and when; audited', async () => {
  const run = (...args) => spawnSync(binary(true), ['audit', 'report', ...args, '--db', srv.db], { encoding: 'utf8' });
  const res = run(session, '--format', 'json');
  assert.equal(res.status, 0, res.stderr);
  const report = JSON.parse(res.stdout);
  assert.equal(report.case.id, caseId, 'a session names its case');
  const by = Object.fromEntries(report.people.map((p) => [p.id, p]));
  const actions = (id) => by[id].reads.map((e) => e.action);
  assert.ok(actions(ids.sup).includes('lobby.read') && actions(ids.sup).includes('history.read') && actions(ids.sup).includes('session.read.open'));
  assert.ok(actions(ids.housing).includes('snapshot.read'));
  assert.equal(by[ids.client].name, NAME);
  assert.ok(by[ids.client].writes.parts.concern >= 3 && by[ids.client].writes.parts.consents >= 4);
  assert.equal(by.konsil.role, 'server');
  assert.ok(by.konsil.writes.parts.chat >= 1, 'the stamping ops');
  assert.equal(by.cli.role, 'operator');
  assert.ok(actions('cli').includes('export'));
  assert.ok(by.cli.other.some((e) => e.action === 'audit.report'), 'the report itself: audited, not a read');
  assert.equal(by[ids.sup].writes, null, 'a supervisor never writes');
  const text = run(caseId);
  assert.equal(text.status, 0, text.stderr);
  for (const part of [`Audit report of case ${caseId}`, `${NAME} (client)`, 'read the lobby (1 waiting)', 'opened the case sheet (live)', 'wrote:', 'sup (supervisor)']) {
    assert.ok(text.stdout.includes(part), part);
  }
  assert.equal(sql(srv.db, "SELECT count(*) FROM audit WHERE action = 'audit.report' AND actor = 'cli'"), '2');
  const bad = run('00000000-0000-4000-8000-000000000000');
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.equal(run().status, 2);
});

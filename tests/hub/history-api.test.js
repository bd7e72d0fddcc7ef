'use strict';
// The REST history and snapshot endpoints against a real `konsil serve` with accounts:
// a session edited by three principals at once is read back page by page, and at every
// version the history rebuilds exactly the snapshot each reader's own /ws connection
// gets for that version (fetchSnapshot); a client never sees internal notes; readers
// without access get nothing; bad parameters are refused; every read is audited.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer, sql } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login, cookieOf } = require('./lib/auth');

const PAGE = 7;
const ROUNDS = 10;
let srv, session, caseId, head;
const cookies = {};
const clients = {};
const me = {};

async function history(who, from, to) {
  const q = to === undefined ? `from=${from}` : `from=${from}&to=${to}`;
  return api(srv, 'GET', `/api/sessions/${session}/history?${q}`, { cookie: cookies[who] });
}

// Every page from `from` on, following `next`.
async function allHistory(who, from = 0) {
  const pages = [];
  let next = from;
  while (next !== null) {
    const res = await history(who, next);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.snapshot.v, next);
    pages.push(res.json);
    next = res.json.next;
  }
  return pages;
}

// data after each version, rebuilt from one page chain: states[v] = data at v.
function rebuild(pages) {
  const states = {};
  let data = pages[0].snapshot.data;
  let v = pages[0].snapshot.v;
  states[v] = data;
  for (const page of pages) {
    assert.equal(page.snapshot.v, v, 'pages line up');
    assert.deepEqual(page.snapshot.data, data, `page snapshot at ${v} equals the replay`);
    for (const e of page.ops) {
      assert.equal(e.v, v, 'ops in order without gaps');
      if (e.create) data = structuredClone(e.create.data);
      else if (e.del) data = null;
      else data = c.json0.apply(structuredClone(data), e.op);
      v++;
      states[v] = data;
    }
  }
  return states;
}

test.before(async () => {
  srv = await startServer({ asan: true, args: ['--history-page', String(PAGE), '--milestone-every', '10'] });
  addUser(srv.db, 'lead', 'counsellor', 'pw-lead', 'debt');
  addUser(srv.db, 'other', 'counsellor', 'pw-other', 'housing');
  addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
  addUser(srv.db, 'outsider', 'counsellor', 'pw-out');
  addUser(srv.db, 'root', 'admin', 'pw-root');
  for (const u of ['lead', 'other', 'sup', 'outsider', 'root']) cookies[u] = await login(srv, u, 'pw-' + (u === 'outsider' ? 'out' : u));
  let res = await api(srv, 'POST', '/api/sessions', { cookie: cookies.lead, body: { title: 'Verlauf' } });
  assert.equal(res.status, 201);
  session = res.json.id;
  caseId = res.json.case_id;
  for (const u of ['other', 'sup']) {
    res = await api(srv, 'POST', `/api/sessions/${session}/participants`, { cookie: cookies.lead, body: { username: u } });
    assert.equal(res.status, 201);
  }
  res = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: cookies.lead, body: { expires_in_s: 600 } });
  const join = await api(srv, 'POST', '/api/join', { body: { token: res.json.token, display_name: 'Frau K.' } });
  assert.equal(join.status, 200);
  cookies.client = cookieOf(join);
  for (const u of ['lead', 'other', 'sup', 'client']) {
    me[u] = (await api(srv, 'GET', '/api/me', { cookie: cookies[u] })).json;
    clients[u] = c.stockClient(srv.url, { cookie: cookies[u] });
    await c.whenConnected(clients[u].connection);
  }
  // Three editors at once, round after round, without waiting for each other.
  const docs = {};
  for (const u of ['lead', 'other', 'client', 'sup']) {
    docs[u] = clients[u].connection.get('cases', caseId);
    docs[u].preventCompose = true; // one stored op per submit
    await c.subscribe(docs[u]);
  }
  for (let r = 0; r < ROUNDS; r++) {
    await Promise.all([
      c.submit(docs.lead, [{ p: ['internal', 'notes', 0], li: { text: `geheim-${r}` } }]),
      c.submit(docs.lead, [{ p: ['concern', 'own_words', 0], si: `L${r}` }, { p: ['sections', 'debt', 'notes', 0], li: { text: `debt-${r}` } }]),
      c.submit(docs.other, [{ p: ['concern', 'own_words', 0], si: `O${r}` }]),
      c.submit(docs.other, [{ p: ['sections', 'housing', 'notes', 0], li: { text: `wohnen-${r}` } }]),
      c.submit(docs.client, [{ p: ['concern', 'own_words', 0], si: `K${r}` }]),
      c.submit(docs.client, [{ p: ['help_plan', 'tasks', 0], li: { title: `Aufgabe ${r}` } }]),
    ]);
  }
  for (const u of Object.keys(docs)) await c.whenNothingPending(docs[u]);
  // Six ops a round; the four that insert into a stamped list (notes, tasks) are each
  // followed by the server's stamping op.
  head = 1 + 10 * ROUNDS;
  // Everyone's live view has caught up with the last version.
  for (const u of Object.keys(docs)) {
    while (docs[u].version < head) await new Promise((r) => setTimeout(r, 20));
  }
  srv.live = Object.fromEntries(Object.entries(docs).map(([u, d]) => [u, structuredClone(d.data)]));
});

test.after(async () => {
  for (const u of Object.keys(clients)) clients[u].close();
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

test('history rebuilds, for every reader and every version, the snapshot /ws gives it', async () => {
  assert.equal(Number(sql(srv.db, `SELECT max(v) + 1 FROM ops WHERE doc = '${caseId}'`)), head);
  for (const u of ['lead', 'other', 'sup', 'client']) {
    const pages = await allHistory(u);
    assert.equal(pages.length, Math.ceil(head / PAGE));
    const states = rebuild(pages);
    assert.deepEqual(states[head], srv.live[u], `${u}: the last version is the live document`);
    for (let v = 0; v <= head; v++) {
      const snap = await c.fetchSnapshot(clients[u].connection, 'cases', caseId, v);
      assert.equal(snap.v, v);
      assert.deepEqual(states[v], snap.data === undefined ? null : snap.data, `${u} at v${v}`);
    }
    // A page from the middle starts at the same snapshot as the replay.
    const mid = await history(u, 23, 30);
    assert.equal(mid.status, 200);
    assert.deepEqual(mid.json.snapshot.data, states[23]);
    assert.deepEqual(mid.json.ops.map((e) => e.v), [23, 24, 25, 26, 27, 28, 29]);
    assert.equal(mid.json.next, null);
    const snap = await api(srv, 'GET', `/api/sessions/${session}/snapshot?v=42`, { cookie: cookies[u] });
    assert.equal(snap.status, 200);
    assert.deepEqual(snap.json, { v: 42, data: states[42] });
    const latest = await api(srv, 'GET', `/api/sessions/${session}/snapshot`, { cookie: cookies[u] });
    assert.deepEqual(latest.json, { v: head, data: states[head] });
  }
});

test('authors and times: the ids /api/me shows, commit times in ms', async () => {
  const started = Date.now() - 120000;
  const pages = await allHistory('lead');
  const ops = pages.flatMap((p) => p.ops);
  assert.deepEqual(ops[0].author, { id: me.lead.id, name: 'lead', role: 'counsellor', specialty: 'debt' });
  assert.ok(ops[0].create, 'version 0 is the create op');
  const byAuthor = {};
  let last = 0;
  for (const e of ops) {
    byAuthor[e.author.id] = e.author;
    assert.ok(e.ts >= last && e.ts >= started && e.ts <= Date.now(), 'ts: ms since the epoch, in order');
    last = e.ts;
  }
  assert.deepEqual(byAuthor[me.client.id], { id: me.client.id, name: 'Frau K.', role: 'client', name_self_chosen: true, specialty: null });
  assert.deepEqual(byAuthor[me.other.id], { id: me.other.id, name: 'other', role: 'counsellor', specialty: 'housing' });
  assert.deepEqual(byAuthor.konsil, { id: 'konsil', name: 'Konsil', role: 'server' }, 'the stamping ops');
  assert.equal(Object.keys(byAuthor).length, 4);
});

test('a client never sees internal notes or other sections in the history', async () => {
  const pages = await allHistory('client');
  const text = JSON.stringify(pages);
  for (const secret of ['geheim-', 'debt-', 'wohnen-', 'assessment', 'retention']) {
    assert.ok(!text.includes(secret), `${secret} reached the client`);
  }
  const ops = pages.flatMap((p) => p.ops);
  assert.equal(ops.length, head, 'hidden ops stay as empty ops: versions line up');
  assert.ok(ops.some((e) => Array.isArray(e.op) && e.op.length === 0));
  // The housing counsellor does not see the debt section; the supervisor sees the person
  // section pseudonymised (tests/hub/supervision.test.js).
  const other = JSON.stringify(await allHistory('other'));
  assert.ok(!other.includes('debt-') && other.includes('wohnen-') && other.includes('geheim-'));
  const sup = await allHistory('sup');
  assert.equal(sup[0].ops[0].create.data.person.legal_name, 'Klient:in A');
});

test('readers without access get nothing; bad parameters are refused', async () => {
  for (const path of [`/api/sessions/${session}/history?from=0`, `/api/sessions/${session}/snapshot?v=1`]) {
    for (const u of ['outsider', 'root']) {
      const res = await api(srv, 'GET', path, { cookie: cookies[u] });
      assert.equal(res.status, 404, `${u} ${path}`);
      assert.equal(res.json.error.code, 'not_found');
      assert.ok(!JSON.stringify(res.json).includes('geheim'));
    }
    assert.equal((await api(srv, 'GET', path)).status, 401);
  }
  assert.equal((await api(srv, 'GET', '/api/sessions/00000000-0000-4000-8000-000000000000/history', { cookie: cookies.lead })).status, 404);
  for (const q of ['from=abc', 'from=-1', 'from=1.5', 'from=1e3', 'from=3&to=2', 'from=1&from=2', 'to=', 'from=99999999999999999',
    "from=0'%20OR%201=1"]) {
    const res = await api(srv, 'GET', `/api/sessions/${session}/history?${q}`, { cookie: cookies.lead });
    assert.equal(res.status, 400, q);
    assert.equal(res.json.error.code, 'bad_request', q);
  }
  let res = await history('lead', head + 1);
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, 'version_out_of_range');
  res = await api(srv, 'GET', `/api/sessions/${session}/snapshot?v=${head + 1}`, { cookie: cookies.lead });
  assert.equal(res.json.error.code, 'version_out_of_range');
  res = await api(srv, 'GET', `/api/sessions/${session}/snapshot?v=x`, { cookie: cookies.lead });
  assert.equal(res.status, 400);
  // `to` beyond the last version ends there; from = head is an empty page.
  res = await history('lead', head - 2, head + 100);
  assert.deepEqual(res.json.ops.map((e) => e.v), [head - 2, head - 1]);
  assert.equal(res.json.next, null);
  res = await history('lead', head);
  assert.deepEqual(res.json.ops, []);
  assert.equal(res.json.next, null);
});

test('every history and snapshot read is audited before it is answered', async () => {
  const count = () => Number(sql(srv.db, `SELECT count(*) FROM audit WHERE action IN ('history.read', 'snapshot.read') AND actor = '${me.client.id}'`));
  const before = count();
  await history('client', 0);
  assert.equal(count(), before + 1);
  await api(srv, 'GET', `/api/sessions/${session}/snapshot?v=3`, { cookie: cookies.client });
  assert.equal(count(), before + 2);
  const last = sql(srv.db, "SELECT action || ' ' || session || ' ' || details FROM audit ORDER BY seq DESC LIMIT 2");
  assert.match(last, new RegExp(`snapshot.read ${caseId} \\{"v":3\\}`));
  assert.match(last, new RegExp(`history.read ${caseId} \\{"from":0,"to":${PAGE}\\}`));
});

test('pages start from the nearest milestone, never from version 0', async () => {
  // Damage an early op in the log: reads that would replay it fail (500), reads that
  // start from a later milestone (every 10 versions here) never touch it.
  sql(srv.db, `UPDATE ops SET op = 'damaged' WHERE doc = '${caseId}' AND v = 5`);
  const ok = await history('lead', 23, 30);
  assert.equal(ok.status, 200);
  assert.equal(ok.json.snapshot.v, 23);
  assert.equal((await api(srv, 'GET', `/api/sessions/${session}/snapshot?v=20`, { cookie: cookies.lead })).status, 200);
  const bad = await api(srv, 'GET', `/api/sessions/${session}/snapshot?v=7`, { cookie: cookies.lead });
  assert.equal(bad.status, 500);
  assert.equal(bad.json.error.code, 'internal');
  assert.equal((await history('lead', 0)).status, 500);
  assert.match(srv.output(), /damaged/);
});

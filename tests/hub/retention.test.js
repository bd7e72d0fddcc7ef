'use strict';
// Retention, erasure and restriction against a real `konsil serve` with encryption at
// rest (protocol/retention.md, DESIGN.md invariant 9 "deleted means gone"):
//   - a case whose text, title and client name hold a marker is erased on request (the
//     lead asks with a reason, a second staff member confirms) and when due (its class
//     keeps it 0 days after closure; the server's own job erases it); afterwards the
//     marker is in neither the database file nor its WAL nor any answer, its sockets
//     were closed at once, and `konsil audit verify` passes, also against a head kept
//     before the erasure;
//   - a backup taken with sqlite3 .backup while the server ran, before the erasure, and
//     restored, shows the case as erased: its key is gone, nothing of it can be read,
//     and the server finishes its erasure;
//   - a held case is not erased (neither due nor on request) until the hold is lifted;
//   - a restricted case refuses everyone but its lead and admins, on REST and /ws;
//   - `konsil case erase` from the command line, `konsil retention run` and `list`;
//   - inactive cases and deletions ahead are told to the lead.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startServer, tempDir } = require('./lib/server');
const { api, login } = require('./lib/auth');
const k = require('./lib/cases');

const { sql } = k;

const root = path.join(__dirname, '..', '..');
let srv, dir, master, cookies;

// A template whose default class keeps a case 0 days after closure: due when closed.
function shortLivedTemplate(into) {
  const t = JSON.parse(fs.readFileSync(path.join(root, 'protocol/templates/default.json'), 'utf8'));
  t.name = 'kurz';
  t.title = 'Kurzkontakt';
  t.retention = {
    default: 'at_closure',
    classes: {
      at_closure: { after_closure_days: 0, basis: 'Nur für die Dauer des Kontakts (Test).' },
      year: { after_closure_days: 365, basis: 'Ein Jahr (Test).' },
    },
  };
  fs.writeFileSync(path.join(into, 'kurz.json'), JSON.stringify(t, null, 2));
}

async function until(check, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const verify = (db, checkpoint) => k.konsil(['audit', 'verify', '--db', db, ...(checkpoint ? ['--checkpoint', checkpoint] : [])]);

// Everything the server answers about a case to its lead, as text.
async function answersAbout(caseId) {
  const parts = [];
  for (const p of [`/api/cases/${caseId}`, `/api/cases/${caseId}/snapshot`, `/api/cases/${caseId}/history?from=0`, '/api/cases', '/api/me/tasks', '/api/sessions']) {
    const r = await api(srv, 'GET', p, { cookie: cookies.lead });
    parts.push(JSON.stringify(r.json));
  }
  const officer = await api(srv, 'GET', '/api/admin/retention', { cookie: cookies.admin });
  parts.push(JSON.stringify(officer.json));
  return parts.join('\n');
}

async function markerGone(marker, db = srv.db) {
  await until(() => k.inFiles(k.dbFiles(db), marker).length === 0, `${marker} out of ${db} and its WAL`);
}

test.before(async () => {
  dir = tempDir();
  master = k.masterKey(dir);
  const templates = path.join(dir, 'templates');
  fs.mkdirSync(templates);
  shortLivedTemplate(templates);
  srv = await startServer({
    asan: true, dir,
    args: ['--master-key-file', master, '--templates', templates, '--retention-interval-secs', '1', '--deletion-notice-days', '400'],
  });
  cookies = await k.people(srv);
});

test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

test('erasure on request: asked by the lead, confirmed by a second staff member; nothing of it remains, a backup taken before shows it erased', async () => {
  const MARK = 'ZEBRA-ERASE-REQUEST-7731';
  const { caseId, session } = await k.caseWithText(srv, cookies, {
    title: `Familie ${MARK}`, marker: `Wohnung ${MARK}`, note: `Notiz ${MARK}`, team: ['other', 'sup'],
  });
  const client = await k.joinClient(srv, cookies, session, `Frau ${MARK}`);
  const sockets = {};
  for (const [who, cookie] of [['lead', cookies.lead], ['other', cookies.other], ['client', client.cookie]]) {
    sockets[who] = await k.subscribed(srv, cookie, caseId);
    assert.equal(sockets[who].error, undefined, who);
  }
  const head = k.konsil(['audit', 'head', '--db', srv.db]);
  assert.equal(head.code, 0, head.err);
  // A backup while the server runs, before the erasure.
  const backup = path.join(dir, 'backup-before.db');
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', srv.db, `.backup '${backup}'`]);

  // Asked for, with a reason: only the lead or an admin.
  let r = await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie: cookies.other, body: { reason: 'Art. 17' } });
  assert.equal(r.status, 403);
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie: cookies.lead, body: {} });
  assert.equal(r.status, 400);
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie: cookies.lead, body: { reason: 'x'.repeat(501) } });
  assert.equal(r.status, 400, 'a reason is at most 500 bytes');
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie: cookies.lead, body: { reason: 'Antrag der Klientin nach Art. 17 DSGVO' } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const request = r.json.id;
  assert.equal(r.json.status, 'pending');
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie: cookies.lead, body: { reason: 'again' } });
  assert.equal(r.json.error.code, 'erasure_pending');
  const shown = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.lead });
  assert.equal(shown.json.retention.erasure_request.id, request);
  // Confirmed by another: not the one who asked, not a supervisor.
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure/${request}/confirm`, { cookie: cookies.lead });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'second_person_needed');
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure/${request}/confirm`, { cookie: cookies.sup });
  assert.equal(r.status, 403);
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure/${request}/confirm`, { cookie: cookies.other });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(Object.keys(r.json).sort(), ['audit_seq', 'case_id', 'erased_at', 'how']);
  assert.equal(r.json.how, 'request');

  // Open sockets lose it at once.
  for (const who of ['lead', 'other', 'client']) {
    const closed = await sockets[who].r.closed;
    assert.equal(closed.code, 4001, `${who}: ${JSON.stringify(closed)}`);
  }
  // Nobody reaches it: REST, /ws, the client's cookie.
  for (const who of ['lead', 'other', 'admin']) {
    assert.equal((await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies[who] })).status, 404, who);
    assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: cookies[who] })).status, 404, who);
  }
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: client.cookie })).status, 401);
  const again = await k.subscribed(srv, cookies.lead, caseId);
  assert.equal(again.error.code, 'ERR_FORBIDDEN');

  // The marker is nowhere: the database, its WAL, the answers.
  await markerGone(MARK);
  assert.ok(!(await answersAbout(caseId)).includes(MARK));
  for (const table of ['ops', 'milestones']) assert.equal(sql(srv.db, `SELECT count(*) FROM ${table} WHERE doc = '${caseId}'`), '0');
  for (const table of ['cases', 'erasure_requests', 'holds', 'team', 'grants']) {
    const col = table === 'cases' ? 'id' : 'case_id';
    assert.equal(sql(srv.db, `SELECT count(*) FROM ${table} WHERE ${col} = '${caseId}'`), '0', table);
  }
  assert.equal(sql(srv.db, `SELECT count(*) FROM sessions WHERE case_id = '${caseId}'`), '0');
  assert.equal(sql(srv.db, `SELECT count(*) FROM clients WHERE id = '${client.id}'`), '0');
  assert.equal(sql(srv.db, `SELECT count(*) FROM logins WHERE principal = '${client.id}'`), '0');
  assert.equal(sql(srv.db, `SELECT how FROM erasures WHERE case_id = '${caseId}'`), 'request');
  assert.ok(!fs.readFileSync(`${srv.db}.keys`, 'utf8').includes(caseId), 'its key is gone');
  // The audit trail: the entries about it and by its client lost their content; the
  // erasure's own entry says who and how much; the chain and the old head verify.
  assert.equal(sql(srv.db, `SELECT count(*) FROM audit WHERE (session = '${caseId}' OR actor = '${client.id}') AND action <> 'case.erase'`), '0');
  assert.ok(Number(sql(srv.db, 'SELECT count(*) FROM audit WHERE emptied_by IS NOT NULL')) >= 5);
  const erasure = JSON.parse(sql(srv.db, `SELECT details FROM audit WHERE action = 'case.erase' AND session = '${caseId}'`));
  assert.equal(erasure.how, 'request');
  assert.equal(erasure.clients, 1);
  assert.ok(erasure.ops >= 3 && erasure.emptied >= 5);
  let v = verify(srv.db);
  assert.equal(v.code, 0, v.out + v.err);
  v = verify(srv.db, head.out.trim());
  assert.equal(v.code, 0, v.out + v.err);
  const officer = await api(srv, 'GET', '/api/admin/retention', { cookie: cookies.admin });
  assert.ok(officer.json.erasures.some((e) => e.case_id === caseId && e.how === 'request'));

  // The backup taken before: sealed data only, and the key is gone from the key store.
  assert.deepEqual(k.inFiles([backup], MARK), [], 'the backup holds no plaintext');
  assert.equal(sql(backup, `SELECT count(*) FROM ops WHERE doc = '${caseId}' AND typeof(op) = 'blob'`) > '0', true);
  const restoredDir = tempDir();
  const restored = path.join(restoredDir, 'konsil.db');
  fs.copyFileSync(backup, restored);
  fs.copyFileSync(`${srv.db}.keys`, `${restored}.keys`);
  const exported = k.konsil(['export', caseId, '--db', restored, '--master-key-file', master]);
  assert.notEqual(exported.code, 0);
  assert.ok(!exported.out.includes(MARK));
  assert.match(exported.err, /key is gone|could not be read/);
  const back = await startServer({ dir: restoredDir, db: restored, args: ['--master-key-file', master] });
  try {
    const lead = await login(back, 'lead', 'pw-lead');
    await until(async () => sql(restored, `SELECT how FROM erasures WHERE case_id = '${caseId}'`) === 'key_destroyed', 'the restored case erased');
    assert.equal((await api(back, 'GET', `/api/cases/${caseId}`, { cookie: lead })).status, 404);
    await until(() => sql(restored, `SELECT count(*) FROM ops WHERE doc = '${caseId}'`) === '0', 'its rows gone');
    assert.equal(verify(restored).code, 0);
  } finally {
    assert.equal((await back.stop()).code, 0, back.output());
  }
});

test('erasure when due: the server\'s job erases a closed case past its deletion date', async () => {
  const MARK = 'ZEBRA-ERASE-DUE-5521';
  const { caseId } = await k.caseWithText(srv, cookies, { title: `Kurz ${MARK}`, marker: `Text ${MARK}`, template: 'kurz' });
  const head = k.konsil(['audit', 'head', '--db', srv.db]).out.trim();
  let kase = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.lead });
  assert.equal(kase.json.retention.class, 'at_closure');
  assert.equal(kase.json.retention.delete_at, null, 'no deletion date while open');
  assert.equal(kase.json.retention.basis, 'Nur für die Dauer des Kontakts (Test).');
  const closed = await api(srv, 'POST', `/api/cases/${caseId}/close`, { cookie: cookies.lead });
  assert.equal(closed.status, 200);
  await until(async () => (await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.lead })).status === 404, 'the due case erased');
  assert.equal(sql(srv.db, `SELECT how FROM erasures WHERE case_id = '${caseId}'`), 'due');
  assert.equal(JSON.parse(sql(srv.db, `SELECT details FROM audit WHERE action = 'case.erase' AND session = '${caseId}'`)).how, 'due');
  await markerGone(MARK);
  assert.ok(!(await answersAbout(caseId)).includes(MARK));
  assert.equal(verify(srv.db, head).code, 0);
});

test('a legal hold keeps a due case, and a case asked to be erased; lifted, it goes', async () => {
  const held = await k.caseWithText(srv, cookies, { title: 'Gehalten', marker: 'ZEBRA-HELD', template: 'kurz' });
  const other = await k.caseWithText(srv, cookies, { title: 'Daneben', marker: 'ZEBRA-BESIDE', template: 'kurz' });
  let r = await api(srv, 'POST', `/api/cases/${held.caseId}/holds`, { cookie: cookies.other, body: { reason: 'x' } });
  assert.equal(r.status, 404, 'not in the team');
  r = await api(srv, 'POST', `/api/cases/${held.caseId}/holds`, { cookie: cookies.lead, body: {} });
  assert.equal(r.status, 400);
  r = await api(srv, 'POST', `/api/cases/${held.caseId}/holds`, { cookie: cookies.lead, body: { reason: 'ä'.repeat(251) } });
  assert.equal(r.status, 400, '502 bytes');
  r = await api(srv, 'POST', `/api/cases/${held.caseId}/holds`, { cookie: cookies.lead, body: { reason: 'Klage anhängig (Az. 12 C 34/26)', until: Date.now() - 1 } });
  assert.equal(r.status, 400, 'until in the past');
  r = await api(srv, 'POST', `/api/cases/${held.caseId}/holds`, { cookie: cookies.admin, body: { reason: 'Klage anhängig (Az. 12 C 34/26)' } });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const hold = r.json;
  assert.equal(hold.until, null);
  let kase = await api(srv, 'GET', `/api/cases/${held.caseId}`, { cookie: cookies.lead });
  assert.equal(kase.json.retention.held, true);
  assert.equal(kase.json.retention.holds[0].reason, 'Klage anhängig (Az. 12 C 34/26)');
  for (const c of [held, other]) assert.equal((await api(srv, 'POST', `/api/cases/${c.caseId}/close`, { cookie: cookies.lead })).status, 200);
  // The job ran (the other case went) and kept the held one.
  await until(async () => sql(srv.db, `SELECT count(*) FROM erasures WHERE case_id = '${other.caseId}'`) === '1', 'the unheld case erased');
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal((await api(srv, 'GET', `/api/cases/${held.caseId}`, { cookie: cookies.lead })).status, 200, 'held: kept');
  // Nor on request, from REST or the command line.
  r = await api(srv, 'POST', `/api/cases/${held.caseId}/erasure`, { cookie: cookies.lead, body: { reason: 'Art. 17' } });
  assert.equal(r.status, 409);
  assert.equal(r.json.error.code, 'case_held');
  const cli = k.konsil(['case', 'erase', held.caseId, '--reason', 'Art. 17', '--confirmed-by', 'other', '--db', srv.db]);
  assert.equal(cli.code, 1);
  assert.match(cli.err, /legal hold/);
  assert.equal(sql(srv.db, `SELECT count(*) FROM cases WHERE id = '${held.caseId}'`), '1');
  // Lifted (with a reason), it is erased at the next run.
  r = await api(srv, 'POST', `/api/cases/${held.caseId}/holds/${hold.id}/lift`, { cookie: cookies.lead, body: {} });
  assert.equal(r.status, 400);
  r = await api(srv, 'POST', `/api/cases/${held.caseId}/holds/${hold.id}/lift`, { cookie: cookies.lead, body: { reason: 'Verfahren beendet' } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(typeof r.json.lifted_at, 'number');
  await until(async () => (await api(srv, 'GET', `/api/cases/${held.caseId}`, { cookie: cookies.lead })).status === 404, 'erased once the hold was lifted');
  assert.equal(verify(srv.db).code, 0);
});

test('a restricted case refuses everyone but its lead and admins; lifted, it is as before', async () => {
  const { caseId, session } = await k.caseWithText(srv, cookies, { title: 'Gesperrt', marker: 'ZEBRA-RESTRICTED', team: ['other', 'sup'] });
  const client = await k.joinClient(srv, cookies, session, 'Herr R.');
  const sockets = {};
  for (const [who, cookie] of [['lead', cookies.lead], ['other', cookies.other], ['sup', cookies.sup], ['client', client.cookie]])
    sockets[who] = await k.subscribed(srv, cookie, caseId);
  let r = await api(srv, 'POST', `/api/cases/${caseId}/restrict`, { cookie: cookies.other, body: { reason: 'x' } });
  assert.equal(r.status, 403);
  r = await api(srv, 'POST', `/api/cases/${caseId}/restrict`, { cookie: cookies.lead, body: {} });
  assert.equal(r.status, 400);
  r = await api(srv, 'POST', `/api/cases/${caseId}/restrict`, { cookie: cookies.lead, body: { reason: 'Richtigkeit bestritten (Art. 18 Abs. 1 lit. a)' } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.status, 'restricted');
  assert.equal(r.json.restriction.reason, 'Richtigkeit bestritten (Art. 18 Abs. 1 lit. a)');
  assert.equal(r.json.running_session, null, 'its session ended');
  // Open sockets: the lead's must reopen (read-only now), everyone else's lose it.
  assert.equal((await sockets.lead.r.closed).code, 4002);
  for (const who of ['other', 'sup', 'client']) assert.equal((await sockets[who].r.closed).code, 4001, who);
  // REST and /ws: the lead and an admin read; nobody writes; nobody else reads.
  for (const who of ['lead', 'admin']) {
    const snap = await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: cookies[who] });
    assert.equal(snap.status, 200, who);
    assert.match(snap.json.data.concern.own_words, /ZEBRA-RESTRICTED/);
    const s = await k.subscribed(srv, cookies[who], caseId);
    assert.equal(s.error, undefined, `${who} on /ws`);
    assert.match(s.data.concern.own_words, /ZEBRA-RESTRICTED/);
    s.r.send({ a: 'op', c: 'cases', d: caseId, v: s.v, seq: 1, op: [{ p: ['concern', 'own_words', 0], si: 'x' }] });
    const refused = await s.r.next((m) => m.a === 'op' && m.seq === 1);
    assert.equal(refused.error.code, 'ERR_OP_SUBMIT_REJECTED', who);
    await s.r.close();
  }
  for (const who of ['other', 'sup']) {
    const snap = await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: cookies[who] });
    assert.equal(snap.status, 403, who);
    assert.equal(snap.json.error.code, 'case_restricted');
    assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/history`, { cookie: cookies[who] })).status, 403);
    const s = await k.subscribed(srv, cookies[who], caseId);
    assert.equal(s.error.code, 'ERR_FORBIDDEN', who);
    const kase = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies[who] });
    assert.equal(kase.json.status, 'restricted');
    assert.equal(kase.json.restriction.reason, undefined, 'the reason is for the lead and admins');
  }
  assert.notEqual((await api(srv, 'GET', `/api/sessions/${session}/snapshot`, { cookie: client.cookie })).status, 200);
  // Not erased while restricted, not restricted twice.
  r = await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie: cookies.lead, body: { reason: 'x' } });
  assert.equal(r.json.error.code, 'case_restricted');
  r = await api(srv, 'POST', `/api/cases/${caseId}/restrict`, { cookie: cookies.admin, body: { reason: 'x' } });
  assert.equal(r.status, 409);
  const officer = await api(srv, 'GET', '/api/admin/retention', { cookie: cookies.admin });
  assert.ok(officer.json.restrictions.some((x) => x.case_id === caseId && x.from === 'open'));
  assert.equal((await api(srv, 'GET', '/api/admin/retention', { cookie: cookies.lead })).status, 403);
  // Lifted by an admin, with a reason: open again, the team reads and writes.
  r = await api(srv, 'POST', `/api/cases/${caseId}/unrestrict`, { cookie: cookies.admin, body: { reason: 'Berichtigt' } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.status, 'open');
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: cookies.other })).status, 200);
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: cookies.admin })).status, 404);
  const ack = await k.submit(srv, cookies.other, caseId, [{ p: ['concern', 'own_words', 0], si: 'ok ' }]);
  assert.equal(ack.error, undefined);
  const actions = sql(srv.db, `SELECT action FROM audit WHERE session = '${caseId}' ORDER BY seq`).split('\n');
  for (const a of ['case.restrict', 'session.end', 'case.unrestrict']) assert.ok(actions.includes(a), a);
});

test('konsil case erase from the command line while the server runs; retention run and list', async () => {
  const MARK = 'ZEBRA-ERASE-CLI-9090';
  const { caseId } = await k.caseWithText(srv, cookies, { title: `CLI ${MARK}`, marker: `Text ${MARK}`, team: ['other'] });
  const open = await k.subscribed(srv, cookies.other, caseId);
  let r = k.konsil(['case', 'erase', caseId, '--reason', 'Art. 17', '--db', srv.db]);
  assert.equal(r.code, 2);
  r = k.konsil(['case', 'erase', caseId, '--reason', 'x'.repeat(501), '--confirmed-by', 'other', '--db', srv.db]);
  assert.equal(r.code, 2, 'a reason is at most 500 bytes');
  r = k.konsil(['case', 'erase', caseId, '--reason', 'Art. 17', '--confirmed-by', 'sup', '--db', srv.db]);
  assert.equal(r.code, 1, 'a supervisor does not confirm');
  r = k.konsil(['case', 'erase', caseId, '--reason', 'Antrag nach Art. 17 DSGVO', '--confirmed-by', 'other', '--db', srv.db]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`erased ${caseId}`));
  assert.equal((await open.r.closed).code, 4001, 'the server noticed');
  await markerGone(MARK);
  assert.equal(JSON.parse(sql(srv.db, `SELECT details FROM audit WHERE action = 'case.erase' AND session = '${caseId}'`)).confirmed_by.length > 0, true);
  r = k.konsil(['case', 'erase', caseId, '--reason', 'again', '--confirmed-by', 'other', '--db', srv.db]);
  assert.equal(r.code, 1);
  assert.match(r.err, /no such case/);
  // retention run: erases what is due (a case closed just now, with 0 days).
  const due = await k.caseWithText(srv, cookies, { title: 'Fällig', template: 'kurz' });
  r = k.konsil(['retention', 'run', '--db', srv.db]);
  assert.equal(r.code, 0, r.err);
  assert.equal((await api(srv, 'POST', `/api/cases/${due.caseId}/close`, { cookie: cookies.lead })).status, 200);
  await until(() => sql(srv.db, `SELECT count(*) FROM erasures WHERE case_id = '${due.caseId}'`) === '1', 'erased by the job or the run');
  r = k.konsil(['retention', 'run', '--db', srv.db]);
  assert.equal(r.code, 0, r.err);
  // retention list: no content, every kind of entry.
  r = k.konsil(['retention', 'list', '--json', '--db', srv.db]);
  assert.equal(r.code, 0, r.err);
  const list = JSON.parse(r.out);
  assert.ok(list.erasures.some((e) => e.case_id === caseId && e.how === 'request'));
  assert.ok(list.erasures.some((e) => e.case_id === due.caseId));
  for (const key of ['cases', 'holds', 'restrictions', 'requests', 'erasures']) assert.ok(Array.isArray(list[key]), key);
  assert.ok(!r.out.includes('ZEBRA'), 'no content');
  r = k.konsil(['retention', 'list', '--db', srv.db]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Cases by deletion date/);
  assert.match(r.out, /Erasures done/);
  assert.equal(verify(srv.db).code, 0);
});

test('the lead is told of inactive cases (close or keep) and of deletions ahead; a class chosen while open', async () => {
  const { caseId } = await k.caseWithText(srv, cookies, { title: 'Ruhend', marker: 'still' });
  let list = await api(srv, 'GET', '/api/cases', { cookie: cookies.lead });
  let mine = list.json.cases.find((c) => c.id === caseId);
  assert.equal(mine.retention.inactive, false);
  // A year and more without activity (the clock of its rows turned back).
  const old = Date.now() - 400 * 86400000;
  sql(srv.db, `UPDATE cases SET created_at = ${old} WHERE id = '${caseId}'; UPDATE ops SET ts = ${old} WHERE doc = '${caseId}'; UPDATE sessions SET started_at = ${old} WHERE case_id = '${caseId}'`);
  list = await api(srv, 'GET', '/api/cases', { cookie: cookies.lead });
  mine = list.json.cases.find((c) => c.id === caseId);
  assert.equal(mine.retention.inactive, true);
  assert.equal(mine.retention.last_activity, old);
  const officer = await api(srv, 'GET', '/api/admin/retention', { cookie: cookies.admin });
  assert.equal(officer.json.cases.find((c) => c.id === caseId).inactive, true);
  assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/keep`, { cookie: cookies.other })).status, 404);
  const kept = await api(srv, 'POST', `/api/cases/${caseId}/keep`, { cookie: cookies.lead });
  assert.equal(kept.status, 200);
  assert.equal(kept.json.retention.inactive, false);
  // The lead chooses the class while open; closed, its deletion date is told ahead.
  assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/retention`, { cookie: cookies.lead, body: { class: 'nope' } })).status, 422);
  const chosen = await api(srv, 'POST', `/api/cases/${caseId}/retention`, { cookie: cookies.lead, body: { class: 'short' } });
  assert.equal(chosen.status, 200, JSON.stringify(chosen.json));
  assert.equal(chosen.json.retention.class, 'short');
  assert.equal(chosen.json.retention.after_closure_days, 365);
  assert.ok(chosen.json.retention.classes.map((c) => c.name).includes('funded'));
  const closed = await api(srv, 'POST', `/api/cases/${caseId}/close`, { cookie: cookies.lead });
  const kase = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.lead });
  assert.equal(kase.json.retention.delete_at, kase.json.closed_at + 365 * 86400000);
  assert.equal(kase.json.retention.deletion_soon, true, 'within --deletion-notice-days 400');
  assert.equal(closed.status, 200);
  assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/retention`, { cookie: cookies.lead, body: { class: 'standard' } })).json.error.code, 'case_closed');
});

test('the client\'s own copy: exactly what the client may read, who received it, why and how long', async () => {
  const { caseId, session } = await k.caseWithText(srv, cookies, {
    title: 'Kopie', marker: 'Mietschulden seit März', note: 'ZEBRA-INTERNAL-NOTE', team: ['other', 'sup'],
  });
  const client = await k.joinClient(srv, cookies, session, 'Frau K.');
  let ack = await k.submit(srv, client.cookie, caseId, [{ p: ['person', 'display_name', 0], si: 'Frau K.' }]);
  assert.equal(ack.error, undefined, JSON.stringify(ack));
  ack = await k.submit(srv, cookies.lead, caseId, [{ p: ['sections', 'debt', 'notes', 0], li: { text: 'ZEBRA-DEBT-NOTE' } }]);
  assert.equal(ack.error, undefined, JSON.stringify(ack));
  // Team members read it (recipients), over /ws and the history.
  const seen = await k.subscribed(srv, cookies.other, caseId);
  await seen.r.close();
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/history?from=0`, { cookie: cookies.sup })).status, 200);
  // What the client itself receives over /ws.
  const own = await k.subscribed(srv, client.cookie, caseId);
  await own.r.close();

  const r = await api(srv, 'GET', '/api/me/copy', { cookie: client.cookie });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const copy = r.json;
  assert.equal(copy.format, 'konsil-client-copy');
  assert.equal(copy.about.id, client.id);
  assert.equal(copy.about.name, 'Frau K.');
  assert.equal(copy.case.id, caseId);
  assert.deepEqual(copy.sheet.data, own.data, 'exactly the sheet as the client reads it');
  assert.equal(copy.sheet.v, own.v);
  const text = JSON.stringify(copy);
  assert.ok(text.includes('Mietschulden seit März'));
  assert.ok(!text.includes('ZEBRA-INTERNAL-NOTE') && !text.includes('ZEBRA-DEBT-NOTE'), 'nothing the client may not read');
  assert.deepEqual(copy.consents, copy.sheet.data.consents);
  assert.ok(copy.purposes.length >= 1 && copy.purposes[0].includes('Art. 6'));
  assert.equal(copy.retention.class, 'standard');
  assert.match(copy.retention.basis, /§§ 195, 199 BGB/);
  assert.equal(copy.retention.delete_at, null);
  assert.ok(copy.sessions.some((s) => s.id === session && s.attended));
  const names = copy.recipients.map((x) => `${x.name}/${x.role}`).sort();
  assert.deepEqual(names, ['lead/counsellor', 'other/counsellor', 'sup/supervisor'].sort());
  assert.ok(copy.recipients.every((x) => x.id !== client.id && x.reads >= 1 && x.first <= x.last));

  // On the client's behalf: a counsellor of the team; not a supervisor, not a stranger.
  const behalf = await api(srv, 'GET', `/api/cases/${caseId}/clients/${client.id}/copy`, { cookie: cookies.other });
  assert.equal(behalf.status, 200, JSON.stringify(behalf.json));
  assert.deepEqual(behalf.json.sheet, copy.sheet);
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/clients/${client.id}/copy`, { cookie: cookies.sup })).status, 403);
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/clients/${client.id}/copy`, { cookie: cookies.admin })).status, 404);
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/clients/nobody/copy`, { cookie: cookies.lead })).status, 404);
  assert.equal((await api(srv, 'GET', '/api/me/copy', { cookie: cookies.lead })).status, 404);
  // The print view of the sheet as the client sees it.
  const view = await api(srv, 'GET', `/api/cases/${caseId}/client-view`, { cookie: cookies.lead });
  assert.equal(view.status, 200);
  assert.deepEqual(view.json.data, copy.sheet.data);
  assert.equal(view.json.case.title, 'Kopie');
  assert.equal((await api(srv, 'GET', `/api/cases/${caseId}/client-view`, { cookie: cookies.sup })).status, 403);
  // Each copy is a disclosure of its own: audited.
  const actions = sql(srv.db, `SELECT action || ' ' || actor FROM audit WHERE session = '${caseId}' AND action IN ('copy.read', 'client_view.read') ORDER BY seq`).split('\n');
  assert.deepEqual(actions, [`copy.read ${client.id}`, `copy.read ${cookies.ids.other}`, `client_view.read ${cookies.ids.lead}`]);
  // After the session ends the client may still take its copy while its link session lasts.
  assert.equal((await api(srv, 'POST', `/api/sessions/${session}/end`, { cookie: cookies.lead })).status, 200);
  const after = await api(srv, 'GET', '/api/me/copy', { cookie: client.cookie });
  assert.equal(after.status, 200);
  assert.equal((await api(srv, 'GET', `/api/sessions/${session}/snapshot`, { cookie: client.cookie })).status, 403);
});

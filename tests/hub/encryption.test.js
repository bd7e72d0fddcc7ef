'use strict';
// Case data encrypted at rest under per-case keys, against a real `konsil serve`: with a
// master key the op log, the stored snapshots, the case title and the client's name are
// sealed (no marker in the database file or its WAL, every op a BLOB) while every
// answer reads them; the key store is its own file of the documented format; a server
// without the master key, with another one, with a master key others may read, or with
// a key store of another database refuses to start; the export and the audit report
// need the master key, and a supervisor's reads (history, the case resource, the
// pseudonymised export) of the sealed record hold none of the client's text or name;
// and a database written without encryption is sealed once when a master key is first
// given (the one-time step), its plaintext gone from the files.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, tempDir } = require('./lib/server');
const { api } = require('./lib/auth');
const k = require('./lib/cases');

const { sql } = k;

const MARK = 'ZEBRA-SEALED-4711';

async function refusesToStart(opts, why) {
  await assert.rejects(startServer({ ...opts }), why);
}

test('with a master key the case data is sealed on disk and read in every answer', async () => {
  const dir = tempDir();
  const master = k.masterKey(dir);
  const db = path.join(dir, 'konsil.db');
  let srv = await startServer({ dir, db, args: ['--master-key-file', master] });
  let caseId;
  let supId;
  try {
    assert.doesNotMatch(srv.output(), /unencrypted/);
    const cookies = await k.people(srv);
    supId = cookies.ids.sup;
    const made = await k.caseWithText(srv, cookies, { title: `Titel ${MARK}`, marker: `Text ${MARK}`, team: ['sup'] });
    caseId = made.caseId;
    const client = await k.joinClient(srv, cookies, made.session, `Name ${MARK}`);
    // An item the server stamps: the client's op and the stamping op, both sealed.
    const said = await k.submit(srv, client.cookie, caseId, [{ p: ['chat', 0], li: { text: `Chat ${MARK}` } }]);
    assert.equal(said.error, undefined, JSON.stringify(said));
    const lobby = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.lead });
    assert.equal(lobby.json.title, `Titel ${MARK}`);
    const snap = await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: cookies.lead });
    assert.equal(snap.status, 200);
    assert.match(snap.json.data.concern.own_words, new RegExp(MARK));
    const me = await api(srv, 'GET', '/api/me', { cookie: client.cookie });
    assert.equal(me.json.name, `Name ${MARK}`);
    const hist = await api(srv, 'GET', `/api/cases/${caseId}/history?from=0`, { cookie: cookies.lead });
    assert.equal(hist.status, 200);
    assert.ok(JSON.stringify(hist.json).includes(MARK));
    assert.equal(sql(db, `SELECT count(*) FROM ops WHERE doc = '${caseId}' AND author = 'konsil' AND v > 1`), '1', 'the stamping op');
    // The supervisor (no supervision consent) reads the sealed record through the view:
    // the author's name opened and pseudonymised, the text masked, on every page.
    for (let from = 0; from !== null;) {
      const page = await api(srv, 'GET', `/api/cases/${caseId}/history?from=${from}`, { cookie: cookies.sup });
      assert.equal(page.status, 200, JSON.stringify(page.json));
      assert.ok(!JSON.stringify(page.json).includes(MARK), JSON.stringify(page.json).slice(0, 300));
      from = page.json.next;
    }
    const supLobby = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: cookies.sup });
    assert.equal(supLobby.status, 200);
    assert.ok(!JSON.stringify(supLobby.json).includes(MARK));
    assert.ok(supLobby.json.people.some((p) => p.role === 'client' && p.pseudonym));
    // Every op and snapshot, the title and the name are BLOBs; the marker is in no file.
    assert.equal(sql(db, "SELECT count(*) FROM ops WHERE typeof(op) <> 'blob'"), '0');
    assert.equal(sql(db, "SELECT count(*) FROM cases WHERE typeof(title) <> 'blob'"), '0');
    assert.equal(sql(db, "SELECT count(*) FROM clients WHERE typeof(display_name) <> 'blob'"), '0');
    assert.deepEqual(k.inFiles(k.dbFiles(db), MARK), []);
    assert.equal(sql(db, "SELECT count(*) FROM settings WHERE key = 'keystore_id'"), '1');
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  // The key store: its own file, mode 0600, the documented format, a line per case.
  const keys = `${db}.keys`;
  assert.equal(fs.statSync(keys).mode & 0o777, 0o600);
  const lines = fs.readFileSync(keys, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'konsil-keys v1');
  assert.match(lines[1], /^id [0-9a-f]{32}$/);
  assert.match(lines[2], /^generation [1-9]\d*$/);
  assert.match(lines[3], /^check [A-Za-z0-9_-]+$/);
  assert.ok(lines.some((l) => l.startsWith(`key ${caseId} `)));
  assert.equal(lines[lines.length - 1], 'end');
  assert.equal(sql(db, "SELECT value FROM settings WHERE key = 'keystore_id'"), lines[1].slice(3));
  assert.deepEqual(k.inFiles([keys], MARK), []);

  // Without the master key, with another one, or with one others may read: no start.
  await refusesToStart({ dir, db }, /encrypted .*--master-key-file/);
  await refusesToStart({ dir, db, args: ['--master-key-file', k.masterKey(dir, 'other.key')] },
    /master key does not open this key store/);
  fs.chmodSync(master, 0o644);
  await refusesToStart({ dir, db, args: ['--master-key-file', master] }, /chmod 600/);
  fs.chmodSync(master, 0o600);
  // Another database's key store.
  const elsewhere = tempDir();
  const other = await startServer({ dir: elsewhere, args: ['--master-key-file', master] });
  await other.stop();
  await refusesToStart({ dir, db, args: ['--master-key-file', master, '--keys', `${other.db}.keys`] },
    /encrypted under key store [0-9a-f]{32}, not/);

  // The export reads sealed data only with the master key.
  let r = k.konsil(['export', caseId, '--db', db]);
  assert.equal(r.code, 1);
  assert.match(r.err, /master key/);
  r = k.konsil(['export', caseId, '--db', db, '--master-key-file', master]);
  assert.equal(r.code, 0, r.err);
  assert.ok(r.out.includes(MARK));
  r = k.konsil(['export', caseId, '--pseudonymise', '--db', db, '--master-key-file', master]);
  assert.equal(r.code, 0, r.err);
  assert.ok(!r.out.includes(MARK), r.out.slice(0, 300));
  // The audit report opens the op log and the names with the case's key, and only so.
  r = k.konsil(['audit', 'report', caseId, '--db', db]);
  assert.equal(r.code, 1);
  assert.match(r.err, /master key/);
  r = k.konsil(['audit', 'report', caseId, '--format', 'json', '--db', db, '--master-key-file', master]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.case.title, `Titel ${MARK}`);
  const named = report.people.find((p) => p.role === 'client');
  assert.equal(named.name, `Name ${MARK}`);
  assert.ok(named.writes.parts.chat >= 1);
  assert.ok(report.people.find((p) => p.id === supId).reads.some((e) => e.action === 'history.read'));

  // And the server comes back with it, reading everything.
  srv = await startServer({ dir, db, args: ['--master-key-file', master] });
  try {
    const cookies = { lead: await require('./lib/auth').login(srv, 'lead', 'pw-lead') };
    const snap = await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: cookies.lead });
    assert.match(snap.json.data.concern.own_words, new RegExp(MARK));
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a database written without encryption is sealed once when a master key is first given', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'konsil.db');
  let srv = await startServer({ dir, db });
  let caseId;
  try {
    assert.match(srv.output(), /case data is stored unencrypted/);
    const cookies = await k.people(srv);
    const made = await k.caseWithText(srv, cookies, { title: `Titel ${MARK}`, marker: `Text ${MARK}` });
    caseId = made.caseId;
    await k.joinClient(srv, cookies, made.session, `Name ${MARK}`);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  assert.notDeepEqual(k.inFiles(k.dbFiles(db), MARK), [], 'plaintext before the step');
  const master = k.masterKey(dir);
  srv = await startServer({ dir, db, args: ['--master-key-file', master] });
  try {
    assert.match(srv.output(), /sealed \d+ plaintext records .* one-time step/);
    assert.deepEqual(k.inFiles(k.dbFiles(db), MARK), [], 'no plaintext left in the database or its WAL');
    assert.equal(sql(db, "SELECT count(*) FROM ops WHERE typeof(op) <> 'blob'"), '0');
    assert.equal(sql(db, "SELECT value FROM settings WHERE key = 'encryption'"), 'on');
    const lead = await require('./lib/auth').login(srv, 'lead', 'pw-lead');
    const kase = await api(srv, 'GET', `/api/cases/${caseId}`, { cookie: lead });
    assert.equal(kase.json.title, `Titel ${MARK}`);
    const snap = await api(srv, 'GET', `/api/cases/${caseId}/snapshot`, { cookie: lead });
    assert.match(snap.json.data.concern.own_words, new RegExp(MARK));
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  // The second start has nothing left to seal.
  srv = await startServer({ dir, db, args: ['--master-key-file', master] });
  assert.doesNotMatch(srv.output(), /sealed/);
  assert.equal((await srv.stop()).code, 0, srv.output());
});

test('the previous release\'s database (schema 4) upgraded with a master key: migrated, sealed, readable', async () => {
  const dir = tempDir();
  const db = path.join(dir, 'konsil.db');
  fs.copyFileSync(path.join(__dirname, '..', 'fixtures', 'schema4.db'), db);
  const facts = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'schema4.json'), 'utf8'));
  const before = sql(db, "SELECT count(*) FROM ops WHERE typeof(op) = 'text'");
  assert.ok(Number(before) > 0);
  const srv = await startServer({ dir, db, args: ['--master-key-file', k.masterKey(dir)] });
  try {
    assert.match(srv.output(), /sealed \d+ plaintext records/);
    assert.equal(sql(db, 'PRAGMA user_version'), '9');
    assert.equal(sql(db, "SELECT count(*) FROM ops WHERE typeof(op) <> 'blob'"), '0');
    assert.equal(sql(db, 'SELECT count(*) FROM ops'), before);
    const lead = await require('./lib/auth').login(srv, 'lead', 'pw-lead');
    for (const id of Object.keys(facts.sessions)) {
      const kase = await api(srv, 'GET', `/api/cases/${id}`, { cookie: lead });
      assert.equal(kase.status, 200);
      assert.equal(kase.json.title, facts.sessions[id].title);
    }
    assert.equal(k.konsil(['audit', 'verify', '--db', db]).code, 0);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

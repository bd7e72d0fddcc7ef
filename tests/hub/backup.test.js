'use strict';
// Backup and restore (konsil backup, restore, check) against a real server under write
// load: stock sharedb clients keep submitting ops to three case sheets while `konsil
// backup` runs; every op acknowledged before the backup began is in the backup, at the
// version it was acknowledged with; the backup is a consistent prefix of every document
// (`konsil check` passes on it); restored into an empty folder, a server started on it
// serves those documents to the same logins. Then the refusals: an existing backup file
// or database is never replaced, and a damaged backup (a gap in the op log, a changed
// milestone, an altered audit entry) fails `konsil check` and is not restored.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { sql, tempDir, binary } = require('./lib/server');
const { startProtocolServer, newAccounts } = require('./lib/protocol');
const { addUser } = require('./lib/auth');
const c = require('./lib/clients');

const WRITERS = ['bw1', 'bw2', 'bw3', 'bw4', 'bw5', 'bw6'];

// Runs `konsil ARGS`; resolves with {code, stdout, stderr} (never rejects).
function konsil(args) {
  return new Promise((resolve) => {
    execFile(binary(true), args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

// A writer: a stock sharedb client submitting one op after the other to doc `d` until
// stopped, each ack recorded as {d, v, marker, at} (at: the ack's position in `acks`).
async function writer(srv, who, d, acks) {
  const client = await srv.stock(who);
  const doc = client.connection.get('cases', d);
  await c.subscribe(doc);
  let n = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const marker = `${who}#${++n}`;
      // The version is read in the callback itself: ops that arrive after the ack in
      // the same read would move it on before an awaiting caller ran.
      await new Promise((resolve, reject) => doc.submitOp([{ p: ['list', 0], li: marker }], (err) => {
        if (err) return reject(err);
        acks.push({ d, v: doc.version - 1, marker });
        resolve();
      }));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      client.close();
    },
  };
}

function storedMarkers(db) {
  const out = sql(db, "SELECT doc || '|' || v || '|' || json_extract(op, '$[0].li') FROM ops WHERE kind = 0");
  const byKey = new Map();
  for (const line of out.split('\n').filter(Boolean)) {
    const [d, v, marker] = line.split('|');
    byKey.set(`${d}|${v}`, marker);
  }
  return byKey;
}

test('a backup under write load holds every acknowledged op and restores to a serving database', async () => {
  const dir = tempDir();
  const accounts = newAccounts();
  // The bulk history below (40 items of 100 kB in one sheet) passes the default case-sheet
  // limits (protocol/limits.md): raised for this test.
  const srv = await startProtocolServer({ dir, accounts, templates: { list: { list: [] } },
                                          args: ['--max-sheet', '8M', '--max-item', '128K', '--append-budget', '8M'] });
  const docs = [];
  let writers = [];
  try {
    for (let i = 0; i < 3; i++) {
      docs.push(await srv.newDoc('list', { title: `backup-${i}`, members: WRITERS }));
    }
    // A few MiB of history first, so that the copy takes many steps while the writers
    // commit between them.
    const bulk = await srv.newDoc('list', { title: 'backup-bulk' });
    const loader = await srv.stock();
    const bulkDoc = loader.connection.get('cases', bulk);
    await c.subscribe(bulkDoc);
    for (let i = 0; i < 40; i++) await c.submit(bulkDoc, [{ p: ['list', 0], li: `${i} ${'x'.repeat(100000)}` }]);
    loader.close();
    const acks = [];
    writers = await Promise.all(WRITERS.map((w, i) => writer(srv, w, docs[i % 3], acks)));
    while (acks.length < 300) await new Promise((r) => setTimeout(r, 20));

    // Everything acknowledged so far must be in the backup.
    const before = acks.slice();
    const file = path.join(dir, 'konsil-backup.db');
    const backup = await konsil(['backup', file, '--db', srv.db]);
    const during = acks.length - before.length;
    assert.equal(backup.code, 0, backup.stderr);
    const pages = Number(/\((\d+) pages\)/.exec(backup.stdout)[1]);
    assert.ok(pages > 4 * 256, `${pages} pages: the copy took several steps`);
    assert.match(backup.stdout, /^backed up .* schema \d+, 4 cases, 4 documents$/m);
    assert.match(backup.stdout, /^konsil-audit-head v1 entries=\d+ hash=[0-9a-f]{64}$/m);
    console.log(`# ${before.length} ops acked before the backup, ${during} while it ran`);
    while (acks.length < before.length + 100) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(writers.map((w) => w.stop()));
    writers = [];
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'the backup is readable by its owner only');
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('partial')), []);

    // The backup: sound, and every op acked before it began at its acked version.
    const check = await konsil(['check', '--db', file]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^op log: 4 documents, \d+ ops, \d+ milestones: ok$/m);
    assert.match(check.stdout, /^ok$/m);
    const inBackup = storedMarkers(file);
    for (const a of before) {
      assert.equal(inBackup.get(`${a.d}|${a.v}`), a.marker, `op ${a.marker} (v${a.v}) is in the backup`);
    }
    await srv.stop();

    // Restored into an empty folder, a server serves it to the same logins.
    const dir2 = tempDir();
    const db2 = path.join(dir2, 'konsil.db');
    const restore = await konsil(['restore', file, '--db', db2]);
    assert.equal(restore.code, 0, restore.stdout + restore.stderr);
    assert.match(restore.stdout, /^restored .* 4 cases, 4 documents$/m);
    const check2 = await konsil(['check', '--db', db2]);
    assert.equal(check2.code, 0, check2.stdout + check2.stderr);
    const srv2 = await startProtocolServer({ dir: dir2, db: db2, accounts, templates: { list: { list: [] } } });
    try {
      const reader = await srv2.stock(WRITERS[0]);
      for (const d of docs) {
        const doc = reader.connection.get('cases', d);
        await c.fetch(doc);
        const mine = before.filter((a) => a.d === d);
        const lastV = Math.max(...mine.map((a) => a.v));
        assert.ok(doc.version > lastV, `${d} is at v${doc.version}, past every op acked before the backup`);
        const listed = new Set(doc.data.list);
        for (const a of mine) assert.ok(listed.has(a.marker), `${a.marker} is in the restored sheet`);
      }
      reader.close();
    } finally {
      await srv2.stop();
    }
  } finally {
    await Promise.all(writers.map((w) => w.stop()));
    await srv.stop();
  }
});

test('backup never replaces a file, restore never replaces a database', async () => {
  const dir = tempDir();
  const srv = await startProtocolServer({ dir, templates: { list: { list: [] } } });
  try {
    await srv.newDoc('list');
    const file = path.join(dir, 'b.db');
    fs.writeFileSync(file, 'not a backup');
    const again = await konsil(['backup', file, '--db', srv.db]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists already: it is not replaced/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'not a backup');

    const good = path.join(dir, 'good.db');
    assert.equal((await konsil(['backup', good, '--db', srv.db])).code, 0);
    const before = fs.readFileSync(srv.db);
    const over = await konsil(['restore', good, '--db', srv.db]);
    assert.equal(over.code, 1);
    assert.match(over.stderr, /exists: restore never overwrites a database/);
    assert.ok(fs.readFileSync(srv.db).equals(before), 'the database is untouched');
    // A leftover -wal alone also counts as a database.
    const dir2 = tempDir();
    fs.writeFileSync(path.join(dir2, 'konsil.db-wal'), '');
    const wal = await konsil(['restore', good, '--db', path.join(dir2, 'konsil.db')]);
    assert.equal(wal.code, 1);
    assert.match(wal.stderr, /konsil\.db-wal exists/);
    assert.ok(!fs.existsSync(path.join(dir2, 'konsil.db')));

    const usage = await konsil(['backup']);
    assert.equal(usage.code, 2);
    const missing = await konsil(['backup', path.join(dir, 'x.db'), '--db', path.join(dir, 'none.db')]);
    assert.equal(missing.code, 1);
    assert.ok(!fs.existsSync(path.join(dir, 'x.db')));
  } finally {
    await srv.stop();
  }
});

test('konsil check finds a gap, a wrong milestone and an altered audit entry; restore refuses them', async () => {
  const dir = tempDir();
  const srv = await startProtocolServer({ dir, templates: { list: { list: [] } }, args: ['--milestone-every', '5'] });
  let d;
  try {
    d = await srv.newDoc('list');
    const client = await srv.stock();
    const doc = client.connection.get('cases', d);
    await c.subscribe(doc);
    for (let i = 0; i < 30; i++) await c.submit(doc, [{ p: ['list', 0], li: `item ${i}` }]);
    client.close();
  } finally {
    await srv.stop();
  }
  const good = path.join(dir, 'good.db');
  assert.equal((await konsil(['backup', good, '--db', srv.db])).code, 0);
  const ok = await konsil(['check', '--db', good]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^op log: 1 documents, 31 ops, [1-9]\d* milestones: ok$/m);

  const damaged = async (name, query, expect) => {
    const file = path.join(dir, `${name}.db`);
    fs.copyFileSync(good, file);
    sql(file, query);
    const res = await konsil(['check', '--db', file]);
    assert.equal(res.code, 1, `${name}: ${res.stdout}`);
    assert.match(res.stdout, expect, name);
    assert.match(res.stdout, /^\d+ problems?$/m);
    const target = path.join(tempDir(), 'konsil.db');
    const restore = await konsil(['restore', file, '--db', target]);
    assert.equal(restore.code, 1, `${name} is not restored`);
    assert.match(restore.stderr, /does not pass the check: nothing restored/);
    assert.ok(!fs.existsSync(target));
  };
  await damaged('gap', `DELETE FROM ops WHERE doc = '${d}' AND v = 7`,
                new RegExp(`^PROBLEM: op log of ${d}: v8 follows v6 \\(a gap\\)$`, 'm'));
  await damaged('start', `DELETE FROM ops WHERE doc = '${d}' AND v = 0`,
                new RegExp(`^PROBLEM: op log of ${d} starts at v1, not at v0$`, 'm'));
  await damaged('milestone', `UPDATE milestones SET data = json_set(data, '$.list[0]', 'changed') WHERE doc = '${d}' AND v = (SELECT max(v) FROM milestones WHERE doc = '${d}')`,
                /^PROBLEM: milestone .* differs from the document its ops rebuild$/m);
  await damaged('op', `UPDATE ops SET op = '[{"p":["list",99,"x"],"od":1}]' WHERE doc = '${d}' AND v = 3`,
                new RegExp(`^PROBLEM: op log of ${d}: v3 does not apply to the document before it`, 'm'));
  await damaged('audit', "UPDATE audit SET actor = 'someone else' WHERE seq = 2",
                /^audit: BROKEN at seq 2$/m);
});

test('encrypted at rest: the backup holds no key store; check and restore pair it with the current one', async () => {
  const crypto = require('node:crypto');
  const dir = tempDir();
  const key = path.join(dir, 'master.key');
  fs.writeFileSync(key, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
  const accounts = newAccounts();
  const srv = await startProtocolServer({ dir, accounts, templates: { list: { list: [] } }, args: ['--master-key-file', key] });
  let keep;
  let erase;
  try {
    keep = await srv.newDoc('list', { title: 'keep' });
    erase = await srv.newDoc('list', { title: 'erase' });
    const client = await srv.stock();
    for (const d of [keep, erase]) {
      const doc = client.connection.get('cases', d);
      await c.subscribe(doc);
      for (let i = 0; i < 12; i++) await c.submit(doc, [{ p: ['list', 0], li: `Geheimnis ${d} ${i}` }]);
    }
    client.close();
  } finally {
    await srv.stop();
  }
  const keys = `${srv.db}.keys`;
  const file = path.join(dir, 'backup.db');
  const backup = await konsil(['backup', file, '--db', srv.db]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stdout, /^key store: its case data is sealed under key store [0-9a-f]{32} \(generation \d+\), which is not in this copy/m);
  assert.equal(fs.readFileSync(file).includes('Geheimnis'), false, 'the copy holds no case text in the clear');
  // Alone: versions and times checked, sealed contents not.
  let check = await konsil(['check', '--db', file]);
  assert.equal(check.code, 0, check.stdout);
  assert.match(check.stdout, /^key store: .*backup\.db\.keys is not there/m);
  assert.match(check.stdout, /^op log: 2 documents, \d+ ops, \d+ milestones: ok \(the sealed contents of 2 documents not checked\)$/m);
  // With the key store and the master key: everything.
  check = await konsil(['check', '--db', file, '--keys', keys, '--master-key-file', key]);
  assert.equal(check.code, 0, check.stdout);
  assert.match(check.stdout, /^key store: .* this database's$/m);
  assert.match(check.stdout, /^op log: 2 documents, \d+ ops, \d+ milestones: ok$/m);

  // One case is erased after the backup: its key goes from the (current) key store.
  addUser(srv.db, 'zweite', 'counsellor', 'zweite-pw');
  const erased = await konsil(['case', 'erase', erase, '--reason', 'request of the client', '--confirmed-by', 'zweite', '--db', srv.db]);
  assert.equal(erased.code, 0, erased.stderr);
  // Restored with the current key store: the erased case's key is gone, and said so.
  const dir2 = tempDir();
  const db2 = path.join(dir2, 'konsil.db');
  const restore = await konsil(['restore', file, '--db', db2, '--keys', keys, '--master-key-file', key]);
  assert.equal(restore.code, 0, restore.stdout + restore.stderr);
  assert.match(restore.stdout, /^keys gone: 1 case \(/m);
  assert.match(restore.stdout, /^key store: its case data is sealed under key store [0-9a-f]{32}: serve it with --keys \S+konsil\.db\.keys and the master key$/m);
  const srv2 = await startProtocolServer({ dir: dir2, db: db2, accounts, templates: { list: { list: [] } }, args: ['--master-key-file', key, '--keys', keys] });
  try {
    const reader = await srv2.stock();
    const doc = reader.connection.get('cases', keep);
    await c.fetch(doc);
    assert.equal(doc.data.list.length, 12, 'the kept case is whole');
    reader.close();
  } finally {
    await srv2.stop();
  }
  assert.equal(sql(db2, `SELECT count(*) FROM ops WHERE doc = '${erase}'`), '0', 'what was left of the erased case is gone');
  // A key store of another database is refused.
  const other = tempDir();
  const otherSrv = await startProtocolServer({ dir: other, templates: { list: { list: [] } }, args: ['--master-key-file', key] });
  await otherSrv.stop();
  const wrong = await konsil(['restore', file, '--db', path.join(tempDir(), 'konsil.db'), '--keys', `${otherSrv.db}.keys`]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /PROBLEM: this database's case data is encrypted under key store/);
});

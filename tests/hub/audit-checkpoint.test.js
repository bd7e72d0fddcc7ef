'use strict';
// `konsil audit head` and `konsil audit verify --checkpoint` on a trail a real
// `konsil serve` wrote (logins, a session, reads over /ws, history and snapshot reads, an
// export), tampered with as someone who can write the database would: with the sqlite3
// tool, and by recomputing the chain the way src/auth/audit.c does (protocol/access.md,
// "The audit chain"). Cutting entries from the end and removing entries with the chain
// recomputed leave a chain that plain `verify` finds intact; that is why the checkpoint
// exists, and it must fail on each, while entries added after it pass.
const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const { startServer, sql, binary } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login } = require('./lib/auth');

function konsil(args) {
  const r = spawnSync(binary(), args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const verify = (db, checkpoint) =>
  konsil(['audit', 'verify', ...(checkpoint === undefined ? [] : ['--checkpoint', checkpoint]), '--db', db]);

// The rows in seq order, as stored.
function rows(db) {
  const out = execFileSync('sqlite3', ['-json', db,
    'SELECT seq, ts, actor, action, session, details, prev_hash, hash, format, content_hash, nonce FROM audit ORDER BY seq'],
  { encoding: 'utf8' }).trim();
  return out ? JSON.parse(out) : [];
}

// The canonical form of protocol/access.md: keys in UTF-8 byte order, no spaces, `"`,
// `\` and control characters escaped, integers in plain decimal. (The trail written here
// holds no other numbers; one would stop the test rather than be hashed wrongly.)
function canonString(s) {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (code < 0x20) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}
function canonValue(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[' + v.map(canonValue).join(',') + ']';
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return '{' + keys.map((k) => canonString(k) + ':' + canonValue(v[k])).join(',') + '}';
  }
  if (typeof v === 'string') return canonString(v);
  if (typeof v === 'boolean') return String(v);
  if (Number.isSafeInteger(v)) return String(v);
  throw new Error(`the test's canonical form knows integers only, not ${v}`);
}
// Format 2 (every entry from schema 6 on): the chain runs over a hash of the content.
function entryHash(prevHash, row) {
  if (row.format === 2) {
    const content = `{"action":${canonString(row.action)},"actor":${canonString(row.actor)},` +
      `"details":${row.details === null ? 'null' : canonValue(JSON.parse(row.details))},` +
      `"nonce":${canonString(row.nonce)},"session":${row.session === null ? 'null' : canonString(row.session)}}`;
    const contentHash = crypto.createHash('sha256').update(content).digest('hex');
    assert.equal(contentHash, row.content_hash, `content hash of seq ${row.seq}`);
    const link = `{"content":"${contentHash}","seq":${row.seq},"ts":${row.ts},"v":2}`;
    return crypto.createHash('sha256').update(prevHash + link).digest('hex');
  }
  const canonical = `{"action":${canonString(row.action)},"actor":${canonString(row.actor)},` +
    `"details":${row.details === null ? 'null' : canonValue(JSON.parse(row.details))},` +
    `"seq":${row.seq},"session":${row.session === null ? 'null' : canonString(row.session)},` +
    `"ts":${row.ts},"v":1}`;
  return crypto.createHash('sha256').update(prevHash + canonical).digest('hex');
}

// Rewrites the table as the rows given, renumbered 1, 2, … and every hash recomputed.
function recompute(db, kept) {
  let prev = '0'.repeat(64);
  const script = ['BEGIN;', 'DELETE FROM audit;'];
  kept.forEach((row, i) => {
    const r = { ...row, seq: i + 1, format: 1 };
    const hash = entryHash(prev, r);
    const q = (v) => (v === null ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`);
    script.push(`INSERT INTO audit (seq, ts, actor, action, session, details, prev_hash, hash) VALUES (${r.seq}, ${r.ts}, ${q(r.actor)}, ${q(r.action)}, ${q(r.session)}, ${q(r.details)}, '${prev}', '${hash}');`);
    prev = hash;
  });
  script.push('COMMIT;');
  execFileSync('sqlite3', [db], { input: script.join('\n') });
}

const isRead = (row) => /\.read(\.|$)/.test(row.action) || row.action === 'export';

// One trail for every case below: written by a real server, then copied per case.
const trail = {};
before(async () => {
  const srv = await startServer();
  let session;
  try {
    addUser(srv.db, 'lena', 'counsellor', 'pw-lena', 'debt');
    const cookie = await login(srv, 'lena', 'pw-lena');
    const created = await api(srv, 'POST', '/api/sessions', { cookie, body: { title: 'Fall' } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    session = created.json.id;
    const client = c.stockClient(srv.url, { cookie });
    await c.fetch(client.connection.get('cases', created.json.case_id));
    client.close();
    assert.equal((await api(srv, 'GET', `/api/sessions/${session}/history?from=0`, { cookie })).status, 200);
    assert.equal((await api(srv, 'GET', `/api/sessions/${session}/snapshot?v=1`, { cookie })).status, 200);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  execFileSync(binary(), ['export', session, '--db', srv.db], { stdio: 'ignore' });
  trail.dir = srv.dir;
  trail.db = srv.db;
  trail.rows = rows(srv.db);
  trail.n = trail.rows.length;
  trail.reads = trail.rows.filter(isRead);
  trail.last = trail.rows[trail.n - 1].hash;
  const head = konsil(['audit', 'head', '--db', srv.db]);
  assert.equal(head.code, 0, head.err);
  trail.printed = head.out;
  trail.checkpoint = head.out.trim(); // what "$(konsil audit head)" hands on
});

function copy(name) {
  const f = path.join(trail.dir, name);
  fs.copyFileSync(trail.db, f);
  return f;
}

function failsCheckpoint(db, why) {
  const v = verify(db, trail.checkpoint);
  assert.equal(v.code, 1, v.out + v.err);
  assert.match(v.out, /^BROKEN at seq \d+: /);
  assert.match(v.err, why);
  return v;
}

test('the trail holds every kind of read, and the recomputation here is konsil\'s', () => {
  for (const action of ['session.read.open', 'history.read', 'snapshot.read', 'export'])
    assert.ok(trail.reads.some((r) => r.action === action), `no ${action} in ${trail.rows.map((r) => r.action)}`);
  let prev = '0'.repeat(64);
  for (const row of trail.rows) {
    assert.equal(row.prev_hash, prev, `seq ${row.seq}`);
    assert.equal(entryHash(prev, row), row.hash, `seq ${row.seq} (${row.action})`);
    prev = row.hash;
  }
});

test('audit head prints one line: the entry count and the last hash', () => {
  assert.equal(trail.printed, `konsil-audit-head v1 entries=${trail.n} hash=${trail.last}\n`);
});

test('verify --checkpoint: the intact trail, the line exactly as printed or as the shell hands it on', () => {
  for (const line of [trail.printed, trail.checkpoint]) {
    const v = verify(trail.db, line);
    assert.equal(v.code, 0, v.err);
    assert.equal(v.out, `intact: ${trail.n} entries, head ${trail.last} (checkpoint of ${trail.n} entries holds)\n`);
    assert.equal(v.err, '');
  }
});

test('the last entry deleted: verify alone says intact, the checkpoint fails', () => {
  const { n } = trail;
  const cut = copy('cut.db');
  sql(cut, 'DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)');
  let v = verify(cut);
  assert.equal(v.code, 0, v.out);
  assert.match(v.out, new RegExp(`^intact: ${n - 1} entries`));
  v = failsCheckpoint(cut, new RegExp(`holds ${n - 1} entries, fewer than the ${n} its checkpoint records`));
  assert.match(v.out, new RegExp(`^BROKEN at seq ${n}: `));
});

test('every entry deleted: verify alone says intact, the checkpoint fails', () => {
  const emptied = copy('emptied.db');
  sql(emptied, 'DELETE FROM audit');
  const v = verify(emptied);
  assert.equal(v.code, 0, v.out);
  assert.match(v.out, /^intact: 0 entries/);
  failsCheckpoint(emptied, new RegExp(`holds 0 entries, fewer than the ${trail.n}`));
});

test('every read entry deleted and the chain recomputed: verify alone says intact, the checkpoint fails', () => {
  const unread = copy('unread.db');
  recompute(unread, trail.rows.filter((r) => !isRead(r)));
  assert.equal(rows(unread).filter(isRead).length, 0);
  const v = verify(unread);
  assert.equal(v.code, 0, v.out);
  assert.match(v.out, new RegExp(`^intact: ${trail.n - trail.reads.length} entries`));
  failsCheckpoint(unread, /fewer than the \d+ its checkpoint records/);

  // ... and padded with made-up entries back past the checkpoint's length: its entry n
  // is not the one kept.
  const padded = copy('padded.db');
  const filler = { ts: trail.rows[trail.n - 1].ts, actor: '', action: 'login.failed', session: null, details: null };
  recompute(padded, [...trail.rows.filter((r) => !isRead(r)), ...Array(trail.reads.length + 2).fill(filler)]);
  assert.equal(verify(padded).code, 0);
  const p = failsCheckpoint(padded, new RegExp(`entry seq ${trail.n} differs from its checkpoint: the trail up to it was rewritten`));
  assert.match(p.out, new RegExp(`^BROKEN at seq ${trail.n}: `));
});

test('an entry before the checkpoint changed and the chain recomputed after it: the checkpoint fails', () => {
  const rewritten = copy('rewritten.db');
  recompute(rewritten, trail.rows.map((r) => (r.seq === 2 ? { ...r, actor: 'someone-else' } : r)));
  assert.equal(verify(rewritten).code, 0);
  failsCheckpoint(rewritten, new RegExp(`entry seq ${trail.n} differs from its checkpoint`));
});

test('entries appended after the checkpoint: it still holds, and the new head is the next to keep', () => {
  const grown = copy('grown.db');
  addUser(grown, 'mara', 'counsellor', 'pw-mara');
  const later = rows(grown);
  const head = later[later.length - 1].hash;
  assert.ok(later.length > trail.n);
  const v = verify(grown, trail.checkpoint);
  assert.equal(v.code, 0, v.err);
  assert.equal(v.out, `intact: ${later.length} entries, head ${head} (checkpoint of ${trail.n} entries holds)\n`);
  const next = konsil(['audit', 'head', '--db', grown]);
  assert.equal(next.out, `konsil-audit-head v1 entries=${later.length} hash=${head}\n`);
  assert.equal(verify(grown, next.out).code, 0);
});

test('a chain that does not verify has no head to keep', () => {
  const altered = copy('altered.db');
  sql(altered, "UPDATE audit SET actor = 'someone-else' WHERE seq = 2");
  const v = konsil(['audit', 'head', '--db', altered]);
  assert.equal(v.code, 1);
  assert.equal(v.out, '');
  assert.match(v.err, /does not verify, so it has no head to keep: BROKEN at seq 2: .*altered/);
});

test('a checkpoint that is not a head line is a usage error; a missing database is not created', () => {
  const { checkpoint } = trail;
  for (const bad of ['', 'intact', checkpoint.replace(' v1 ', ' v2 '), checkpoint + ' x',
    checkpoint.replace(/hash=(.)/, 'hash=X'), checkpoint.replace('entries=', 'entries=0')]) {
    const v = verify(trail.db, bad);
    assert.equal(v.code, 2, `${bad}: ${v.out}`);
    assert.equal(v.out, '');
    assert.match(v.err, /^konsil audit verify: --checkpoint: /);
  }
  const missing = path.join(trail.dir, 'missing.db');
  for (const args of [['audit', 'head', '--db', missing], ['audit', 'verify', '--db', missing]]) {
    const v = konsil(args);
    assert.equal(v.code, 1);
    assert.match(v.err, /missing\.db/);
  }
  assert.ok(!fs.existsSync(missing));
});

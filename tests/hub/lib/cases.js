'use strict';
// What the retention, erasure and encryption suites share: a master key file, accounts
// and logins, a case made over REST with text written into it over /ws, a client joined
// by link, and whether a marker appears in a file.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const c = require('./clients');
const { binary } = require('./server');
const { addUser, api, login, cookieOf } = require('./auth');

// A fresh master key file (mode 0600) in dir; its path.
function masterKey(dir, name = 'master.key') {
  const file = path.join(dir, name);
  fs.writeFileSync(file, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

function konsil(args, input) {
  const r = spawnSync(binary(), args, { encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// Accounts on srv's database: lead, other (a second counsellor), sup, admin.
async function people(srv) {
  addUser(srv.db, 'lead', 'counsellor', 'pw-lead', 'debt');
  addUser(srv.db, 'other', 'counsellor', 'pw-other', 'housing');
  addUser(srv.db, 'sup', 'supervisor', 'pw-sup');
  addUser(srv.db, 'admin', 'admin', 'pw-admin');
  const cookies = {};
  Object.defineProperty(cookies, 'ids', { value: {}, enumerable: false });
  for (const name of ['lead', 'other', 'sup', 'admin']) {
    cookies[name] = await login(srv, name, `pw-${name}`);
    cookies.ids[name] = (await api(srv, 'GET', '/api/me', { cookie: cookies[name] })).json.id;
  }
  return cookies;
}

function raw(srv, cookie) {
  return new c.RawClient(srv.url, { ws: { headers: { Cookie: cookie } } });
}

// Subscribes over a fresh raw connection: {r, data, v}, or {error}.
async function subscribed(srv, cookie, doc) {
  const r = raw(srv, cookie);
  await r.handshake();
  r.send({ a: 's', c: 'cases', d: doc });
  const s = await r.next((m) => m.a === 's');
  if (s.error) {
    await r.close();
    return { error: s.error };
  }
  return { r, data: s.data.data, v: s.data.v };
}

// Submits op as cookie on doc; the ack (or refusal).
async function submit(srv, cookie, doc, op) {
  const { r, v, error } = await subscribed(srv, cookie, doc);
  assert.equal(error, undefined, JSON.stringify(error));
  r.send({ a: 'op', c: 'cases', d: doc, v, seq: 1, op });
  const reply = await r.next((m) => m.a === 'op' && m.seq === 1);
  await r.close();
  return reply;
}

// A case with a running session: {caseId, session}; with the lead's text (marker) in
// concern.own_words and an internal note, and the team given.
async function caseWithText(srv, cookies, { title, marker, note, template, team = [] }) {
  const created = await api(srv, 'POST', '/api/sessions', { cookie: cookies.lead, body: { title, template } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const caseId = created.json.case_id;
  for (const username of team) {
    const added = await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie: cookies.lead, body: { username } });
    assert.equal(added.status, 201, JSON.stringify(added.json));
  }
  if (marker) {
    const ack = await submit(srv, cookies.lead, caseId, [{ p: ['concern', 'own_words', 0], si: marker }]);
    assert.equal(ack.error, undefined, JSON.stringify(ack));
  }
  if (note) {
    const ack = await submit(srv, cookies.lead, caseId, [{ p: ['internal', 'notes', 0], li: { text: note } }]);
    assert.equal(ack.error, undefined, JSON.stringify(ack));
  }
  return { caseId, session: created.json.id };
}

// A client joined to session by a fresh link: its cookie and id.
async function joinClient(srv, cookies, session, displayName) {
  const link = await api(srv, 'POST', `/api/sessions/${session}/links`, { cookie: cookies.lead, body: { expires_in_s: 600 } });
  assert.equal(link.status, 201, JSON.stringify(link.json));
  const joined = await api(srv, 'POST', '/api/join', { body: { token: link.json.token, display_name: displayName } });
  assert.equal(joined.status, 200, JSON.stringify(joined.json));
  const cookie = cookieOf(joined);
  const me = await api(srv, 'GET', '/api/me', { cookie });
  return { cookie, id: me.json.id };
}

// The sqlite3 tool on a database the server may be writing: it waits for the lock (the
// server's retention job writes every second) instead of failing at once.
function sql(db, query) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, query], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
}

// The files SQLite keeps a database in: the file itself and its WAL.
function dbFiles(db) {
  return [db, `${db}-wal`].filter((f) => fs.existsSync(f));
}

// Whether text appears (as UTF-8) in any of the files.
function inFiles(files, text) {
  const needle = Buffer.from(text, 'utf8');
  return files.filter((f) => fs.readFileSync(f).includes(needle));
}

module.exports = { sql, masterKey, konsil, people, raw, subscribed, submit, caseWithText, joinClient, dbFiles, inFiles };

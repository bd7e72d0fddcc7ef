'use strict';
// The protocol suites on real logins: a `konsil serve` with accounts, case sheets made
// through POST /api/cases from test templates (a root rule that lets counsellors and
// clients read and write everything, so the protocol is what is tested), and the stock
// sharedb client or a raw client on each account's login cookie.
//
//   const p = await startProtocolServer({ templates: { counter: { n: 0 } }, args, asan });
//   const id = await p.newDoc('counter', { members: ['bob'] });  // at version 1: { n: 0 }
//   const client = await p.stock('alice');                         // logged in as alice
//   const raw = await p.raw();                                     // as `dev`
//
// Accounts are counsellors, made on first use (`konsil user add`); `dev` is the default
// principal and the creator (lead) of every document unless `lead` says otherwise. A
// server started again on the same database gets the same `accounts` object: accounts
// and login sessions live in the database and survive the restart.
const fs = require('node:fs');
const path = require('node:path');
const { startServer, tempDir } = require('./server');
const { addUser } = require('./auth');
const { loginAs, call } = require('./adversary');
const c = require('./clients');

const PASSWORD = 'protocol-pw';

// A template whose root rule lets every participant read and write everything.
function openTemplate(name, document) {
  return {
    name,
    title: `Protocol test: ${name}`,
    document,
    rules: [{ path: [], read: ['client', 'counsellor', 'supervisor'], write: ['client', 'counsellor'] }],
  };
}

// Accounts known to a database (pass one to every start on the same database).
function newAccounts() {
  return { cookies: new Map(), ids: new Map() };
}

async function startProtocolServer({ templates = {}, args = [], accounts = newAccounts(), ...opts } = {}) {
  const dir = opts.dir || tempDir();
  const tdir = path.join(dir, 'templates');
  fs.mkdirSync(tdir, { recursive: true });
  for (const [name, document] of Object.entries(templates)) {
    fs.writeFileSync(path.join(tdir, `${name}.json`), JSON.stringify(openTemplate(name, document)));
  }
  const srv = await startServer({ ...opts, dir, args: ['--templates', tdir, ...args] });
  const tls = srv.httpUrl.startsWith('https:');
  const { cookies, ids } = accounts;

  async function cookie(name = 'dev') {
    if (!cookies.has(name)) {
      if (!ids.has(name)) {
        ids.set(name, addUser(srv.db, name, 'counsellor', PASSWORD));
      }
      cookies.set(name, await loginAs(srv, name, PASSWORD));
    }
    return cookies.get(name);
  }

  return Object.assign(srv, {
    cookie,
    // The principal id of an account, as `GET /api/me` shows it (and ops carry).
    async id(name = 'dev') {
      await cookie(name);
      return ids.get(name);
    },
    // A new case from template `name`: its case sheet (document id = case id) is at
    // version 1, holding the template's document; `members` join its team besides the
    // lead. Resolves with its id.
    async newDoc(name, { lead = 'dev', members = [], title = name } = {}) {
      const lc = await cookie(lead);
      const res = await call(srv, 'POST', '/api/cases', lc, { title, template: name });
      if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${res.text}`);
      for (const m of members) {
        await cookie(m);
        const add = await call(srv, 'POST', `/api/cases/${res.json.id}/team`, lc, { username: m });
        if (add.status !== 201) throw new Error(`add ${m}: ${add.status} ${add.text}`);
      }
      return res.json.id;
    },
    async stock(name = 'dev') {
      return c.stockClient(srv.url, { cookie: await cookie(name), tls });
    },
    async raw(name = 'dev', ws = {}) {
      const headers = { Cookie: await cookie(name), ...(ws.headers || {}) };
      return new c.RawClient(srv.url, { ws: { ...(tls ? { rejectUnauthorized: false } : {}), ...ws, headers } });
    },
  });
}

module.exports = { startProtocolServer, openTemplate, newAccounts };

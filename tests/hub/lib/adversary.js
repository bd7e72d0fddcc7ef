'use strict';
// Tools for the adversarial suite: HTTP requests with full control over headers and the
// source address (any 127.x.y.z reaches a server on 127.0.0.1, and the server sees that
// address), the server's resident memory, and an honest pair of participants whose
// edits must keep flowing while an attack runs.
const http = require('node:http');
const net = require('node:net');
const https = require('node:https');
const fs = require('node:fs');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const c = require('./clients');
const { addUser } = require('./auth');

// One HTTP request. Resolves with {status, headers, text, json}; never rejects on a
// network error (the result is {error}).
function request(srv, { method = 'GET', path = '/', headers = {}, body, localAddress, tls } = {}) {
  return new Promise((resolve) => {
    const lib = tls ? https : http;
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const h = { ...headers };
    if (data !== undefined) h['Content-Length'] = Buffer.byteLength(data);
    const req = lib.request({ host: '127.0.0.1', port: srv.port, method, path, headers: h, localAddress,
                              agent: false, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', (error) => resolve({ error }));
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// VmRSS of a process in KiB.
function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

// Open descriptors of a process.
function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

// CPU time (user + system) of a process in ms, in clock ticks of 10 ms.
function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

// Bytes of a SQLite database on disk: the file, its WAL and its shared memory.
function dbBytes(db) {
  let n = 0;
  for (const f of [db, `${db}-wal`, `${db}-shm`]) {
    try { n += fs.statSync(f).size; } catch (e) { /* absent */ }
  }
  return n;
}

// A raw protocol client on a login cookie.
function rawAs(srv, cookie) {
  return new c.RawClient(srv.url, { ws: { headers: { Cookie: cookie }, ...(isTls(srv) ? { rejectUnauthorized: false } : {}) } });
}

// Joins by a link's token; resolves with the client's Cookie header value.
async function joinCookie(srv, token, localAddress) {
  const res = await request(srv, { method: 'POST', path: '/api/join', localAddress,
                                   headers: { 'Content-Type': 'application/json' }, body: { token } });
  assert.equal(res.status, 200, res.text);
  return /^[^;]*/.exec(res.headers['set-cookie'][0])[0];
}

// Sends ops (message objects) on a raw client and resolves with the reply to each, by
// seq, in order (an ack or an error).
async function submitAll(raw, ops) {
  for (const op of ops) raw.send(op);
  const replies = [];
  for (const op of ops) replies.push(await raw.next((m) => m.a === 'op' && m.seq === op.seq && (m.error || !m.op), 60000));
  return replies;
}

// Logs in over HTTP(S) (`request`, so self-signed TLS works too); resolves with the
// Cookie header value, e.g. `konsil_session=…` (`__Host-konsil_session=…` over https).
async function loginAs(srv, username, password, extra = {}) {
  const res = await request(srv, { method: 'POST', path: '/api/login', tls: isTls(srv),
                                   headers: { 'Content-Type': 'application/json' },
                                   body: { username, password }, ...extra });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${res.text || res.error}`);
  const m = /^((?:__Host-)?konsil_session)=([^;]*)/.exec((res.headers['set-cookie'] || [])[0] || '');
  return `${m[1]}=${m[2]}`;
}

function isTls(srv) {
  return srv.httpUrl.startsWith('https:');
}

// A JSON call with a cookie (over https too).
function call(srv, method, path, cookie, body, extra = {}) {
  return request(srv, { method, path, tls: isTls(srv), body,
                        headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
                        ...extra });
}

// An honest pair: `hana` leads a case with a running session, `hugo` is in its team.
// check() logs both in anew,
// connects both to /ws, has hana edit and waits until hugo sees the edit: the proof that
// the service still works for people who are not attacking it.
async function honestPair(srv, { password = 'honest-pw' } = {}) {
  addUser(srv.db, 'hana', 'counsellor', password, 'debt');
  addUser(srv.db, 'hugo', 'counsellor', password, 'housing');
  const lead = await loginAs(srv, 'hana', password);
  let res = await call(srv, 'POST', '/api/sessions', lead, { title: 'Ehrlicher Fall' });
  assert.equal(res.status, 201, res.text);
  const session = res.json.id;
  const doc = res.json.case_id;
  res = await call(srv, 'POST', `/api/sessions/${session}/participants`, lead, { username: 'hugo' });
  assert.equal(res.status, 201, res.text);
  let round = 0;
  return {
    session,
    doc,
    password,
    async check() {
      round++;
      const a = await loginAs(srv, 'hana', password);
      const b = await loginAs(srv, 'hugo', password);
      const ca = c.stockClient(srv.url, { cookie: a, tls: isTls(srv) });
      const cb = c.stockClient(srv.url, { cookie: b, tls: isTls(srv) });
      try {
        const da = ca.connection.get('cases', doc);
        const db = cb.connection.get('cases', doc);
        await c.subscribe(da);
        await c.subscribe(db);
        const marker = `[honest ${round}]`;
        const seen = new Promise((resolve) => {
          const look = () => {
            if (db.data.concern.own_words.includes(marker)) {
              db.removeListener('op', look);
              resolve();
            }
          };
          db.on('op', look);
        });
        await c.submit(da, [{ p: ['concern', 'own_words', 0], si: marker }]);
        await seen;
        assert.ok(db.data.concern.own_words.startsWith(marker));
        assert.equal(db.data.concern.own_words, da.data.concern.own_words);
      } finally {
        ca.close();
        cb.close();
      }
    },
  };
}

// A WebSocket upgrade with the given headers; resolves with {status: 101, ws} or the
// refusal's {status, json}.
function upgrade(srv, headers, opts = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(srv.url, { headers, rejectUnauthorized: false, ...opts });
    ws.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, json });
      });
    });
    ws.on('open', () => { resolve({ status: 101, ws }); });
    ws.on('error', (error) => resolve({ status: 'error', error }));
  });
}

// A raw client subscribed to doc; resolves with {r, v, data}.
async function subscribedRaw(srv, cookie, doc) {
  const r = rawAs(srv, cookie);
  await r.handshake();
  r.send({ a: 's', c: 'cases', d: doc });
  const s = await r.next((m) => m.a === 's');
  assert.equal(s.error, undefined, JSON.stringify(s.error));
  return { r, v: s.data.v, data: s.data.data };
}

// A session's client: a link from the lead, joined from localAddress.
async function clientOf(srv, lead, session, localAddress = '127.0.0.20') {
  const link = await call(srv, 'POST', `/api/sessions/${session}/links`, lead, { expires_in_s: 3600 });
  assert.equal(link.status, 201, link.text);
  return { cookie: await joinCookie(srv, link.json.token, localAddress), link: link.json };
}

// How many replies carry each error code (`ok`: none).
function codes(replies) {
  const out = {};
  for (const m of replies) {
    const k = m.error ? m.error.code : 'ok';
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

// `count` login attempts with distinct usernames (`${prefix}${i}`) and a wrong password,
// from localAddress, over `sockets` keep-alive connections (one request in flight on
// each). Resolves with the count of each status.
function loginFlood(srv, { count, prefix = 'u', sockets = 8, localAddress }) {
  let next = 0;
  const statuses = {};
  const one = () => new Promise((resolve) => {
    const s = net.connect({ port: srv.port, host: '127.0.0.1', localAddress });
    let buf = Buffer.alloc(0);
    s.setNoDelay(true);
    const send = () => {
      if (next >= count) {
        s.end();
        return;
      }
      const body = `{"username":"${prefix}${next++}","password":"wrong"}`;
      s.write(`POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
              `Content-Length: ${body.length}\r\n\r\n${body}`);
    };
    s.on('connect', send);
    s.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      for (;;) {
        const he = buf.indexOf('\r\n\r\n');
        if (he < 0) break;
        const head = buf.toString('latin1', 0, he);
        const m = /content-length: (\d+)/i.exec(head);
        const end = he + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < end) break;
        const status = head.slice(9, 12);
        statuses[status] = (statuses[status] || 0) + 1;
        buf = buf.subarray(end);
        send();
      }
    });
    s.on('error', () => {
      statuses.error = (statuses.error || 0) + 1;
      resolve();
    });
    s.on('close', resolve);
  });
  return Promise.all(Array.from({ length: sockets }, one)).then(() => statuses);
}

module.exports = { loginFlood, request, call, loginAs, rssKiB, fdCount, cpuMs, dbBytes, rawAs, joinCookie,
                   submitAll, upgrade, subscribedRaw, clientOf, codes, honestPair };

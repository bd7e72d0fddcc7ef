'use strict';
// What an operator watches: /metrics in Prometheus text format, parsed with a
// Prometheus text parser (npm parse-prometheus-text-format) and checked for its
// families, types and the figures the test caused (ops committed, commits and fsyncs
// measured, a failed login, limits hit, closes by code); /metrics only to the networks
// of --metrics-allow and never through a proxy; /healthz and /readyz; logs as JSON lines
// with levels. And the logs hold no personal data: a distinctive name, phone number and
// address typed through every channel (login username, join display name, ops, chat,
// REST bodies, errors, refused ops, malformed messages, paths, presence, accounts and
// passwords, the reasons of holds, restrictions and erasures), with tokens and cookies
// besides, appear nowhere in a debug-level log.
const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const parsePrometheus = require('parse-prometheus-text-format');
const { startServer } = require('./lib/server');
const { addUser, api, login, cookieOf } = require('./lib/auth');
const { request } = require('./lib/adversary');
const c = require('./lib/clients');

const NAME = 'Anneliese Wurzelberger-Okonkwo';
const PHONE = '+49 1512 3456789';
const STREET = 'Kastanienallee 117b';
const SECRETS = [NAME, 'Wurzelberger', 'Okonkwo', PHONE, '3456789', STREET, 'Kastanienallee'];

function metricsOf(text) {
  const families = parsePrometheus(text);
  return new Map(families.map((f) => [f.name, f]));
}

function value(families, name, labels = {}) {
  const f = families.get(name);
  assert.ok(f, `${name} is exposed`);
  const m = f.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels && s.labels[k] === v));
  assert.ok(m, `${name} ${JSON.stringify(labels)}`);
  return Number(m.value);
}

async function scrape(srv, opts = {}) {
  const res = await request(srv, { path: '/metrics', ...opts });
  return res;
}

test('/metrics parses as Prometheus text and counts what happened', async () => {
  const srv = await startServer({ args: ['--max-body', '2K', '--max-message', '4K'] });
  try {
    addUser(srv.db, 'mia', 'counsellor', 'mia-password');
    const cookie = await login(srv, 'mia', 'mia-password');
    assert.equal((await api(srv, 'POST', '/api/login', { body: { username: 'mia', password: 'wrong' } })).status, 401);
    const created = await api(srv, 'POST', '/api/cases', { cookie, body: { title: 'Metrics' } });
    assert.equal(created.status, 201);
    const client = c.stockClient(srv.url, { cookie });
    const doc = client.connection.get('cases', created.json.id);
    await c.subscribe(doc);
    for (let i = 0; i < 20; i++) await c.submit(doc, [{ p: ['concern', 'topics', 0], li: `topic ${i}` }]);
    // Limits: a body over --max-body, a message over --max-message.
    assert.equal((await api(srv, 'POST', '/api/login', { raw: JSON.stringify({ username: 'x'.repeat(3000) }) })).status, 413);
    const big = new WebSocket(srv.url, { headers: { Cookie: cookie } });
    await new Promise((r) => big.on('open', r));
    big.send('x'.repeat(8000));
    const closed = await new Promise((r) => big.on('close', (code) => r(code)));
    assert.equal(closed, 1009);

    const res = await scrape(srv);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const m = metricsOf(res.text);
    const types = {
      konsil_connections: 'GAUGE', konsil_rooms: 'GAUGE', konsil_ops_committed_total: 'COUNTER',
      konsil_commit_seconds: 'HISTOGRAM', konsil_fsync_seconds: 'HISTOGRAM',
      konsil_commit_batch_size: 'HISTOGRAM', konsil_store_queue_jobs: 'GAUGE',
      konsil_login_failures_total: 'COUNTER', konsil_limit_hits_total: 'COUNTER',
      konsil_websocket_closes_total: 'COUNTER', konsil_ready: 'GAUGE', konsil_outq_bytes: 'GAUGE',
      konsil_ops_uncommitted: 'GAUGE', konsil_http_responses_total: 'COUNTER',
    };
    for (const [name, type] of Object.entries(types)) {
      assert.equal(m.get(name)?.type, type, `${name} is a ${type}`);
      assert.ok(m.get(name).help, `${name} has help`);
    }
    for (const f of m.values()) {
      for (const s of f.metrics) {
        const vals = f.type === 'HISTOGRAM' ? [s.count, s.sum, ...Object.values(s.buckets)] : [s.value];
        for (const v of vals) assert.ok(Number.isFinite(Number(v)), `${f.name} has numbers`);
      }
    }
    // The 20 edits, at least, were committed and measured.
    assert.ok(value(m, 'konsil_ops_committed_total') >= 20);
    for (const h of ['konsil_commit_seconds', 'konsil_fsync_seconds', 'konsil_commit_batch_size']) {
      const s = m.get(h).metrics[0];
      const bounds = Object.keys(s.buckets).sort((a, b) => Number(a) - Number(b));
      assert.ok(bounds.length >= 8, `${h} has buckets`);
      let prev = 0;
      for (const b of bounds) {
        assert.ok(Number(s.buckets[b]) >= prev, `${h} buckets are cumulative`);
        prev = Number(s.buckets[b]);
      }
      assert.ok(Number(s.count) >= prev, `${h}: the count holds every bucket`);
      assert.ok(Number(s.count) > 0, `${h} observed something`);
    }
    assert.equal(value(m, 'konsil_login_failures_total'), 1);
    assert.ok(value(m, 'konsil_logins_total') >= 1);
    assert.equal(value(m, 'konsil_limit_hits_total', { limit: 'max-body' }), 1);
    assert.equal(value(m, 'konsil_limit_hits_total', { limit: 'max-message' }), 1);
    assert.equal(value(m, 'konsil_websocket_closes_total', { code: '1009' }), 1);
    assert.equal(value(m, 'konsil_connections', { state: 'websocket' }), 1);
    assert.equal(value(m, 'konsil_rooms'), 1);
    assert.equal(value(m, 'konsil_ready'), 1);
    assert.ok(value(m, 'konsil_http_responses_total', { class: '4xx' }) >= 2);
    client.close();
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('/metrics only to --metrics-allow, never through a proxy; /healthz and /readyz for everyone', async () => {
  const srv = await startServer({ args: ['--metrics-allow', '127.0.0.1/32'] });
  try {
    assert.equal((await scrape(srv)).status, 200);
    // 127.0.0.2 reaches the server too, but is not in the list.
    const other = await scrape(srv, { localAddress: '127.0.0.2' });
    assert.equal(other.status, 403);
    assert.equal(other.json.error.code, 'forbidden');
    for (const h of ['X-Forwarded-For', 'X-Real-IP', 'Forwarded']) {
      const res = await scrape(srv, { headers: { [h]: h === 'Forwarded' ? 'for=203.0.113.9' : '203.0.113.9' } });
      assert.equal(res.status, 403, `${h}: a proxied scrape is refused`);
    }
    assert.equal((await scrape(srv, { method: 'POST' })).status, 405);
    for (const addr of ['127.0.0.1', '127.0.0.2']) {
      const health = await request(srv, { path: '/healthz', localAddress: addr });
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { status: 'alive' });
      const ready = await request(srv, { path: '/readyz', localAddress: addr });
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { status: 'ready' });
    }
  } finally {
    await srv.stop();
  }
  const none = await startServer({ args: ['--metrics-allow', '10.0.0.0/8'] });
  try {
    assert.equal((await scrape(none)).status, 403, 'loopback is not in the list');
  } finally {
    await none.stop();
  }
});

test('bad --metrics-allow, --log-format and --log-level values stop the start', () => {
  const { spawnSync } = require('node:child_process');
  const { binary } = require('./lib/server');
  for (const args of [['--metrics-allow', '10.0.0.1/8'], ['--metrics-allow', 'localhost'],
                      ['--log-format', 'xml'], ['--log-level', 'verbose']]) {
    const r = spawnSync(binary(), ['serve', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(args[0]));
  }
});

test('logs are JSON lines with levels; --log-level filters them', async () => {
  const srv = await startServer({ args: ['--log-format', 'json', '--log-level', 'debug'] });
  await request(srv, { path: '/healthz' });
  await srv.stop();
  const lines = srv.output().trim().split('\n');
  const entries = lines.map((l) => JSON.parse(l));
  for (const e of entries) {
    assert.match(e.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(['error', 'warn', 'info', 'debug'].includes(e.level));
    assert.equal(typeof e.component, 'string');
    assert.equal(typeof e.msg, 'string');
  }
  assert.ok(entries.some((e) => e.level === 'info' && /^listening on http:\/\/127\.0\.0\.1:\d+$/.test(e.msg)));
  assert.ok(entries.some((e) => e.level === 'debug' && e.component === 'http' && e.path === '/healthz' && e.status === 200));
  assert.ok(entries.some((e) => e.msg === 'stopped'));

  const quiet = await startServer({ args: ['--log-format', 'json', '--log-level', 'warn'] });
  await request(quiet, { path: '/healthz' });
  await quiet.stop();
  // The one line scripts wait for stays; nothing else at info or debug.
  const rest = quiet.output().trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(rest.every((e) => e.level === 'error' || e.level === 'warn' || /^listening on /.test(e.msg)),
            JSON.stringify(rest));
  assert.ok(rest.some((e) => /^listening on /.test(e.msg)));
});

test('no personal data, token or cookie reaches the log, whatever channel carries it', async () => {
  const srv = await startServer({ asan: true, args: ['--log-format', 'json', '--log-level', 'debug', '--max-message', '8K'] });
  const secrets = [...SECRETS];
  try {
    addUser(srv.db, 'lead', 'counsellor', 'lead-password');
    // Login: a username that is a person's name (no such account), then the real login.
    assert.equal((await api(srv, 'POST', '/api/login', { body: { username: NAME, password: PHONE } })).status, 401);
    assert.equal((await api(srv, 'POST', '/api/login', { body: { username: 'lead', password: STREET } })).status, 401);
    const res = await api(srv, 'POST', '/api/login', { body: { username: 'lead', password: 'lead-password' } });
    const cookie = cookieOf(res);
    secrets.push(cookie.split('=')[1]);
    // REST bodies and their errors.
    const created = await api(srv, 'POST', '/api/cases', { cookie, body: { title: `Fall ${NAME}` } });
    assert.equal(created.status, 201);
    const caseId = created.json.id;
    assert.equal((await api(srv, 'POST', '/api/cases', { cookie, body: { title: `${NAME} ${STREET} `.repeat(20) } })).status, 400);
    assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie, body: { username: NAME } })).status, 404);
    assert.equal((await api(srv, 'POST', '/api/cases', { cookie, raw: `{"title": "${NAME}", ` })).status, 400);
    assert.equal((await api(srv, 'POST', '/api/cases', { cookie, body: { title: NAME, template: STREET } })).status, 400);
    // Paths: a name where an id belongs, and where nothing is.
    assert.equal((await api(srv, 'GET', `/api/cases/${encodeURIComponent(NAME)}`, { cookie })).status, 404);
    assert.equal((await api(srv, 'GET', '/api/wurzelberger', { cookie })).status, 404);
    // A session, a link (its token), the client's join with a display name.
    const session = await api(srv, 'POST', `/api/cases/${caseId}/sessions`, { cookie });
    assert.equal(session.status, 201);
    const link = await api(srv, 'POST', `/api/sessions/${session.json.id}/links`, { cookie, body: { expires_in_s: 600 } });
    secrets.push(link.json.token);
    assert.equal((await request(srv, { path: `/j/${link.json.token}` })).status !== undefined, true);
    const join = await api(srv, 'POST', '/api/join', { body: { token: link.json.token, display_name: NAME } });
    assert.equal(join.status, 200);
    const clientCookie = cookieOf(join);
    secrets.push(clientCookie.split('=')[1]);
    assert.equal((await api(srv, 'POST', '/api/join', { body: { token: `${link.json.token}x`, display_name: NAME } })).status, 404);

    // Ops: the client writes its person data and a chat line; the counsellor writes the
    // concern and is refused where the client alone writes; malformed and oversized
    // messages carry the data too; presence carries it.
    const cc = c.stockClient(srv.url, { cookie: clientCookie });
    const cdoc = cc.connection.get('cases', caseId);
    await c.subscribe(cdoc);
    await c.submit(cdoc, [{ p: ['person', 'display_name'], od: cdoc.data.person.display_name, oi: NAME }]);
    await c.submit(cdoc, [{ p: ['person', 'phone'], od: cdoc.data.person.phone, oi: PHONE }]);
    await c.submit(cdoc, [{ p: ['person', 'address'], od: cdoc.data.person.address, oi: STREET }]);
    await c.submit(cdoc, [{ p: ['chat', 0], li: { text: `Ich bin ${NAME}, ${STREET}, Tel. ${PHONE}` } }]);
    const lc = c.stockClient(srv.url, { cookie });
    const ldoc = lc.connection.get('cases', caseId);
    await c.subscribe(ldoc);
    await c.submit(ldoc, [{ p: ['concern', 'own_words'], od: ldoc.data.concern.own_words, oi: `${NAME} wohnt ${STREET}` }]);
    // Refused (ERR_OP_SUBMIT_REJECTED, which the stock client takes as a silent rollback).
    const before = ldoc.version;
    await c.submit(ldoc, [{ p: ['person', 'phone'], od: PHONE, oi: `${PHONE} (${NAME})` }]);
    assert.equal(ldoc.version, before, 'the op was refused');
    const raw = new c.RawClient(srv.url, { ws: { headers: { Cookie: cookie } } });
    await raw.handshake();
    raw.send(`{"a":"op","c":"cases","d":"${caseId}","v":1,"seq":1,"op":[{"p":["x"],"oi":"${NAME}"`);
    await raw.next((m) => m.error);
    raw.send({ a: 'op', c: 'cases', d: NAME, v: 1, seq: 2, op: [{ p: ['concern'], oi: PHONE }] });
    await raw.next((m) => m.error);
    raw.send({ a: 'p', ch: caseId, id: 'me', p: { name: NAME, where: STREET }, v: 1, seq: 3 });
    raw.send(`{"a":"op","junk":"${NAME.repeat(400)}"}`);
    assert.equal((await raw.closed).code, 1009);
    cc.close();
    lc.close();
    // Accounts kept by an admin: a name, a set-password link's token, a password.
    addUser(srv.db, 'ada', 'admin', 'ada-password');
    const admin = await login(srv, 'ada', 'ada-password');
    secrets.push(admin.split('=')[1]);
    const made = await api(srv, 'POST', '/api/users', { cookie: admin, body: { username: 'anneliese', name: NAME, role: 'counsellor' } });
    assert.equal(made.status, 201);
    secrets.push(made.json.link.token);
    assert.equal((await api(srv, 'POST', '/api/users', { cookie: admin, body: { username: NAME, name: STREET, role: 'counsellor' } })).status, 400);
    assert.equal((await api(srv, 'POST', '/api/password', { body: { token: made.json.link.token, password: `${PHONE} ${STREET}` } })).status, 204);
    // Retention: reasons of holds, restriction and erasure, refused and done.
    const hold = await api(srv, 'POST', `/api/cases/${caseId}/holds`, { cookie, body: { reason: `Klage ${NAME}` } });
    assert.equal(hold.status, 201);
    assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/restrict`, { cookie, body: { reason: `Widerspruch ${NAME}, ${STREET}` } })).status, 200);
    assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/unrestrict`, { cookie, body: { reason: PHONE } })).status, 200);
    assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie, body: { reason: `Antrag ${NAME}` } })).status, 409);
    assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/holds/${hold.json.id}/lift`, { cookie, body: { reason: STREET } })).status, 200);
    const asked = await api(srv, 'POST', `/api/cases/${caseId}/erasure`, { cookie, body: { reason: `Antrag ${NAME}` } });
    assert.equal(asked.status, 201);
    assert.equal((await api(srv, 'POST', `/api/cases/${caseId}/erasure/${asked.json.id}/confirm`, { cookie: admin })).status, 200);
    assert.equal((await api(srv, 'POST', '/api/logout', { cookie })).status, 204);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
  const log = srv.output();
  const lines = log.trim().split('\n');
  // The log was on: requests, websockets and errors are in it.
  assert.ok(lines.length >= 20, `${lines.length} log lines`);
  for (const l of lines) JSON.parse(l);
  assert.ok(lines.some((l) => /"component":"websocket"/.test(l)));
  assert.ok(lines.some((l) => /"path":"\/api\/cases\/\{id\}\/team"/.test(l)));
  for (const s of secrets) {
    assert.ok(!log.includes(s), `the log holds "${s}"`);
    assert.ok(!log.toLowerCase().includes(s.toLowerCase()), `the log holds "${s}" in another case`);
  }
});

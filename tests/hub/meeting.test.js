'use strict';
// A session's links and its meeting, against a real `konsil serve` (under ASan) with
// accounts: the list of a session's links (no token in it, what each link is now, the
// clients it let in, its language), for counsellors of the team only; revoking a link
// and, if asked, ending the clients who came through it; and the meeting
// channel on /ws, through the stock sharedb client's presence API: the running session
// and how many wait in its lobby, pushed at once on every change, for counsellors of the
// team only.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer, sql } = require('./lib/server');
const c = require('./lib/clients');
const { addUser, api, login, cookieOf } = require('./lib/auth');

let srv;
const cookies = {};
const ids = {};
let caseId;
let session;

test.before(async () => {
  // Two meeting channels per connection at most, so that the limit is reached here.
  srv = await startServer({ asan: true, args: ['--max-presence-channels', '2'] });
  for (const [name, role, specialty] of [['lead', 'counsellor', 'debt'], ['housing', 'counsellor', 'housing'],
    ['sup', 'supervisor'], ['outsider', 'counsellor', 'family']]) {
    ids[name] = addUser(srv.db, name, role, 'pw-' + name, specialty);
    cookies[name] = await login(srv, name, 'pw-' + name);
  }
  const kase = await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Familie S.' } });
  caseId = kase.json.id;
  for (const u of ['housing', 'sup']) {
    const added = await api(srv, 'POST', `/api/cases/${caseId}/team`, { cookie: cookies.lead, body: { username: u } });
    assert.equal(added.status, 201);
  }
  session = (await api(srv, 'POST', `/api/cases/${caseId}/sessions`, { cookie: cookies.lead })).json;
});

test.after(async () => {
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.output());
});

const link = (body, cookie = cookies.lead, s = session.id) => api(srv, 'POST', `/api/sessions/${s}/links`, { cookie, body });
const links = (cookie = cookies.lead, s = session.id) => api(srv, 'GET', `/api/sessions/${s}/links`, { cookie });
const join = (token, name) => api(srv, 'POST', '/api/join', { body: { token, display_name: name } });

test("a session's links: listed without tokens, each as a client would meet it now", async () => {
  const single = await link({ expires_in_s: 3600, max_uses: 1, lang: 'ar' });
  assert.equal(single.status, 201, JSON.stringify(single.json));
  assert.equal(single.json.lang, 'ar');
  assert.match(single.json.url, /^\/j\/[A-Za-z0-9_-]{43}\?lang=ar$/, 'the link carries its language');
  const open = await link({ expires_in_s: 600, lobby: true });
  assert.equal(open.json.lang, null);
  assert.equal(open.json.url, `/j/${open.json.token}`);
  const gone = await link({ expires_in_s: 600, lang: 'de-x-ls' });
  for (const bad of ['', 'a', 'x'.repeat(36), 'de--ls', 'de-', '1de', 'de_DE', 'de ls', 5]) {
    const res = await link({ expires_in_s: 60, lang: bad });
    assert.equal(res.status, 400, `lang ${JSON.stringify(bad)}`);
  }

  // The first client uses the single-use link; a second device is refused.
  const first = await join(single.json.token, 'Frau S.');
  assert.equal(first.status, 200);
  const second = await join(single.json.token, 'Zweites Handy');
  assert.equal(second.status, 410);
  assert.equal(second.json.error.code, 'link_used_up');
  const waiting = await join(open.json.token, 'Herr S.');
  assert.equal(waiting.status, 202);
  assert.equal((await api(srv, 'DELETE', `/api/sessions/${session.id}/links/${gone.json.id}`, { cookie: cookies.lead })).status, 204);

  const res = await links();
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const text = JSON.stringify(res.json);
  for (const l of [single, open, gone]) assert.ok(!text.includes(l.json.token), 'no token in the list');
  const byId = Object.fromEntries(res.json.links.map((l) => [l.id, l]));
  assert.deepEqual(res.json.links.map((l) => l.id), [gone.json.id, open.json.id, single.json.id], 'newest first');
  const s = byId[single.json.id];
  assert.equal(s.status, 'used_up');
  assert.equal(s.uses, 1);
  assert.equal(s.max_uses, 1);
  assert.equal(s.lobby, false);
  assert.equal(s.lang, 'ar');
  assert.equal(s.revoked_at, null);
  assert.equal(s.expires_at, single.json.expires_at);
  assert.equal(s.created_by, ids.lead);
  assert.equal(s.created_by_name, 'lead');
  assert.ok(s.created_at <= s.expires_at - 3590 * 1000);
  assert.deepEqual(s.joined.map((k) => [k.name, k.status]), [['Frau S.', 'admitted']]);
  assert.equal(s.clients, 1, 'one of them waits or is in');
  assert.equal(typeof s.joined[0].joined_at, 'number');
  const o = byId[open.json.id];
  assert.equal(o.status, 'active');
  assert.equal(o.max_uses, null, 'no limit when none was asked for');
  assert.equal(o.lobby, true);
  assert.deepEqual(o.joined.map((k) => [k.name, k.status]), [['Herr S.', 'waiting']]);
  assert.equal(o.clients, 1);
  const g = byId[gone.json.id];
  assert.equal(g.status, 'revoked');
  assert.equal(typeof g.revoked_at, 'number');
  assert.equal(g.lang, 'de-x-ls');
  assert.deepEqual([g.clients, g.joined], [0, []]);

  // Counsellors of the team read it; a supervisor of the team may not, nobody else sees it.
  assert.equal((await links(cookies.housing)).status, 200);
  const sup = await links(cookies.sup);
  assert.equal(sup.status, 403);
  assert.equal(sup.json.error.code, 'forbidden');
  assert.equal((await links(cookies.outsider)).status, 404);
  assert.equal((await links(cookieOf(first))).status, 404);
  assert.equal((await links(null)).status, 401);
});

// A raw connection of cookie subscribed to the case's sheet.
async function onSheet(cookie, kase) {
  const r = new c.RawClient(srv.url, { ws: { headers: { Cookie: cookie } } });
  await r.handshake();
  r.send({ a: 's', c: 'cases', d: kase });
  const reply = await r.next((m) => m.a === 's');
  assert.equal(reply.error, undefined, JSON.stringify(reply));
  return r;
}

test('revoking a link can also end the clients who came through it', async () => {
  const kase = (await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Widerruf' } })).json;
  await api(srv, 'POST', `/api/cases/${kase.id}/team`, { cookie: cookies.lead, body: { username: 'sup' } });
  const started = (await api(srv, 'POST', `/api/cases/${kase.id}/sessions`, { cookie: cookies.lead })).json;
  const shared = (await link({ expires_in_s: 600, max_uses: 2 }, cookies.lead, started.id)).json;
  const own = (await link({ expires_in_s: 600 }, cookies.lead, started.id)).json;
  const kept = (await link({ expires_in_s: 600 }, cookies.lead, started.id)).json;
  const a = cookieOf(await join(shared.token, 'Frau A.'));
  const b = cookieOf(await join(shared.token, 'Herr B.'));
  const other = cookieOf(await join(own.token, 'Frau C.'));
  const stays = cookieOf(await join(kept.token, 'Herr D.'));
  const sockets = { a: await onSheet(a, kase.id), b: await onSheet(b, kase.id), other: await onSheet(other, kase.id) };

  // A supervisor of the team neither creates, lists nor revokes links: 403, nothing changed.
  for (const res of [await link({ expires_in_s: 600 }, cookies.sup, started.id), await links(cookies.sup, started.id),
    await api(srv, 'DELETE', `/api/sessions/${started.id}/links/${shared.id}?end_clients=true`, { cookie: cookies.sup })]) {
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'forbidden');
  }
  assert.equal((await links(cookies.lead, started.id)).json.links.length, 3, 'the supervisor made no link');
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: a })).status, 200, 'nor ended a client');

  const bad = await api(srv, 'DELETE', `/api/sessions/${started.id}/links/${shared.id}?end_clients=yes`, { cookie: cookies.lead });
  assert.equal(bad.status, 400);
  assert.equal((await links(cookies.lead, started.id)).json.links.find((l) => l.id === shared.id).status, 'used_up', 'nothing changed');

  // Without end_clients the clients stay.
  assert.equal((await api(srv, 'DELETE', `/api/sessions/${started.id}/links/${kept.id}?end_clients=false`, { cookie: cookies.lead })).status, 204);
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: stays })).status, 200);

  const res = await api(srv, 'DELETE', `/api/sessions/${started.id}/links/${shared.id}?end_clients=true`, { cookie: cookies.lead });
  assert.equal(res.status, 204);
  assert.equal((await sockets.a.closed).code, 4001);
  assert.equal((await sockets.b.closed).code, 4001);
  for (const cookie of [a, b]) assert.equal((await api(srv, 'GET', '/api/me', { cookie })).status, 401, 'its cookie stops working');
  sockets.other.send({ a: 'pp' });
  assert.deepEqual(await sockets.other.next((m) => m.a === 'pp'), { a: 'pp' }, 'a client of another link stays');
  assert.equal((await api(srv, 'GET', '/api/me', { cookie: other })).status, 200);
  const listed = (await links(cookies.lead, started.id)).json.links.find((l) => l.id === shared.id);
  assert.equal(listed.status, 'revoked');
  assert.deepEqual(listed.joined.map((k) => k.status), ['removed', 'removed']);
  assert.equal(listed.clients, 0);
  const removals = sql(srv.db, `SELECT count(*) FROM audit WHERE session = '${kase.id}' AND action = 'client.remove' AND details LIKE '%${shared.id}%'`);
  assert.equal(removals, '2');
  assert.equal((await api(srv, 'DELETE', `/api/sessions/${started.id}/links/${shared.id}?end_clients=true`, { cookie: cookies.lead })).json.error.code, 'link_not_found');
  await sockets.other.close();
});

// A stock client's presence on the case's meeting channel: {client, presence, values,
// error, after(mark, pred)}: values are the values received, in order; after() resolves
// with the first value at index mark or later that pred accepts.
async function watchMeeting(cookie, kase = caseId) {
  const client = c.stockClient(srv.url, { cookie });
  const presence = client.connection.getPresence(`meeting/${kase}`);
  const values = [];
  let waiters = [];
  presence.on('receive', (id, value) => {
    values.push({ id, value });
    waiters = waiters.filter((w) => !w.offer());
  });
  const error = await new Promise((resolve) => presence.subscribe((err) => resolve(err || null)));
  const after = (mark, pred = () => true, ms = 5000) => new Promise((resolve, reject) => {
    const w = {
      offer() {
        const i = values.findIndex((v, at) => at >= mark && pred(v.value));
        if (i < 0) return false;
        clearTimeout(w.timer);
        resolve(values[i].value);
        return true;
      },
    };
    if (w.offer()) return;
    w.timer = setTimeout(() => reject(new Error(`no meeting value; got ${JSON.stringify(values)}`)), ms);
    waiters.push(w);
  });
  const ping = () => new Promise((resolve) => {
    client.connection.once('pong', resolve);
    client.connection.ping();
  });
  return { client, presence, values, error, after, ping };
}

test('the meeting channel: counsellors hear at once who waits and when the meeting runs', async () => {
  const kase = (await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Warteraum' } })).json;
  await api(srv, 'POST', `/api/cases/${kase.id}/team`, { cookie: cookies.lead, body: { username: 'housing' } });
  await api(srv, 'POST', `/api/cases/${kase.id}/team`, { cookie: cookies.lead, body: { username: 'sup' } });
  const lead = await watchMeeting(cookies.lead, kase.id);
  assert.equal(lead.error, null);
  assert.deepEqual(await lead.after(0), { session: null, waiting: 0 }, 'no meeting yet');
  assert.equal(lead.values[0].id, 'meeting');
  const housing = await watchMeeting(cookies.housing, kase.id);
  assert.equal(housing.error, null);

  // Who may not: a supervisor of the team, a counsellor outside it, a channel of no case.
  const sup = await watchMeeting(cookies.sup, kase.id);
  assert.equal(sup.error && sup.error.code, 'ERR_FORBIDDEN');
  const outsider = await watchMeeting(cookies.outsider, kase.id);
  assert.equal(outsider.error && outsider.error.code, 'ERR_FORBIDDEN');
  const nonsense = await watchMeeting(cookies.lead, '../x');
  assert.equal(nonsense.error && nonsense.error.code, 'ERR_FORBIDDEN');

  let mark = lead.values.length;
  const started = (await api(srv, 'POST', `/api/cases/${kase.id}/sessions`, { cookie: cookies.lead })).json;
  assert.deepEqual(await lead.after(mark), { session: started.id, waiting: 0 });
  const lobbyLink = (await link({ expires_in_s: 600, lobby: true }, cookies.lead, started.id)).json;
  mark = lead.values.length;
  const joined = await join(lobbyLink.token, 'Frau W.');
  assert.equal(joined.status, 202);
  assert.deepEqual(await lead.after(mark), { session: started.id, waiting: 1 });
  await housing.after(0, (v) => v.waiting === 1);

  // A second one waits, one is let in, one turned away: each heard at once.
  mark = lead.values.length;
  await join(lobbyLink.token, 'Herr W.');
  assert.deepEqual(await lead.after(mark), { session: started.id, waiting: 2 });
  const waiting = (await api(srv, 'GET', `/api/sessions/${started.id}/lobby`, { cookie: cookies.lead })).json.waiting;
  const byName = Object.fromEntries(waiting.map((w) => [w.name, w.id]));
  mark = lead.values.length;
  assert.equal((await api(srv, 'POST', `/api/sessions/${started.id}/lobby/${byName['Frau W.']}/admit`, { cookie: cookies.housing })).status, 204);
  assert.deepEqual(await lead.after(mark), { session: started.id, waiting: 1 });
  mark = lead.values.length;
  assert.equal((await api(srv, 'POST', `/api/sessions/${started.id}/lobby/${byName['Herr W.']}/decline`, { cookie: cookies.lead })).status, 204);
  assert.deepEqual(await lead.after(mark), { session: started.id, waiting: 0 });

  // The admitted client cannot watch the meeting.
  const admitted = await watchMeeting(cookieOf(joined), kase.id);
  assert.equal(admitted.error && admitted.error.code, 'ERR_FORBIDDEN');
  admitted.client.close();

  // Nobody but the server sets the meeting's value.
  const forged = await new Promise((resolve) => lead.presence.create('forged').submit({ session: null, waiting: 99 }, (err) => resolve(err)));
  assert.equal(forged && forged.code, 'ERR_FORBIDDEN');

  // A removed member stops hearing; the meeting's end reaches the others.
  const heard = housing.values.length;
  assert.equal((await api(srv, 'DELETE', `/api/cases/${kase.id}/team/${ids.housing}`, { cookie: cookies.lead })).status, 204);
  mark = lead.values.length;
  assert.equal((await api(srv, 'POST', `/api/sessions/${started.id}/end`, { cookie: cookies.lead })).status, 200);
  assert.deepEqual(await lead.after(mark), { session: null, waiting: 0 });
  // Whatever the hub sent housing with the lead's value is ahead of this ping's answer.
  await housing.ping();
  assert.equal(housing.values.length, heard, 'the removed member heard nothing more');
  for (const w of [lead, housing, sup, outsider, nonsense]) w.client.close();
});

test('a connection follows at most --max-presence-channels meetings', async () => {
  const cases = [];
  for (let i = 0; i < 3; i++) cases.push((await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: `Viele ${i}` } })).json.id);
  const client = c.stockClient(srv.url, { cookie: cookies.lead });
  const subscribe = (id) => new Promise((resolve) => client.connection.getPresence(`meeting/${id}`).subscribe((err) => resolve(err || null)));
  assert.equal(await subscribe(cases[0]), null);
  assert.equal(await subscribe(cases[1]), null);
  const third = await subscribe(cases[2]);
  assert.equal(third && third.code, 'ERR_LIMIT_EXCEEDED');
  // Leaving one makes room.
  await new Promise((resolve) => client.connection.getPresence(`meeting/${cases[0]}`).unsubscribe(resolve));
  const again = await subscribe(cases[2]);
  assert.equal(again, null);
  client.close();
});

test('reconnecting: the stock client subscribes again and gets the state as it is now', async () => {
  const kase = (await api(srv, 'POST', '/api/cases', { cookie: cookies.lead, body: { title: 'Wieder da' } })).json;
  const started = (await api(srv, 'POST', `/api/cases/${kase.id}/sessions`, { cookie: cookies.lead })).json;
  const lead = await watchMeeting(cookies.lead, kase.id);
  await lead.after(0, (v) => v.session === started.id);
  lead.client.ws.terminate();
  const lobbyLink = (await link({ expires_in_s: 600, lobby: true }, cookies.lead, started.id)).json;
  assert.equal((await join(lobbyLink.token, 'Offline gewartet')).status, 202);
  lead.client.reconnect();
  assert.deepEqual(await lead.after(1), { session: started.id, waiting: 1 });
  lead.client.close();
  // The meeting channel names nobody: no read of this case's lobby is audited (a GET of the
  // lobby, which names who waits, is).
  assert.equal(sql(srv.db, `SELECT count(*) FROM audit WHERE action LIKE 'lobby.read%' AND session = '${kase.id}'`), '0');
  assert.equal((await api(srv, 'GET', `/api/sessions/${started.id}/lobby`, { cookie: cookies.lead })).status, 200);
  assert.equal(sql(srv.db, `SELECT count(*) FROM audit WHERE action LIKE 'lobby.read%' AND session = '${kase.id}'`), '1');
});

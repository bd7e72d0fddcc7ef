'use strict';
// Nothing typed is lost to a dead network or a reload, and nothing arrives twice: a
// client on a phone goes offline, types, reloads the page while offline (it opens from
// the service worker and the copy kept in IndexedDB), types more and comes back online —
// every character reaches the counsellor's page and the server's document exactly once;
// the same with the reload just as the connection comes back (the op already sent, its
// ack not yet read). The hub's duplicate detection is what makes the resend harmless:
// shown with the raw protocol too (same principal, src and seq on a new connection:
// acknowledged, not applied again; another principal with the same src and seq: its own
// op). Edits the hub refuses after the reconnect are listed, not dropped; leaving with
// unsent edits asks first; what is kept belongs to one account and goes at logout; a
// client's kept copy lives as long as its tab unless it chose to keep it.
const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { PEOPLE, setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FIELD = ['concern', 'own_words'];

let server;
let browser;
let cookies;

test.before(async () => {
  server = await startServer();
  browser = await b.launchBrowser();
  cookies = await setUpPeople(server);
});
test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// A session (its case's sheet is the document: id) with a client joined by link.
async function sessionWithClient(title) {
  const session = await rest.createSession(server, cookies.anna, title);
  const link = await rest.createLink(server, cookies.anna, session.id);
  const client = await rest.join(server, link.token, 'Kim');
  return { id: session.case_id, session: session.id, client };
}

async function openRoom(sessionId, cookie, viewport) {
  const opened = await b.openPage(browser, server, { cookie, viewport });
  await opened.page.goto(`/#/room/${encodeURIComponent(sessionId)}`);
  await opened.page.waitForSelector('[data-path]');
  await b.whenSettled(opened.page);
  return opened;
}

// Polls the server's document until fn(doc) holds.
async function serverHas(sessionId, fn, what) {
  for (let tries = 0; ; tries++) {
    const doc = await rest.fetchCaseSheet(server, cookies.anna, sessionId);
    if (fn(doc)) return doc;
    if (tries > 150) assert.fail(`${what}: the server has ${JSON.stringify(doc.concern)}`);
    await sleep(100);
  }
}

async function goOffline(opened) {
  await opened.context.setOffline(true);
  await opened.page.waitForSelector('.status[data-state="offline"]', { timeout: 10000 });
}

test('offline → type → reload while offline → type → online: every character arrives once', async () => {
  const session = await sessionWithClient('Offline');
  const counsellor = await openRoom(session.id, cookies.anna);
  const client = await openRoom(session.id, session.client, b.PHONE);
  await b.whenOfflineReady(client.page);
  const asked = b.acceptLeaving(client.page);

  await goOffline(client);
  await b.typeAt(client.page, FIELD, 0, 'Die Miete ', 20);
  await client.page.waitForSelector('.status[data-state="offline"] .status-kept:not(:empty)');
  const before = await b.status(client.page);
  assert.ok(before.pending > 0, 'the edits wait');
  assert.match(before.text, /Tab gespeichert/, 'and the page says where they are kept');
  await b.screenshot(client.page, 'room-client-offline-phone');

  await client.page.reload();
  assert.equal(asked.count, 1, 'leaving with unsent edits asked first');
  await client.page.waitForSelector(b.selectorFor(FIELD));
  assert.equal(await client.page.inputValue(b.selectorFor(FIELD)), 'Die Miete ', 'the reloaded page shows what was typed offline');
  assert.equal((await b.status(client.page)).state, 'offline');
  await b.typeAt(client.page, FIELD, 'end', 'ist zu hoch 😟', 20);

  await client.context.setOffline(false);
  await b.whenSettled(client.page, 30000);
  const expected = 'Die Miete ist zu hoch 😟';
  await counsellor.page.waitForFunction(([sel, text]) => document.querySelector(sel).value === text, [b.selectorFor(FIELD), expected]);
  const doc = await serverHas(session.id, (d) => d.concern.own_words === expected, 'everything arrives');
  assert.equal(doc.concern.own_words, expected);
  await sleep(1500);
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, session.id)).concern.own_words, expected, 'and nothing twice');
  assert.deepEqual(client.problems, []);
  await client.context.close();
  await counsellor.context.close();
});

test('a reload just as the connection comes back sends nothing twice', async () => {
  const session = await sessionWithClient('Reload on reconnect');
  const counsellor = await openRoom(session.id, cookies.anna);
  const client = await openRoom(session.id, session.client, b.PHONE);
  await b.whenOfflineReady(client.page);
  b.acceptLeaving(client.page);
  let expected = '';
  // Back online, the reload comes at once (the kept ops may be on their way), once the
  // server has them (their acks on their way back), and a moment later.
  const moments = [
    async () => {},
    async (word) => serverHas(session.id, (d) => d.concern.own_words.endsWith(word), 'the server has the op'),
    async () => sleep(60),
  ];
  for (let round = 0; round < moments.length; round++) {
    await goOffline(client);
    const word = `Runde${round} `;
    await b.typeAt(client.page, FIELD, 'end', word, 15);
    expected += word;
    await client.context.setOffline(false);
    await moments[round](word);
    await client.page.reload();
    await client.page.waitForSelector(b.selectorFor(FIELD));
    await b.whenSettled(client.page, 30000);
    const doc = await serverHas(session.id, (d) => d.concern.own_words === expected, `round ${round}`);
    assert.equal(doc.concern.own_words, expected);
  }
  await counsellor.page.waitForFunction(([sel, text]) => document.querySelector(sel).value === text, [b.selectorFor(FIELD), expected]);
  await sleep(1000);
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, session.id)).concern.own_words, expected);
  await client.context.close();
  await counsellor.context.close();
});

// A raw /ws client under a login cookie: send(), next(predicate), close().
function rawClient(cookie) {
  const ws = new WebSocket(server.wsUrl, { headers: { Cookie: `${rest.COOKIE}=${cookie}` } });
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data);
    const i = waiters.findIndex((w) => w.pred(message));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(message);
    else queue.push(message);
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    opened,
    send: (m) => ws.send(JSON.stringify(m)),
    next(pred) {
      const i = queue.findIndex(pred);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close: () => ws.close(),
  };
}

test('raw protocol: an op resent on a new connection with its src and seq is acknowledged once', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Raw resend');
  await rest.addParticipant(server, cookies.anna, session.id, 'ben');
  const d = session.case_id;
  const watcher = rawClient(cookies.ben);
  await watcher.opened;
  watcher.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 2 });
  await watcher.next((m) => m.a === 'hs');
  watcher.send({ a: 's', c: 'cases', d });
  const v = (await watcher.next((m) => m.a === 's')).data.v;

  // The page's own src (not the connection's id): sent, committed, and the socket gone
  // before the ack was read.
  const first = rawClient(cookies.anna);
  await first.opened;
  first.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 2 });
  const firstId = (await first.next((m) => m.a === 'hs')).id;
  const op = { a: 'op', c: 'cases', d, v, seq: 7, src: 'view-3f2a', op: [{ p: ['concern', 'own_words', 0], si: 'einmal' }] };
  first.send(op);
  const relayed = await watcher.next((m) => m.a === 'op' && m.v === v);
  assert.equal(relayed.src, `${(await rest.call(server, cookies.anna, 'GET', '/api/me')).data.id}/view-3f2a`);
  first.ws.terminate();

  // A new connection with a new id of its own resends it from the old version.
  const second = rawClient(cookies.anna);
  await second.opened;
  second.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 2 });
  const secondId = (await second.next((m) => m.a === 'hs')).id;
  assert.notEqual(secondId, firstId);
  second.send(op);
  const ack = await second.next((m) => m.a === 'op' && m.seq === 7 && !m.op);
  assert.deepEqual(ack, { a: 'op', c: 'cases', d, src: 'view-3f2a', seq: 7, v });
  // Another principal with the same src and seq: a different op, applied.
  const other = rawClient(cookies.ben);
  await other.opened;
  other.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 2 });
  await other.next((m) => m.a === 'hs');
  other.send({ ...op, op: [{ p: ['concern', 'own_words', 0], si: 'B:' }] });
  const otherAck = await other.next((m) => m.a === 'op' && m.seq === 7 && !m.op);
  assert.equal(otherAck.v, v + 1);
  const doc = await rest.fetchCaseSheet(server, cookies.anna, d);
  assert.equal(doc.concern.own_words, 'B:einmal');
  for (const c of [watcher, second, other]) c.close();
});

test('edits refused after the reconnect are listed, not dropped', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Closed meanwhile');
  const lead = await openRoom(session.case_id, cookies.anna);
  await b.whenOfflineReady(lead.page);
  await goOffline(lead);
  await b.typeAt(lead.page, ['situation', 'summary'], 0, 'Wichtige Notiz', 15);
  const closed = await rest.call(server, cookies.anna, 'POST', `/api/sessions/${session.id}/close`);
  assert.equal(closed.status, 200);
  await lead.context.setOffline(false);
  await lead.page.waitForSelector('.refused:not([hidden]) .refused-text:has-text("Wichtige Notiz")', { timeout: 30000 });
  await b.whenSettled(lead.page, 30000);
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, session.case_id)).situation.summary, '');
  await b.screenshot(lead.page, 'room-refused-after-reconnect', { clip: { x: 0, y: 0, width: 1440, height: 500 } });
  await lead.context.close();
});

// The records kept in this browser: [{account, doc, pending}] (pending null when sealed).
function keptRecords(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('konsil');
        open.onupgradeneeded = () => open.result.createObjectStore('sheets');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('sheets').objectStore('sheets').getAll();
          all.onsuccess = () => resolve(all.result.map((r) => ({ account: r.account, doc: r.doc, pending: r.state ? JSON.parse(r.state).pending.length : null })));
          all.onerror = () => reject(all.error);
        };
      }),
  );
}

test('what is kept belongs to its account: another never sees it, logout deletes it', async () => {
  const created = await rest.createSession(server, cookies.anna, 'Shared computer');
  await rest.addParticipant(server, cookies.anna, created.id, 'ben');
  const session = { id: created.case_id };
  const context = await browser.newContext({ viewport: b.DESKTOP, baseURL: server.url, locale: 'de-DE' });
  const anna = await rest.login(server, 'anna', PEOPLE.anna.password);
  await context.addCookies([{ name: rest.COOKIE, value: anna, url: server.url, httpOnly: true, sameSite: 'Strict' }]);
  const first = await b.openPage(browser, server, { context });
  await first.page.goto(`/#/room/${encodeURIComponent(session.id)}`);
  await b.whenSettled(first.page);
  await b.whenOfflineReady(first.page);
  await context.setOffline(true);
  await first.page.waitForSelector('.status[data-state="offline"]', { timeout: 10000 });
  await b.typeAt(first.page, ['situation', 'summary'], 0, 'Nur für Anna', 15);
  await first.page.waitForFunction(() => document.querySelector('.status-kept').textContent !== '');
  await first.page.close({ runBeforeUnload: false });
  await context.setOffline(false);

  // Ben logs in on the same browser and opens the same room.
  const ben = await rest.login(server, 'ben', PEOPLE.ben.password);
  await context.addCookies([{ name: rest.COOKIE, value: ben, url: server.url, httpOnly: true, sameSite: 'Strict' }]);
  const second = await b.openPage(browser, server, { context });
  await second.page.goto(`/#/room/${encodeURIComponent(session.id)}`);
  await b.whenSettled(second.page);
  // What anna's page sent before it closed may have arrived (Chromium's setOffline leaves an
  // open WebSocket alone): that is hers, sent by her. Ben's page must send none of it.
  await sleep(1000);
  const onServer = (await rest.fetchCaseSheet(server, cookies.anna, session.id)).situation.summary;
  const benId = (await rest.call(server, ben, 'GET', '/api/me')).data.id;
  const history = (await rest.call(server, cookies.anna, 'GET', `/api/cases/${encodeURIComponent(session.id)}/history`)).data;
  const bensOps = history.ops.filter((o) => o.author && o.author.id === benId);
  const touchesSummary = (o) => (o.op || []).some((c) => c.p[0] === 'situation' && c.p[1] === 'summary');
  assert.deepEqual(bensOps.filter(touchesSummary), [], "ben's page does not send anna's kept edits");
  assert.equal(await second.page.inputValue(b.selectorFor(['situation', 'summary'])), onServer, "ben's page shows the server's text, not anna's kept copy");
  const annaId = (await rest.call(server, anna, 'GET', '/api/me')).data.id;
  assert.ok((await keptRecords(second.page)).some((r) => r.account === annaId && r.pending > 0), "anna's record is still there for her");
  await second.page.close();

  // Anna comes back: her edits go out; at logout everything of hers goes.
  const annaAgain = await rest.login(server, 'anna', PEOPLE.anna.password);
  await context.addCookies([{ name: rest.COOKIE, value: annaAgain, url: server.url, httpOnly: true, sameSite: 'Strict' }]);
  const third = await b.openPage(browser, server, { context });
  await third.page.goto(`/#/room/${encodeURIComponent(session.id)}`);
  await b.whenSettled(third.page, 30000);
  await serverHas(session.id, (d) => d.situation.summary === 'Nur für Anna', "anna's kept edit arrives");
  await third.page.click('.user .link-button');
  await third.page.waitForSelector('form.login');
  assert.deepEqual((await keptRecords(third.page)).filter((r) => r.account === annaId), [], 'logout deleted what was kept for anna');
  await context.close();
});

test("a client's kept edits live as long as its tab, unless it chose to keep them", async () => {
  const created = await rest.createSession(server, cookies.anna, 'Borrowed phone');
  const session = { id: created.case_id };
  for (const keep of [false, true]) {
    const link = await rest.createLink(server, cookies.anna, created.id);
    const context = await browser.newContext({ viewport: b.PHONE, baseURL: server.url, locale: 'de-DE' });
    const first = await b.openPage(browser, server, { context });
    await first.page.goto(link.url);
    await first.page.fill('form.join input[autocomplete="nickname"]', keep ? 'Eigenes Handy' : 'Geliehen');
    if (keep) await first.page.check('form.join input[type="checkbox"]');
    await first.page.click('form.join button[type="submit"]');
    await first.page.waitForSelector(b.selectorFor(FIELD));
    await b.whenSettled(first.page);
    await b.whenOfflineReady(first.page);
    await context.setOffline(true);
    await first.page.waitForSelector('.status[data-state="offline"]', { timeout: 10000 });
    const text = keep ? 'bleibt' : 'geht mit dem Tab';
    await b.typeAt(first.page, FIELD, 'end', ` ${text}`, 15);
    await first.page.waitForSelector(keep ? '.status-kept:has-text("Gerät")' : '.status-kept:has-text("Tab")');
    await first.page.close({ runBeforeUnload: false });

    // A new tab on the same phone, still offline.
    const second = await b.openPage(browser, server, { context });
    await second.page.goto(`/#/room/${encodeURIComponent(session.id)}`);
    if (keep) {
      await second.page.waitForFunction(([sel, t]) => document.querySelector(sel) && document.querySelector(sel).value.includes(t), [b.selectorFor(FIELD), text]);
    } else {
      await second.page.waitForSelector('[role="alert"]');
      assert.ok(!(await second.page.textContent('body')).includes(text), 'the closed tab took its edits with it');
      assert.deepEqual((await keptRecords(second.page)).filter((r) => r.doc === session.id), [], 'and its unreadable record is gone');
    }
    await context.close();
  }
});

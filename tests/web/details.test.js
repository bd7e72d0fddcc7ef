'use strict';
// The room's details: removing an item asks first when it holds anything, keeps the focus
// on its neighbour and can be undone (the item comes back through a normal op); a client
// far from the chat is told of a new message; the same person in two tabs is one entry,
// no two people share a colour, and others' carets sit in the text where they are and
// move with it; the static files are sent gzipped and cached by content-hashed names,
// with no source map.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
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

async function openRoom(sessionId, cookie, viewport) {
  const opened = await b.openPage(browser, server, { cookie, viewport });
  await opened.page.goto(`/#/room/${encodeURIComponent(sessionId)}`);
  await opened.page.waitForSelector('[data-path]');
  await b.whenSettled(opened.page);
  return opened;
}

const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return el && el !== document.body ? { path: el.dataset.path || null, action: el.dataset.action || null, tag: el.tagName } : null;
});

test('removing an item keeps the focus on its neighbour, asks when it holds something, and can be undone', async () => {
  const created = await rest.createSession(server, cookies.anna, 'Aufgaben');
  const session = { id: created.case_id };
  const tasks = ['help_plan', 'tasks'];
  for (const [i, what] of ['', 'Miete überweisen', ''].entries()) {
    await rest.submitOp(server, cookies.anna, session.id, [{ p: [...tasks, i], li: { what, who: '', due: '', done: false } }]);
  }
  const lead = await openRoom(session.id, cookies.anna);
  const dialogs = [];
  lead.page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.accept();
  });
  const remove = (i) => lead.page.click(`button[data-action="remove"][data-path='${JSON.stringify([...tasks, i])}']`);

  // The empty first task goes without asking; the focus lands in the task now first.
  await remove(0);
  await b.whenSettled(lead.page);
  assert.deepEqual(dialogs, []);
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, session.id)).help_plan.tasks.length, 2);
  const after = await focused(lead.page);
  assert.ok(after && after.path && after.path.startsWith(JSON.stringify([...tasks, 0]).slice(0, -1)), `focus in the neighbour, not on <body>: ${JSON.stringify(after)}`);
  await lead.page.waitForSelector('.undo-bar:not([hidden])');
  await b.screenshot(lead.page, 'room-undo-bar');

  // Undo brings it back through an op.
  await lead.page.click('.undo-bar button');
  await b.whenSettled(lead.page);
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, session.id)).help_plan.tasks.length, 3);

  // A task with text asks first; the last one removed hands the focus to the one before.
  await remove(1);
  assert.equal(dialogs.length, 1);
  assert.match(dialogs[0], /Aufgabe 2/);
  await b.whenSettled(lead.page);
  const doc = await rest.fetchCaseSheet(server, cookies.anna, session.id);
  assert.deepEqual(doc.help_plan.tasks.map((t) => t.what), ['', '']);
  await remove(1);
  await b.whenSettled(lead.page);
  const last = await focused(lead.page);
  assert.ok(last && last.path && last.path.startsWith(JSON.stringify([...tasks, 0]).slice(0, -1)), `focus on the task before: ${JSON.stringify(last)}`);
  await remove(0);
  await b.whenSettled(lead.page);
  assert.deepEqual(await focused(lead.page), { path: JSON.stringify(tasks), action: 'add', tag: 'BUTTON' }, 'the empty list hands the focus to its add button');
  assert.deepEqual(lead.problems, []);
  await lead.context.close();
});

test('a client at the top of a long page is told of a new chat message', async () => {
  const created = await rest.createSession(server, cookies.anna, 'Chat');
  const session = { id: created.case_id };
  const link = await rest.createLink(server, cookies.anna, created.id);
  const kim = await rest.join(server, link.token, 'Kim');
  const client = await openRoom(session.id, kim, b.PHONE);
  await client.page.evaluate(() => window.scrollTo(0, 0));
  assert.ok(await client.page.evaluate(() => document.documentElement.scrollHeight > 3 * window.innerHeight), 'the page is long');
  assert.equal(await client.page.isVisible('.chat-notice'), false);
  await rest.submitOp(server, cookies.anna, session.id, [{ p: ['chat', 0], li: { text: 'Können Sie den Bescheid hochladen?' } }]);
  await client.page.waitForSelector('.chat-notice:not([hidden])');
  // The author is the server's stamp, which follows the message: named from the people.
  await client.page.waitForFunction(() => /Neue Nachricht von Anna Berg/.test(document.querySelector('.chat-notice').textContent));
  assert.match(await client.page.evaluate(() => document.querySelector('[aria-live="polite"].visually-hidden').textContent), /Anna Berg/, 'screen readers hear it too');
  await b.screenshot(client.page, 'room-client-chat-notice-phone');
  await client.page.click('.chat-notice');
  await client.page.waitForSelector('.chat-notice', { state: 'hidden' });
  const box = await client.page.evaluate(() => {
    const r = document.querySelector('.chat-log li:last-child').getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, height: window.innerHeight };
  });
  // (scrollIntoView aligns the item's bottom with the window's: within a pixel's rounding)
  assert.ok(box.top >= 0 && box.bottom <= box.height + 1, `the message is in view: ${JSON.stringify(box)}`);
  await client.context.close();
});

test('one entry and one colour per person, carets inside the text that move with it', async () => {
  const created = await rest.createSession(server, cookies.anna, 'Leute');
  await rest.addParticipant(server, cookies.anna, created.id, 'ben');
  const session = { id: created.case_id };
  const link = await rest.createLink(server, cookies.anna, created.id);
  const kim = await rest.join(server, link.token, 'Kim');
  const field = ['concern', 'own_words'];
  await rest.submitOp(server, cookies.anna, session.id, [{ p: [...field, 0], si: 'Hallo Welt' }]);
  const annaOne = await openRoom(session.id, cookies.anna);
  const annaTwo = await openRoom(session.id, cookies.anna);
  const ben = await openRoom(session.id, cookies.ben);
  const client = await openRoom(session.id, kim, b.PHONE);

  // Anna has two tabs open: every other page lists her once.
  await ben.page.waitForFunction(() => document.querySelectorAll('.people-list .person').length === 3);
  const names = await ben.page.$$eval('.people-list .person .person-name', (els) => els.map((e) => e.textContent));
  assert.deepEqual(names.filter((n) => n === 'Anna Berg'), ['Anna Berg']);
  assert.equal(await annaOne.page.$$eval('.people-list .person', (els) => els.length), 3, 'her own other tab is her, not someone else');
  // Colours: the same for the same person on every page, never shared.
  const tones = async (page) => page.$$eval('.people-list .person', (els) => els.map((e) => [e.querySelector('.person-name').textContent.replace(' (Sie)', ''), e.querySelector('.person-dot').className.match(/tone-\d+/)[0]]));
  const seen = {};
  for (const { page } of [annaOne, ben, client]) {
    const list = await tones(page);
    assert.equal(new Set(list.map(([, t]) => t)).size, list.length, 'no two people share a colour');
    for (const [name, tone] of list) {
      if (seen[name]) assert.equal(tone, seen[name], `${name} has one colour everywhere`);
      seen[name] = tone;
    }
  }

  // Ben's caret after "Hallo" shows in Anna's field, in Ben's colour, and moves when Kim
  // types before it.
  // (A click puts the caret at the end before the test moves it to 5, and Anna's page may
  // show that first: so the end is seen first, and x0 read once the caret stands left of it.)
  const caret = `.control-wrap > [data-path='${JSON.stringify(field)}'] ~ svg .caret .caret-bar`;
  const caretX = (page) => page.evaluate((sel) => document.querySelector(sel) && Number(document.querySelector(sel).getAttribute('x')), caret);
  await b.placeCaret(ben.page, field, 'end');
  await annaOne.page.waitForSelector(caret, { state: 'attached' });
  await annaOne.page.waitForFunction((sel) => document.querySelector(sel).parentNode.getAttribute('class').includes('tone-'), caret);
  const xEnd = await caretX(annaOne.page);
  await b.placeCaret(ben.page, field, 5);
  await annaOne.page.waitForFunction(([sel, x]) => Number(document.querySelector(sel).getAttribute('x')) < x, [caret, xEnd]);
  assert.match(await annaOne.page.$eval(caret, (el) => el.parentNode.getAttribute('class')), new RegExp(seen['Ben Okafor']));
  const x0 = await caretX(annaOne.page);
  await b.typeAt(client.page, field, 0, 'Oh, ', 40);
  await b.whenSettled(client.page);
  await annaOne.page.waitForFunction(([sel, x]) => document.querySelector(sel) && Number(document.querySelector(sel).getAttribute('x')) > x, [caret, x0]);
  await b.screenshot(annaOne.page, 'room-carets', { clip: { x: 0, y: 0, width: 1440, height: 700 } });
  for (const o of [annaOne, annaTwo, ben, client]) {
    assert.deepEqual(o.problems, []);
    await o.context.close();
  }
});

// GET path with the given headers: {status, headers, bytes}.
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get(`${server.url}${path}`, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (d) => {
        bytes += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes }));
    }).on('error', reject);
  });
}

test('static files: gzip when accepted, hashed names cached for a year, the page revalidated, no source map', async () => {
  const html = await (await fetch(`${server.url}/`)).text();
  const app = /src="(\/assets\/app\.[0-9a-f]{12}\.js)"/.exec(html);
  assert.ok(app, 'the page names a content-hashed script');
  const page = await get('/', { 'Accept-Encoding': 'gzip' });
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.equal(page.headers['content-encoding'], 'gzip');
  const zipped = await get(app[1], { 'Accept-Encoding': 'gzip, deflate, br' });
  const plain = await get(app[1]);
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(zipped.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(zipped.headers.vary, 'Accept-Encoding');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(zipped.bytes < plain.bytes / 2, `gzip ${zipped.bytes} of ${plain.bytes} bytes`);
  console.log(`# app script sent: ${plain.bytes} bytes plain, ${zipped.bytes} bytes gzipped`);
  assert.equal((await get(`${app[1]}.map`)).status, 404, 'no source map served');
  assert.ok(!(await (await fetch(`${server.url}${app[1]}`)).text()).includes('sourceMappingURL'));
  const sw = await get('/sw.js', { 'Accept-Encoding': 'gzip' });
  assert.equal(sw.status, 200);
  assert.equal(sw.headers['cache-control'], 'no-cache');
});

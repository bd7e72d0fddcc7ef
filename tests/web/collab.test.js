'use strict';
// The session room in real browsers against a real `konsil serve` with accounts and
// access rules: two counsellors (the debt lead, a housing specialist) and a client who
// joined by link type at the same time into one text field and into different sections
// and end with identical content, each caret staying where its owner types; chat messages
// sent at the same moment all arrive (the append-only chat refuses the late one, the page
// sends it again at the new end); the server is SIGKILLed and restarted on the same port
// and database while a counsellor types, and nothing typed is lost.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const valueAt = (data, path) => path.reduce((node, step) => (node === undefined ? undefined : node[step]), data);

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

// A session led by anna with ben in it and a client joined by link; id is its case's
// (the document they edit).
async function sessionWithEveryone(title) {
  const session = await rest.createSession(server, cookies.anna, title);
  await rest.addParticipant(server, cookies.anna, session.id, 'ben');
  const link = await rest.createLink(server, cookies.anna, session.id);
  const client = await rest.join(server, link.token, 'Kim');
  return { id: session.case_id, cookies: { ...cookies, kim: client } };
}

async function openRoom(caseId, cookie, viewport) {
  const opened = await b.openPage(browser, server, { cookie, viewport });
  await opened.page.goto(`/#/room/${encodeURIComponent(caseId)}`);
  await opened.page.waitForSelector('[data-path]');
  await b.whenSettled(opened.page);
  return opened;
}

// Polls until every field each page shows holds what the lead's copy of the document holds.
async function converged(pages, caseId, timeout = 15000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const doc = await rest.fetchCaseSheet(server, cookies.anna, caseId);
    const mismatches = [];
    for (const { page, name } of pages) {
      for (const [key, value] of Object.entries(await b.fieldValues(page))) {
        const expected = valueAt(doc, JSON.parse(key));
        const shown = typeof expected === 'number' ? Number(value) : value;
        if (expected !== null && shown !== expected) mismatches.push(`${name} ${key}: ${JSON.stringify(value)} ≠ ${JSON.stringify(expected)}`);
      }
    }
    if (!mismatches.length) return doc;
    if (Date.now() > deadline) assert.fail(`pages differ from the server:\n${mismatches.join('\n')}`);
    await sleep(200);
  }
}

test('two counsellors and a client type at once into one field and into different sections', async () => {
  const session = await sessionWithEveryone('Frau K. – Erstgespräch');
  await rest.submitOp(server, cookies.anna, session.id, [{ p: ['concern', 'own_words', 0], si: 'Hallo Welt' }]);
  const lead = await openRoom(session.id, session.cookies.anna);
  const housing = await openRoom(session.id, session.cookies.ben);
  const client = await openRoom(session.id, session.cookies.kim, b.PHONE);
  const pages = [
    { name: 'lead', ...lead },
    { name: 'housing', ...housing },
    { name: 'client', ...client },
  ];

  // The same field, three carets: the client at the end, the lead after "Hallo", the
  // housing counsellor at the start. Each one's text must land where its caret was.
  const shared = ['concern', 'own_words'];
  await b.placeCaret(lead.page, shared, 5);
  await b.placeCaret(housing.page, shared, 0);
  await b.placeCaret(client.page, shared, 'end');
  await Promise.all([
    lead.page.keyboard.type(' liebe', { delay: 35 }),
    housing.page.keyboard.type('Also: ', { delay: 35 }),
    client.page.keyboard.type('! Danke', { delay: 35 }),
  ]);
  // Different sections at once, with umlauts and a character outside the BMP.
  const own = {
    lead: [['sections', 'debt', 'cause'], 'Arbeitslosigkeit seit März'],
    housing: [['sections', 'housing', 'situation'], 'Mietrückstand: zwei Monate'],
    client: [['person', 'display_name'], 'Kim 😀 Ö.'],
  };
  await Promise.all(pages.map(({ name, page }) => b.typeAt(page, own[name][0], 0, own[name][1], 25)));

  for (const { page } of pages) await b.whenSettled(page);
  const doc = await converged(pages, session.id);
  assert.equal(doc.concern.own_words, 'Also: Hallo liebe Welt! Danke');
  for (const { name, page } of pages) {
    assert.equal(await page.inputValue(b.selectorFor(shared)), doc.concern.own_words, `${name} shows the shared field`);
    assert.equal(valueAt(doc, own[name][0]), own[name][1], `${name}'s own section`);
  }
  // Each sees the others' sections only where its role may read them.
  assert.equal(await housing.page.locator(b.selectorFor(own.lead[0])).count(), 0, 'housing does not see the debt section');
  assert.equal(await client.page.locator('[data-path^=\'["internal"\'], [data-path^=\'["situation","assessment"\'], [data-path^=\'["sections","debt","cause"\']').count(), 0);

  // Two chat messages sent at the same moment both reach everyone, in the same order.
  const say = async ({ page }, text) => {
    await page.fill('.chat-form textarea, .chat-form input', text);
    await page.keyboard.press('Enter');
  };
  await Promise.all([say(lead, 'Willkommen, Frau K.!'), say(client, 'Guten Tag zusammen')]);
  // The late one is refused, rolled back and sent again: first wait for the hub to hold both.
  for (let tries = 0; (await rest.fetchCaseSheet(server, cookies.anna, session.id)).chat.length < 2; tries++) {
    assert.ok(tries < 100, 'both chat messages reach the hub');
    await sleep(100);
  }
  const chats = [];
  for (const { page } of pages) {
    await page.waitForFunction(() => document.querySelectorAll('.chat-message').length === 2);
    await b.whenSettled(page);
    chats.push(await page.$$eval('.chat-text', (els) => els.map((el) => el.textContent)));
  }
  assert.deepEqual(chats[0].slice().sort(), ['Guten Tag zusammen', 'Willkommen, Frau K.!']);
  assert.deepEqual(chats[1], chats[0]);
  assert.deepEqual(chats[2], chats[0]);

  for (const { page } of pages) await page.evaluate(() => window.scrollTo(0, 0));
  await b.screenshot(lead.page, 'room-lead-top');
  await b.screenshot(client.page, 'room-client-top-phone');

  // Everyone in the shared field: each page shows the others' names there, as the hub
  // stamped them.
  for (const { page } of pages) await page.click(b.selectorFor(shared));
  await lead.page.waitForFunction((key) => document.querySelectorAll(`[data-node='${key}'] .presence-badge`).length === 2, JSON.stringify(shared));
  assert.deepEqual((await lead.page.$$eval('.presence-badge', (els) => els.map((el) => el.textContent))).sort(), ['Ben Okafor', 'Kim']);
  await b.screenshot(lead.page, 'room-lead');
  await b.screenshot(housing.page, 'room-housing');
  await b.screenshot(client.page, 'room-client-phone');
  for (const { name, problems } of pages) assert.deepEqual(problems, [], `${name}: no script errors, no CSP violations`);
  await Promise.all(pages.map(({ context }) => context.close()));
});

test('a server killed and restarted while a counsellor types loses nothing typed', async () => {
  const session = await sessionWithEveryone('Herr M.');
  const lead = await openRoom(session.id, session.cookies.anna);
  const watcher = await openRoom(session.id, session.cookies.ben);
  const field = ['situation', 'summary'];
  const typed = 'Frau K. bringt heute den Bescheid vom Jobcenter mit; die Frist läuft bald ab. Sie braucht Hilfe beim Widerspruch und eine Übersicht der Schulden.';
  const half = 40;

  await b.typeAt(lead.page, field, 0, typed.slice(0, half), 20);
  const typing = lead.page.keyboard.type(typed.slice(half), { delay: 30 });
  await sleep(500);
  await server.kill();
  await lead.page.waitForSelector('.status:not([data-state="connected"])');
  await lead.page.waitForFunction(() => Number(document.querySelector('.status').dataset.pending) > 0);
  await sleep(1200);
  await b.screenshot(lead.page, 'room-offline-pending', { clip: { x: 0, y: 0, width: 1440, height: 420 } });
  await server.restart();
  await typing;

  await b.whenSettled(lead.page, 30000);
  await b.whenSettled(watcher.page, 30000);
  const doc = await converged([{ name: 'lead', ...lead }, { name: 'watcher', ...watcher }], session.id);
  assert.equal(doc.situation.summary, typed, 'everything typed is in the document');
  assert.equal(await lead.page.inputValue(b.selectorFor(field)), typed);
  assert.deepEqual(lead.problems, []);
  await lead.context.close();
  await watcher.context.close();
});

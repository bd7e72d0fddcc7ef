'use strict';
// The room tells the truth about the connection, on both sides: a page whose network goes
// (the browser set offline, or the server frozen with SIGSTOP) says "offline" within
// 10 s, how many edits wait and that they are kept, and recovers by itself; the hub
// hangs up on a page that has gone silent (--heartbeat-secs), so the others see that
// person as gone. The heartbeat is ShareDB's own ping (`pp`), answered by the hub.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

const FIELD = ['situation', 'summary'];
let server;
let browser;
let cookies;

test.before(async () => {
  server = await startServer({ args: ['--heartbeat-secs', '4'] });
  browser = await b.launchBrowser();
  cookies = await setUpPeople(server);
});
test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function room(title) {
  const session = await rest.createSession(server, cookies.anna, title);
  await rest.addParticipant(server, cookies.anna, session.id, 'ben');
  const open = async (cookie) => {
    const opened = await b.openPage(browser, server, { cookie });
    await opened.page.goto(`/#/room/${encodeURIComponent(session.case_id)}`);
    await b.whenSettled(opened.page);
    return opened;
  };
  return { id: session.case_id, lead: await open(cookies.anna), other: await open(cookies.ben) };
}

// Milliseconds until the page's status says offline (fails after 10 s).
async function offlineWithin10s(page, since) {
  await page.waitForSelector('.status[data-state="offline"]', { timeout: 10000 });
  return Date.now() - since;
}

test('offline in the browser: the page says so within 10 s, keeps the edits, recovers; the others see the person go', async () => {
  const r = await room('Funkloch');
  await r.other.page.waitForSelector('.people-list .person[data-person]:not(.is-away) .person-name:has-text("Anna Berg")');
  const start = Date.now();
  await r.lead.context.setOffline(true);
  const took = await offlineWithin10s(r.lead.page, start);
  console.log(`# offline shown after ${took} ms`);
  await b.typeAt(r.lead.page, FIELD, 0, 'Im Funkloch geschrieben', 15);
  await r.lead.page.waitForSelector('.status[data-state="offline"] .status-kept:has-text("auf diesem Gerät gespeichert")');
  const waiting = await b.status(r.lead.page);
  assert.ok(waiting.pending > 0);
  assert.match(waiting.text, /Änderung(en)? wart/);

  // The hub hangs up on the silent page: the others see Anna as gone, with the time.
  await r.other.page.waitForSelector('.people-list .person.is-away .person-name:has-text("Anna Berg")', { timeout: 20000 });
  assert.match(await r.other.page.textContent('.person.is-away'), /nicht mehr verbunden \(seit \d{1,2}:\d{2}\)/);
  await b.screenshot(r.other.page, 'room-person-away', { clip: { x: 0, y: 0, width: 1440, height: 420 } });

  await r.lead.context.setOffline(false);
  await b.whenSettled(r.lead.page, 30000);
  await r.other.page.waitForFunction((sel) => document.querySelector(sel).value === 'Im Funkloch geschrieben', b.selectorFor(FIELD));
  await r.other.page.waitForSelector('.people-list .person:not(.is-away) .person-name:has-text("Anna Berg")');
  assert.deepEqual(r.lead.problems, []);
  await r.lead.context.close();
  await r.other.context.close();
});

test('a server frozen with SIGSTOP: every page says offline within 10 s and recovers after SIGCONT', async () => {
  const r = await room('Eingefroren');
  const start = Date.now();
  server.signal('SIGSTOP');
  try {
    const [a, o] = await Promise.all([offlineWithin10s(r.lead.page, start), offlineWithin10s(r.other.page, start)]);
    console.log(`# offline shown after ${a} and ${o} ms`);
    await b.typeAt(r.lead.page, FIELD, 0, 'Während der Server schläft', 15);
    await r.lead.page.waitForFunction(() => Number(document.querySelector('.status').dataset.pending) > 0);
  } finally {
    server.signal('SIGCONT');
  }
  await b.whenSettled(r.lead.page, 40000);
  await b.whenSettled(r.other.page, 40000);
  await r.other.page.waitForFunction((sel) => document.querySelector(sel).value === 'Während der Server schläft', b.selectorFor(FIELD));
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, r.id)).situation.summary, 'Während der Server schläft');
  await r.lead.context.close();
  await r.other.context.close();
});

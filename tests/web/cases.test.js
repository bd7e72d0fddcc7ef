'use strict';
// A case across sessions in real browsers against a real `konsil serve`: the lead creates
// a case on the dashboard, adds the housing counsellor to the team and starts session 1;
// a client joins by link on a phone and writes; the lead ends the session and the
// client's page says so at once; the housing counsellor edits the sheet between sessions;
// the lead starts a follow-up session with one click from the case page, and the client
// (a new link) sees the sheet as it was carried over. The dashboard lists the case with
// its next meeting and the lead's tasks, the overdue one standing out.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { PEOPLE, setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

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

async function checkView(opened, name, screenshotOptions) {
  assert.deepEqual(await b.unlabelledControls(opened.page), [], `${name}: every control has a label`);
  assert.deepEqual(await b.inlineStyles(opened.page), [], `${name}: no inline styles`);
  assert.deepEqual(opened.problems, [], `${name}: no script error or CSP violation`);
  await b.screenshot(opened.page, name, screenshotOptions);
}

// On the session page: a link without lobby; resolves with its URL.
async function newLink(page) {
  await page.waitForSelector('.session-admin section[aria-labelledby="links-title"]');
  await page.uncheck('section[aria-labelledby="links-title"] input[type="checkbox"]');
  await page.click('section[aria-labelledby="links-title"] form button');
  await page.waitForSelector('.link-card .qr svg');
  return page.inputValue('.link-card .link-url');
}

// A client on a phone joins by link under name; resolves with its page in the room.
async function clientJoins(linkUrl, name) {
  const client = await b.openPage(browser, server, { viewport: b.PHONE });
  await client.page.goto(linkUrl);
  await client.page.waitForSelector('form.join');
  await client.page.fill('form.join input', name);
  await client.page.click('form.join button[type="submit"]');
  await client.page.waitForSelector('.room-client [data-path]', { timeout: 20000 });
  await b.whenSettled(client.page);
  return client;
}

test('create case → session 1 with a client → end → the team edits → follow-up → the client sees the carried-over sheet', async () => {
  const lead = await b.openPage(browser, server, { cookie: cookies.anna });
  const { page } = lead;
  await page.goto('/');
  await page.waitForSelector('.dashboard .create-case');
  await page.waitForSelector('.create-case select option[value="hilfeplangespraech"]', { state: 'attached' });
  await page.fill('.create-case input', 'Familie B.');
  await page.click('.create-case button[type="submit"]');
  await page.waitForSelector('.case-page h1:has-text("Familie B.")');
  const caseId = decodeURIComponent(new URL(page.url()).hash.split('/').pop());
  await page.fill('.add-member input', 'ben');
  await page.click('.add-member button');
  await page.waitForSelector('.team li:has-text("Ben Okafor")');
  assert.equal(await page.locator('.start-session').textContent(), 'Erste Sitzung starten');

  // Session 1: a client joins and writes its concern.
  await page.click('.start-session');
  const firstLink = await newLink(page);
  await checkView(lead, 'cases-session-1');
  const first = await clientJoins(firstLink, 'Kim');
  await b.typeAt(first.page, ['concern', 'own_words'], 0, 'Mietschulden seit März', 10);
  await b.whenSettled(first.page);

  // The lead ends the session: the client's page says so at once.
  await page.click('.session-admin .end-session');
  await page.click('.confirm-dialog .confirm-yes');
  await page.waitForSelector('.session-ended');
  await first.page.waitForSelector('.room-gone:has-text("Die Sitzung ist beendet")', { timeout: 15000 });
  assert.equal(await first.page.locator('[data-path]').count(), 0, 'the sheet is gone from the client\'s page');
  await checkView(first, 'cases-client-session-ended-phone');

  // Between sessions the housing counsellor writes what the client will read.
  const housing = await b.openPage(browser, server, { cookie: cookies.ben });
  await housing.page.goto(`/#/room/${encodeURIComponent(caseId)}`);
  await housing.page.waitForSelector(b.selectorFor(['sections', 'housing', 'client_summary']));
  await b.whenSettled(housing.page);
  await b.typeAt(housing.page, ['sections', 'housing', 'client_summary'], 0, 'Wohngeld beantragen', 10);
  await b.whenSettled(housing.page);
  assert.equal(await housing.page.locator('.lobby:not([hidden])').count(), 0, 'no lobby between sessions');
  await checkView(housing, 'cases-between-sessions');

  // The follow-up: one click on the case page.
  await page.goto(`/#/cases/${encodeURIComponent(caseId)}`);
  await page.waitForSelector('.session-item');
  assert.equal(await page.locator('.start-session').textContent(), 'Folgesitzung starten');
  await checkView(lead, 'cases-case-page-between');
  await page.click('.start-session');
  const secondLink = await newLink(page);
  const second = await clientJoins(secondLink, 'Kim');
  const concern = b.selectorFor(['concern', 'own_words']);
  assert.equal(await second.page.inputValue(concern), 'Mietschulden seit März');
  const summary = b.selectorFor(['sections', 'housing', 'client_summary']);
  await second.page.waitForSelector(summary);
  const shown = await second.page.$eval(summary, (el) => ('value' in el ? el.value : el.textContent));
  assert.equal(shown, 'Wohngeld beantragen', 'what the team wrote between sessions');
  await checkView(second, 'cases-client-follow-up-phone');
  const doc = await rest.fetchCaseSheet(server, cookies.anna, caseId);
  assert.equal(doc.concern.own_words, 'Mietschulden seit März');

  // The case page lists both sessions; the dashboard the case with its running session.
  await page.goto(`/#/cases/${encodeURIComponent(caseId)}`);
  await page.waitForSelector('.session-item.is-running');
  assert.equal(await page.locator('.session-item').count(), 2);
  await page.goto('/');
  await page.waitForSelector(`.case-row[data-case-id="${caseId}"] .case-next.is-running`);
  for (const opened of [lead, first, housing, second]) await opened.context.close();
});

test('the dashboard: my cases with their next meeting, my tasks with the overdue one standing out', async () => {
  const kase = await rest.createCase(server, cookies.anna, 'Herr T.');
  await rest.call(server, cookies.anna, 'POST', `/api/cases/${kase.id}/team`, { username: 'ben' });
  const me = (await rest.call(server, cookies.anna, 'GET', '/api/me')).data;
  await rest.submitOp(server, cookies.anna, kase.id, [
    { p: ['help_plan', 'tasks', 0], li: { what: 'Kontoauszüge anfordern', owner: me.id, due: '2001-02-03', done: false } },
    { p: ['help_plan', 'tasks', 1], li: { what: 'Wohngeldantrag prüfen', owner: me.id, due: '2099-01-01', done: false } },
    { p: ['appointments', 0], li: { start: '2099-05-04T09:30', mode: 'vor_ort', place: 'Beratungsstelle', status: 'gebucht' } },
  ]);
  const opened = await b.openPage(browser, server, { cookie: cookies.anna });
  await opened.page.goto('/');
  await opened.page.waitForSelector('.task-row.is-overdue:has-text("Kontoauszüge anfordern")');
  assert.equal(await opened.page.locator('.task-row').count(), 2);
  assert.match(await opened.page.textContent('.task-row.is-overdue'), /überfällig/);
  assert.equal(await opened.page.locator('.task-row.is-overdue').count(), 1);
  const row = `.case-row[data-case-id="${kase.id}"]`;
  assert.match(await opened.page.textContent(`${row} .case-next`), /Nächster Termin: .*2099/);
  await checkView(opened, 'cases-dashboard-tasks');

  // In the room, a task's owner is chosen from the team, never typed.
  await opened.page.goto(`/#/room/${encodeURIComponent(kase.id)}`);
  const owner = b.selectorFor(['help_plan', 'tasks', 1, 'owner']);
  await opened.page.waitForSelector(owner);
  await b.whenSettled(opened.page);
  assert.equal(await opened.page.evaluate((sel) => document.querySelector(sel).tagName, owner), 'SELECT');
  const ben = (await rest.call(server, cookies.ben, 'GET', '/api/me')).data;
  await opened.page.selectOption(owner, ben.id);
  await b.whenSettled(opened.page);
  const doc = await rest.fetchCaseSheet(server, cookies.anna, kase.id);
  assert.equal(doc.help_plan.tasks[1].owner, ben.id);
  assert.equal(PEOPLE.ben.displayName, await opened.page.$eval(`${owner} option:checked`, (o) => o.textContent));
  await opened.context.close();
});

test('the shipped templates open in the room with their own sections', async () => {
  for (const [template, label] of [['schuldnerberatung-erstgespraech', 'Haushaltsbudget'], ['hilfeplangespraech', 'Berichte der Fachrichtungen']]) {
    const kase = await rest.createCase(server, cookies.anna, `Vorlage ${template}`, template);
    const opened = await b.openPage(browser, server, { cookie: cookies.anna });
    await opened.page.goto(`/#/room/${encodeURIComponent(kase.id)}`);
    await opened.page.waitForSelector('[data-path]');
    await b.whenSettled(opened.page);
    await opened.page.waitForSelector(`h2:has-text("${label}")`);
    await checkView(opened, `cases-room-${template}`);
    await opened.context.close();
  }
});

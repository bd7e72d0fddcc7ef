'use strict';
// What the pages say about who reads a part of the case sheet ("Wer sieht das?") is what
// the hub sends: for every part a page names its readers for, on the lead's, a housing
// counsellor's, a supervisor's and the client's page, the people it names as reading it
// are exactly the principals whose /ws snapshot holds it (read with the stock sharedb
// client as each of them). The client shares the debt summary with housing, so a
// conditioned reader is among them; when it revokes, the housing counsellor's open page
// loses the summary without a reload and says so. The supervisor's page shows the
// client's words as hidden, with a label, and its names as the pseudonym; stamped
// authors are names from the people list, a client's marked as self-chosen. No page says
// "alle Beteiligten"; the join page says who reads what.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { PEOPLE, setUpPeople } = require('./lib/people');
const b = require('./lib/browser');
const template = require('../../protocol/templates/default.json');

const SARA = { name: 'sara', password: 'sara-passwort-1', role: 'supervisor', displayName: 'Sara Lind' };
const CLIENT_NAME = 'Mia Sonnenberg';
const OWN_WORDS = 'Die Miete ist seit März offen.';
const SUMMARY = 'Wir sprechen mit der Bank.';

let server;
let browser;
const cookies = {};
const ids = {};
let caseId;
let sessionId;
let linkToken;

const valueAt = (data, path) => path.reduce((v, k) => (v !== null && typeof v === 'object' && k in v ? v[k] : undefined), data);

// The rules' paths below rulePath: their places are other rules' parts.
const deeper = (rulePath) => template.rules.map((r) => r.path).filter((p) => p.length > rulePath.length && rulePath.every((k, i) => p[i] === k));

// value at rulePath without what deeper rules govern: what that rule's readers get.
function ownPart(value, rulePath) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy = structuredClone(value);
  for (const p of deeper(rulePath)) {
    const rest = p.slice(rulePath.length);
    const parent = valueAt(copy, rest.slice(0, -1));
    if (parent && typeof parent === 'object') delete parent[rest[rest.length - 1]];
  }
  return copy;
}

// Rules that govern something of their own in the template's document (not only places).
const hasOwnPart = (rulePath) => {
  const part = ownPart(valueAt(template.document, rulePath), rulePath);
  return !(part && typeof part === 'object' && !Array.isArray(part) && Object.keys(part).length === 0);
};

// Whether a principal's snapshot holds the part rulePath governs.
function receives(snapshot, rulePath) {
  const value = valueAt(snapshot, rulePath);
  if (value === undefined) return false;
  const part = ownPart(value, rulePath);
  return !(part && typeof part === 'object' && !Array.isArray(part) && Object.keys(part).length === 0);
}

async function openRoom(cookie, viewport) {
  const opened = await b.openPage(browser, server, { cookie, viewport });
  await opened.page.goto(`/#/room/${encodeURIComponent(caseId)}`);
  await opened.page.waitForSelector('.readers');
  await b.whenSettled(opened.page);
  return opened;
}

// Every readers line on the page: rule path → readers named as reading it now.
function pageReaders(page) {
  return page.$$eval('.readers[data-readers-for]', (lines) =>
    lines.map((line) => ({
      path: line.dataset.readersFor,
      now: [...line.querySelectorAll('.readers-now .reader')].filter((r) => r.dataset.reads !== 'nothing').map((r) => r.dataset.reader).sort(),
    })),
  );
}

async function snapshots() {
  const out = {};
  for (const who of ['client', 'anna', 'ben', 'sara']) out[who] = await rest.fetchCaseSheet(server, cookies[who], caseId);
  return out;
}

// For every line of the page, the readers it names are exactly the receivers.
async function sayWhatIsSent(page, label) {
  const sheets = await snapshots();
  const lines = await pageReaders(page);
  assert.ok(lines.length >= 5, `${label}: readers lines on the page`);
  let compared = 0;
  for (const line of lines) {
    const rulePath = JSON.parse(line.path);
    if (!hasOwnPart(rulePath)) continue;
    const receivers = Object.entries(sheets).filter(([, sheet]) => receives(sheet, rulePath)).map(([who]) => ids[who]).sort();
    assert.deepEqual(line.now, receivers, `${label}: ${line.path}`);
    compared++;
  }
  assert.ok(compared >= 4, `${label}: parts compared`);
}

test.before(async () => {
  server = await startServer();
  browser = await b.launchBrowser();
  Object.assign(cookies, await setUpPeople(server));
  server.addUser(SARA);
  cookies.sara = await rest.login(server, SARA.name, SARA.password);
  const kase = await rest.createCase(server, cookies.anna, 'Frau S. – Miete');
  caseId = kase.id;
  for (const username of ['ben', 'sara']) {
    await rest.call(server, cookies.anna, 'POST', `/api/cases/${caseId}/team`, { username });
  }
  sessionId = (await rest.call(server, cookies.anna, 'POST', `/api/cases/${caseId}/sessions`)).data.id;
  linkToken = (await rest.createLink(server, cookies.anna, sessionId)).token;
  cookies.client = await rest.join(server, linkToken, CLIENT_NAME);
  for (const who of ['anna', 'ben', 'sara']) {
    ids[who] = (await rest.call(server, cookies[who], 'GET', '/api/me')).data.id;
  }
  ids.client = 'client';
  await rest.submitOp(server, cookies.client, caseId, [{ p: ['concern', 'own_words', 0], si: OWN_WORDS }]);
  await rest.submitOp(server, cookies.anna, caseId, [{ p: ['sections', 'debt', 'client_summary', 0], si: SUMMARY }]);
  await rest.submitOp(server, cookies.client, caseId, [{ p: ['chat', 0], li: { text: 'Guten Tag' } }]);
  await rest.submitOp(server, cookies.client, caseId, [{ p: ['consents', 0], li: { kind: 'share', with: 'housing', status: 'given' } }]);
});
test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('every page names as readers of a part exactly those the hub sends it to', async () => {
  for (const who of ['anna', 'ben', 'sara', 'client']) {
    const opened = await openRoom(cookies[who], who === 'client' ? b.PHONE : b.DESKTOP);
    await sayWhatIsSent(opened.page, who);
    const text = await opened.page.textContent('.room');
    assert.ok(!/alle Beteiligten/.test(text), `${who}: no hand-written "everyone"`);
    assert.deepEqual(opened.problems, [], `${who}: no script error`);
    await b.screenshot(opened.page, `readers-${who}`, { fullPage: true });
    await opened.context.close();
  }
});

test('a revoked share: the housing page loses the summary without a reload; the lead\'s page says so', async () => {
  const ben = await openRoom(cookies.ben);
  const anna = await openRoom(cookies.anna);
  const summary = b.selectorFor(['sections', 'debt', 'client_summary']);
  const line = `.readers[data-readers-for='["sections","debt","client_summary"]']`;
  await ben.page.waitForSelector(`${summary}:is(textarea, input, .field-value)`);
  assert.equal(await ben.page.inputValue(summary).catch(() => ben.page.textContent(summary)), SUMMARY);
  await anna.page.waitForSelector(`${line} .readers-now .reader[data-reader="${ids.ben}"]`);
  await rest.submitOp(server, cookies.client, caseId, [{ p: ['consents', 1], li: { kind: 'share', with: 'housing', status: 'revoked' } }]);
  await ben.page.waitForSelector(summary, { state: 'detached' });
  // The lead's page asked the hub again: the housing counsellor reads it only with consent.
  await anna.page.waitForSelector(`${line} .readers-later .reader[data-reader="${ids.ben}"]`);
  await sayWhatIsSent(ben.page, 'ben after the revocation');
  await sayWhatIsSent(anna.page, 'anna after the revocation');
  assert.deepEqual(ben.problems, []);
  assert.deepEqual(anna.problems, []);
  await ben.context.close();
  await anna.context.close();
});

test('the supervisor: the client\'s words hidden with a label, names as pseudonyms; stamped authors by name', async () => {
  const sara = await openRoom(cookies.sara);
  const own = sara.page.locator(`.is-hidden-text ${b.selectorFor(['concern', 'own_words'])}`);
  assert.match(await own.textContent(), /verborgen – ohne Einwilligung zur Supervision \(Länge: 30\)/);
  assert.ok(!(await sara.page.textContent('.room')).includes('März'));
  assert.match(await sara.page.textContent('.chat-log .chat-from'), /^Klient:in A$/);
  // The replay says why the text is hidden.
  await sara.page.goto(`/#/replay/${encodeURIComponent(caseId)}`);
  await sara.page.waitForSelector('.replay-notice[data-consent="not_given"]');
  assert.match(await sara.page.textContent('.replay-notice'), /nicht zugestimmt/);
  await sara.context.close();
  // The lead sees the client's own name as such, and the consents' stamped fields as names.
  const anna = await openRoom(cookies.anna);
  assert.equal(await anna.page.textContent('.chat-log .chat-from'), `${CLIENT_NAME} (selbst gewählt)`);
  const givenBy = anna.page.locator(b.selectorFor(['consents', 0, 'given_by']));
  assert.equal(await givenBy.textContent(), `${CLIENT_NAME} (selbst gewählt)`);
  assert.equal(await anna.page.textContent(b.selectorFor(['consents', 0, 'how'])), 'selbst eingetragen');
  // A consent recorded by the lead on the client's behalf says how it was given.
  await anna.page.selectOption('.consent-form select[data-field="kind"]', 'processing');
  await anna.page.selectOption('.consent-form select[data-field="how"]', 'paper');
  await anna.page.click('.consent-form button[type="submit"]');
  await anna.page.waitForSelector(b.selectorFor(['consents', 2, 'recorded_by']));
  await b.whenSettled(anna.page);
  const sheet = await rest.fetchCaseSheet(server, cookies.anna, caseId);
  assert.deepEqual({ ...sheet.consents[2], at: 0 }, { kind: 'processing', status: 'given', how: 'paper', given_by: 'client', recorded_by: ids.anna, at: 0 });
  assert.equal(await anna.page.textContent(b.selectorFor(['consents', 2, 'given_by'])), 'die Klientin / der Klient');
  assert.deepEqual(anna.problems, []);
  await anna.context.close();
});

test('the join page says who reads what, supervision included', async () => {
  const link = await rest.createLink(server, cookies.anna, sessionId);
  const opened = await b.openPage(browser, server, { viewport: b.PHONE });
  await opened.page.goto(`/j/${link.token}`);
  await opened.page.waitForSelector('form.join');
  const text = await opened.page.textContent('.join-page');
  assert.ok(!text.includes('sehen nur die Menschen, die Sie beraten'));
  assert.match(text, /Supervision sieht Ihren Namen nicht und Ihren Text nur, wenn Sie es erlauben/);
  await opened.context.close();
});

'use strict';
// The client's own copy (GDPR Art. 15) and the print views in real Chromium against a
// real `konsil serve`: the client opens "Meine Daten" from its page and gets its copy as
// a page; printed to PDF with Chromium's page.pdf() (the print stylesheet), the PDF holds
// the client's own text, the purposes, the recipients and the retention, and not the
// team's internal note. A counsellor takes the copy on the client's behalf from the case
// page and prints the case sheet as the client sees it; the lead sees the retention card;
// an admin's start page is the data-protection overview, without any case's content.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

let server;
let browser;
let cookies;

test.before(async () => {
  server = await startServer();
  browser = await b.launchBrowser();
  cookies = await setUpPeople(server);
  server.addUser({ name: 'dora', password: 'dora-passwort-1', role: 'admin', displayName: 'Dora Datenschutz' });
  cookies.dora = await rest.login(server, 'dora', 'dora-passwort-1');
});
test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function checkView(opened, name) {
  assert.deepEqual(await b.unlabelledControls(opened.page), [], `${name}: every control has a label`);
  assert.deepEqual(await b.inlineStyles(opened.page), [], `${name}: no inline styles`);
  assert.deepEqual(opened.problems, [], `${name}: no script error or CSP violation`);
  await b.screenshot(opened.page, name, { fullPage: true });
}

// The page printed with Chromium's print pipeline (the print stylesheet) and its text.
async function pdfText(page, name) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'konsil-pdf-')), `${name}.pdf`);
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: file, format: 'A4', printBackground: false });
  await page.emulateMedia({ media: 'screen' });
  assert.ok(fs.readFileSync(file).subarray(0, 5).toString() === '%PDF-', 'a PDF');
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

test('the client takes its own copy, prints it to PDF: its text, the purposes, who read it, how long; never an internal note', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Familie Kopie');
  await rest.call(server, cookies.anna, 'POST', `/api/cases/${session.case_id}/team`, { username: 'ben' });
  const link = await rest.createLink(server, cookies.anna, session.id);
  const client = await rest.join(server, link.token, 'Kim Kopie');
  await rest.submitOp(server, client, session.case_id, [{ p: ['concern', 'own_words', 0], si: 'Mietschulden seit März ZEBRAKLIENT' }]);
  await rest.submitOp(server, cookies.anna, session.case_id, [{ p: ['internal', 'notes', 0], li: { text: 'ZEBRAINTERN nur fürs Team' } }]);
  await rest.fetchCaseSheet(server, cookies.ben, session.case_id);   // Ben reads it: a recipient

  const opened = await b.openPage(browser, server, { cookie: client, viewport: b.PHONE });
  await opened.page.goto('/');
  await opened.page.waitForSelector('.room-client [data-path]', { timeout: 20000 });
  await opened.page.click('.my-copy-link');
  await opened.page.waitForSelector('.copy-page #copy-recipients');
  const shown = await opened.page.textContent('.copy-page');
  assert.match(shown, /ZEBRAKLIENT/);
  assert.doesNotMatch(shown, /ZEBRAINTERN/);
  assert.match(shown, /Ben Okafor/);
  assert.match(shown, /Anna Berg/);
  await checkView(opened, 'copy-client-phone');
  const text = await pdfText(opened.page, 'copy-client');
  assert.match(text, /ZEBRAKLIENT/, 'the client\'s own text');
  assert.match(text, /Kim Kopie/);
  assert.match(text, /Wofür Ihre Daten verwendet werden/);
  assert.match(text, /Beratungsvertrag/);
  assert.match(text, /Wer Ihre Daten gelesen hat/);
  assert.match(text, /Ben Okafor/);
  assert.match(text, /Wie lange Ihre Daten bleiben/);
  assert.match(text, /1095 Tage nach dem Abschluss/);
  assert.match(text, /§§ 195, 199 BGB/);
  assert.doesNotMatch(text, /ZEBRAINTERN/, 'never an internal note');
  assert.doesNotMatch(text, /Drucken oder als PDF speichern/, 'no buttons in print');
  // The JSON to download is the same copy.
  assert.equal(await opened.page.getAttribute('.copy-tools a[download]', 'href'), '/api/me/copy');
  await opened.context.close();
});

test('a counsellor takes the copy for the client and prints the sheet as the client sees it; the retention card; the officer\'s overview', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Herr Druck');
  const link = await rest.createLink(server, cookies.anna, session.id);
  const client = await rest.join(server, link.token, 'Herr D.');
  await rest.submitOp(server, client, session.case_id, [{ p: ['concern', 'own_words', 0], si: 'ZEBRADRUCK Anliegen' }]);
  await rest.submitOp(server, cookies.anna, session.case_id, [{ p: ['internal', 'notes', 0], li: { text: 'ZEBRAINTERN2' } }]);
  const lead = await b.openPage(browser, server, { cookie: cookies.anna });
  const { page } = lead;
  await page.goto(`/#/cases/${encodeURIComponent(session.case_id)}`);
  await page.waitForSelector('.retention-card');
  assert.match(await page.textContent('.retention-card'), /1095 Tage nach dem Abschluss/);
  assert.equal(await page.inputValue('.retention-card select.retention-class'), 'standard');
  await checkView(lead, 'copy-case-retention-card');
  // The copy on the client's behalf.
  await page.click('.client-copy-link');
  await page.waitForSelector('.copy-page #copy-retention');
  let text = await pdfText(page, 'copy-on-behalf');
  assert.match(text, /ZEBRADRUCK/);
  assert.match(text, /Herr D\./);
  assert.doesNotMatch(text, /ZEBRAINTERN2/);
  // The print view of the sheet as the client sees it.
  await page.goto(`/#/cases/${encodeURIComponent(session.case_id)}`);
  await page.click('.print-view-link');
  await page.waitForSelector('.client-view .copy-sheet');
  await checkView(lead, 'copy-print-view');
  text = await pdfText(page, 'print-view');
  assert.match(text, /ZEBRADRUCK/);
  assert.doesNotMatch(text, /ZEBRAINTERN2/);
  // A legal hold set on the case page shows on the officer's overview.
  await page.goto(`/#/cases/${encodeURIComponent(session.case_id)}`);
  await page.fill('.set-hold input[maxlength]', 'Klage anhängig');
  await page.click('.set-hold button[type="submit"]');
  await page.waitForSelector('.holds .hold');
  await lead.context.close();

  const officer = await b.openPage(browser, server, { cookie: cookies.dora });
  await officer.page.goto('/');
  await officer.page.waitForSelector('.officer-page table.officer-cases');
  await officer.page.waitForSelector('table.officer-holds td:has-text("Klage anhängig")');
  const all = await officer.page.textContent('.officer-page');
  assert.doesNotMatch(all, /ZEBRA|Herr Druck|Herr D\./, 'no case\'s content');
  await checkView(officer, 'copy-officer');
  await officer.context.close();
});

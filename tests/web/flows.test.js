'use strict';
// The web demo's flows against the real REST API, in a real browser: a counsellor logs
// in, creates a case, adds a specialist to its team, starts a session and hands out a
// lobby link as URL and QR code; the client opens it on a phone and joins with the
// keyboard alone, waits in the lobby, is let in from the room, and its page never
// contains internal sections (checked in the DOM); a revoked link stops working; a
// declined client is told so; English on request. Every view: each control labelled, no inline style, no script error or CSP
// violation, and a screenshot in build/screenshots/.
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

// Paths of the case sheet a client must never have on its page.
function isInternal(path) {
  if (path[0] === 'internal' || (path[0] === 'meta' && path[1] === 'retention')) return true;
  if (path[0] === 'situation' && path[1] === 'assessment') return true;
  return path[0] === 'sections' && path[2] !== undefined && path[2] !== 'client_summary';
}

async function checkView(opened, name, screenshotOptions) {
  assert.deepEqual(await b.unlabelledControls(opened.page), [], `${name}: every control has a label`);
  assert.deepEqual(await b.inlineStyles(opened.page), [], `${name}: no inline styles`);
  assert.deepEqual(opened.problems, [], `${name}: no script error or CSP violation`);
  await b.screenshot(opened.page, name, screenshotOptions);
}

test('from login to a client let in from the lobby, who sees only its own sections', async () => {
  const lead = await b.openPage(browser, server);
  const { page } = lead;
  await page.goto('/');
  await page.waitForSelector('form.login');
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  await page.fill('input[name="username"]', 'anna');
  await page.fill('input[name="password"]', 'falsch');
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('.form-error:has-text("stimmt nicht")');
  await checkView(lead, 'login-failed');
  await page.fill('input[name="password"]', PEOPLE.anna.password);
  await page.click('form.login button[type="submit"]');

  await page.waitForSelector('.dashboard');
  await page.fill('.create-case input', 'Herr M. – Mietschulden');
  await checkView(lead, 'dashboard');
  await page.click('.create-case button[type="submit"]');
  await page.waitForSelector('.case-page h1:has-text("Herr M. – Mietschulden")');
  const caseId = decodeURIComponent(new URL(page.url()).hash.split('/').pop());
  await page.fill('.add-member input', 'ben');
  await page.click('.add-member button');
  await page.waitForSelector('.team li:has-text("Ben Okafor")');
  await checkView(lead, 'case-page');
  await page.click('.start-session');
  await page.waitForSelector('.session-admin section[aria-labelledby="links-title"]');
  await page.selectOption('section[aria-labelledby="links-title"] select', '604800');
  await page.click('section[aria-labelledby="links-title"] form button');
  await page.waitForSelector('.link-card .qr svg');
  const linkUrl = await page.inputValue('.link-url');
  assert.match(linkUrl, new RegExp(`^${server.url}/j/[A-Za-z0-9_-]{43}$`));
  await checkView(lead, 'session-admin-link');
  await page.goto('/');
  await page.waitForSelector('.case-row:has-text("Herr M.") .case-next.is-running');
  await checkView(lead, 'dashboard-with-case');

  // The client, on a phone, with the keyboard alone: the name field has the focus, Enter
  // sends the form, and the lobby link leads to the waiting page.
  const client = await b.openPage(browser, server, { viewport: b.PHONE });
  await client.page.goto(linkUrl);
  await client.page.waitForSelector('form.join');
  await client.page.waitForFunction(() => document.activeElement && document.activeElement.tagName === 'INPUT');
  await checkView(client, 'join-phone');
  await client.page.keyboard.type('Kim');
  await client.page.keyboard.press('Enter');
  await client.page.waitForSelector('.waiting');
  assert.match(await client.page.textContent('.waiting'), /Warteraum/);
  await checkView(client, 'join-waiting-phone');

  // The lead sees Kim waiting in the room and lets her in.
  await page.goto(`/#/room/${encodeURIComponent(caseId)}`);
  await page.waitForSelector('.lobby:not([hidden]) .lobby-client:has-text("Kim")');
  await page.evaluate(() => window.scrollTo(0, 0));
  await checkView(lead, 'room-lead-lobby');
  await page.click('.lobby-client button.primary');
  await client.page.waitForSelector('.room-client [data-path]', { timeout: 20000 });
  await b.whenSettled(client.page);
  await page.waitForSelector('.lobby[hidden]', { state: 'attached' });

  // The lead writes an internal assessment and a shared concern; the client gets the
  // concern and nothing of the assessment, anywhere in its DOM.
  await b.typeAt(page, ['situation', 'assessment'], 0, 'Vertraulich: hohe Belastung', 10);
  await b.typeAt(page, ['concern', 'own_words'], 0, 'Mietschulden, Brief vom Vermieter', 10);
  await b.whenSettled(page);
  const concern = b.selectorFor(['concern', 'own_words']);
  await client.page.waitForFunction((sel) => document.querySelector(sel) && document.querySelector(sel).value.startsWith('Mietschulden'), concern);
  const paths = await client.page.evaluate(() =>
    [...document.querySelectorAll('[data-path], [data-node]')].map((el) => JSON.parse(el.dataset.path || el.dataset.node)),
  );
  assert.deepEqual(paths.filter(isInternal), [], 'no internal part of the case sheet in the client DOM');
  const text = await client.page.textContent('body');
  assert.ok(!text.includes('Vertraulich'), 'the internal text is nowhere on the page');
  assert.ok(!/Intern|Einschätzung der Beratung|Aufbewahrung/.test(text), 'no internal section label');
  assert.equal(await client.page.locator('.section-nav, .section-internal').count(), 0);

  // Keyboard alone: Tab to "Worum geht es?" and add to it.
  await client.page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (let i = 0; i < 60 && !(await client.page.evaluate((sel) => document.activeElement === document.querySelector(sel), concern)); i++) {
    await client.page.keyboard.press('Tab');
  }
  await client.page.keyboard.press('End');
  await client.page.keyboard.type('. Ich habe Angst um die Wohnung.');
  await b.whenSettled(client.page);
  const doc = await rest.fetchCaseSheet(server, cookies.anna, caseId);
  assert.equal(doc.concern.own_words, 'Mietschulden, Brief vom Vermieter. Ich habe Angst um die Wohnung.');
  // The indicator counts an edit the moment it is made, never "saved" before the hub has it.
  const pendingAtOnce = await client.page.evaluate((sel) => {
    const el = document.querySelector(sel);
    el.value += ' Danke.';
    el.dispatchEvent(new Event('input', { bubbles: true }));
    return document.querySelector('.status').dataset.pending;
  }, concern);
  assert.notEqual(pendingAtOnce, '0', 'an unsent edit shows as unsent at once');
  await b.whenSettled(client.page);
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, caseId)).concern.own_words.endsWith('Wohnung. Danke.'), true);
  await checkView(client, 'room-client-keyboard-phone');
  await client.page.evaluate(() => window.scrollTo(0, 0));
  await checkView(client, 'room-client-top-phone-api');
  await lead.context.close();
  await client.context.close();
});

test('a revoked link stops working', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Familie K.');
  const admin = await b.openPage(browser, server, { cookie: cookies.anna });
  await admin.page.goto(`/#/sessions/${encodeURIComponent(session.id)}`);
  await admin.page.uncheck('section[aria-labelledby="links-title"] input[type="checkbox"]');
  await admin.page.click('section[aria-labelledby="links-title"] form button');
  await admin.page.waitForSelector('.link-card');
  const linkUrl = await admin.page.inputValue('.link-url');
  await admin.page.click('.link-card button.revoke-link');
  await admin.page.click('.confirm-dialog .confirm-yes');
  await admin.page.waitForSelector('.link-card.is-revoked');
  await checkView(admin, 'session-admin-revoked');

  const token = new URL(linkUrl).pathname.split('/').pop();
  const reply = await rest.call(server, null, 'POST', '/api/join', { token, display_name: 'Eve' });
  assert.equal(reply.status, 410, 'the hub refuses the revoked token');
  const late = await b.openPage(browser, server, { viewport: b.PHONE });
  await late.page.goto(linkUrl);
  await late.page.waitForSelector('form.join');
  await late.page.click('form.join button[type="submit"]');
  await late.page.waitForSelector('.form-error:has-text("zurückgezogen")');
  await checkView(late, 'join-revoked-phone');
  await admin.context.close();
  await late.context.close();
});

test('a client declined in the lobby is told so', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Lobby');
  const link = await rest.createLink(server, cookies.anna, session.id, { lobby: true });
  const client = await b.openPage(browser, server, { viewport: b.PHONE });
  await client.page.goto(link.url);
  await client.page.fill('form.join input', 'Unbekannt');
  await client.page.click('form.join button[type="submit"]');
  await client.page.waitForSelector('.waiting');
  const lobby = await rest.call(server, cookies.anna, 'GET', `/api/sessions/${session.id}/lobby`);
  const waiting = lobby.data.waiting.find((w) => w.name === 'Unbekannt');
  await rest.call(server, cookies.anna, 'POST', `/api/sessions/${session.id}/lobby/${waiting.id}/decline`);
  await client.page.waitForSelector('[role="alert"]:has-text("nicht hereinlassen")', { timeout: 15000 });
  await checkView(client, 'join-declined-phone');
  await client.context.close();
});

test('English on request, with <html lang> from the catalogue; the room relabels in place', async () => {
  const opened = await b.openPage(browser, server);
  await opened.page.goto('/?lang=en');
  await opened.page.waitForSelector('form.login');
  assert.equal(await opened.page.getAttribute('html', 'lang'), 'en');
  assert.equal(await opened.page.getAttribute('html', 'dir'), 'ltr');
  assert.equal(await opened.page.textContent('form.login h1'), 'Log in');
  await checkView(opened, 'login-en');

  const session = await rest.createSession(server, cookies.anna, 'Language');
  await rest.addParticipant(server, cookies.anna, session.id, 'ben');
  const housing = await b.openPage(browser, server, { cookie: cookies.ben });
  await housing.page.goto(`/#/room/${encodeURIComponent(session.case_id)}`);
  await housing.page.waitForSelector('.room-bar h1');
  await b.whenSettled(housing.page);
  assert.equal(await housing.page.locator(b.selectorFor(['sections', 'debt', 'client_summary'])).count(), 0, 'no debt section for housing');
  await housing.page.selectOption('.lang-select', 'en');
  await housing.page.waitForSelector('label:has-text("Concern in the client\'s own words")');
  assert.equal(await housing.page.getAttribute('html', 'lang'), 'en');
  await b.whenSettled(housing.page);
  await checkView(housing, 'room-housing-en');
  await opened.context.close();
  await housing.context.close();
});

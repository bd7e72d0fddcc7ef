'use strict';
// A session's links in real browsers against a real `konsil serve`: a new link admits one
// device unless the counsellor allows more and carries the language the client's page
// opens in; a second device on a single-use link is refused, told so in that language;
// the session page lists every link (what it is now, its uses, the clients it let in),
// copies a link again after the page was left, offers a new link with the same settings
// where the address is not known (the server keeps no token), and revokes a link with
// the clients who came through it, who are told in their language.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

let server;
let browser;
let cookies;
const uk = require('../../web-demo/src/i18n/uk.json');

test.before(async () => {
  server = await startServer();
  browser = await b.launchBrowser();
  cookies = await setUpPeople(server);
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

// On the session page: a link with the form's settings changed as given; resolves with
// the new card's link id and URL.
async function makeLink(page, { uses, lang, lobby = false } = {}) {
  const form = page.locator('form.link-form');
  if (!lobby) await form.locator('input[type="checkbox"]').uncheck();
  if (uses !== undefined) await form.locator('select').nth(1).selectOption(uses);
  if (lang !== undefined) await form.locator('select').nth(2).selectOption(lang);
  const before = await page.locator('.link-card').count();
  await form.locator('button[type="submit"]').click();
  await page.waitForFunction((n) => document.querySelectorAll('.link-card').length > n, before);
  const card = page.locator('.link-card').first();
  await card.locator('.qr svg').waitFor();
  return { id: await card.getAttribute('data-link-id'), url: await card.locator('.link-url').inputValue() };
}

const card = (page, id) => page.locator(`.link-card[data-link-id="${id}"]`);

test('single-use by default: a second device is refused in the link\'s language; the list, copying again, replacing, revoking with its client', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Links');
  const context = await browser.newContext({ viewport: b.DESKTOP, baseURL: server.url, locale: 'de-DE' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const admin = await b.openPage(browser, server, { cookie: cookies.anna, context });
  const { page } = admin;
  await page.goto(`/#/sessions/${encodeURIComponent(session.id)}`);
  await page.waitForSelector('form.link-form');
  assert.equal(await page.locator('form.link-form select').nth(1).inputValue(), '1', 'one device unless chosen otherwise');

  const single = await makeLink(page, { lang: 'uk' });
  assert.match(single.url, new RegExp(`^${server.url}/j/[A-Za-z0-9_-]{43}\\?lang=uk$`));
  assert.match(await card(page, single.id).textContent(), /0 von 1 Mal benutzt/);
  assert.match(await card(page, single.id).textContent(), /Sprache der Seite: Українська/);

  // The first phone joins; its page is in Ukrainian.
  const first = await b.openPage(browser, server, { viewport: b.PHONE });
  await first.page.goto(single.url);
  await first.page.waitForSelector('form.join');
  assert.equal(await first.page.getAttribute('html', 'lang'), 'uk');
  await first.page.fill('form.join input[autocomplete="nickname"]', 'Olena');
  await first.page.click('form.join button[type="submit"]');
  await first.page.waitForSelector('.room-client [data-path]', { timeout: 20000 });

  // A second device on the same link is refused, in the link's language.
  const second = await b.openPage(browser, server, { viewport: b.PHONE });
  await second.page.goto(single.url);
  await second.page.waitForSelector('form.join');
  await second.page.fill('form.join input[autocomplete="nickname"]', 'Htos');
  await second.page.click('form.join button[type="submit"]');
  await second.page.waitForSelector(`.form-error:has-text("${uk['error.link_used_up']}")`);
  assert.equal(await second.page.locator('[data-path]').count(), 0, 'the second device sees no sheet');
  await checkView(second, 'join-used-up-uk-phone');

  // The list says what became of it; a link for more devices is copied again after the page was left.
  const shared = await makeLink(page, { uses: '3' });
  await page.goto('/');
  await page.waitForSelector('.dashboard');
  await page.goto(`/#/sessions/${encodeURIComponent(session.id)}`);
  await card(page, single.id).waitFor();
  const used = await card(page, single.id).textContent();
  assert.match(used, /aufgebraucht/);
  assert.match(used, /1 von 1 Mal benutzt/);
  assert.match(used, /Olena/);
  assert.match(used, /in der Sitzung/);
  assert.equal(await card(page, single.id).locator('.link-url').count(), 0, 'no address for a used-up link');
  assert.equal(await card(page, shared.id).locator('.link-url').inputValue(), shared.url, 'the address this tab made, again');
  await card(page, shared.id).locator('.copy-link').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shared.url);
  await checkView(admin, 'session-links');

  // Elsewhere (another browser) the address is unknown: the link is replaced by a new one with its settings.
  const elsewhere = await b.openPage(browser, server, { cookie: cookies.anna });
  await elsewhere.page.goto(`/#/sessions/${encodeURIComponent(session.id)}`);
  await card(elsewhere.page, shared.id).waitFor();
  assert.equal(await card(elsewhere.page, shared.id).locator('.link-url').count(), 0);
  await card(elsewhere.page, shared.id).locator('.replace-link').click();
  await elsewhere.page.click('dialog.confirm-dialog .confirm-yes');
  await card(elsewhere.page, shared.id).and(elsewhere.page.locator('.is-revoked')).waitFor();
  const links = (await rest.call(server, cookies.anna, 'GET', `/api/sessions/${session.id}/links`)).data.links;
  const fresh = links.find((l) => l.id !== shared.id && l.id !== single.id);
  assert.ok(fresh, 'a new link');
  assert.deepEqual([fresh.max_uses, fresh.lobby, fresh.lang, fresh.status], [3, false, 'uk', 'active'], 'with the settings of the old one (the form kept its language)');
  assert.equal(links.find((l) => l.id === shared.id).status, 'revoked');
  assert.ok(await card(elsewhere.page, fresh.id).locator('.link-url').count(), 'its address shown where it was made');

  // Revoking the used link with its client: Olena is told, in Ukrainian, that she is no longer in the meeting.
  await page.reload();
  await card(page, single.id).locator('.revoke-link').click();
  const dialog = page.locator('dialog.confirm-dialog[open]');
  assert.match(await dialog.textContent(), /Olena/);
  await dialog.locator('input[type="checkbox"]').check();
  await dialog.locator('.confirm-yes').click();
  await first.page.waitForSelector(`.room-gone:has-text("${uk['room.client_removed']}")`, { timeout: 15000 });
  await card(page, single.id).and(page.locator('.is-revoked')).waitFor();
  assert.match(await card(page, single.id).textContent(), /aus der Sitzung genommen/);
  for (const opened of [admin, first, second, elsewhere]) await opened.context.close();
});

'use strict';
// Accounts in the browser, walked through in headless Chromium against a server that
// requires a second factor for admins and supervisors: an admin logs in for the first
// time and sets up TOTP (QR code, the secret typed into the test's own RFC 6238 code,
// recovery codes shown once); creates a supervisor, whose one-time link the supervisor
// opens to set a password, then logs in and sets up its own second factor; the admin
// resets that second factor, disables the account (its next page view is the login) and
// enables it again, hands out a new password link; every step is in the audit trail.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./lib/server');
const { tempDir, sql } = require('../hub/lib/server');
const b = require('./lib/browser');

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text.replace(/\s/g, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret, step = Math.floor(Date.now() / 30000)) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 1000000).padStart(6, '0');
}

let server;
let browser;

test.before(async () => {
  const dir = tempDir();
  const key = path.join(dir, 'master.key');
  fs.writeFileSync(key, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
  server = await startServer({ args: ['--totp-required', 'admin,supervisor', '--master-key-file', key] });
  browser = await b.launchBrowser();
});
test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// Logs in on the page with a password; when a second factor is to be set up, reads its
// secret off the page, confirms it with a code and keeps the recovery codes shown.
async function firstLogin(page, username, password) {
  await page.goto('/#/login');
  await page.waitForSelector('form.login');
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('.totp-setup .secret');
  assert.ok(await page.locator('.totp-setup .qr svg').count(), 'a QR code is shown');
  const secret = (await page.textContent('.totp-setup .secret')).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.fill('.totp-setup input[name="totp"]', totp(secret));
  await page.click('.totp-setup button[type="submit"]');
  await page.waitForSelector('.recovery-codes .code-list li');
  const codes = await page.locator('.recovery-codes .code-list li').allTextContents();
  assert.equal(codes.length, 10);
  await b.screenshot(page, `accounts-recovery-codes-${username}`);
  await page.click('.recovery-codes button.primary');
  await page.waitForSelector('.topbar a.user-name');
  return { secret, codes };
}

test('an admin keeps accounts in the browser; a new supervisor sets its password and second factor', async () => {
  server.addUser({ name: 'ada', password: 'ada-passwort-1', role: 'admin', displayName: 'Ada Admin' });
  const admin = await b.openPage(browser, server);
  const { page } = admin;
  await firstLogin(page, 'ada', 'ada-passwort-1');
  await page.click('.topbar a.accounts-link');
  await page.waitForSelector('.user-list .user-row');

  // A new supervisor: its one-time link is shown once.
  await page.fill('.create-user input[name="username"]', 'nora');
  await page.fill('.create-user input[name="name"]', 'Nora Stein');
  await page.selectOption('.create-user select[name="role"]', 'supervisor');
  assert.equal(await page.isVisible('.create-user select[name="specialty"]'), false, 'only counsellors have a specialty');
  await page.click('.create-user button[type="submit"]');
  await page.waitForSelector('.password-link .link-url');
  const url = await page.inputValue('.password-link .link-url');
  assert.match(url, new RegExp(`^${server.url}/#/password/[A-Za-z0-9_-]{43}$`));
  await page.waitForSelector('.user-row[data-username="nora"]');
  assert.match(await page.textContent('.user-row[data-username="nora"]'), /noch ohne Passwort/);
  await b.screenshot(page, 'accounts-created');

  // Nora opens the link in her own browser and sets a password.
  const nora = await b.openPage(browser, server);
  await nora.page.goto(url);
  await nora.page.waitForSelector('.set-password form');
  assert.match(await nora.page.textContent('.set-password'), /nora \(Nora Stein\)/);
  const [pw, again] = await nora.page.locator('.set-password input[type="password"]').all();
  await pw.fill('ein langes Passwort');
  await again.fill('ein anderes Passwort');
  await nora.page.click('.set-password button[type="submit"]');
  assert.match(await nora.page.textContent('.set-password .form-error'), /nicht gleich/);
  await again.fill('ein langes Passwort');
  await nora.page.click('.set-password button[type="submit"]');
  await nora.page.waitForSelector('.set-password [role="status"]');
  // The link works once.
  const reopened = await b.openPage(browser, server);
  await reopened.page.goto(url);
  await reopened.page.waitForSelector('.set-password .form-error');
  assert.match(await reopened.page.textContent('.set-password .form-error'), /benutzt|verwendet|gilt nicht/);
  await reopened.context.close();

  // Her first login sets up her second factor (required for supervisors).
  await nora.page.click('.set-password button.primary');
  const noraFactor = await firstLogin(nora.page, 'nora', 'ein langes Passwort');

  // The admin sees it, resets it, disables and enables the account, makes a new link.
  await page.reload();
  await page.waitForSelector('.user-row[data-username="nora"]');
  assert.match(await page.textContent('.user-row[data-username="nora"]'), /Zweiter Faktor: eingerichtet/);
  await page.click('.user-row[data-username="nora"] button.reset-totp');
  await page.click('.user-row[data-username="nora"] .confirm-yes');
  await page.waitForSelector('.accounts-notice .form-message');
  await page.waitForFunction(() => /nicht eingerichtet/.test(document.querySelector('.user-row[data-username="nora"]').textContent));
  await page.click('.user-row[data-username="nora"] button.disable-user');
  await page.click('.user-row[data-username="nora"] .confirm-yes');
  await page.waitForSelector('.user-row[data-username="nora"].is-disabled');
  await b.screenshot(page, 'accounts-disabled');
  // Nora is logged out: her next page view is the login.
  await nora.page.reload();
  await nora.page.waitForSelector('form.login');
  await page.click('.user-row[data-username="nora"] .enable-user');
  await page.waitForSelector('.user-row[data-username="nora"]:not(.is-disabled)');
  await page.click('.user-row[data-username="nora"] .new-link');
  await page.waitForSelector('.password-link .link-url');
  assert.notEqual(await page.inputValue('.password-link .link-url'), url);
  // An admin cannot disable itself: the page offers no button for it.
  assert.equal(await page.locator('.user-row[data-username="ada"] .disable-user').count(), 0);
  // After the reset, Nora's next login sets up a new second factor; the old secret is gone.
  const second = await firstLogin(nora.page, 'nora', 'ein langes Passwort');
  assert.notEqual(second.secret, noraFactor.secret);

  const actions = sql(server.db, "SELECT action FROM audit WHERE action IN ('user.add', 'user.passwd', 'totp.enable', 'totp.reset', 'user.disable', 'user.enable', 'user.password_link') ORDER BY seq").split('\n');
  assert.deepEqual(actions, ['user.add', 'totp.enable', 'user.add', 'user.passwd', 'totp.enable', 'totp.reset', 'user.disable', 'user.enable', 'user.password_link', 'totp.enable']);
  for (const p of [admin, nora]) assert.deepEqual(p.problems, []);
  await nora.context.close();
  await admin.context.close();
});

test('my account: a counsellor sets up a second factor voluntarily and turns it off again', async () => {
  server.addUser({ name: 'carl', password: 'carl-passwort-1', role: 'counsellor', specialty: 'debt', displayName: 'Carl Berg' });
  const { page, context, problems } = await b.openPage(browser, server);
  await page.goto('/#/login');
  await page.fill('input[name="username"]', 'carl');
  await page.fill('input[name="password"]', 'carl-passwort-1');
  await page.click('form.login button[type="submit"]');
  await page.waitForSelector('.dashboard');
  await page.click('.topbar a.user-name');
  await page.waitForSelector('.second-factor .totp-setup-start');
  assert.match(await page.textContent('.second-factor'), /Freiwillig/);
  await page.click('.second-factor .totp-setup-start');
  await page.waitForSelector('.second-factor .secret');
  const secret = (await page.textContent('.second-factor .secret')).replace(/\s/g, '');
  const step = Math.floor(Date.now() / 30000);
  await page.fill('.second-factor input[name="totp"]', totp(secret, step));
  await page.click('.second-factor .totp-setup button[type="submit"]');
  await page.waitForSelector('.recovery-codes .code-list li');
  await page.click('.recovery-codes button.primary');
  await page.waitForSelector('.second-factor .totp-state.is-on');
  assert.match(await page.textContent('.second-factor'), /: 10/);
  await b.screenshot(page, 'account-second-factor');
  // Off again, with the next step's code (the first one was used).
  const off = page.locator('.second-factor .code-action').last();
  await off.locator('input[name="totp"]').fill(totp(secret, step + 1));
  await off.locator('button[type="submit"]').click();
  await page.waitForSelector('.second-factor .totp-state.is-off');
  assert.deepEqual(problems, []);
  await context.close();
});

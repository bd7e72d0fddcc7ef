'use strict';
// Debian's Chromium driven by playwright-core, headless, for the browser tests: never a
// downloaded browser. Each launch gets a fresh profile (playwright passes its own
// temporary --user-data-dir). The hub sends a strict Content-Security-Policy (and the page
// declares one itself); script errors and CSP reports are collected per page.
// Screenshots go to build/screenshots/.
const { chromium } = require('playwright-core');
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./server');
const { COOKIE } = require('./rest');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const screenshotDir = path.join(root, 'build', 'screenshots');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 1000 };

function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: FLAGS });
}

// A page in its own browser context (own cookies): {context, page, problems}; cookie,
// when given, is a konsil_session login or client cookie.
async function openPage(browser, server, { cookie, viewport = DESKTOP, locale = 'de-DE', context: shared } = {}) {
  const context = shared || (await browser.newContext({ viewport, baseURL: server.url, locale }));
  if (cookie) await context.addCookies([{ name: COOKIE, value: cookie, url: server.url, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  return { context, page, problems };
}

async function screenshot(page, name, options = {}) {
  fs.mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, ...options });
  return file;
}

const selectorFor = (fieldPath) => `[data-path='${JSON.stringify(fieldPath)}']`;

// Focuses the text field at fieldPath with the caret at offset (a number or 'end').
async function placeCaret(page, fieldPath, offset) {
  const field = page.locator(selectorFor(fieldPath));
  await field.click();
  await field.evaluate((el, at) => {
    const index = at === 'end' ? el.value.length : at;
    el.setSelectionRange(index, index);
  }, offset);
}

// Puts the caret at offset in the text field at fieldPath and types text key by key.
async function typeAt(page, fieldPath, offset, text, delay = 30) {
  await placeCaret(page, fieldPath, offset);
  await page.keyboard.type(text, { delay });
}

// Waits until the page is connected and has no edit waiting for the hub.
async function whenSettled(page, timeout = 20000) {
  await page.waitForSelector('.status[data-state="connected"][data-pending="0"]', { timeout });
}

// Every field the page shows, by its path: {'["concern","own_words"]': 'text', …}.
function fieldValues(page) {
  return page.evaluate(() => {
    const out = {};
    for (const el of document.querySelectorAll('input[data-path], textarea[data-path], select[data-path]')) {
      out[el.dataset.path] = el.type === 'checkbox' ? el.checked : el.value;
    }
    return out;
  });
}

// Waits until the service worker controls the page (it then opens without network).
async function whenOfflineReady(page) {
  await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller, null, { timeout: 20000 });
}

// Answers the "leave the page?" question (asked while edits are unsent) with yes, and
// counts how often it was asked.
function acceptLeaving(page) {
  const asked = { count: 0 };
  page.on('dialog', (dialog) => {
    if (dialog.type() === 'beforeunload') {
      asked.count += 1;
      dialog.accept();
    }
  });
  return asked;
}

// The status pill: {state, pending, text}.
function status(page) {
  return page.$eval('.status', (el) => ({ state: el.dataset.state, pending: Number(el.dataset.pending), text: el.textContent }));
}

module.exports = { launchBrowser, openPage, screenshot, placeCaret, typeAt, whenSettled, whenOfflineReady, acceptLeaving, status, fieldValues, selectorFor, PHONE, DESKTOP };

// Form controls without an accessible name from a label (label[for], a wrapping label,
// aria-label or aria-labelledby): there must be none.
function unlabelledControls(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('input:not([type="hidden"]), textarea, select')]
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

// Elements with a style attribute (the CSP forbids inline styles): there must be none.
function inlineStyles(page) {
  return page.evaluate(() => [...document.querySelectorAll('[style]:not([style=""])')].map((el) => el.outerHTML.slice(0, 120)));
}

module.exports.unlabelledControls = unlabelledControls;
module.exports.inlineStyles = inlineStyles;

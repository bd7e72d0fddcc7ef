'use strict';
// Every language the client view offers is complete and fits a phone: German, English,
// Arabic (right to left), Ukrainian, Turkish and Leichte Sprache have the same keys (and
// each the plural forms of its language, with the same placeholders), every error code
// the hub or the store sends has its text, and the join page, the waiting room and the
// room render in each with no key shown raw and nothing wider than a 360 px screen. The
// browser's language decides unless the person chose one or the link names one; times
// are shown in the browser's time zone, the default name "Klient:in" in the page's language.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startServer, root } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

const dir = path.join(root, 'web-demo', 'src', 'i18n');
const catalogues = Object.fromEntries(
  fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => [path.basename(f, '.json'), JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))]),
);
const LANGUAGES = ['de', 'en', 'ar', 'uk', 'tr', 'de-x-ls'];
const PLURAL = /^(.*)\.(zero|one|two|few|many|other)$/;
const PHONE_360 = { width: 360, height: 740 };

const placeholders = (text) => new Set((text.match(/\{\w+\}/g) || []).sort());

function shape(catalogue) {
  const plain = new Map();
  const plural = new Map();
  const de = catalogues.de;
  const bases = new Set(Object.keys(de).filter((k) => PLURAL.test(k) && k.endsWith('.other')).map((k) => PLURAL.exec(k)[1]));
  for (const [key, value] of Object.entries(catalogue)) {
    if (key === 'language') continue;
    const m = PLURAL.exec(key);
    if (m && bases.has(m[1])) {
      if (!plural.has(m[1])) plural.set(m[1], new Map());
      plural.get(m[1]).set(m[2], value);
    } else {
      plain.set(key, value);
    }
  }
  return { plain, plural };
}

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

test('every catalogue has the keys of German, its own plural forms and the same placeholders', () => {
  assert.deepEqual(Object.keys(catalogues).sort(), [...LANGUAGES].sort());
  const de = shape(catalogues.de);
  for (const code of LANGUAGES) {
    const cat = catalogues[code];
    assert.ok(cat.language && cat.language.code && cat.language.dir && cat.language.name, `${code}: language entry`);
    const { plain, plural } = shape(cat);
    assert.deepEqual([...plain.keys()].filter((k) => !de.plain.has(k)), [], `${code}: keys German does not have`);
    assert.deepEqual([...de.plain.keys()].filter((k) => !plain.has(k)), [], `${code}: keys missing`);
    for (const [key, text] of plain) {
      assert.equal(typeof text, 'string', `${code} ${key}`);
      assert.ok(text.trim(), `${code} ${key} is empty`);
      assert.deepEqual([...placeholders(text)], [...placeholders(de.plain.get(key))], `${code} ${key}: placeholders`);
    }
    const categories = new Intl.PluralRules(cat.language.locale || cat.language.code).resolvedOptions().pluralCategories.sort();
    assert.deepEqual([...plural.keys()].sort(), [...de.plural.keys()].sort(), `${code}: plural keys`);
    for (const [base, forms] of plural) {
      assert.deepEqual([...forms.keys()].sort(), categories, `${code} ${base}: one entry per plural category`);
      const allowed = placeholders([...de.plural.get(base).values()].join(' '));
      for (const [form, text] of forms) {
        for (const p of placeholders(text)) assert.ok(allowed.has(p), `${code} ${base}.${form}: placeholder ${p}`);
      }
    }
  }
});

// Error codes the hub and the store send, read from the sources and the protocol docs.
function serverErrorCodes() {
  const codes = new Set();
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  for (const file of walk(path.join(root, 'src')).filter((f) => f.endsWith('.c') || f.endsWith('.h'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const re of [
      /hub_req_error\([^,]+,\s*[^,]+,\s*"([a-z_]+)"/g,
      /store_refuse\([^,]+,\s*\w+,\s*"([a-z_]+)"/g,
      /\{\s*\d{3},\s*"([a-z_]+)"\s*\}/g,
      /hub_http_refuse_upgrade\([^,]+,\s*\d+,\s*"([a-z_]+)"/g,
      /\*code\s*=\s*"([a-z_]+)"/g,
      /"(ERR_[A-Z_]+)"/g,
    ]) {
      for (const m of text.matchAll(re)) codes.add(m[1]);
    }
  }
  const api = fs.readFileSync(path.join(root, 'protocol', 'http-api.md'), 'utf8');
  for (const m of api.matchAll(/\b\d{3} `([a-z_]+)`/g)) codes.add(m[1]);
  const wire = fs.readFileSync(path.join(root, 'protocol', 'sharedb-wire.md'), 'utf8');
  for (const m of wire.matchAll(/^\| `(ERR_[A-Z_]+)`/gm)) codes.add(m[1]);
  return codes;
}

test('every error code the hub or the store sends has its text in the catalogues', () => {
  const codes = serverErrorCodes();
  assert.ok(codes.size > 30, `found ${codes.size} codes`);
  assert.deepEqual([...codes].filter((c) => !(`error.${c}` in catalogues.de)).sort(), []);
});

// Keys of the catalogue that show up as text on the page.
async function rawKeys(page) {
  const text = await page.evaluate(() => document.body.innerText);
  return Object.keys(catalogues.de).filter((k) => k !== 'language' && new RegExp(`(^|\\s)${k.replace(/[.*]/g, (c) => `\\${c}`)}(\\s|$)`).test(text));
}

// Main containers wider than they show (content running off a 360 px screen).
function overflowing(page) {
  return page.evaluate(() => {
    const out = [];
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`page ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    for (const el of document.querySelectorAll('.frame, .topbar, main, .join-page, .card, .room, .room-bar, .status, .sheet-section, .people, .list, .field, .chat-form')) {
      if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.className} ${el.scrollWidth} > ${el.clientWidth}`);
    }
    return out;
  });
}

async function check(page, code, what) {
  assert.deepEqual(await rawKeys(page), [], `${code} ${what}: no key shown raw`);
  assert.deepEqual(await overflowing(page), [], `${code} ${what}: nothing runs off the screen`);
  assert.equal(await page.getAttribute('html', 'lang'), catalogues[code].language.code, `${code} ${what}: <html lang>`);
  assert.equal(await page.getAttribute('html', 'dir'), catalogues[code].language.dir, `${code} ${what}: dir`);
  await b.screenshot(page, `i18n-${code}-${what}`);
}

test('the client view in each language: join page, waiting room and room, on a 360 px phone', async () => {
  const session = await rest.createSession(server, cookies.anna, 'Sprachen');
  await rest.submitOp(server, cookies.anna, session.case_id, [{ p: ['help_plan', 'tasks', 0], li: { what: 'Bescheid mitbringen', who: 'Kim', due: '2026-03-01', done: false } }]);
  for (const code of LANGUAGES) {
    const link = await rest.createLink(server, cookies.anna, session.id, { lobby: true });
    const opened = await b.openPage(browser, server, { viewport: PHONE_360, locale: 'de-DE' });
    const { page } = opened;
    await page.goto(`${link.url}?lang=${code}`);
    await page.waitForSelector('form.join');
    await check(page, code, 'join');
    await page.fill('form.join input[autocomplete="nickname"]', `Kim ${code}`);
    await page.click('form.join button[type="submit"]');
    await page.waitForSelector('.waiting');
    await check(page, code, 'waiting');
    const lobby = await rest.call(server, cookies.anna, 'GET', `/api/sessions/${session.id}/lobby`);
    const waiting = lobby.data.waiting.find((w) => w.name === `Kim ${code}`);
    await rest.call(server, cookies.anna, 'POST', `/api/sessions/${session.id}/lobby/${waiting.id}/admit`);
    await page.waitForSelector('.room-client [data-path]', { timeout: 20000 });
    await b.whenSettled(page);
    await check(page, code, 'room');
    assert.equal(await page.getAttribute(b.selectorFor(['help_plan', 'tasks', 0, 'due']), 'type'), 'date', `${code}: a date field is a date input`);
    assert.deepEqual(opened.problems, [], `${code}: no script error`);
    await opened.context.close();
  }
});

test("the browser's language decides unless the person or the link chose; times in the local zone; pseudonyms in the page's language", async () => {
  const session = await rest.createSession(server, cookies.anna, 'Browser');
  const link = await rest.createLink(server, cookies.anna, session.id);
  const client = await rest.join(server, link.token);
  // The server stamps the message's time (ms since the epoch): read it back.
  await rest.submitOp(server, client, session.case_id, [{ p: ['chat', 0], li: { text: 'Hallo' } }]);
  const { at } = (await rest.fetchCaseSheet(server, cookies.anna, session.case_id)).chat[0];

  // An English browser in New York: English, and the message's time in New York's zone.
  const context = await browser.newContext({ viewport: b.DESKTOP, baseURL: server.url, locale: 'en-US', timezoneId: 'America/New_York' });
  await context.addCookies([{ name: rest.COOKIE, value: cookies.anna, url: server.url, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  await page.goto(`/#/room/${encodeURIComponent(session.case_id)}`);
  await page.waitForSelector('.chat-message');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  const shown = await page.textContent('.chat-time');
  const expected = new Intl.DateTimeFormat('en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone: 'America/New_York' }).format(at);
  const utc = new Intl.DateTimeFormat('en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone: 'UTC' }).format(at);
  assert.ok(shown.includes(expected), `the time in New York (${expected}), shown: ${shown}`);
  assert.ok(!shown.includes(utc), 'not the UTC time');
  assert.equal(await page.textContent('.chat-from'), 'Client', 'the default name in English');

  // A choice in the menu beats the browser and holds on reload.
  await page.selectOption('.lang-select', 'tr');
  await page.reload();
  await page.waitForSelector('.chat-message');
  assert.equal(await page.getAttribute('html', 'lang'), 'tr');
  assert.equal(await page.textContent('.chat-from'), 'Danışan');
  // The link's language beats both, until the person chooses again.
  await page.goto(`/?lang=ar#/room/${encodeURIComponent(session.case_id)}`);
  await page.waitForSelector('.chat-message');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  await context.close();

  // An Arabic browser (Syria) with no choice made: Arabic, right to left.
  const arabic = await b.openPage(browser, server, { cookie: cookies.anna, locale: 'ar-SY' });
  await arabic.page.goto('/');
  await arabic.page.waitForSelector('.dashboard');
  assert.equal(await arabic.page.getAttribute('html', 'lang'), 'ar');
  assert.equal(await arabic.page.getAttribute('html', 'dir'), 'rtl');
  await arabic.context.close();
});

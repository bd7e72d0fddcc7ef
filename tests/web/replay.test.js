'use strict';
// The replay for supervisors. Any version rebuilt from the checkpoints equals a replay
// of every op. Against a real `konsil serve`: a session recorded with two counsellors and
// a client typing at the same time is opened from the supervisor's dashboard; scrubbing
// to a version, stepping forward and back with the buttons and the arrow keys shows
// exactly the case sheet the snapshot endpoint gives for that version, the change that
// made it attributed; the change list filters by person and by section; session events,
// when the history has them, are marked and reachable; playback runs and stops. A
// session of 2,000 ops (three history pages) is scrubbed to several versions, each
// checked against the snapshot endpoint. Every view: labelled controls, no inline
// style, no script error or CSP violation, and a screenshot in build/screenshots/.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const { openEditor, valueAt } = require('./lib/editors');
const b = require('./lib/browser');
const json0 = require('ot-json0').type;
const layout = require('../../web-demo/src/sheet/layout');
const { createVersions, CHECKPOINT_EVERY } = require('../../web-demo/src/replay/versions');

const SUPERVISOR = { name: 'sara', password: 'sara-passwort-1', role: 'supervisor', displayName: 'Sara Vogt' };

let server;
let browser;
let cookies;

test.before(async () => {
  server = await startServer();
  browser = await b.launchBrowser();
  cookies = await setUpPeople(server);
  server.addUser(SUPERVISOR);
  cookies.sara = await rest.login(server, SUPERVISOR.name, SUPERVISOR.password);
});
test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// A session led by anna with ben, a client joined by link and the supervisor sara; id is
// its case's (the document, its history and its replay).
async function recordedSession(title) {
  const session = await rest.createSession(server, cookies.anna, title);
  await rest.addParticipant(server, cookies.anna, session.id, 'ben');
  await rest.addParticipant(server, cookies.anna, session.id, 'sara');
  const link = await rest.createLink(server, cookies.anna, session.id);
  const client = await rest.join(server, link.token, 'Kim');
  // The client allows supervision: the supervisor replays the text, names replaced
  // (without it, free text is hidden: tests/web/readers.test.js).
  await rest.submitOp(server, client, session.case_id, [{ p: ['consents', 0], li: { kind: 'supervision', status: 'given' } }]);
  return { id: session.case_id, client };
}

async function snapshotAt(caseId, v) {
  const reply = await rest.call(server, cookies.sara, 'GET', `/api/cases/${caseId}/snapshot${v === undefined ? '' : `?v=${v}`}`);
  assert.equal(reply.status, 200, `snapshot ${v}: ${JSON.stringify(reply.data)}`);
  return reply.data;
}

async function openReplay(caseId) {
  const opened = await b.openPage(browser, server, { cookie: cookies.sara });
  await opened.page.goto(`/#/replay/${encodeURIComponent(caseId)}`);
  await opened.page.waitForSelector('.replay[data-state="ready"]', { timeout: 30000 });
  return opened;
}

// Moves the range to v as a user dragging it would, and waits until the page shows v.
async function scrubTo(page, v) {
  await page.locator('.replay-range').evaluate((el, value) => {
    el.value = String(value);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, v);
  await page.waitForSelector(`.replay[data-version="${v}"]`);
}

// Every field the replay shows holds what the snapshot endpoint has at version v, and
// the sheet shows the fields the test wrote.
async function assertShows(page, caseId, v, expectedPaths) {
  assert.equal(await page.getAttribute('.replay', 'data-version'), String(v));
  const { data } = await snapshotAt(caseId, v);
  const shown = await b.fieldValues(page);
  const mismatches = [];
  for (const [key, value] of Object.entries(shown)) {
    const expected = valueAt(data, JSON.parse(key));
    const comparable = typeof expected === 'number' ? Number(value) : value;
    if (expected === undefined || (expected !== null && comparable !== expected)) mismatches.push(`${key}: ${JSON.stringify(value)} ≠ ${JSON.stringify(expected)}`);
  }
  assert.deepEqual(mismatches, [], `version ${v}: the page shows the snapshot`);
  // Values shown as text (empty ones, automatic ones): a text value is shown as it is,
  // a choice by its label.
  const texts = await page.$$eval('.field-value[data-path]', (els) => els.map((el) => [el.dataset.path, el.textContent]));
  for (const [key, text] of texts) {
    const expected = valueAt(data, JSON.parse(key));
    // Stamped ids (who wrote an item, gave a consent) are shown as names from the people.
    if (/^(author|from|given_by|recorded_by|created_by)$/.test(JSON.parse(key).slice(-1)[0])) continue;
    const choice = layout.choicesFor(JSON.parse(key).filter((step) => typeof step === 'string').join('.'));
    if (expected === undefined || (typeof expected === 'string' && expected !== '' && !choice && text !== expected)) mismatches.push(`${key}: ${JSON.stringify(text)} ≠ ${JSON.stringify(expected)}`);
  }
  assert.deepEqual(mismatches, [], `version ${v}: the page shows the snapshot's text values`);
  for (const path of expectedPaths) {
    const expected = valueAt(data, path);
    if (expected) assert.equal(shown[JSON.stringify(path)], expected, `version ${v}: ${path.join('.')} is shown`);
  }
  assert.ok(Object.keys(shown).length + texts.length > 20, `version ${v}: the sheet is shown`);
  return data;
}

async function checkView(opened, name) {
  assert.deepEqual(await b.unlabelledControls(opened.page), [], `${name}: every control has a label`);
  assert.deepEqual(await b.inlineStyles(opened.page), [], `${name}: no inline styles`);
  assert.deepEqual(opened.problems, [], `${name}: no script error or CSP violation`);
  await b.screenshot(opened.page, name);
}

test('any version rebuilt from checkpoints equals replaying every op from the start', () => {
  const count = CHECKPOINT_EVERY * 3 + 17;
  const entries = [{ v: 0, ts: 0, author: { id: 'a' }, create: { type: 'json0', data: { text: '', items: [] } } }];
  let data = { text: '', items: [] };
  const expected = [null, JSON.parse(JSON.stringify(data))];
  for (let v = 1; v < count; v++) {
    const op = v % 7 === 0 ? [{ p: ['items', data.items.length], li: { n: v } }] : v % 11 === 0 && data.text ? [{ p: ['text', 0], sd: data.text[0] }] : [{ p: ['text', data.text.length], si: String(v % 10) }];
    entries.push({ v, ts: v, author: { id: v % 13 < 6 ? 'a' : 'b' }, op });
    data = json0.apply(data, op);
    expected.push(JSON.parse(JSON.stringify(data)));
  }
  const versions = createVersions({ v: 0, data: null });
  versions.add(entries.slice(0, 150));
  versions.add(entries.slice(150));
  assert.equal(versions.latest(), count);
  const order = [count, 0, 1, 99, 100, 101, 250, 249, 37, count - 1, 200, 201, 202, 5];
  for (const v of order) assert.deepEqual(versions.at(v), expected[v], `version ${v}`);
  const held = versions.at(120);
  versions.at(121);
  assert.deepEqual(held, expected[120], 'an earlier answer is never changed by a later one');
});

test('a supervisor replays a session with concurrent editors: scrub, step, filter, play', async () => {
  const session = await recordedSession('Frau K. – Verlauf');
  const anna = await openEditor(server, cookies.anna, session.id);
  const ben = await openEditor(server, cookies.ben, session.id);
  const kim = await openEditor(server, session.client, session.id);
  const shared = ['concern', 'own_words'];
  await Promise.all([
    anna.type(shared, 'Mietschulden '),
    kim.type(shared, 'Ich habe Angst '),
    ben.type(['sections', 'housing', 'situation'], 'Kündigung droht'),
  ]);
  await Promise.all([
    anna.append(['help_plan', 'tasks'], { what: 'Bescheid prüfen', who: 'Anna', due: '', done: false }),
    kim.type(['person', 'display_name'], 'Kim K.'),
    ben.type(shared, ' Räumung?'),
    anna.append(['chat'], { text: 'Willkommen!' }),
  ]);
  await anna.type(['help_plan', 'tasks', 0, 'what'], ' bis Freitag');
  for (const editor of [anna, ben, kim]) editor.close();
  const final = await snapshotAt(session.id);
  assert.ok(final.v > 60, `a few dozen ops were recorded (${final.v})`);

  // From the dashboard, as a supervisor finds it.
  const opened = await b.openPage(browser, server, { cookie: cookies.sara });
  const { page } = opened;
  await page.goto('/');
  await page.waitForSelector('.case-row:has-text("Frau K. – Verlauf") .replay-link');
  await checkView(opened, 'replay-dashboard');
  await page.click(`.case-row:has-text("Frau K. – Verlauf") .replay-link`);
  await page.waitForSelector('.replay[data-state="ready"]', { timeout: 30000 });
  assert.match(await page.textContent('h1'), /Frau K\. – Verlauf/);
  // The client allowed supervision: the page says plainly that free text may still identify.
  await page.waitForSelector('.replay-notice[data-consent="given"]');
  assert.match(await page.textContent('.replay-notice'), /Freitext kann die Person trotzdem erkennbar machen/);
  await page.waitForSelector(`.replay[data-version="${final.v}"]`);
  await assertShows(page, session.id, final.v, [shared, ['sections', 'housing', 'situation'], ['help_plan', 'tasks', 0, 'what']]);
  await checkView(opened, 'replay-final');

  // Scrub to a version in the middle of the concurrent typing.
  const middle = Math.floor(final.v / 2);
  await scrubTo(page, middle);
  await assertShows(page, session.id, middle, [shared]);
  const made = (await rest.call(server, cookies.sara, 'GET', `/api/cases/${session.id}/history?from=${middle - 1}&to=${middle}`)).data.ops[0];
  assert.ok((await page.textContent('.replay-attribution')).startsWith(`Letzte Änderung: ${made.author.name}`), 'the change is attributed');
  assert.ok((await page.locator('.is-latest-change .change-badge').count()) >= 1, 'the changed field is highlighted');
  await checkView(opened, 'replay-middle');

  // Step forward and back: buttons, then the arrow keys.
  await page.click('.replay-forward');
  await page.waitForSelector(`.replay[data-version="${middle + 1}"]`);
  await assertShows(page, session.id, middle + 1, [shared]);
  await page.click('.replay-back');
  await page.waitForSelector(`.replay[data-version="${middle}"]`);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector(`.replay[data-version="${middle - 2}"]`);
  await assertShows(page, session.id, middle - 2, [shared]);
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector(`.replay[data-version="${middle - 1}"]`);
  await assertShows(page, session.id, middle - 1, [shared]);

  // The very start: before the create op the sheet is empty, after it the template.
  await scrubTo(page, 0);
  await page.waitForSelector('.replay-sheet-body p.muted');
  await scrubTo(page, 1);
  await assertShows(page, session.id, 1, [shared]);

  // Who changed what, filtered by person, then by section.
  await scrubTo(page, final.v);
  const optionValue = (select, start) => page.$eval(select, (el, text) => [...el.options].find((o) => o.textContent.startsWith(text)).value, start);
  await page.selectOption('.author-filter', await optionValue('.author-filter', 'Ben Okafor'));
  const authors = await page.$$eval('.change-author', (els) => els.map((el) => el.textContent));
  assert.ok(authors.length >= 2, 'ben made changes');
  assert.ok(authors.every((a) => a.startsWith('Ben Okafor')), `only ben's changes: ${authors}`);
  await page.selectOption('.section-filter', await optionValue('.section-filter', 'Anliegen'));
  const whats = await page.$$eval('.change-what', (els) => els.map((el) => el.textContent));
  assert.ok(whats.length >= 1 && whats.every((w) => w.startsWith('Anliegen')), `only ben's changes to the concern: ${whats}`);
  await checkView(opened, 'replay-filtered');
  // A change in the list moves the replay to it.
  const target = Number(await page.getAttribute('.change-button >> nth=0', 'data-version'));
  await page.click('.change-button >> nth=0');
  await page.waitForSelector(`.replay[data-version="${target}"]`);
  await assertShows(page, session.id, target, [shared]);

  // Session events (joins, link use, …), when the history has them: marked on the
  // timeline and a way to jump there.
  const history = (await rest.call(server, cookies.sara, 'GET', `/api/cases/${session.id}/history`)).data;
  const events = history.events || [];
  assert.equal(await page.locator('.timeline-event').count(), events.length, 'one marker per event');
  if (events.length) {
    const jumps = await page.$$eval('.replay-event-jump option', (els) => els.map((el) => el.value).filter(Boolean));
    assert.equal(jumps.length, events.length);
    await scrubTo(page, final.v);
    await page.selectOption('.replay-event-jump', jumps[0]);
    await page.waitForSelector(`.replay[data-version="${jumps[0]}"]`);
  }

  // Playback at 16×, started and stopped with the space bar.
  await scrubTo(page, 1);
  await page.selectOption('.replay-speed', '16');
  await page.focus('.replay-range');
  await page.keyboard.press(' ');
  await page.waitForSelector('.replay-play[data-playing="true"]');
  await page.waitForFunction(() => Number(document.querySelector('.replay').dataset.version) > 20);
  await page.keyboard.press(' ');
  await page.waitForSelector('.replay-play[data-playing="false"]');
  // The last step before the pause is drawn on the next animation frame: wait until the
  // sheet shows the version the range stopped at.
  await page.waitForFunction(() =>
    document.querySelector('.replay').dataset.version === document.querySelector('.replay-range').value);
  const stopped = Number(await page.getAttribute('.replay', 'data-version'));
  await assertShows(page, session.id, stopped, [shared]);
  await checkView(opened, 'replay-paused');

  // English on request.
  await page.selectOption('.lang-select', 'en');
  await page.waitForSelector('.replay[data-state="ready"] .replay-play:has-text("Play")');
  await checkView(opened, 'replay-en');
  await opened.context.close();

  // The lead finds the replay on the dashboard too; a counsellor who does not lead does not.
  for (const [who, expected] of [['anna', 1], ['ben', 0]]) {
    const other = await b.openPage(browser, server, { cookie: cookies[who] });
    await other.page.goto('/');
    await other.page.waitForSelector('.case-row:has-text("Frau K. – Verlauf")');
    assert.equal(await other.page.locator('.case-row:has-text("Frau K. – Verlauf") .replay-link').count(), expected, `${who}'s dashboard`);
    await other.context.close();
  }
});

test('a session of 2,000 ops loads in pages and scrubs to any version', async () => {
  const session = await recordedSession('Herr M. – lange Sitzung');
  const anna = await openEditor(server, cookies.anna, session.id);
  const ben = await openEditor(server, cookies.ben, session.id);
  const words = 'Die Miete ist seit drei Monaten offen und der Vermieter droht mit Kündigung. ';
  const typeMany = async (editor, path, count) => {
    for (let i = 0; i < count; i++) {
      const text = valueAt(editor.doc.data, path);
      await editor.submit([{ p: [...path, text.length], si: words[i % words.length] }]);
    }
  };
  await Promise.all([typeMany(anna, ['situation', 'summary'], 1000), typeMany(ben, ['sections', 'housing', 'situation'], 1000)]);
  anna.close();
  ben.close();
  const final = await snapshotAt(session.id);
  assert.ok(final.v >= 2000, `2,000 ops recorded (${final.v})`);

  const opened = await openReplay(session.id);
  const { page } = opened;
  await page.waitForSelector(`.replay[data-version="${final.v}"]`);
  for (const v of [final.v, 1, 777, 1501, 42, final.v - 1, 1000, 1999]) {
    await scrubTo(page, v);
    await assertShows(page, session.id, v, [['situation', 'summary'], ['sections', 'housing', 'situation']]);
  }
  await page.click('.replay-forward');
  await page.waitForSelector('.replay[data-version="2000"]');
  await assertShows(page, session.id, 2000, [['situation', 'summary']]);
  await checkView(opened, 'replay-long');
  await page.setViewportSize(b.PHONE);
  await scrubTo(page, 1500);
  await checkView(opened, 'replay-long-phone');
  await opened.context.close();
});

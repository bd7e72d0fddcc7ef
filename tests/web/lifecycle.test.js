'use strict';
// A meeting's life and its people in real browsers against a real `konsil serve`: the lead
// closes the case from the room, asked first in a dialog that says what happens to whom,
// and everyone in the room — the lead, another counsellor, the client on a phone — sees
// it at once (read-only banner and fields, the client told the meeting ended); what was
// typed just before is saved or listed to its writer, never lost silently. Ending the
// meeting tells the client in the client's own language while the team edits on. A
// counsellor in the room is told at once that someone waits in the lobby and lets them
// in or declines them from there, without the page asking the REST API every second; a
// supervisor in the room is neither told nor offered any action. A counsellor takes a
// client out of the meeting from the people list; the lead takes a member out of the
// team; a counsellor who does not lead is offered neither the lead's actions nor its
// forms; supervision is invited through a form of its own, and an account of another
// role is refused in the page's language.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer } = require('./lib/server');
const rest = require('./lib/rest');
const { setUpPeople } = require('./lib/people');
const b = require('./lib/browser');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let server;
let browser;
let cookies;
const catalogue = (code) => require(`../../web-demo/src/i18n/${code}.json`);

test.before(async () => {
  server = await startServer();
  browser = await b.launchBrowser();
  cookies = await setUpPeople(server);
  server.addUser({ name: 'sina', password: 'sina-passwort-1', role: 'supervisor', displayName: 'Sina Supervision' });
  cookies.sina = await rest.login(server, 'sina', 'sina-passwort-1');
});
test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function checkView(opened, name) {
  assert.deepEqual(await b.unlabelledControls(opened.page), [], `${name}: every control has a label`);
  assert.deepEqual(await b.inlineStyles(opened.page), [], `${name}: no inline styles`);
  assert.deepEqual(opened.problems, [], `${name}: no script error or CSP violation`);
  await b.screenshot(opened.page, name);
}

// A running session of a new case whose team is anna (lead) and ben: {caseId, sessionId}.
async function meeting(title) {
  const session = await rest.createSession(server, cookies.anna, title);
  await rest.addParticipant(server, cookies.anna, session.id, 'ben');
  return { caseId: session.case_id, sessionId: session.id };
}

async function openRoom(caseId, cookie) {
  const opened = await b.openPage(browser, server, { cookie });
  await opened.page.goto(`/#/room/${encodeURIComponent(caseId)}`);
  await opened.page.waitForSelector('[data-path]');
  await b.whenSettled(opened.page);
  return opened;
}

// A client joined by link (name, link options) with its room open on a phone.
async function clientInRoom(sessionId, name, { lang } = {}) {
  const link = await rest.call(server, cookies.anna, 'POST', `/api/sessions/${sessionId}/links`, { expires_in_s: 3600, max_uses: 1, lang });
  const cookie = await rest.join(server, link.data.token, name);
  const opened = await b.openPage(browser, server, { cookie, viewport: b.PHONE });
  await opened.page.goto(lang ? `/?lang=${lang}` : '/');
  await opened.page.waitForSelector('.room-client [data-path]', { timeout: 20000 });
  await b.whenSettled(opened.page);
  return opened;
}

// The text fields the page offers for writing (none may be left on a closed case).
const writable = (page) =>
  page.evaluate(() => [...document.querySelectorAll('input[data-path], textarea[data-path], select[data-path]')]
    .filter((el) => !el.readOnly && !el.disabled).map((el) => el.dataset.path));

// What the page lists as not saved, for one field label: the texts, joined.
const listed = (page) => page.evaluate(() => [...document.querySelectorAll('.refused:not([hidden]) .refused-text')].map((q) => q.textContent).join(''));

// typed reached the server, or what did not is listed on the writer's page (an op in
// flight at the close may be both: saved and listed).
function savedOrListed(typed, saved, shown, who) {
  assert.ok(typed.startsWith(saved), `${who}: the server has a prefix of what was typed (${JSON.stringify(saved)})`);
  const rest_ = typed.slice(saved.length);
  assert.ok(rest_ === '' || shown.endsWith(rest_), `${who}: ${JSON.stringify(rest_)} not saved and not listed (listed: ${JSON.stringify(shown)})`);
}

test('closing the case: asked first, then read-only for the lead, another counsellor and the client at once; what was typed just before is saved or listed', async () => {
  const m = await meeting('Familie Z.');
  const lead = await openRoom(m.caseId, cookies.anna);
  const ben = await openRoom(m.caseId, cookies.ben);
  const client = await clientInRoom(m.sessionId, 'Zora');
  await lead.page.waitForSelector('.people-list .person-name:has-text("Zora")');

  // Ben's network is gone while he writes; the client and the lead type right before the close.
  await b.whenOfflineReady(ben.page);
  await ben.context.setOffline(true);
  await ben.page.waitForSelector('.status[data-state="offline"]', { timeout: 10000 });
  const benText = 'Notiz von Ben';
  await b.typeAt(ben.page, ['situation', 'summary'], 0, benText, 10);
  const clientText = 'Bitte nicht vergessen';
  const leadText = 'Letzter Satz';
  await b.typeAt(client.page, ['concern', 'own_words'], 0, clientText, 5);
  await b.typeAt(lead.page, ['situation', 'resources'], 0, leadText, 5);

  // The dialog says what happens to whom before anything happens.
  await lead.page.click('.room-actions .close-case');
  const dialog = lead.page.locator('dialog.confirm-dialog[open]');
  await dialog.waitFor();
  const said = await dialog.textContent();
  assert.match(said, /Zora/, 'the client in the meeting is named');
  assert.match(said, /niemand mehr den Fallbogen ändern/);
  assert.match(said, /nicht wieder geöffnet/);
  await checkView(lead, 'room-close-case-dialog');
  await lead.page.click('dialog.confirm-dialog .confirm-yes');

  // Everyone in the room sees it at once.
  await client.page.waitForSelector('.room-gone:has-text("Die Sitzung ist beendet")', { timeout: 15000 });
  for (const [who, opened] of [['lead', lead]]) {
    await opened.page.waitForSelector('.room-banner:not([hidden]):has-text("abgeschlossen")', { timeout: 15000 });
    await opened.page.waitForSelector('[data-path]');
    assert.deepEqual(await writable(opened.page), [], `${who}: no field left to write in`);
    assert.equal(await opened.page.locator('.append-form, .room-actions .close-case, .room-actions .end-meeting').count(), 0, `${who}: nothing to add, close or end`);
  }
  await ben.context.setOffline(false);
  await ben.page.waitForSelector('.room-banner:not([hidden]):has-text("abgeschlossen")', { timeout: 20000 });
  await ben.page.waitForSelector('.refused:not([hidden]) .refused-text', { timeout: 20000 });
  assert.deepEqual(await writable(ben.page), [], 'ben: no field left to write in');
  await checkView(ben, 'room-closed-refused-listed');
  await checkView(client, 'room-client-closed-phone');

  // Nothing typed was lost without its writer being told.
  await b.whenSettled(lead.page, 20000);
  const doc = await rest.fetchCaseSheet(server, cookies.anna, m.caseId);
  assert.equal(doc.situation.summary, '', "ben's offline edit was refused");
  assert.equal(await listed(ben.page), benText);
  savedOrListed(clientText, doc.concern.own_words, await listed(client.page), 'client');
  savedOrListed(leadText, doc.situation.resources, await listed(lead.page), 'lead');
  assert.equal((await rest.call(server, cookies.anna, 'GET', `/api/cases/${m.caseId}`)).data.status, 'closed');
  for (const opened of [lead, ben, client]) await opened.context.close();
});

test('ending the meeting from the room: the client is told in its own language, the team sees it end and edits on', async () => {
  const m = await meeting('Familie E.');
  const lead = await openRoom(m.caseId, cookies.anna);
  const ben = await openRoom(m.caseId, cookies.ben);
  const client = await clientInRoom(m.sessionId, 'Elif', { lang: 'tr' });
  assert.equal(await client.page.getAttribute('html', 'lang'), 'tr');

  // Ben may end the meeting (a counsellor of the team) but not close the case.
  assert.equal(await ben.page.locator('.room-actions .end-meeting').count(), 1);
  assert.equal(await ben.page.locator('.room-actions .close-case').count(), 0, 'only the lead closes');
  await ben.page.click('.room-actions .end-meeting');
  const said = await ben.page.locator('dialog.confirm-dialog[open]').textContent();
  assert.match(said, /Elif/);
  assert.match(said, /Folgesitzung/);
  // Escape changes nothing.
  await ben.page.keyboard.press('Escape');
  await ben.page.waitForSelector('dialog.confirm-dialog', { state: 'detached' });
  assert.equal((await rest.call(server, cookies.anna, 'GET', `/api/sessions/${m.sessionId}`)).data.status, 'open');
  await ben.page.click('.room-actions .end-meeting');
  await ben.page.click('dialog.confirm-dialog .confirm-yes');

  const told = catalogue('tr')['room.session_ended'];
  await client.page.waitForSelector(`.room-gone:has-text("${told}")`, { timeout: 15000 });
  await lead.page.waitForSelector('.room-note:not([hidden]):has-text("Die Sitzung wurde um")', { timeout: 15000 });
  assert.equal(await lead.page.locator('.room-actions .end-meeting').count(), 0, 'no meeting left to end');
  await b.typeAt(lead.page, ['situation', 'summary'], 0, 'Nach der Sitzung', 10);
  await b.whenSettled(lead.page);
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, m.caseId)).situation.summary, 'Nach der Sitzung');
  await checkView(client, 'room-client-meeting-ended-tr-phone');
  await checkView(lead, 'room-meeting-ended');
  for (const opened of [lead, ben, client]) await opened.context.close();
});

test('a client offline while the meeting ends: back online it is told the meeting ended, and what it typed offline is listed, not lost', async () => {
  const m = await meeting('Funkloch');
  const client = await clientInRoom(m.sessionId, 'Paula');
  const field = b.selectorFor(['concern', 'own_words']);
  await b.whenOfflineReady(client.page);
  await client.context.setOffline(true);
  await client.page.waitForSelector('.status[data-state="offline"]', { timeout: 10000 });
  // The phone reloads the page while offline (it opens from what the tab kept): the hub's
  // close of the old socket can never reach it, and the new one will be refused at the door.
  await client.page.reload();
  await client.page.waitForSelector(field);
  assert.equal((await b.status(client.page)).state, 'offline');
  const typed = 'Im Zug geschrieben';
  await b.typeAt(client.page, ['concern', 'own_words'], 0, typed, 10);
  const ended = await rest.call(server, cookies.anna, 'POST', `/api/sessions/${m.sessionId}/end`);
  assert.equal(ended.status, 200);

  await client.context.setOffline(false);
  await client.page.waitForSelector(`.room-gone:has-text("${catalogue('de')['room.session_ended']}")`, { timeout: 30000 });
  await client.page.waitForSelector('.refused:not([hidden]) .refused-text', { timeout: 10000 });
  assert.equal(await listed(client.page), typed, 'what the client typed offline is shown to it');
  assert.equal(await client.page.locator('.status:not([hidden])').count(), 0, 'no indicator left that says it is still trying');
  assert.equal((await rest.fetchCaseSheet(server, cookies.anna, m.caseId)).concern.own_words, '', 'and it never reached the sheet');
  await checkView(client, 'room-client-ended-offline-phone');
  await client.context.close();
});

test('someone waiting in the lobby: the counsellors in the room are told at once and let them in or not, without polling; supervision is not asked', async () => {
  const m = await meeting('Warteraum');
  await rest.call(server, cookies.anna, 'POST', `/api/cases/${m.caseId}/team`, { username: 'sina', role: 'supervisor' });
  const lead = await openRoom(m.caseId, cookies.anna);
  const sina = await openRoom(m.caseId, cookies.sina);
  const lobbyAsks = [];
  lead.page.on('request', (req) => {
    if (/\/lobby$/.test(new URL(req.url()).pathname)) lobbyAsks.push(Date.now());
  });
  await lead.page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  const link = await rest.createLink(server, cookies.anna, m.sessionId, { lobby: true });
  const waiting = await b.openPage(browser, server, { viewport: b.PHONE });
  await waiting.page.goto(link.url);
  await waiting.page.fill('form.join input[autocomplete="nickname"]', 'Wanda');
  await waiting.page.click('form.join button[type="submit"]');
  await waiting.page.waitForSelector('.waiting');

  const notice = lead.page.locator('.lobby:not([hidden])');
  await notice.waitFor({ timeout: 10000 });
  assert.equal(await notice.getAttribute('aria-live'), 'polite');
  assert.match(await notice.textContent(), /Wanda/);
  assert.match(await notice.textContent(), /1 Person wartet/);
  assert.ok(await notice.isVisible(), 'in view although the page is scrolled down');
  const box = await notice.boundingBox();
  assert.ok(box.y >= 0 && box.y < 200, `at the top of the window (y ${box.y})`);
  await checkView(lead, 'room-lobby-notice');

  // While she waits the page does not ask again and again.
  const asked = lobbyAsks.length;
  await sleep(4000);
  assert.ok(lobbyAsks.length - asked <= 0, `no lobby request while nothing changed (${lobbyAsks.length - asked} more)`);
  assert.ok(lobbyAsks.length <= 2, `${lobbyAsks.length} lobby requests in all`);

  // A second device waits too; the notice counts both. The lead declines it and lets Wanda in.
  const second = await b.openPage(browser, server, { viewport: b.PHONE });
  await second.page.goto(link.url);
  await second.page.fill('form.join input[autocomplete="nickname"]', 'Xaver');
  await second.page.click('form.join button[type="submit"]');
  await second.page.waitForSelector('.waiting');
  await lead.page.waitForSelector('.lobby:not([hidden]) .lobby-summary:has-text("2 Personen warten")', { timeout: 10000 });
  await lead.page.click('.lobby-client:has-text("Xaver") button.danger');
  await second.page.waitForSelector(`text=${catalogue('de')['join.declined']}`, { timeout: 20000 });
  await lead.page.waitForSelector('.lobby:not([hidden]) .lobby-summary:has-text("1 Person wartet")', { timeout: 10000 });
  assert.equal(await lead.page.locator('.lobby-client').count(), 1, 'only Wanda left waiting');

  // Supervision decides nothing here: no notice, nothing to take anyone out of.
  assert.equal(await sina.page.locator('.lobby').count(), 0, 'no lobby notice for the supervisor');
  assert.equal(await sina.page.locator('.room-actions button, .person-actions button').count(), 0, 'no action for the supervisor');

  await lead.page.click('.lobby-client button.primary');
  await waiting.page.waitForSelector('.room-client [data-path]', { timeout: 20000 });
  await lead.page.waitForSelector('.lobby[hidden]', { state: 'attached' });
  const lobby = (await rest.call(server, cookies.anna, 'GET', `/api/sessions/${m.sessionId}/lobby`)).data;
  assert.deepEqual(lobby.waiting, [], 'nobody waits any more');
  for (const opened of [lead, sina, waiting, second]) await opened.context.close();
});

test('people: a counsellor takes a client out of the meeting, the lead a member out of the team; the client is told', async () => {
  const m = await meeting('Leute');
  const lead = await openRoom(m.caseId, cookies.anna);
  const ben = await openRoom(m.caseId, cookies.ben);
  const client = await clientInRoom(m.sessionId, 'Karl');
  const row = (page, name) => page.locator(`.people-list .person:has(.person-name:has-text("${name}"))`);
  await row(ben.page, 'Karl').waitFor();
  await row(lead.page, 'Ben Okafor').waitFor();

  // Ben (not the lead) may take the client out, not a member out of the team.
  assert.equal(await row(ben.page, 'Anna Berg').locator('button').count(), 0, 'no action on the lead for ben');
  await row(ben.page, 'Karl').locator('button.remove-client').click();
  const said = await ben.page.locator('dialog.confirm-dialog[open]').textContent();
  assert.match(said, /Karl aus der Sitzung nehmen\?/);
  await ben.page.click('dialog.confirm-dialog .confirm-yes');
  await client.page.waitForSelector('.room-gone:has-text("nicht mehr in dieser Sitzung")', { timeout: 15000 });
  await ben.page.waitForSelector('.room-note:has-text("Karl ist nicht mehr in der Sitzung")');
  await checkView(client, 'room-client-removed-phone');

  // The lead takes Ben out of the team: his page loses the case at once.
  await row(lead.page, 'Ben Okafor').locator('button.remove-member').click();
  await lead.page.click('dialog.confirm-dialog .confirm-yes');
  await ben.page.waitForSelector('.room-gone:has-text("keinen Zugang mehr")', { timeout: 15000 });
  const kase = (await rest.call(server, cookies.anna, 'GET', `/api/cases/${m.caseId}`)).data;
  assert.deepEqual(kase.team.map((p) => p.name), ['Anna Berg']);
  for (const opened of [lead, ben, client]) await opened.context.close();
});

test('the case page: supervision invited through its own form, a counsellor refused there in the page\'s words; a non-lead gets no lead\'s forms', async () => {
  const m = await meeting('Supervision');
  const lead = await b.openPage(browser, server, { cookie: cookies.anna });
  await lead.page.goto(`/#/cases/${encodeURIComponent(m.caseId)}`);
  await lead.page.waitForSelector('form.invite-supervisor');
  assert.match(await lead.page.textContent('form.invite-supervisor'), /Supervision einladen/);
  await lead.page.fill('form.invite-supervisor input', 'ben');
  await lead.page.click('form.invite-supervisor button');
  const refused = catalogue('de')['error.role_mismatch'];
  await lead.page.waitForSelector(`.form-message:has-text("${refused}")`);
  await lead.page.fill('form.invite-supervisor input', 'sina');
  await lead.page.click('form.invite-supervisor button');
  await lead.page.waitForSelector('.team li:has-text("Sina Supervision")');
  const team = (await rest.call(server, cookies.anna, 'GET', `/api/cases/${m.caseId}`)).data.team;
  assert.deepEqual(team.map((p) => [p.name, p.team_role]).sort(), [['Anna Berg', 'lead'], ['Ben Okafor', 'counsellor'], ['Sina Supervision', 'supervisor']]);
  await checkView(lead, 'case-page-invite-supervision');

  // Ben does not lead: no forms, no removal, no closing — nothing the hub would refuse him.
  const ben = await b.openPage(browser, server, { cookie: cookies.ben });
  await ben.page.goto(`/#/cases/${encodeURIComponent(m.caseId)}`);
  await ben.page.waitForSelector('.team li');
  assert.equal(await ben.page.locator('form.add-member, form.invite-supervisor, .remove-member, .hand-over, .close-case').count(), 0);
  // The supervisor neither: not even the session's links.
  const sina = await b.openPage(browser, server, { cookie: cookies.sina });
  await sina.page.goto(`/#/cases/${encodeURIComponent(m.caseId)}`);
  await sina.page.waitForSelector('.team li');
  assert.equal(await sina.page.locator('form, .close-case, .end-session, .open-session').count(), 0);
  for (const opened of [lead, ben, sina]) await opened.context.close();
});

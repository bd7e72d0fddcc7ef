// One session of a case, for the team's counsellors: open the case sheet, hand out client
// links and look after them, and end the session (asked first: its clients lose the sheet
// at once; the case stays open). A new link is single-use unless the counsellor allows
// more devices, goes through the lobby unless unticked, and may name the language the
// client's page opens in. Every link of the session is listed (GET …/links): what someone
// opening it meets now, its uses, the clients it let in (each can be removed from the
// meeting), and it can be revoked — with its clients, if the counsellor says so — or, when
// its address is not known in this tab, replaced by a new one with the same settings.
const { h, uniqueId } = require('../dom');
const { t, tn, languages } = require('../i18n');
const { api } = require('../api');
const { errorText, formatDateTime, personName } = require('../format');
const { linkCard } = require('./link-card');
const { rememberLink, recallLink } = require('./link-memory');
const { confirmDialog } = require('./confirm-dialog');

const EXPIRIES = [
  ['links.expiry.hour', 3600],
  ['links.expiry.day', 86400],
  ['links.expiry.week', 604800],
];
// Devices a link admits: one unless the counsellor chooses more ('' = no limit).
const USES = ['1', '2', '3', '5', ''];
const MAX_LINK_SECS = 2592000;
const STILL_IN = ['waiting', 'admitted'];

// Asks, then ends the session; resolves true when it ended. clients: the names of the
// clients in it now.
async function endSessionAsked(sessionId, clients) {
  const { ok } = await confirmDialog({
    title: t('meeting.end_title'),
    lines: [clients.length ? tn('meeting.end_clients', clients.length) : t('meeting.end_no_clients'), clients, t('meeting.end_team')],
    confirm: t('case.end_session'),
  });
  if (!ok) return false;
  await api.endSession(sessionId);
  return true;
}

// The names of the clients in session now (waiting or admitted), from its links.
async function clientsIn(sessionId) {
  try {
    const { links } = await api.links(sessionId);
    return links.flatMap((l) => l.joined.filter((c) => STILL_IN.includes(c.status)).map((c) => personName(c.name)));
  } catch (e) {
    return [];
  }
}

// Asks, then removes client {id, name} from session; resolves true when done.
async function removeClientAsked(sessionId, client) {
  const name = personName(client.name);
  const { ok } = await confirmDialog({
    title: t('people.remove_client_title', { name }),
    lines: [t('people.remove_client_what', { name })],
    confirm: t('people.remove_client'),
  });
  if (!ok) return false;
  await api.removeClient(sessionId, client.id);
  return true;
}

function linksCard(sessionId, me, say) {
  const ids = { expiry: uniqueId('expiry'), uses: uniqueId('uses'), lang: uniqueId('lang'), lobby: uniqueId('lobby') };
  const expiry = h('select', { id: ids.expiry }, EXPIRIES.map(([key, seconds], i) => h('option', { value: String(seconds), selected: i === 1 }, t(key))));
  const uses = h('select', { id: ids.uses }, USES.map((n) => h('option', { value: n }, n ? tn('links.devices', Number(n)) : t('links.devices_unlimited'))));
  const lang = h('select', { id: ids.lang }, h('option', { value: '' }, t('links.lang_auto')), languages().map(({ code, name }) => h('option', { value: code, lang: code }, name)));
  const lobby = h('input', { id: ids.lobby, type: 'checkbox', checked: true });
  const list = h('ul', { class: 'links' });
  const message = h('p', { class: 'form-error', role: 'alert' });
  const field = (id, label, control) => h('div', { class: 'field' }, h('label', { for: id, class: 'field-label' }, label), control);
  const form = h(
    'form',
    { class: 'inline-form link-form' },
    h('div', { class: 'field field-check' }, lobby, h('label', { for: ids.lobby, class: 'field-label' }, t('links.lobby'))),
    field(ids.expiry, t('links.expiry'), expiry),
    field(ids.uses, t('links.uses'), uses),
    field(ids.lang, t('links.lang'), lang),
    h('button', { type: 'submit', class: 'primary' }, t('links.create')),
  );

  async function create(settings) {
    const link = await api.createLink(sessionId, settings);
    rememberLink(me.id, link.id, link.url);
    return link;
  }

  // Runs an action, then lists the links anew; a refusal is said in the page's words.
  async function act(action, done) {
    message.textContent = '';
    try {
      if ((await action()) !== false && done) say(done);
    } catch (e) {
      message.textContent = errorText(e);
    }
    await load();
  }

  const handlers = {
    onRevoke: (link) =>
      act(async () => {
        const still = link.joined.filter((c) => STILL_IN.includes(c.status));
        const { ok, checked } = await confirmDialog({
          title: t('links.revoke_title'),
          lines: [t('links.revoke_what'), still.length ? tn('links.revoke_clients', still.length) : null, still.map((c) => personName(c.name))],
          confirm: t('links.revoke'),
          option: still.length ? { label: tn('links.revoke_end_clients', still.length) } : null,
        });
        if (!ok) return false;
        await api.revokeLink(sessionId, link.id, checked);
        return true;
      }, t('links.revoked')),
    onReplace: (link) =>
      act(async () => {
        const { ok } = await confirmDialog({
          title: t('links.replace_title'),
          lines: [t('links.replace_what')],
          confirm: t('links.replace'),
          danger: false,
        });
        if (!ok) return false;
        await create({
          expiresIn: Math.max(60, Math.min(MAX_LINK_SECS, Math.round((link.expires_at - link.created_at) / 1000))),
          lobby: link.lobby,
          maxUses: link.max_uses,
          lang: link.lang,
        });
        await api.revokeLink(sessionId, link.id, false);
        return true;
      }, t('links.replaced')),
    onRemoveClient: (client) =>
      act(() => removeClientAsked(sessionId, client), t('people.client_removed', { name: personName(client.name) })),
  };

  async function load() {
    try {
      const { links } = await api.links(sessionId);
      list.replaceChildren(...links.map((link) => linkCard(link, recallLink(me.id, link.id), handlers)));
    } catch (e) {
      message.textContent = errorText(e);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(
      () =>
        create({
          expiresIn: Number(expiry.value),
          lobby: lobby.checked,
          maxUses: uses.value ? Number(uses.value) : null,
          lang: lang.value || null,
        }),
      null,
    );
  });
  load();
  return {
    element: h('section', { class: 'card', 'aria-labelledby': 'links-title' }, h('h2', { id: 'links-title' }, t('links.title')), h('p', { class: 'hint' }, t('links.hint')), form, message, list),
    load,
  };
}

function sessionAdminView({ sessionId, me }) {
  const heading = h('h1', {}, t('app.loading'));
  const info = h('p', { class: 'muted session-info' });
  const notice = h('p', { class: 'form-message', role: 'status' });
  const back = h('a', { href: '#/' }, t('session.back'));
  const actions = h('div', { class: 'button-row' });
  const body = h('div', { class: 'admin-grid' });
  const element = h(
    'div',
    { class: 'session-admin' },
    h('p', {}, back),
    h('div', { class: 'title-row' }, heading, actions),
    info,
    notice,
    body,
  );
  const say = (text) => {
    notice.textContent = text;
  };
  let links = null;
  const show = (session) => {
    heading.textContent = (session && session.title) || t('session.untitled');
    if (!session) return;
    const caseHash = `#/cases/${encodeURIComponent(session.case_id)}`;
    back.setAttribute('href', caseHash);
    back.textContent = t('session.back_to_case');
    const running = session.status === 'open';
    info.textContent = running ? t('case.session_running', { since: formatDateTime(session.started_at) }) : t('case.session_span', { from: formatDateTime(session.started_at), to: formatDateTime(session.ended_at) });
    const end = h('button', { type: 'button', class: 'secondary end-session' }, t('case.end_session'));
    end.addEventListener('click', async () => {
      end.disabled = true;
      try {
        if (await endSessionAsked(sessionId, await clientsIn(sessionId))) say(t('case.session_ended'));
      } catch (e) {
        say(errorText(e));
      }
      end.disabled = false;
      load();
    });
    actions.replaceChildren(
      h('a', { class: 'button primary open-sheet', href: `#/room/${encodeURIComponent(session.case_id)}` }, t('cases.open_sheet')),
      running ? end : null,
    );
    if (running) {
      if (!links) links = linksCard(sessionId, me, say);
      body.replaceChildren(links.element);
    } else {
      links = null;
      body.replaceChildren(h('p', { class: 'session-ended' }, t('session.ended_hint')));
    }
  };
  const load = () => api.session(sessionId).then(show, (e) => {
    show(null);
    say(errorText(e));
  });
  load();
  // Back to this tab: who came in through the links meanwhile.
  const onVisible = () => {
    if (document.visibilityState === 'visible' && links) links.load();
  };
  document.addEventListener('visibilitychange', onVisible);
  return { element, destroy: () => document.removeEventListener('visibilitychange', onVisible) };
}

module.exports = { sessionAdminView, endSessionAsked, removeClientAsked, clientsIn };

// Managing one session (its lead): open the room, add specialists
// (POST …/participants {username}) and hand out client links with an expiry, through the
// lobby or straight in (POST …/links {expires_in_s, lobby}), shown as URL and QR code and
// revocable (DELETE …/links/{id}).
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { roleText } = require('./shell');
const { linkCard } = require('./link-card');

const EXPIRIES = [
  ['links.expiry.hour', 3600],
  ['links.expiry.day', 86400],
  ['links.expiry.week', 604800],
];

function participantItem(p) {
  const role = p.lead ? `${roleText(p)} · ${t('role.lead')}` : roleText(p);
  return h('li', {}, h('span', { class: 'participant-name' }, p.name || p.id), ' ', h('span', { class: 'muted' }, role));
}

function participantsCard(sessionId, participants) {
  const inputId = uniqueId('username');
  const username = h('input', { id: inputId, required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const list = h('ul', { class: 'participants' }, participants.map(participantItem));
  const message = h('p', { class: 'form-message', role: 'status' });
  const form = h(
    'form',
    { class: 'inline-form' },
    h('div', { class: 'field' }, h('label', { for: inputId, class: 'field-label' }, t('participants.username')), username),
    h('button', { type: 'submit', class: 'primary' }, t('participants.add')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = username.value.trim();
    try {
      const added = await api.addParticipant(sessionId, name);
      list.append(participantItem(added));
      message.textContent = t('participants.added', { name: added.name || name });
      username.value = '';
    } catch (e) {
      const known = { user_not_found: 'participants.unknown', already_participant: 'participants.already' }[e.code];
      message.textContent = known ? t(known, { name }) : t('error.generic', { message: e.message });
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'participants-title' }, h('h2', { id: 'participants-title' }, t('participants.title')), h('p', { class: 'hint' }, t('participants.hint')), list, form, message);
}

function linksCard(sessionId) {
  const selectId = uniqueId('expiry');
  const lobbyId = uniqueId('lobby');
  const expiry = h('select', { id: selectId }, EXPIRIES.map(([key, seconds], i) => h('option', { value: String(seconds), selected: i === 1 }, t(key))));
  const lobby = h('input', { id: lobbyId, type: 'checkbox', checked: true });
  const list = h('ul', { class: 'links' });
  const message = h('p', { class: 'form-error', role: 'alert' });
  const onRevoke = (link) => api.revokeLink(sessionId, link.id);
  const form = h(
    'form',
    { class: 'inline-form' },
    h('div', { class: 'field' }, h('label', { for: selectId, class: 'field-label' }, t('links.expiry')), expiry),
    h('div', { class: 'field field-check' }, lobby, h('label', { for: lobbyId, class: 'field-label' }, t('links.lobby'))),
    h('button', { type: 'submit', class: 'primary' }, t('links.create')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    try {
      const link = await api.createLink(sessionId, Number(expiry.value), lobby.checked);
      list.prepend(linkCard(link, { onRevoke }));
    } catch (e) {
      message.textContent = t('error.generic', { message: e.message });
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'links-title' }, h('h2', { id: 'links-title' }, t('links.title')), h('p', { class: 'hint' }, t('links.hint')), form, message, list);
}

function sessionAdminView({ sessionId }) {
  const heading = h('h1', {}, t('app.loading'));
  const body = h('div', { class: 'admin-grid' });
  const element = h(
    'div',
    { class: 'session-admin' },
    h('p', {}, h('a', { href: '#/' }, t('session.back'))),
    h('div', { class: 'title-row' }, heading, h('a', { class: 'button primary', href: `#/room/${encodeURIComponent(sessionId)}` }, t('session.open_room'))),
    body,
  );
  const show = (session) => {
    heading.textContent = (session && session.title) || t('session.untitled');
    body.replaceChildren(participantsCard(sessionId, (session && session.participants) || []), linksCard(sessionId));
  };
  api.session(sessionId).then(show, () => show(null));
  return { element };
}

module.exports = { sessionAdminView };

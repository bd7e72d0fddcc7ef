// One session of a case, for the team's counsellors: open the case sheet, hand out client
// links with an expiry, through the lobby or straight in (POST …/links {expires_in_s,
// lobby}), shown as URL and QR code and revocable (DELETE …/links/{id}), and end the
// session (POST …/end: its clients lose the sheet at once; the case stays open). The
// team is the case's (its page).
const { h, uniqueId } = require('../dom');
const { t, language } = require('../i18n');
const { api } = require('../api');
const { linkCard } = require('./link-card');

const EXPIRIES = [
  ['links.expiry.hour', 3600],
  ['links.expiry.day', 86400],
  ['links.expiry.week', 604800],
];

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
  const when = (ms) => new Date(ms).toLocaleString(language(), { dateStyle: 'medium', timeStyle: 'short' });
  const show = (session) => {
    heading.textContent = (session && session.title) || t('session.untitled');
    if (!session) return;
    const caseHash = `#/cases/${encodeURIComponent(session.case_id)}`;
    back.setAttribute('href', caseHash);
    back.textContent = t('session.back_to_case');
    const running = session.status === 'open';
    info.textContent = running ? t('case.session_running', { since: when(session.started_at) }) : t('case.session_span', { from: when(session.started_at), to: when(session.ended_at) });
    const end = h('button', { type: 'button', class: 'secondary end-session' }, t('case.end_session'));
    end.addEventListener('click', async () => {
      end.disabled = true;
      try {
        await api.endSession(sessionId);
        notice.textContent = t('case.session_ended');
      } catch (e) {
        notice.textContent = t('error.generic', { message: e.message });
      }
      load();
    });
    actions.replaceChildren(
      h('a', { class: 'button primary open-sheet', href: `#/room/${encodeURIComponent(session.case_id)}` }, t('cases.open_sheet')),
      running ? end : null,
    );
    body.replaceChildren(running ? linksCard(sessionId) : h('p', { class: 'session-ended' }, t('session.ended_hint')));
  };
  const load = () => api.session(sessionId).then(show, () => show(null));
  load();
  return { element };
}

module.exports = { sessionAdminView };

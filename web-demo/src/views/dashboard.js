// The counsellor's and supervisor's start page: their sessions (GET /api/sessions), with
// the replay for supervisors and the lead, and, for counsellors, a new session from a
// template (POST /api/sessions).
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { go } = require('../router');
const { leads } = require('../principal');

const TEMPLATES = ['default'];

function sessionRow(session, me) {
  const created = new Date(session.created_at).toLocaleDateString(document.documentElement.lang, { dateStyle: 'medium' });
  const people = (session.participants || []).map((p) => p.name).join(', ');
  const named = (text) => [text, h('span', { class: 'visually-hidden' }, `: ${session.title || session.id}`)];
  const replays = me.role === 'supervisor' || leads(session, me);
  return h(
    'li',
    { class: 'session-row' },
    h(
      'div',
      { class: 'session-main' },
      h('a', { href: `#/room/${encodeURIComponent(session.id)}`, class: 'session-title' }, session.title || session.id),
      h('span', { class: 'muted' }, t('dashboard.session_line', { status: t(`session.status.${session.status}`), created, people })),
    ),
    h(
      'div',
      { class: 'session-actions' },
      replays ? h('a', { href: `#/replay/${encodeURIComponent(session.id)}`, class: 'button secondary replay-link' }, named(t('dashboard.replay'))) : null,
      me.role === 'counsellor' ? h('a', { href: `#/sessions/${encodeURIComponent(session.id)}`, class: 'button secondary' }, named(t('dashboard.manage'))) : null,
    ),
  );
}

function createForm() {
  const titleId = uniqueId('title');
  const templateId = uniqueId('template');
  const title = h('input', { id: titleId, required: true, maxlength: 200, autocomplete: 'off' });
  const template = h('select', { id: templateId }, TEMPLATES.map((name) => h('option', { value: name }, t(`template.${name}`))));
  const message = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card create-session' },
    h('h2', {}, t('dashboard.create')),
    h('div', { class: 'field' }, h('label', { for: titleId, class: 'field-label' }, t('dashboard.session_title')), title),
    h('div', { class: 'field' }, h('label', { for: templateId, class: 'field-label' }, t('dashboard.template')), template),
    message,
    h('button', { type: 'submit', class: 'primary' }, t('dashboard.create_submit')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    try {
      const created = await api.createSession(title.value.trim(), template.value);
      go(`/sessions/${encodeURIComponent(created.id)}`);
    } catch (e) {
      message.textContent = t('error.generic', { message: e.message });
    }
  });
  return form;
}

function dashboardView({ me }) {
  const list = h('ul', { class: 'session-list' }, h('li', { class: 'muted' }, t('app.loading')));
  const element = h(
    'div',
    { class: 'dashboard' },
    h('h1', {}, t('dashboard.title')),
    h('div', { class: 'dashboard-grid' }, h('section', { class: 'card', 'aria-labelledby': 'my-sessions' }, h('h2', { id: 'my-sessions' }, t('dashboard.mine')), list), me.role === 'counsellor' ? createForm() : null),
  );
  api
    .sessions()
    .then((data) => {
      const sessions = (data && data.sessions) || [];
      list.replaceChildren(...(sessions.length ? sessions.map((s) => sessionRow(s, me)) : [h('li', { class: 'muted' }, t('dashboard.none'))]));
    })
    .catch((e) => list.replaceChildren(h('li', { class: 'form-error', role: 'alert' }, t('error.generic', { message: e.message }))));
  return { element };
}

module.exports = { dashboardView };

// Accounts (#/accounts), for admins: every account with its role, second factor and
// status (GET /api/users); a new account (POST /api/users) whose owner sets its password
// through a one-time link, shown once here to hand on; and per account: disable or
// enable, a new set-password link, a reset of its second factor — each asked once more.
const { h, uniqueId, clear } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { errorText, formatDateTime } = require('../format');
const { confirmingButton } = require('./confirm');

const SPECIALTIES = ['none', 'debt', 'social_law', 'migration', 'housing', 'family', 'addiction'];

// The one-time link, to copy and hand on.
function linkPanel(name, link) {
  const url = new URL(link.url, location.origin).href;
  const id = uniqueId('setlink');
  const field = h('input', { id, type: 'text', readonly: true, value: url, class: 'link-url', dir: 'ltr' });
  const status = h('p', { class: 'link-status', role: 'status' });
  const copy = h('button', { type: 'button', class: 'secondary' }, t('links.copy'));
  copy.addEventListener('click', async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = t('links.copied');
    } catch (e) {
      status.textContent = t('links.copy_by_hand');
    }
  });
  return h(
    'div',
    { class: 'password-link', role: 'region', 'aria-label': t('accounts.link_title', { name }) },
    h('h3', {}, t('accounts.link_title', { name })),
    h('p', { class: 'hint' }, t('accounts.link_hint', { when: formatDateTime(link.expires_at) })),
    h('div', { class: 'copy-row' }, h('label', { for: id, class: 'visually-hidden' }, t('links.url')), field, copy),
    status,
  );
}

function roleText(user) {
  const role = t(`role.${user.role}`);
  return user.specialty ? `${role} · ${t(`specialty.${user.specialty}`)}` : role;
}

function userRow(user, me, act) {
  const named = (text) => [text, h('span', { class: 'visually-hidden' }, `: ${user.name}`)];
  const state = user.disabled ? t('accounts.disabled') : user.has_password ? t('accounts.active') : t('accounts.no_password');
  const actions = [];
  if (user.disabled) {
    const enable = h('button', { type: 'button', class: 'secondary enable-user' }, named(t('accounts.enable')));
    enable.addEventListener('click', () => act(() => api.enableUser(user.id), t('accounts.enabled_done', { name: user.name })));
    actions.push(enable);
  } else if (user.id !== me.id) {
    actions.push(confirmingButton({
      label: named(t('accounts.disable')),
      question: t('accounts.confirm_disable', { name: user.name }),
      confirm: t('accounts.disable'),
      className: 'secondary disable-user',
      onConfirm: () => act(() => api.disableUser(user.id), t('accounts.disabled_done', { name: user.name })),
    }));
  }
  const link = h('button', { type: 'button', class: 'secondary new-link' }, named(t('accounts.password_link')));
  link.addEventListener('click', () => act(() => api.passwordLink(user.id), null, (made) => linkPanel(user.name, made)));
  actions.push(link);
  if (user.totp.enabled) {
    actions.push(confirmingButton({
      label: named(t('accounts.reset_totp')),
      question: t('accounts.confirm_reset', { name: user.name }),
      confirm: t('accounts.reset_totp'),
      className: 'secondary reset-totp',
      onConfirm: () => act(() => api.resetTotp(user.id), t('accounts.reset_done', { name: user.name })),
    }));
  }
  return h(
    'li',
    { class: ['user-row', user.disabled && 'is-disabled'], dataset: { username: user.username } },
    h(
      'div',
      { class: 'session-main' },
      h('span', { class: 'session-title' }, user.name),
      h('span', { class: 'muted' }, `${user.username} · ${roleText(user)}`),
      h('span', { class: 'user-state' }, `${state} · ${t('accounts.totp')}: ${t(user.totp.enabled ? 'accounts.totp_on' : 'accounts.totp_off')}`),
    ),
    h('div', { class: 'member-actions' }, actions),
  );
}

function createForm(onCreated) {
  const ids = { user: uniqueId('username'), name: uniqueId('name'), role: uniqueId('role'), spec: uniqueId('spec') };
  const username = h('input', { id: ids.user, name: 'username', required: true, maxlength: 64, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const name = h('input', { id: ids.name, name: 'name', required: true, maxlength: 128, autocomplete: 'off' });
  const role = h('select', { id: ids.role, name: 'role' }, ['counsellor', 'supervisor', 'admin'].map((r) => h('option', { value: r }, t(`role.${r}`))));
  const spec = h('select', { id: ids.spec, name: 'specialty' }, SPECIALTIES.map((s) => h('option', { value: s }, s === 'none' ? t('accounts.no_specialty') : t(`specialty.${s}`))));
  const specField = h('div', { class: 'field' }, h('label', { for: ids.spec, class: 'field-label' }, t('accounts.specialty')), spec);
  role.addEventListener('change', () => {
    specField.hidden = role.value !== 'counsellor';
  });
  const message = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card create-user' },
    h('h2', {}, t('accounts.create')),
    h('p', { class: 'hint' }, t('accounts.intro')),
    h('div', { class: 'field' }, h('label', { for: ids.user, class: 'field-label' }, t('accounts.username')), username),
    h('div', { class: 'field' }, h('label', { for: ids.name, class: 'field-label' }, t('accounts.name')), name),
    h('div', { class: 'field' }, h('label', { for: ids.role, class: 'field-label' }, t('accounts.role')), role),
    specField,
    message,
    h('button', { type: 'submit', class: 'primary' }, t('accounts.create')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    const body = { username: username.value.trim(), name: name.value.trim(), role: role.value };
    if (role.value === 'counsellor') body.specialty = spec.value;
    try {
      const made = await api.createUser(body);
      form.reset();
      specField.hidden = false;
      onCreated(made);
    } catch (e) {
      message.textContent = errorText(e);
    }
  });
  return form;
}

function accountsView({ me }) {
  const list = h('ul', { class: 'user-list' }, h('li', { class: 'muted' }, t('app.loading')));
  const notice = h('div', { class: 'accounts-notice', role: 'status' });
  const element = h(
    'div',
    { class: 'accounts' },
    h('h1', {}, t('accounts.title')),
    notice,
    h(
      'div',
      { class: 'admin-grid' },
      createForm((made) => {
        clear(notice).append(linkPanel(made.user.name, made.link));
        load();
      }),
      h('section', { class: 'card', 'aria-labelledby': 'all-accounts' }, h('h2', { id: 'all-accounts' }, t('accounts.list')), list),
    ),
  );

  // Runs a change; then the notice (text, or a panel made from the answer) and the list.
  async function act(change, text, panel) {
    try {
      const answer = await change();
      clear(notice).append(panel ? panel(answer) : h('p', { class: 'form-message' }, text));
    } catch (e) {
      clear(notice).append(h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
    }
    load();
  }

  function load() {
    api.users().then(
      (data) => list.replaceChildren(...data.users.map((u) => userRow(u, me, act))),
      (e) => list.replaceChildren(h('li', { class: 'form-error', role: 'alert' }, errorText(e))),
    );
  }

  load();
  return { element };
}

module.exports = { accountsView };

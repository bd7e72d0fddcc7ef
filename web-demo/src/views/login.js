// Login for counsellors and supervisors: POST /api/login, then the dashboard.
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');

function loginView({ onLoggedIn }) {
  const userId = uniqueId('user');
  const passId = uniqueId('pass');
  const username = h('input', { id: userId, name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: passId, name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h(
    'form',
    { class: 'card narrow login' },
    h('h1', {}, t('login.title')),
    h('p', { class: 'lead-text' }, t('login.intro')),
    h('div', { class: 'field' }, h('label', { for: userId, class: 'field-label' }, t('login.username')), username),
    h('div', { class: 'field' }, h('label', { for: passId, class: 'field-label' }, t('login.password')), password),
    message,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      await api.login(username.value.trim(), password.value);
      await onLoggedIn();
    } catch (e) {
      message.textContent = e.status === 401 ? t('login.failed') : e.code === 'rate_limited' ? t('login.rate_limited') : t('error.generic', { message: e.message });
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  requestAnimationFrame(() => username.focus());
  return { element: form };
}

module.exports = { loginView };

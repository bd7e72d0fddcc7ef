// Login for counsellors, supervisors and admins: POST /api/login, then the dashboard. An
// account with a second factor is asked for the code of its authenticator app (or a
// recovery code) next; an account whose role requires one and that has none sets it up
// first (POST /api/login/totp: a QR code to scan, the first code confirms it) and is
// shown its ten recovery codes once before it goes on.
const { h, uniqueId, clear } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { errorText } = require('../format');
const { codeField, enrolForm, recoveryCodes } = require('./second-factor');

function failureText(e) {
  if (e.code === 'invalid_credentials') return t('login.failed');
  if (e.code === 'rate_limited') return t('login.rate_limited');
  return errorText(e);
}

function loginView({ onLoggedIn }) {
  const element = h('div', { class: 'login-page' });
  let creds = null;

  // After a login that used a recovery code: how many are left, then on.
  function afterLogin(result) {
    if (result && Array.isArray(result.recovery_codes)) {
      clear(element).append(h('div', { class: 'card narrow' }, recoveryCodes(result.recovery_codes, onLoggedIn)));
      return;
    }
    if (result && typeof result.recovery_codes_left === 'number') {
      const next = h('button', { type: 'button', class: 'primary' }, t('login.continue'));
      next.addEventListener('click', onLoggedIn);
      clear(element).append(
        h(
          'div',
          { class: 'card narrow' },
          h('h1', {}, t('login.code_title')),
          h('p', { role: 'status' }, t('login.recovery_left', { count: result.recovery_codes_left })),
          next,
        ),
      );
      requestAnimationFrame(() => next.focus());
      return;
    }
    onLoggedIn();
  }

  // The second step: the code of the app, or a recovery code.
  function askCode(recovery) {
    const { field, input } = recovery ? recoveryField() : codeField('totp.code');
    const message = h('p', { class: 'form-error', role: 'alert' });
    const other = h('button', { type: 'button', class: 'link-button switch-code' }, t(recovery ? 'login.use_app' : 'login.use_recovery'));
    other.addEventListener('click', () => askCode(!recovery));
    const submit = h('button', { type: 'submit', class: 'primary' }, t('login.code_submit'));
    const form = h('form', { class: 'card narrow login-code' }, h('h1', {}, t('login.code_title')), h('p', {}, t(recovery ? 'login.recovery_intro' : 'login.code_intro')), field, message, submit, ' ', other);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.textContent = '';
      submit.disabled = true;
      try {
        const value = input.value.trim();
        afterLogin(await api.login(creds.username, creds.password, recovery ? { recovery_code: value } : { totp: value.replace(/\s/g, '') }));
      } catch (e) {
        message.textContent = failureText(e);
        input.select();
      } finally {
        submit.disabled = false;
      }
    });
    clear(element).append(form);
    requestAnimationFrame(() => input.focus());
  }

  function recoveryField() {
    const id = uniqueId('recovery');
    const input = h('input', { id, name: 'recovery_code', autocomplete: 'off', required: true, spellcheck: 'false', class: 'code-input', dir: 'ltr' });
    return { field: h('div', { class: 'field' }, h('label', { for: id, class: 'field-label' }, t('login.recovery_code')), input), input };
  }

  // A required second factor that is not set up yet: set it up, then log in with it.
  async function setUp() {
    const card = h('div', { class: 'card narrow login-setup' }, h('h1', {}, t('totp.setup_title')), h('p', { class: 'muted' }, t('app.loading')));
    clear(element).append(card);
    try {
      const setup = await api.totpSetupAtLogin(creds.username, creds.password);
      clear(card).append(
        h('h1', {}, t('totp.setup_title')),
        enrolForm(setup, async (code) => afterLogin(await api.login(creds.username, creds.password, { totp: code }))),
      );
    } catch (e) {
      clear(card).append(h('h1', {}, t('totp.setup_title')), h('p', { class: 'form-error', role: 'alert' }, failureText(e)));
    }
  }

  function askPassword() {
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
      creds = { username: username.value.trim(), password: password.value };
      try {
        afterLogin(await api.login(creds.username, creds.password));
      } catch (e) {
        if (e.code === 'totp_required') askCode(false);
        else if (e.code === 'totp_setup_required') setUp();
        else {
          message.textContent = failureText(e);
          password.select();
        }
      } finally {
        submit.disabled = false;
      }
    });
    clear(element).append(form);
    requestAnimationFrame(() => username.focus());
  }

  askPassword();
  return { element };
}

module.exports = { loginView };

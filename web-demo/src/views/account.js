// My account (#/account) for counsellors, supervisors and admins: the second factor
// (GET /api/me/totp) — set it up (QR code, first code, recovery codes shown once), new
// recovery codes, or turn it off where the role does not require it; both with a
// current code of the app.
const { h, clear } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { errorText, formatDate } = require('../format');
const { codeField, enrolForm, recoveryCodes } = require('./second-factor');

// A form asking for a current code before it acts; act(code) returns a promise.
function codeAction({ titleKey, hintKey, submitKey, className, act }) {
  const { field, input } = codeField();
  const message = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: className || 'secondary' }, t(submitKey));
  const form = h('form', { class: 'code-action' }, h('h3', {}, t(titleKey)), h('p', { class: 'hint' }, t(hintKey)), field, message, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      await act(input.value.replace(/\s/g, ''));
    } catch (e) {
      message.textContent = errorText(e);
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function accountView({ me }) {
  const body = h('div', {}, h('p', { class: 'muted' }, t('app.loading')));
  const notice = h('p', { class: 'form-message', role: 'status' });
  const element = h(
    'div',
    { class: 'account' },
    h('h1', {}, t('account.title')),
    h('p', { class: 'muted' }, `${me.name} · ${t(`role.${me.role}`)}`),
    h('section', { class: 'card second-factor', 'aria-labelledby': 'second-factor' }, h('h2', { id: 'second-factor' }, t('account.totp_title')), notice, body),
  );

  function showCodes(codes) {
    clear(body).append(recoveryCodes(codes, () => {
      notice.textContent = '';
      load();
    }));
  }

  async function startSetup() {
    try {
      const setup = await api.myTotpSetup();
      clear(body).append(enrolForm(setup, async (code) => showCodes((await api.myTotpConfirm(code)).recovery_codes)));
    } catch (e) {
      clear(body).append(h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
    }
  }

  function render(state) {
    const parts = [];
    if (state.enabled) {
      parts.push(h('p', { class: 'totp-state is-on' }, t('account.totp_on', { date: formatDate(state.enabled_at) })));
      parts.push(h('p', {}, t('account.recovery_left', { count: state.recovery_codes_left })));
    } else {
      parts.push(h('p', { class: 'totp-state is-off' }, t('account.totp_off')));
    }
    parts.push(h('p', { class: 'hint' }, t(state.required ? 'account.totp_required' : 'account.totp_optional')));
    if (!state.enabled && !state.available) {
      parts.push(h('p', { class: 'form-error', role: 'alert' }, t('account.unavailable')));
    } else if (!state.enabled) {
      const setup = h('button', { type: 'button', class: 'primary totp-setup-start' }, t('account.totp_setup'));
      setup.addEventListener('click', startSetup);
      parts.push(setup);
    } else {
      parts.push(codeAction({
        titleKey: 'account.new_codes', hintKey: 'account.new_codes_hint', submitKey: 'account.new_codes',
        act: async (code) => showCodes((await api.myRecoveryCodes(code)).recovery_codes),
      }));
      if (!state.required) {
        parts.push(codeAction({
          titleKey: 'account.disable', hintKey: 'account.disable_hint', submitKey: 'account.disable', className: 'danger',
          act: async (code) => {
            await api.myTotpDisable(code);
            notice.textContent = t('account.disabled_done');
            load();
          },
        }));
      }
    }
    clear(body).append(...parts);
  }

  function load() {
    api.myTotp().then(render, (e) => clear(body).append(h('p', { class: 'form-error', role: 'alert' }, errorText(e))));
  }

  load();
  return { element };
}

module.exports = { accountView };

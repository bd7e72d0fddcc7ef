// The second factor's shared pieces, for the login page and the account page: setting
// one up (the otpauth:// URI as a QR code for an authenticator app, the secret to type in
// by hand, the first code to confirm), a field for a code, and the ten recovery codes,
// shown once with a way to print them.
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { errorText } = require('../format');
const { qrImage } = require('./qr');

// A 6-digit code field as authenticator apps and password managers expect it.
function codeField(labelKey) {
  const id = uniqueId('code');
  const input = h('input', {
    id, name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9 ]{6,7}',
    maxlength: 7, required: true, class: 'code-input', spellcheck: 'false',
  });
  const field = h('div', { class: 'field' }, h('label', { for: id, class: 'field-label' }, t(labelKey || 'totp.code')), input);
  return { field, input };
}

// setup: {secret, uri}; onCode(code) resolves when the code was taken, rejects with the
// server's error otherwise.
function enrolForm(setup, onCode) {
  const { field, input } = codeField();
  const message = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('totp.confirm'));
  const grouped = setup.secret.replace(/(.{4})/g, '$1 ').trim();
  const form = h(
    'form',
    { class: 'totp-setup' },
    h('p', {}, t('totp.setup_intro')),
    h(
      'div',
      { class: 'totp-enrol' },
      qrImage(setup.uri, t('totp.qr_label')),
      h('div', { class: 'totp-secret' }, h('p', { class: 'hint' }, t('totp.secret_label')), h('code', { class: 'secret', dir: 'ltr' }, grouped)),
    ),
    field,
    message,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    try {
      await onCode(input.value.replace(/\s/g, ''));
    } catch (e) {
      message.textContent = errorText(e);
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  requestAnimationFrame(() => input.focus());
  return form;
}

// The recovery codes, shown once; onDone when the person says they are kept.
function recoveryCodes(codes, onDone) {
  const done = h('button', { type: 'button', class: 'primary' }, t('totp.codes_saved'));
  const print = h('button', { type: 'button', class: 'secondary' }, t('totp.codes_print'));
  print.addEventListener('click', () => window.print());
  done.addEventListener('click', onDone);
  const element = h(
    'section',
    { class: 'recovery-codes', 'aria-labelledby': 'recovery-title' },
    h('h2', { id: 'recovery-title' }, t('totp.codes_title')),
    h('p', {}, t('totp.codes_intro')),
    h('ol', { class: 'code-list', dir: 'ltr' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'button-row' }, print, done),
  );
  requestAnimationFrame(() => done.focus());
  return element;
}

module.exports = { codeField, enrolForm, recoveryCodes };

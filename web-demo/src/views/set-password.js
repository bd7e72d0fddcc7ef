// Setting one's password through the one-time link an admin handed on (#/password/<token>;
// the token stays in the fragment, which browsers never send): whose account it is
// (POST /api/password/info), the new password twice, then POST /api/password, which
// ends every earlier login of the account. No login needed.
const { h, uniqueId, clear } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { errorText } = require('../format');
const { go } = require('../router');

function setPasswordView({ token }) {
  const element = h('div', { class: 'card narrow set-password' }, h('h1', {}, t('password.title')), h('p', { class: 'muted' }, t('app.loading')));

  function done() {
    const next = h('button', { type: 'button', class: 'primary' }, t('password.to_login'));
    next.addEventListener('click', () => go('/login'));
    clear(element).append(h('h1', {}, t('password.title')), h('p', { role: 'status' }, t('password.done')), next);
    requestAnimationFrame(() => next.focus());
  }

  function form(info) {
    const ids = { pw: uniqueId('pw'), again: uniqueId('again') };
    const pw = h('input', { id: ids.pw, type: 'password', autocomplete: 'new-password', required: true });
    const again = h('input', { id: ids.again, type: 'password', autocomplete: 'new-password', required: true });
    const message = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('password.submit'));
    const f = h(
      'form',
      {},
      h('h1', {}, t('password.title')),
      h('p', {}, t('password.intro', { username: info.username, name: info.name })),
      // The account's name for password managers, which file the new password under it.
      h('input', { type: 'text', name: 'username', autocomplete: 'username', value: info.username, hidden: true, readonly: true }),
      h('div', { class: 'field' }, h('label', { for: ids.pw, class: 'field-label' }, t('password.new')), pw),
      h('div', { class: 'field' }, h('label', { for: ids.again, class: 'field-label' }, t('password.repeat')), again),
      message,
      submit,
    );
    f.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.textContent = '';
      if (pw.value !== again.value) {
        message.textContent = t('password.mismatch');
        again.select();
        return;
      }
      submit.disabled = true;
      try {
        await api.setPassword(token, pw.value);
        done();
      } catch (e) {
        message.textContent = errorText(e);
      } finally {
        submit.disabled = false;
      }
    });
    clear(element).append(f);
    requestAnimationFrame(() => pw.focus());
  }

  api.passwordInfo(token).then(form, (e) => clear(element).append(h('h1', {}, t('password.title')), h('p', { class: 'form-error', role: 'alert' }, errorText(e))));
  return { element };
}

module.exports = { setPasswordView };

// The frame around every view: a skip link, the name of the service, the language switch
// and, when someone is logged in, who it is (a link to its account), for admins the
// accounts, and a way to log out.
const { h, clear, uniqueId } = require('../dom');
const { t, languages, language } = require('../i18n');

function roleText(me) {
  if (!me) return '';
  const role = t(`role.${me.role}`);
  return me.specialty ? `${role} · ${t(`specialty.${me.specialty}`)}` : role;
}

function renderShell({ me, onLanguage, onLogout }) {
  const langId = uniqueId('lang');
  const select = h(
    'select',
    { id: langId, class: 'lang-select' },
    languages().map(({ code, name }) => h('option', { value: code, selected: code === language(), lang: code }, name)),
  );
  select.addEventListener('change', () => onLanguage(select.value));
  const user =
    me && me.role !== 'client'
      ? h(
          'div',
          { class: 'user' },
          h('a', { class: 'user-name', href: '#/account', title: t('shell.account') }, me.name || me.id),
          h('span', { class: 'user-role' }, roleText(me)),
          me.role === 'admin' ? h('a', { class: 'accounts-link', href: '#/accounts' }, t('shell.accounts')) : null,
          h('button', { type: 'button', class: 'link-button', onclick: onLogout }, t('login.logout')),
        )
      : me && me.role === 'client'
        ? h('div', { class: 'user' }, h('a', { href: '#/copy', class: 'my-copy-link' }, t('copy.mine')))
        : null;
  const main = h('main', { id: 'main', tabindex: '-1' });
  const frame = h(
    'div',
    { class: 'frame' },
    h('a', { class: 'skip-link', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); } }, t('app.skip')),
    h(
      'header',
      { class: 'topbar' },
      h('a', { class: 'brand', href: '#/' }, t('app.name')),
      h('div', { class: 'topbar-end' }, user, h('label', { for: langId, class: 'visually-hidden' }, t('app.language')), select),
    ),
    main,
  );
  return { frame, setContent: (...content) => clear(main).append(...content) };
}

module.exports = { renderShell, roleText };

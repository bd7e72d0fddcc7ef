// Konsil web demo: finds out who is using the page, then shows the view the address asks
// for — login, dashboard (cases, tasks), a case, one of its sessions, the case's room, its
// replay, the client's join page, my account (second factor), the accounts (admins), or
// a set-password link — inside the common frame. A change of language relabels the
// current view.
// A service worker (sw.js) keeps the page itself, so it opens without network too.
const { chooseLanguage, setLanguage, chooseLanguageExplicitly, t, tn } = require('./i18n');
const { h } = require('./dom');
const { api } = require('./api');
const { resolvePrincipal, forgetPrincipal } = require('./principal');
const { wipeAccount, sweep } = require('./live/keeper');
const { forgetLinks } = require('./views/link-memory');
const { errorText } = require('./format');
const { currentRoute, go, openRoomPage } = require('./router');
const { renderShell } = require('./views/shell');
const { loginView } = require('./views/login');
const { dashboardView } = require('./views/dashboard');
const { caseView } = require('./views/case');
const { sessionAdminView } = require('./views/session-admin');
const { roomView } = require('./views/room');
const { joinView } = require('./views/join');
const { replayView } = require('./views/replay');
const { officerView } = require('./views/officer');
const { copyView, printView } = require('./views/copy');
const { accountView } = require('./views/account');
const { accountsView } = require('./views/accounts');
const { setPasswordView } = require('./views/set-password');

const app = { me: null, view: null, shell: null };

function viewFor(route) {
  const { me } = app;
  const client = me && me.role === 'client';
  // A client's own copy: also once its session ended, while its link session lasts.
  if (client && route.name === 'copy' && me.status !== 'waiting') return copyView({ me });
  if (route.name === 'password') return setPasswordView({ token: route.token });
  if (route.name === 'join' || (client && me.status !== 'admitted')) {
    return joinView({ token: route.token, waiting: client && me.status === 'waiting', ended: route.name !== 'join' && client && me.status === 'ended', onJoined: enterRoom });
  }
  if (!me) return loginView({ onLoggedIn: refreshPrincipal });
  if (client) return roomView({ caseId: me.case_id, me, reopen: show });
  if (route.name === 'copy' && route.caseId && route.clientId) return copyView({ me, caseId: route.caseId, clientId: route.clientId });
  if (route.name === 'print') return printView({ caseId: route.caseId });
  // Admins work on no case: their start page is the data-protection overview.
  if (me.role === 'admin' && (route.name === 'officer' || route.name === 'home')) return officerView({ me });
  if (route.name === 'account') return accountView({ me });
  if (route.name === 'accounts' && me.role === 'admin') return accountsView({ me });
  if (route.name === 'replay') return replayView({ caseId: route.caseId, me });
  if (route.name === 'room') return roomView({ caseId: route.caseId, me, reopen: show });
  if (route.name === 'case') return caseView({ caseId: route.caseId, me });
  if (route.name === 'session' && me.role === 'counsellor') return sessionAdminView({ sessionId: route.sessionId, me });
  return dashboardView({ me });
}

function renderFrame() {
  app.shell = renderShell({ me: app.me, onLanguage: changeLanguage, onLogout: logout });
  document.body.replaceChildren(app.shell.frame);
}

function show() {
  if (app.view && app.view.destroy) app.view.destroy();
  app.view = viewFor(currentRoute());
  renderFrame();
  app.shell.setContent(app.view.element);
}

function changeLanguage(code) {
  chooseLanguageExplicitly(code);
  if (app.view && app.view.relabel) {
    renderFrame();
    app.shell.setContent(app.view.element);
    app.view.relabel();
  } else {
    show();
  }
  document.querySelector('.lang-select').focus();
}

// After the client's join: the client cookie now names the client and its case.
async function enterRoom() {
  app.me = await resolvePrincipal();
  openRoomPage(app.me.case_id);
}

async function refreshPrincipal() {
  app.me = await resolvePrincipal();
  if (location.hash === '#/' || location.hash === '') show();
  else go('/');
}

// Logging out deletes what this browser kept for the account (after asking, when edits
// have not reached the hub yet).
async function logout() {
  const unsent = app.view && app.view.unsent ? app.view.unsent() : 0;
  if (unsent > 0 && !window.confirm(tn('logout.unsent_confirm', unsent))) return;
  const me = app.me;
  try {
    await api.logout();
  } finally {
    if (app.view && app.view.destroy) app.view.destroy();
    app.view = null;
    if (me) await wipeAccount(me.id);
    forgetLinks();
    forgetPrincipal();
    app.me = null;
    if (location.hash === '#/login') show();
    else go('/login');
  }
}

async function start() {
  setLanguage(chooseLanguage());
  sweep();
  try {
    app.me = await resolvePrincipal();
  } catch (e) {
    document.body.replaceChildren(h('main', { class: 'frame' }, h('p', { role: 'alert' }, e.status === 0 ? t('error.offline_start') : errorText(e))));
    return;
  }
  window.addEventListener('hashchange', show);
  show();
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
    // Not over https (or refused): the page then needs the network to open.
  });
}

document.addEventListener('DOMContentLoaded', () => {
  registerServiceWorker();
  start();
});

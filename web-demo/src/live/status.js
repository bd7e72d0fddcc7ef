// The connection indicator: connecting, connected, reconnecting or offline, and how many
// of the user's edits the hub has not yet confirmed (the op in flight plus those
// waiting). Edits made while offline stay in the sharedb document and are sent on
// reconnect.
const { h } = require('../dom');
const { t } = require('../i18n');

// Failed attempts in a row after which "reconnecting" becomes "offline".
const OFFLINE_AFTER_RETRIES = 3;

function pendingEdits(doc) {
  return (doc.inflightOp ? 1 : 0) + doc.pendingOps.length;
}

function connectionState(live) {
  if (live.connection.state === 'connected') return 'connected';
  if (live.connection.state === 'connecting' && live.socket.retryCount === 0) return 'connecting';
  if (!navigator.onLine || live.connection.state === 'closed' || live.connection.state === 'stopped') return 'offline';
  return live.socket.retryCount >= OFFLINE_AFTER_RETRIES ? 'offline' : 'reconnecting';
}

function createStatusIndicator(live, doc) {
  const stateText = h('span', { class: 'status-state', role: 'status', 'aria-live': 'polite' });
  const pendingText = h('span', { class: 'status-pending' });
  const element = h('div', { class: 'status', 'data-state': 'connecting' }, h('span', { class: 'status-dot', 'aria-hidden': 'true' }), stateText, pendingText);

  function update() {
    const state = connectionState(live);
    const pending = pendingEdits(doc);
    element.dataset.state = state;
    element.dataset.pending = String(pending);
    const label = t(`status.${state}`);
    if (stateText.textContent !== label) stateText.textContent = label;
    pendingText.textContent = pending === 0 ? (state === 'connected' ? t('status.saved') : '') : t(pending === 1 ? 'status.pending.one' : 'status.pending.other', { count: pending });
  }
  const later = () => setTimeout(update, 0);
  live.connection.on('state', update);
  live.connection.on('receive', later);
  doc.on('op', later);
  doc.on('nothing pending', update);
  window.addEventListener('online', update);
  window.addEventListener('offline', update);
  const timer = setInterval(update, 1000);
  update();
  return {
    element,
    stop() {
      clearInterval(timer);
      live.connection.removeListener('state', update);
      live.connection.removeListener('receive', later);
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    },
  };
}

module.exports = { createStatusIndicator };

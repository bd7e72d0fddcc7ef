// The connection indicator, which must never claim more than is true: "connected" only
// while the heartbeat (heartbeat.js) hears the hub; otherwise offline (or connecting, at
// first). With it, how many of the person's edits the hub has not confirmed yet (the op
// in flight plus those waiting), and where they are kept meanwhile (keeper.js): on this
// device, in this tab, or only on this page.
const { h } = require('../dom');
const { t, tn } = require('../i18n');

function createStatusIndicator({ live, heartbeat, keeper }) {
  // Screen readers hear the state and where edits are kept, not every count.
  const stateText = h('span', { class: 'status-state', role: 'status', 'aria-live': 'polite' });
  const pendingText = h('span', { class: 'status-pending' });
  const keptText = h('span', { class: 'status-kept', role: 'status', 'aria-live': 'polite' });
  const element = h(
    'div',
    { class: 'status', 'data-state': 'connecting' },
    h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
    stateText,
    pendingText,
    keptText,
  );
  let everConnected = false;

  function state() {
    if (heartbeat.alive()) {
      everConnected = true;
      return 'connected';
    }
    return everConnected || live.socket.retryCount > 0 || !navigator.onLine ? 'offline' : 'connecting';
  }

  function update() {
    const now = state();
    const pending = keeper ? keeper.unsent() : 0;
    element.dataset.state = now;
    element.dataset.pending = String(pending);
    const set = (node, text) => {
      if (node.textContent !== text) node.textContent = text;
    };
    set(stateText, t(`status.${now}`));
    if (pending === 0) set(pendingText, now === 'connected' ? t('status.saved') : now === 'offline' ? t('status.nothing_pending') : '');
    else set(pendingText, tn(now === 'connected' ? 'status.sending' : 'status.pending', pending));
    const kept = pending > 0 && now !== 'connected' && keeper ? t(`status.kept.${keeper.durability()}`) : '';
    set(keptText, kept);
  }
  const later = () => setTimeout(update, 0);
  live.connection.on('state', update);
  live.connection.on('receive', later);
  window.addEventListener('online', update);
  window.addEventListener('offline', update);
  const timer = setInterval(update, 1000);
  update();
  return {
    element,
    // After a message from the hub, once sharedb has handled it.
    update: later,
    // After a change the keeper already knows of (a local edit, a write): at once, so
    // nothing reads "saved" while an edit waits.
    updateNow: update,
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

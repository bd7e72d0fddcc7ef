// The lobby notice of the room, for the team's counsellors: who waits to be let in, each
// with "admit" and "decline", at the top of the room wherever the page is scrolled, and
// said to screen readers as it appears. The hub tells the page at once when the number
// waiting changes (the meeting channel, live/meeting.js); only then does the page ask
// who it is (GET /api/sessions/{id}/lobby, which names them as this reader may read
// them). Hidden while nobody waits.
const { h } = require('../dom');
const { t, tn } = require('../i18n');
const { api } = require('../api');
const { personName } = require('../format');

function lobbyNotice(onError) {
  const list = h('ul', { class: 'lobby-list' });
  const heading = h('h2', { id: 'lobby-title' }, t('lobby.title'));
  const summary = h('p', { class: 'lobby-summary' });
  const element = h('section', { class: 'lobby', hidden: true, 'aria-labelledby': 'lobby-title', 'aria-live': 'polite' }, heading, summary, list);
  let session = null;
  let waiting = 0;
  let shown = '';
  let asking = 0;

  const decide = async (action, client, buttons) => {
    buttons.forEach((b) => {
      b.disabled = true;
    });
    try {
      await (action === 'admit' ? api.admit(session, client.id) : api.decline(session, client.id));
    } catch (e) {
      onError(e);
    }
    refresh();
  };

  function render(people) {
    const key = JSON.stringify(people.map((c) => [c.id, c.name]));
    element.hidden = people.length === 0;
    if (key === shown) return;
    shown = key;
    summary.textContent = people.length ? tn('lobby.waiting', people.length) : '';
    list.replaceChildren(
      ...people.map((client) => {
        const name = personName(client.name) || t('role.client');
        const admit = h('button', { type: 'button', class: 'primary' }, t('lobby.admit'), h('span', { class: 'visually-hidden' }, `: ${name}`));
        const decline = h('button', { type: 'button', class: 'danger' }, t('lobby.decline'), h('span', { class: 'visually-hidden' }, `: ${name}`));
        admit.addEventListener('click', () => decide('admit', client, [admit, decline]));
        decline.addEventListener('click', () => decide('decline', client, [admit, decline]));
        return h('li', { class: 'lobby-client', dataset: { clientId: client.id } }, h('span', { class: 'person-name' }, name), h('span', { class: 'lobby-actions' }, admit, decline));
      }),
    );
  }

  // Asks who waits (the answer of the latest question wins).
  async function refresh() {
    const mine = ++asking;
    if (!session || !waiting) return render([]);
    try {
      const reply = await api.lobby(session);
      if (mine === asking) render((reply && reply.waiting) || []);
    } catch (e) {
      if (mine === asking) render([]);
    }
  }

  return {
    element,
    // The meeting as the hub says it is: its session and how many wait. Every value the
    // hub sends follows a change (two changes may leave the count as it was: someone let
    // in, someone else come), so every one is a reason to ask.
    update(state) {
      session = state.session;
      waiting = state.waiting;
      refresh();
    },
    relabel() {
      heading.textContent = t('lobby.title');
      shown = '';
      refresh();
    },
  };
}

module.exports = { lobbyNotice };

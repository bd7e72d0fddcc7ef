// The session's lobby, for its counsellors: clients who opened a lobby link wait here
// (GET /api/sessions/{id}/lobby, asked every few seconds) until someone admits or
// declines them. Hidden while nobody waits.
const { h } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');

const POLL_MS = 3000;

function lobbyPanel(sessionId, onError) {
  const list = h('ul', { class: 'lobby-list' });
  const heading = h('h2', { id: 'lobby-title' }, t('lobby.title'));
  const element = h('section', { class: 'lobby card-flat', hidden: true, 'aria-labelledby': 'lobby-title', 'aria-live': 'polite' }, heading, list);
  let timer = null;
  let shown = '';
  let stopped = false;

  const decide = async (action, client) => {
    try {
      await (action === 'admit' ? api.admit(sessionId, client.id) : api.decline(sessionId, client.id));
    } catch (e) {
      onError(e);
    }
    refresh();
  };

  function render(waiting) {
    const key = JSON.stringify(waiting.map((c) => c.id));
    if (key === shown) return;
    shown = key;
    element.hidden = waiting.length === 0;
    list.replaceChildren(
      ...waiting.map((client) =>
        h(
          'li',
          { class: 'lobby-client' },
          h('span', { class: 'person-name' }, client.name || t('role.client')),
          h(
            'span',
            { class: 'lobby-actions' },
            h('button', { type: 'button', class: 'primary', onclick: () => decide('admit', client) }, t('lobby.admit'), h('span', { class: 'visually-hidden' }, `: ${client.name}`)),
            h('button', { type: 'button', class: 'danger', onclick: () => decide('decline', client) }, t('lobby.decline'), h('span', { class: 'visually-hidden' }, `: ${client.name}`)),
          ),
        ),
      ),
    );
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const reply = await api.lobby(sessionId);
      render((reply && reply.waiting) || []);
    } catch (e) {
      render([]);
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  }
  refresh();

  return {
    element,
    relabel() {
      heading.textContent = t('lobby.title');
      shown = '';
      refresh();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

module.exports = { lobbyPanel };

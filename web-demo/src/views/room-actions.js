// What the team's counsellors can do about the meeting and the case from the room, each
// offered only to who may do it: the running session's links and lobby (its page), ending
// the meeting (any counsellor of the team), closing the case (its lead). Ending and
// closing ask first, saying what happens to whom (confirm-dialog.js).
const { h } = require('../dom');
const { t, tn } = require('../i18n');
const { api } = require('../api');
const { confirmDialog } = require('./confirm-dialog');
const { endSessionAsked, clientsIn } = require('./session-admin');

async function closeCaseAsked(caseId, running) {
  const clients = running ? await clientsIn(running) : [];
  const { ok } = await confirmDialog({
    title: t('case.close_title'),
    lines: [
      running ? (clients.length ? tn('case.close_clients', clients.length) : t('case.close_meeting')) : null,
      clients,
      t('case.close_team'),
      t('case.close_unsent'),
      t('case.close_final'),
    ],
    confirm: t('case.close'),
  });
  if (!ok) return false;
  await api.closeCase(caseId);
  return true;
}

// onDone(text): the action went through; onError(err): the hub refused.
function roomActions({ me, caseId, onDone, onError }) {
  const element = h('div', { class: 'room-actions button-row' });
  let context = null;

  const run = (button, action, text) => async () => {
    button.disabled = true;
    try {
      if (await action()) onDone(text);
    } catch (e) {
      onError(e);
    }
    button.disabled = false;
  };

  function render() {
    const items = [];
    if (context && me.role === 'counsellor' && !context.closed) {
      if (context.running) {
        items.push(h('a', { class: 'button secondary session-page', href: `#/sessions/${encodeURIComponent(context.running)}` }, t('room.session_links')));
        const end = h('button', { type: 'button', class: 'secondary end-meeting' }, t('case.end_session'));
        end.addEventListener('click', run(end, async () => endSessionAsked(context.running, await clientsIn(context.running)), t('case.session_ended')));
        items.push(end);
      }
      if (context.lead) {
        const close = h('button', { type: 'button', class: 'danger close-case' }, t('case.close'));
        close.addEventListener('click', run(close, () => closeCaseAsked(caseId, context.running), t('case.closed')));
        items.push(close);
      }
    }
    element.replaceChildren(...items);
    element.hidden = items.length === 0;
  }

  return {
    element,
    // context: {lead, running, closed} as the room knows them.
    update(next) {
      context = next;
      render();
    },
    relabel: render,
  };
}

module.exports = { roomActions, closeCaseAsked };

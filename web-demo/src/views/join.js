// The client's way in: the link /j/<token> asks for a name to be shown (a pseudonym is
// fine) and posts {token, display_name} to /api/join. In the room at once (200), or,
// with a lobby link (202, status "waiting"), a waiting page that asks GET
// /api/join/status every few seconds until a counsellor lets the client in ("admitted")
// or declines (the client cookie then stops working: 401). A client whose session has
// ended is told so ("ended": the cookie reaches nothing more).
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { errorText } = require('../format');
const { keepsOnDevice, setKeepOnDevice } = require('../live/seal');

const POLL_MS = 2500;

// Why the link does not let this device in, in the page's language: used up (a
// single-use link a device has used already), expired, revoked, or no link at all.
function refusal(e) {
  if (e.code === 'session_closed') return t('join.session_closed');
  if (['link_used_up', 'link_expired', 'link_revoked'].includes(e.code)) return errorText(e);
  if (e.status === 404 || e.status === 410) return t('join.invalid');
  return errorText(e);
}

function joinView({ token, waiting, ended, onJoined }) {
  const element = h('div', { class: 'join-page' });
  let timer = null;

  const closed = (text) =>
    element.replaceChildren(h('section', { class: 'card narrow' }, h('h1', {}, t('join.closed_title')), h('p', { role: 'alert' }, text)));

  function poll() {
    timer = setTimeout(async () => {
      try {
        const state = await api.joinStatus();
        if (state.status === 'admitted') await onJoined(state);
        else if (state.status === 'ended') closed(t('join.session_ended'));
        else poll();
      } catch (e) {
        if (e.status === 0) return poll();   // no network for a moment: ask again
        closed(e.status === 401 ? t('join.declined') : errorText(e));
      }
    }, POLL_MS);
  }

  function showWaiting() {
    const title = h('h1', { id: 'waiting-title', tabindex: '-1' }, t('join.waiting_title'));
    element.replaceChildren(
      h(
        'section',
        { class: 'card narrow waiting', 'aria-labelledby': 'waiting-title' },
        h('div', { class: 'spinner', 'aria-hidden': 'true' }),
        title,
        h('p', { role: 'status' }, t('join.waiting')),
        h('p', { class: 'muted' }, t('join.waiting_hint')),
      ),
    );
    title.focus();
    poll();
  }

  const nameId = uniqueId('name');
  const name = h('input', { id: nameId, autocomplete: 'nickname', maxlength: 127, 'aria-describedby': `${nameId}-hint` });
  const keepId = uniqueId('keep');
  const keep = h('input', { id: keepId, type: 'checkbox', checked: keepsOnDevice(), 'aria-describedby': `${keepId}-hint` });
  const message = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary big' }, t('join.submit'));
  const form = h(
    'form',
    { class: 'card narrow join' },
    h('h1', {}, t('join.title')),
    h('p', { class: 'lead-text' }, t('join.intro')),
    h('div', { class: 'field' }, h('label', { for: nameId, class: 'field-label' }, t('join.name')), h('p', { class: 'hint', id: `${nameId}-hint` }, t('join.name_hint')), name),
    h(
      'div',
      { class: 'field' },
      h('div', { class: 'field-check' }, keep, h('label', { for: keepId, class: 'field-label' }, t('join.keep'))),
      h('p', { class: 'hint', id: `${keepId}-hint` }, t('join.keep_hint')),
    ),
    message,
    submit,
    h('p', { class: 'muted small' }, t('join.privacy')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    setKeepOnDevice(keep.checked);
    try {
      const reply = await api.join(token, name.value.trim());
      if (reply.status === 202) showWaiting();
      else await onJoined(reply.data);
    } catch (e) {
      message.textContent = refusal(e);
    } finally {
      submit.disabled = false;
    }
  });

  if (ended) {
    closed(t('join.session_ended'));
  } else if (waiting) {
    requestAnimationFrame(showWaiting);
  } else {
    element.append(form);
    requestAnimationFrame(() => name.focus());
  }
  return { element, destroy: () => clearTimeout(timer) };
}

module.exports = { joinView };

// The room: a case's sheet (ShareDB document "cases"/<case id>) as a live form, who is in
// the room and where, the chat, and the truth about the connection. Counsellors get the
// whole sheet they may read with a section menu, and, told at once by the hub's meeting
// channel (live/meeting.js), who waits in the running session's lobby, and when the
// meeting starts or ends; they end the meeting, and the lead closes the case, from here
// (room-actions.js, asked first). The client gets its own sections in one plain column.
// When the hub closes the connection because the case is no longer this person's (4001:
// removed from the team or the meeting, the session ended) the page says which and
// stops; when its rights changed (4002: the lead handed over, the case closed) the room
// opens anew with the new rights. A client's page that missed the 4001 (offline, or
// reloaded) learns the same from its login once the hub refuses its socket. A closed case
// is read-only on the page as on the hub.
//
// What is typed is kept on the device until the hub has it (live/keeper.js): the room
// opens from the kept copy at once, with or without network, and the edits waiting in it
// are sent when the hub answers. Leaving the page with edits not yet sent asks first;
// edits the hub refuses are listed, never dropped silently (room-refused.js).
const defaultTemplate = require('../../../protocol/templates/default.json');
const { h, clear } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { leads } = require('../principal');
const { openConnection } = require('../live/connection');
const { createStatusIndicator } = require('../live/status');
const { startHeartbeat } = require('../live/heartbeat');
const { joinPresence } = require('../live/presence');
const { createPeople } = require('../live/people');
const { openKeeper } = require('../live/keeper');
const { createAccess } = require('../sheet/access');
const { createSheetForm } = require('../sheet/form');
const { valueAt } = require('../sheet/paths');
const { errorText, formatTime } = require('../format');
const { createNames } = require('../sheet/names');
const { renderPeople, markFields } = require('./room-people');
const { lobbyNotice } = require('./room-lobby');
const { refusedPanel } = require('./room-refused');
const { roomActions } = require('./room-actions');
const { removeClientAsked } = require('./session-admin');
const { confirmDialog } = require('./confirm-dialog');
const { followMeeting } = require('../live/meeting');

const SIDE_SECTIONS = ['chat'];
const UNDO_MS = 8000;
// How long a client's page waits before asking its login again after a refused socket.
const CHECK_MS = 10000;
const COLLECTION = 'cases';

const rejectionText = (err) => errorText(err);

function openingErrorText(err) {
  if (err.code === 'ERR_FORBIDDEN') return t('room.forbidden');
  return errorText(err);
}

// What the page needs to know of the case beside its sheet: whether the person leads it,
// the case's rules (its template version's: from the case, or for a client from its
// session; the default template's when neither answers — the hub's refusal is the last
// word) and its declarations (stamped fields, the consent list), the case's people as
// the hub names them to this person, who reads each part (readers), who tasks may go to,
// the title, the running session (its lobby) and whether the case is read-only. Null
// when the hub cannot be asked (offline): the page then uses what it kept with the sheet
// (keeper.meta()).
async function caseContext(caseId, me) {
  let kase = null;
  try {
    kase = me.role === 'client' ? await api.session(me.session_id) : await api.case(caseId);
  } catch (e) {
    if (e.status === 0) return null;
    kase = null;
  }
  const team = (kase && (kase.team || kase.participants)) || [];
  return {
    lead: me.role !== 'client' && leads(kase, me),
    owners: team.filter((m) => m.role === 'counsellor').map((m) => ({ id: m.id, name: m.name })),
    rules: (kase && kase.rules) || null,
    template: (kase && kase.template) || null,
    people: (kase && kase.people) || [],
    readers: (kase && kase.readers) || [],
    title: kase && kase.title,
    running: me.role === 'client' ? null : kase && kase.running_session,
    closed: Boolean(kase && (kase.status === 'closed' || kase.case_status === 'closed')),
  };
}

function roomView({ caseId, me, reopen }) {
  const audience = me.role === 'client' ? 'client' : 'team';
  const live = openConnection();
  const doc = live.caseDoc(caseId);
  // Ops of one field (or one list action) are composed while waiting, never ops of
  // different ones: a refused op then takes back nothing but itself.
  doc.submitSource = true;
  let keeper = null;
  let form = null;
  let context = { lead: false, title: null, owners: [], rules: null, template: null, people: [], readers: [], running: null, closed: false };
  let meeting = null;
  let toastTimer = null;
  let undoTimer = null;
  let destroyed = false;

  const edits = {
    unsent: () => (keeper ? keeper.unsent() : (doc.inflightOp ? 1 : 0) + doc.pendingOps.length),
    durability: () => (keeper ? keeper.durability() : 'memory'),
  };
  const heartbeat = startHeartbeat(live, () => {
    status.update();
    refreshPeople();
  });
  const status = createStatusIndicator({ live, heartbeat, keeper: edits });
  const presence = joinPresence(live.connection, caseId);
  const people = createPeople(me, presence.since);
  const refused = refusedPanel(audience);
  const toast = h('div', { class: 'toast', role: 'alert' });
  const undoText = h('span', {});
  const undoButton = h('button', { type: 'button', class: 'link-button' }, t('list.undo'));
  const undoBar = h('div', { class: 'undo-bar', role: 'status', hidden: true }, undoText, undoButton);
  const chatNotice = h('button', { type: 'button', class: 'chat-notice', hidden: true });
  const chatNoticeLive = h('span', { class: 'visually-hidden', 'aria-live': 'polite' });
  const banner = h('p', { class: 'room-banner', role: 'status', hidden: true });
  const note = h('p', { class: 'room-note', role: 'status', hidden: true });
  const heading = h('h1', {}, audience === 'client' ? t('room.client_title') : t('room.title'));
  const body = h('div', { class: 'room-body' }, h('p', { class: 'muted' }, t('app.loading')));
  const lobby = me.role === 'counsellor' ? lobbyNotice((err) => showToast(errorText(err))) : null;
  const actions = audience === 'team' ? roomActions({ me, caseId, onDone: (text) => showNote(text), onError: (err) => showToast(errorText(err)) }) : null;
  const element = h(
    'div',
    { class: ['room', `room-${audience}`] },
    h('div', { class: 'room-bar' }, heading, actions ? actions.element : null, status.element, lobby ? lobby.element : null),
    banner,
    note,
    refused.element,
    toast,
    body,
    undoBar,
    chatNotice,
    chatNoticeLive,
  );

  const showNote = (text) => {
    note.textContent = text;
    note.hidden = !text;
  };

  const showToast = (text) => {
    toast.textContent = text;
    toast.classList.add('is-visible');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => toast.classList.remove('is-visible'), 6000);
  };

  function showUndo({ label, undo }) {
    undoText.textContent = t('list.removed', { what: label });
    undoBar.hidden = false;
    undoButton.onclick = () => {
      undoBar.hidden = true;
      clearTimeout(undoTimer);
      undo();
    };
    clearTimeout(undoTimer);
    undoTimer = setTimeout(() => {
      undoBar.hidden = true;
    }, UNDO_MS);
  }

  // What a counsellor may do about someone in the room: take a client out of the running
  // meeting (any counsellor of the team), a member out of the team (the lead).
  function actionsFor(person, name) {
    const who = person.identity || {};
    if (me.role !== 'counsellor' || context.closed || !who.id) return null;
    let button = null;
    if (who.role === 'client' && context.running) {
      button = h('button', { type: 'button', class: 'link-button remove-client' }, t('people.remove_client'), h('span', { class: 'visually-hidden' }, `: ${name}`));
      button.addEventListener('click', () => act(() => removeClientAsked(context.running, { id: who.id, name: who.name }), t('people.client_removed', { name })));
    } else if (context.lead && who.role !== 'client' && who.id !== me.id) {
      button = h('button', { type: 'button', class: 'link-button remove-member' }, t('team.remove'), h('span', { class: 'visually-hidden' }, `: ${name}`));
      button.addEventListener('click', () =>
        act(async () => {
          const { ok } = await confirmDialog({ title: t('team.remove'), lines: [t('team.remove_question', { name })], confirm: t('team.remove_confirm') });
          if (ok) await api.removeMember(caseId, who.id);
          return ok;
        }, t('team.removed', { name })),
      );
    }
    return button ? h('span', { class: 'person-actions' }, button) : null;
  }

  async function act(action, text) {
    try {
      if (await action()) showNote(text);
    } catch (e) {
      showToast(errorText(e));
    }
  }

  const peopleHolder = h('div', { class: 'people-holder' });
  let peopleFrame = 0;
  const refreshPeople = () => {
    if (!form || peopleFrame) return;
    peopleFrame = requestAnimationFrame(() => {
      peopleFrame = 0;
      if (!form || destroyed) return;
      const now = people.compute(presence.others(), heartbeat.alive());
      // Put in anew only when it changed, so that a focused button keeps its focus.
      const fresh = renderPeople({ me, people: now, audience, shows: form.shows, actionsFor });
      if (!peopleHolder.firstChild || peopleHolder.firstChild.outerHTML !== fresh.outerHTML) clear(peopleHolder).append(fresh);
      markFields(element, form, now);
    });
  };
  presence.onChange(refreshPeople);

  function sectionNav(sections) {
    return h(
      'nav',
      { class: 'section-nav', 'aria-label': t('room.sections') },
      h(
        'ul',
        {},
        sections.map((s) =>
          h('li', {}, h('button', { type: 'button', class: 'nav-button', onclick: () => jumpTo(s.anchor) }, s.label)),
        ),
      ),
    );
  }

  // Sections keep their id when rendered anew, so the menu finds the current one.
  function jumpTo(anchor) {
    const section = document.getElementById(anchor);
    if (!section) return;
    section.scrollIntoView({ block: 'start' });
    section.querySelector('h2').focus({ preventScroll: true });
  }

  function showTitle() {
    const title = valueAt(doc.data, ['meta', 'title']) || context.title;
    heading.textContent = audience === 'client' ? t('room.client_title') : title || t('room.title');
  }

  function layout() {
    const sections = form.sections();
    showTitle();
    const main = sections.filter((s) => !SIDE_SECTIONS.includes(s.path[0]));
    const side = sections.filter((s) => SIDE_SECTIONS.includes(s.path[0]));
    if (audience === 'client') {
      clear(body).append(h('p', { class: 'lead-text' }, t('room.client_intro')), peopleHolder, ...main.map((s) => s.element), ...side.map((s) => s.element));
    } else {
      clear(body).append(
        h(
          'div',
          { class: 'room-grid' },
          sectionNav(main),
          h('div', { class: 'room-main' }, main.map((s) => s.element)),
          h('aside', { class: 'room-side' }, peopleHolder, side.map((s) => s.element)),
        ),
      );
    }
    refreshPeople();
  }

  function build() {
    const principal = { ...me, lead: context.lead };
    const rules = createAccess(context.rules || defaultTemplate.rules, principal);
    // A closed case is read-only for everyone (the hub refuses every op on it).
    const access = context.closed ? { ...rules, canWrite: () => false } : rules;
    form = createSheetForm({
      doc,
      access,
      audience,
      me: principal,
      owners: context.owners,
      template: context.template,
      people: context.people,
      readers: context.readers,
      onRejected: (err) => showToast(rejectionText(err)),
      onRemoved: showUndo,
    });
    form.onRendered(({ structure }) => (structure ? layout() : refreshPeople()));
    layout();
  }

  // The caret and selection in the focused text field go out as presence.
  let placeFrame = 0;
  function sendPlace() {
    if (placeFrame) return;
    placeFrame = requestAnimationFrame(() => {
      placeFrame = 0;
      const active = document.activeElement;
      const field = active && element.contains(active) && active.closest('[data-path]');
      if (!field) return presence.set({ path: null });
      const place = { path: JSON.parse(field.dataset.path) };
      if (typeof active.selectionStart === 'number' && typeof active.value === 'string' && active.type !== 'date') {
        place.index = active.selectionStart;
        place.length = active.selectionEnd - active.selectionStart;
      }
      presence.set(place);
    });
  }
  element.addEventListener('focusin', sendPlace);
  element.addEventListener('focusout', sendPlace);
  element.addEventListener('input', sendPlace);
  element.addEventListener('keyup', sendPlace);
  element.addEventListener('pointerup', sendPlace);
  document.addEventListener('selectionchange', sendPlace);
  element.addEventListener('scroll', refreshPeople, true);
  window.addEventListener('resize', refreshPeople);

  // A new chat message from someone else while the chat is out of sight: a notice.
  function chatVisible() {
    const log = element.querySelector('.chat-log li:last-child, .chat .empty');
    if (!log) return true;
    const box = log.getBoundingClientRect();
    return box.top < window.innerHeight && box.bottom > 0;
  }
  function noticeChat(item) {
    if (chatVisible()) return;
    const from = item && typeof item === 'object' && item.from ? createNames(context.people).text(item.from) : '';
    chatNotice.textContent = from ? t('chat.new_from', { name: from }) : t('chat.new');
    chatNoticeLive.textContent = chatNotice.textContent;
    chatNotice.hidden = false;
  }
  chatNotice.addEventListener('click', () => {
    chatNotice.hidden = true;
    const last = element.querySelector('.chat-log li:last-child');
    if (last) last.scrollIntoView({ block: 'end' });
    const input = element.querySelector('.chat-form textarea, .chat-form input');
    if (input) input.focus({ preventScroll: true });
  });
  const onScroll = () => {
    if (!chatNotice.hidden && chatVisible()) chatNotice.hidden = true;
  };
  window.addEventListener('scroll', onScroll, { passive: true });

  // A consent recorded changes who reads what: the hub says anew (readers), and a new
  // person named in a stamped field (a client admitted since) is looked up again.
  const consentPath = () => (context.template && context.template.consents && context.template.consents.path) || ['consents'];
  let refreshing = null;
  function refreshContext() {
    if (refreshing) return;
    refreshing = caseContext(caseId, me).then((fresh) => {
      refreshing = null;
      if (!fresh || destroyed) return;
      const changed = JSON.stringify([fresh.readers, fresh.people, fresh.lead, fresh.rules]) !==
        JSON.stringify([context.readers, context.people, context.lead, context.rules]);
      context = fresh;
      if (keeper) keeper.setMeta(fresh);
      applyContext();
      if (form && changed) build();
    });
  }
  doc.on('op', (op, source) => {
    op.forEach((component) => presence.shift(component));
    if (!form) return;
    op.forEach((component) => form.applyComponent(component, source));
    const consents = consentPath();
    if (op.some((c) => consents.every((step, i) => c.p[i] === step))) refreshContext();
    if (op.some((component) => component.p[0] === 'meta')) showTitle();
    if (!source && op.some((c) => c.p[0] === 'chat' && c.p.length === 2 && 'li' in c)) {
      noticeChat(op.find((c) => c.p[0] === 'chat' && 'li' in c).li);
    }
    // The author of a new message is stamped by the server's op right after it.
    const stamped = !source && !chatNotice.hidden && op.find((c) => c.p[0] === 'chat' && c.p.length === 3 && c.p[2] === 'from' && 'oi' in c);
    if (stamped) noticeChat({ from: stamped.oi });
    refreshPeople();
  });
  doc.on('load', () => {
    if (form) form.renderAll();
    else if (doc.type && context) build();
  });
  doc.on('error', (err) => showToast(rejectionText(err)));
  // A refused op comes back rolled back without an error to its callback; the refusal
  // itself is in the hub's reply. Its words go to the refused list (a late chat message,
  // which the form sends again at the new end, excepted).
  live.connection.on('receive', (request) => {
    const message = request.data;
    if (message && message.a === 'op' && message.d === caseId && message.error && !(form && form.isAppend(message.op))) {
      showToast(rejectionText(message.error));
      if (message.op) refused.add([{ op: message.op }]);
    }
  });
  live.connection.on('error', (err) => showToast(errorText(err)));
  doc.on('del', () => clear(body).append(h('p', { role: 'alert' }, t('room.deleted'))));

  // The case as the hub last described it: read-only banner, what the team may do.
  function applyContext() {
    banner.hidden = !context.closed;
    banner.textContent = context.closed ? t('room.case_closed') : '';
    if (actions) actions.update(context);
  }

  // The meeting as the hub pushes it (counsellors): its lobby, and a meeting that ends or
  // starts while the room is open is said so.
  function onMeeting(state) {
    // Only a meeting this page saw running is said to have ended (not one that ended
    // while the page was closed).
    const before = meeting ? meeting.session : null;
    meeting = state;
    if (lobby) lobby.update(context.closed ? { session: null, waiting: 0 } : state);
    if (state.session === context.running) return;
    context = { ...context, running: state.session };
    if (keeper) keeper.setMeta(context);
    if (before && !state.session && !context.closed) showNote(t('room.meeting_ended', { time: formatTime(Date.now()) }));
    else if (state.session) showNote('');
    applyContext();
    refreshPeople();
  }
  const meetingFeed = me.role === 'counsellor' ? followMeeting(live.connection, caseId, { onState: onMeeting }) : null;

  // The hub's own close codes (protocol/sharedb-wire.md): the case is gone for this
  // person (what the page kept of it goes too; edits not sent are listed), or its rights
  // changed and the room opens anew (from what the page kept).
  let ended = false;
  function leave(text) {
    if (ended || destroyed) return;
    ended = true;
    if (keeper && keeper.unsent()) refused.add([doc.inflightOp, ...doc.pendingOps].filter(Boolean));
    if (keeper) keeper.discard();
    live.close();
    form = null;
    // No connection to tell the truth about any more.
    status.stop();
    heartbeat.stop();
    status.element.hidden = true;
    const gone = h('p', { class: 'room-gone', role: 'alert' }, text);
    clear(body).append(gone);
    return gone;
  }
  live.socket.addEventListener('close', (event) => {
    if (ended || (event.code !== 4001 && event.code !== 4002)) return;
    if (event.code === 4002 && reopen) {
      ended = true;
      reopen();
      return;
    }
    const gone = leave(t(audience === 'client' ? 'room.session_ended' : 'room.access_ended'));
    // A client was either removed from the meeting (its login is gone) or the meeting ended.
    if (gone && audience === 'client') {
      api.joinStatus().then(
        (state) => {
          if (state.status !== 'ended') gone.textContent = t('room.client_removed');
        },
        (e) => {
          if (e.status === 401) gone.textContent = t('room.client_removed');
        },
      );
    }
  });
  // A client's socket refused at the door (the hub answers 401 on /ws once its meeting
  // ended or it was removed) closes before it opens, as it does without a network: the
  // 4001 that would have said so went to a socket this page no longer has (it was offline,
  // or reloaded). So after such a close, with the network up, the page asks its login once
  // (not again for CHECK_MS) and leaves the room when the meeting is over for it.
  let opened = false;
  let checkedAt = 0;
  live.socket.addEventListener('open', () => {
    opened = true;
  });
  if (audience === 'client') {
    live.socket.addEventListener('close', () => {
      const refusedAtDoor = !opened;
      opened = false;
      if (ended || !refusedAtDoor || !navigator.onLine || Date.now() - checkedAt < CHECK_MS) return;
      checkedAt = Date.now();
      api.joinStatus().then(
        (state) => {
          if (state.status === 'ended') leave(t('room.session_ended'));
        },
        (e) => {
          if (e.status === 401) leave(t('room.client_removed'));
        },
      );
    });
  }

  const onBeforeUnload = (event) => {
    if (edits.unsent() > 0) {
      event.preventDefault();
      event.returnValue = '';
    }
  };
  window.addEventListener('beforeunload', onBeforeUnload);

  (async () => {
    keeper = await openKeeper({
      principal: me,
      collection: COLLECTION,
      docId: caseId,
      connect: openConnection,
      onRefused: (ops) => refused.add(ops),
      onChange: () => status.updateNow(),
    });
    if (destroyed) return keeper.close();
    const restored = keeper.attach(doc, live.connection);
    if (keeper.meta()) context = { ...context, ...keeper.meta() };
    applyContext();
    if (restored) build();
    caseContext(caseId, me).then((fresh) => {
      if (!fresh || destroyed) return;
      const changed = JSON.stringify([fresh.readers, fresh.people, fresh.lead, fresh.closed, fresh.rules, fresh.template]) !==
        JSON.stringify([context.readers, context.people, context.lead, context.closed, context.rules, context.template]);
      // The meeting channel's word on the running session is newer than this answer's.
      context = meeting ? { ...fresh, running: meeting.session } : fresh;
      keeper.setMeta(fresh);
      applyContext();
      if (form && changed) build();
      else if (form) showTitle();
    });
    doc.subscribe((err) => {
      if (destroyed) return;
      if (err) {
        const unsent = keeper.unsent();
        if (err.code === 'ERR_FORBIDDEN' && unsent) refused.add([doc.inflightOp, ...doc.pendingOps].filter(Boolean));
        if (err.code === 'ERR_FORBIDDEN') keeper.discard();
        form = null;
        return clear(body).append(h('p', { class: 'form-error', role: 'alert' }, openingErrorText(err)));
      }
      if (!doc.type) return clear(body).append(h('p', { role: 'alert' }, t('room.not_found')));
      if (!form) build();
    });
    status.update();
  })();

  return {
    element,
    relabel() {
      if (lobby) lobby.relabel();
      if (actions) actions.relabel();
      if (form) build();
      undoButton.textContent = t('list.undo');
      status.update();
    },
    // Edits not yet confirmed by the hub (logging out asks before they go).
    unsent: () => edits.unsent(),
    destroy() {
      destroyed = true;
      status.stop();
      heartbeat.stop();
      if (meetingFeed) meetingFeed.leave();
      presence.leave();
      clearTimeout(toastTimer);
      clearTimeout(undoTimer);
      document.removeEventListener('selectionchange', sendPlace);
      window.removeEventListener('resize', refreshPeople);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('beforeunload', onBeforeUnload);
      const closing = keeper ? keeper.close() : Promise.resolve();
      closing.then(() => live.close());
    },
  };
}

module.exports = { roomView };

// The room: a case's sheet (ShareDB document "cases"/<case id>) as a live form, who is in
// the room and where, the chat, and the state of the connection. Counsellors get the
// whole sheet they may read with a section menu (and, while a session of the case runs,
// its lobby); the client gets its own sections in one plain column. When the hub closes
// the connection because the case is no longer this person's (4001: removed from the
// team, the session ended) the page says so and stops; when its rights changed (4002:
// the lead handed over, the case closed) the room opens anew with the new rights.
const defaultTemplate = require('../../../protocol/templates/default.json');
const { h, clear } = require('../dom');
const { t } = require('../i18n');
const { api } = require('../api');
const { leads } = require('../principal');
const { openConnection } = require('../live/connection');
const { createStatusIndicator } = require('../live/status');
const { joinPresence } = require('../live/presence');
const { createAccess } = require('../sheet/access');
const { createSheetForm } = require('../sheet/form');
const { valueAt } = require('../sheet/paths');
const { renderPeople, markFields } = require('./room-people');
const { lobbyPanel } = require('./room-lobby');

const SIDE_SECTIONS = ['chat'];

function rejectionText(err) {
  if (err.code === 'ERR_OP_SUBMIT_REJECTED') return t('room.rejected', { message: err.message });
  return t('error.generic', { message: err.message || err.code });
}

function openingErrorText(err) {
  if (err.code === 'ERR_FORBIDDEN') return t('room.forbidden');
  return t('error.generic', { message: err.message || err.code });
}

// The principal as the access rules see it in this case (lead or not), the case's rules
// (its template version's: from the case, or for a client from its session; the default
// template's when neither answers — the hub's refusal is the last word), the title, the
// running session (its lobby) and whether the case is read-only.
async function caseContext(caseId, me) {
  let kase = null;
  try {
    kase = me.role === 'client' ? await api.session(me.session_id) : await api.case(caseId);
  } catch (e) {
    kase = null;
  }
  const team = (kase && (kase.team || kase.participants)) || [];
  return {
    principal: me.role === 'client' ? me : { ...me, lead: leads(kase, me) },
    owners: team.filter((m) => m.role === 'counsellor').map((m) => ({ id: m.id, name: m.name })),
    rules: (kase && kase.rules) || defaultTemplate.rules,
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
  const status = createStatusIndicator(live, doc);
  const presence = joinPresence(live.connection, caseId);
  const toast = h('div', { class: 'toast', role: 'alert' });
  const banner = h('p', { class: 'room-banner', role: 'status', hidden: true });
  const heading = h('h1', {}, audience === 'client' ? t('room.client_title') : t('room.title'));
  const body = h('div', { class: 'room-body' }, h('p', { class: 'muted' }, t('app.loading')));
  const element = h(
    'div',
    { class: ['room', `room-${audience}`] },
    h('div', { class: 'room-bar' }, heading, status.element),
    banner,
    toast,
    body,
  );
  let form = null;
  let context = null;
  let toastTimer = null;

  const showToast = (text) => {
    toast.textContent = text;
    toast.classList.add('is-visible');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => toast.classList.remove('is-visible'), 6000);
  };

  let lobby = null;
  const lobbyHolder = h('div', { class: 'lobby-holder' });
  const peopleHolder = h('div', { class: 'people-holder' });
  const refreshPeople = () => {
    if (!form) return;
    clear(peopleHolder).append(renderPeople({ me, others: presence.others(), audience, shows: form.shows }));
    markFields(element, form, presence.others());
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
          h('aside', { class: 'room-side' }, lobbyHolder, peopleHolder, side.map((s) => s.element)),
        ),
      );
    }
    refreshPeople();
  }

  function build() {
    form = createSheetForm({ doc, access: createAccess(context.rules, context.principal), audience, me: context.principal, owners: context.owners, onRejected: (err) => showToast(rejectionText(err)) });
    form.onRendered(({ structure }) => (structure ? layout() : refreshPeople()));
    layout();
  }

  element.addEventListener('focusin', (event) => {
    const field = event.target.closest && event.target.closest('[data-path]');
    if (field) presence.focus(JSON.parse(field.dataset.path));
  });
  element.addEventListener('focusout', (event) => {
    const next = event.relatedTarget;
    if (!next || !next.closest || !next.closest('[data-path]')) presence.blur();
  });

  doc.on('op', (op, source) => {
    if (!form) return;
    op.forEach((component) => form.applyComponent(component, source));
    if (op.some((component) => component.p[0] === 'meta')) showTitle();
  });
  doc.on('load', () => form && form.renderAll());
  doc.on('error', (err) => showToast(rejectionText(err)));
  // A refused op comes back rolled back without an error to its callback; the refusal
  // itself is in the hub's reply.
  live.connection.on('receive', (request) => {
    const message = request.data;
    if (message && message.a === 'op' && message.d === caseId && message.error && !(form && form.isAppend(message.op))) {
      showToast(rejectionText(message.error));
    }
  });
  live.connection.on('error', (err) => showToast(t('error.generic', { message: err.message || err.code })));
  doc.on('del', () => clear(body).append(h('p', { role: 'alert' }, t('room.deleted'))));

  // The hub's own close codes (protocol/sharedb-wire.md): the case is gone for this
  // person, or its rights changed and the room opens anew.
  let ended = false;
  live.socket.addEventListener('close', (event) => {
    if (ended || (event.code !== 4001 && event.code !== 4002)) return;
    ended = true;
    live.close();
    if (event.code === 4002 && reopen) {
      reopen();
      return;
    }
    clear(body).append(h('p', { class: 'room-gone', role: 'alert' }, t(audience === 'client' ? 'room.session_ended' : 'room.access_ended')));
  });

  caseContext(caseId, me).then((ctx) => {
    context = ctx;
    if (ctx.closed) {
      banner.hidden = false;
      banner.textContent = t('room.case_closed');
    }
    if (me.role === 'counsellor' && ctx.running && !ctx.closed) {
      lobby = lobbyPanel(ctx.running, (err) => showToast(t('error.generic', { message: err.message })));
      lobbyHolder.append(lobby.element);
    }
    doc.subscribe((err) => {
      if (err) return clear(body).append(h('p', { class: 'form-error', role: 'alert' }, openingErrorText(err)));
      if (!doc.type) return clear(body).append(h('p', { role: 'alert' }, t('room.not_found')));
      build();
    });
  });

  return {
    element,
    relabel() {
      if (lobby) lobby.relabel();
      if (form) build();
    },
    destroy() {
      status.stop();
      if (lobby) lobby.stop();
      presence.leave();
      clearTimeout(toastTimer);
      live.close();
    },
  };
}

module.exports = { roomView };

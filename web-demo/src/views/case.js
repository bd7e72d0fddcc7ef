// One case (GET /api/cases/{id}): its status, template and lead; its sessions, with the
// running one to open or end (asked first) and — one click — a new session (a follow-up
// meeting) when none runs; the case sheet and its replay; the team, where the lead adds
// counsellors, invites supervision through a form of its own, removes members and hands
// the lead over; and closing the case, asked first. Nobody is offered what the hub would
// refuse them, and a refusal is said in the page's language.
const { h, uniqueId } = require('../dom');
const { t, language } = require('../i18n');
const { api } = require('../api');
const { go } = require('../router');
const { errorText } = require('../format');
const { roleText } = require('./shell');
const { retentionCard } = require('./retention');
const { confirmingButton } = require('./confirm');
const { endSessionAsked, clientsIn } = require('./session-admin');
const { closeCaseAsked } = require('./room-actions');

function timeText(ms) {
  if (ms === null || ms === undefined) return '';
  return new Date(ms).toLocaleString(language(), { dateStyle: 'medium', timeStyle: 'short' });
}

function memberItem(kase, member, me, act) {
  const iLead = kase.lead === me.id;
  const role = member.team_role === 'lead' ? `${roleText(member)} · ${t('role.lead')}` : roleText(member);
  const actions = [];
  if (iLead && kase.status === 'open' && member.team_role !== 'lead') {
    if (member.team_role === 'counsellor') {
      actions.push(
        confirmingButton({
          label: [t('team.hand_over'), h('span', { class: 'visually-hidden' }, `: ${member.name}`)],
          question: t('team.hand_over_question', { name: member.name }),
          confirm: t('team.hand_over_confirm'),
          className: 'link-button hand-over',
          onConfirm: () => act(() => api.handOverLead(kase.id, member.id), t('team.handed_over', { name: member.name })),
        }),
      );
    }
    actions.push(
      confirmingButton({
        label: [t('team.remove'), h('span', { class: 'visually-hidden' }, `: ${member.name}`)],
        question: t('team.remove_question', { name: member.name }),
        confirm: t('team.remove_confirm'),
        className: 'link-button remove-member',
        onConfirm: () => act(() => api.removeMember(kase.id, member.id), t('team.removed', { name: member.name })),
      }),
    );
  }
  return h(
    'li',
    { class: 'member', dataset: { userId: member.id } },
    h('span', { class: 'participant-name' }, member.name || member.id),
    ' ',
    h('span', { class: 'muted' }, role),
    actions.length ? h('span', { class: 'member-actions' }, actions) : null,
  );
}

// A form of the lead's that adds an account of one role to the team: counsellors, or
// supervision (the hub adds only an account of the role asked for).
function addForm(kase, role, act) {
  const keys = role === 'supervisor'
    ? { className: 'invite-supervisor', title: 'team.invite_supervision_title', label: 'team.supervisor_username', submit: 'team.invite_supervision', done: 'team.supervision_invited' }
    : { className: 'add-member', title: 'team.add_title', label: 'team.counsellor_username', submit: 'team.add', done: 'team.added' };
  const inputId = uniqueId('username');
  const titleId = uniqueId('add-title');
  const username = h('input', { id: inputId, required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const message = h('p', { class: 'form-message', role: 'status' });
  const form = h(
    'form',
    { class: ['inline-form', keys.className], 'aria-labelledby': titleId },
    h('h3', { id: titleId, class: 'form-title' }, t(keys.title)),
    h('div', { class: 'field' }, h('label', { for: inputId, class: 'field-label' }, t(keys.label)), username),
    h('button', { type: 'submit', class: 'primary' }, t(keys.submit)),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = username.value.trim();
    message.textContent = '';
    try {
      const added = await api.addMember(kase.id, name, role);
      await act(null, t(keys.done, { name: added.name || name }));
    } catch (e) {
      const known = { user_not_found: 'participants.unknown', already_member: 'team.already' }[e.code];
      message.textContent = known ? t(known, { name }) : errorText(e);
    }
  });
  return [form, message];
}

function teamCard(kase, me, act) {
  const list = h('ul', { class: 'participants team' }, kase.team.map((m) => memberItem(kase, m, me, act)));
  const card = h('section', { class: 'card', 'aria-labelledby': 'team-title' }, h('h2', { id: 'team-title' }, t('team.title')), h('p', { class: 'hint' }, t('team.hint')), list);
  if (kase.lead !== me.id || kase.status !== 'open') return card;
  card.append(...addForm(kase, 'counsellor', act), ...addForm(kase, 'supervisor', act));
  return card;
}

function sessionsCard(kase, me, act) {
  const counsellor = me.role === 'counsellor';
  const items = kase.sessions
    .slice()
    .reverse()
    .map((s, i) =>
      h(
        'li',
        { class: ['session-item', s.status === 'open' && 'is-running'], dataset: { sessionId: s.id } },
        h('span', { class: 'session-number' }, t('case.session_number', { n: kase.sessions.length - i })),
        ' ',
        h('span', { class: 'muted' }, s.status === 'open' ? t('case.session_running', { since: timeText(s.started_at) }) : t('case.session_span', { from: timeText(s.started_at), to: timeText(s.ended_at) })),
        s.status === 'open' && counsellor ? [' ', h('a', { href: `#/sessions/${encodeURIComponent(s.id)}`, class: 'open-session' }, t('cases.open_session'))] : null,
      ),
    );
  const actions = [];
  if (counsellor && kase.status === 'open') {
    if (kase.running_session) {
      actions.push(
        h('a', { href: `#/sessions/${encodeURIComponent(kase.running_session)}`, class: 'button primary open-running' }, t('cases.open_session')),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary end-session',
            onclick: () => act(async () => (await endSessionAsked(kase.running_session, await clientsIn(kase.running_session))) || null, t('case.session_ended')),
          },
          t('case.end_session'),
        ),
      );
    } else {
      const start = h('button', { type: 'button', class: 'primary start-session' }, t(kase.sessions.length ? 'case.start_follow_up' : 'case.start_session'));
      start.addEventListener('click', async () => {
        start.disabled = true;
        try {
          const session = await api.startSession(kase.id);
          go(`/sessions/${encodeURIComponent(session.id)}`);
        } catch (e) {
          start.disabled = false;
          await act(null, errorText(e));
        }
      });
      actions.push(start);
    }
  }
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'sessions-title' },
    h('h2', { id: 'sessions-title' }, t('case.sessions')),
    h('p', { class: 'hint' }, t('case.sessions_hint')),
    actions.length ? h('div', { class: 'button-row' }, actions) : null,
    items.length ? h('ul', { class: 'session-items' }, items) : h('p', { class: 'muted' }, t('case.no_sessions')),
  );
}

function caseView({ caseId, me }) {
  const heading = h('h1', {}, t('app.loading'));
  const status = h('p', { class: 'case-status' });
  const notice = h('p', { class: 'form-message case-notice', role: 'status' });
  const actions = h('div', { class: 'button-row case-actions' });
  const body = h('div', { class: 'admin-grid' });
  const element = h(
    'div',
    { class: 'case-page' },
    h('p', {}, h('a', { href: '#/' }, t('session.back'))),
    h('div', { class: 'title-row' }, heading, actions),
    status,
    notice,
    body,
  );

  // Runs a change (when given), then shows the case anew with a notice; a change that
  // answers null was called off (nothing to say).
  async function act(change, text) {
    try {
      const done = change ? await change() : true;
      if (done !== null) notice.textContent = text;
    } catch (e) {
      notice.textContent = errorText(e);
    }
    await load();
  }

  function show(kase) {
    heading.textContent = kase.title || t('case.untitled');
    status.replaceChildren(
      h('span', { class: ['badge', `case-${kase.status}`] }, t(`case.status.${kase.status}`)),
      ' ',
      h('span', { class: 'muted' }, t('case.line', { template: kase.template.title || kase.template.name, version: kase.template.version, lead: kase.lead_name || '' })),
    );
    const replays = me.role === 'supervisor' || kase.lead === me.id;
    if (me.role === 'admin') {
      actions.replaceChildren(h('a', { class: 'button secondary', href: '#/officer' }, t('officer.title')));
      body.replaceChildren(retentionCard(kase, me, act));
      return;
    }
    actions.replaceChildren(
      h('a', { class: 'button primary open-sheet', href: `#/room/${encodeURIComponent(kase.id)}` }, t('cases.open_sheet')),
      replays ? h('a', { class: 'button secondary replay-link', href: `#/replay/${encodeURIComponent(kase.id)}` }, t('dashboard.replay')) : null,
      kase.lead === me.id && kase.status === 'open'
        ? h('button', { type: 'button', class: 'danger close-case', onclick: () => act(async () => (await closeCaseAsked(kase.id, kase.running_session)) || null, t('case.closed')) }, t('case.close'))
        : null,
    );
    body.replaceChildren(sessionsCard(kase, me, act), teamCard(kase, me, act), retentionCard(kase, me, act));
  }

  async function load() {
    try {
      show(await api.case(caseId));
    } catch (e) {
      heading.textContent = t('case.untitled');
      body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? t('case.not_found') : errorText(e)));
    }
  }
  load();
  return { element };
}

module.exports = { caseView };

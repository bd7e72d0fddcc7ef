// One case (GET /api/cases/{id}): its status, template and lead; its sessions, with the
// running one to open or end and — one click — a new session (a follow-up meeting) when
// none runs; the case sheet and its replay; the team, where the lead adds and removes
// members and hands the lead over; and closing the case, confirmed first.
const { h, uniqueId } = require('../dom');
const { t, language } = require('../i18n');
const { api } = require('../api');
const { go } = require('../router');
const { roleText } = require('./shell');
const { retentionCard } = require('./retention');
const { confirmingButton } = require('./confirm');

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

function teamCard(kase, me, act) {
  const list = h('ul', { class: 'participants team' }, kase.team.map((m) => memberItem(kase, m, me, act)));
  const card = h('section', { class: 'card', 'aria-labelledby': 'team-title' }, h('h2', { id: 'team-title' }, t('team.title')), h('p', { class: 'hint' }, t('team.hint')), list);
  if (kase.lead !== me.id || kase.status !== 'open') return card;
  const inputId = uniqueId('username');
  const username = h('input', { id: inputId, required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const message = h('p', { class: 'form-message', role: 'status' });
  const form = h(
    'form',
    { class: 'inline-form add-member' },
    h('div', { class: 'field' }, h('label', { for: inputId, class: 'field-label' }, t('participants.username')), username),
    h('button', { type: 'submit', class: 'primary' }, t('participants.add')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = username.value.trim();
    try {
      const added = await api.addMember(kase.id, name);
      await act(null, t('team.added', { name: added.name || name }));
    } catch (e) {
      const known = { user_not_found: 'participants.unknown', already_member: 'team.already' }[e.code];
      message.textContent = known ? t(known, { name }) : t('error.generic', { message: e.message });
    }
  });
  card.append(form, message);
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
          { type: 'button', class: 'secondary end-session', onclick: () => act(() => api.endSession(kase.running_session), t('case.session_ended')) },
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
          await act(null, t('error.generic', { message: e.message }));
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

  // Runs a change (when given), then shows the case anew with a notice.
  async function act(change, text) {
    try {
      if (change) await change();
      notice.textContent = text;
    } catch (e) {
      notice.textContent = t('error.generic', { message: e.message });
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
        ? confirmingButton({
            label: t('case.close'),
            question: t('case.close_question'),
            confirm: t('case.close_confirm'),
            className: 'danger close-case',
            onConfirm: () => act(() => api.closeCase(kase.id), t('case.closed')),
          })
        : null,
    );
    body.replaceChildren(sessionsCard(kase, me, act), teamCard(kase, me, act), retentionCard(kase, me, act));
  }

  async function load() {
    try {
      show(await api.case(caseId));
    } catch (e) {
      heading.textContent = t('case.untitled');
      body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? t('case.not_found') : t('error.generic', { message: e.message })));
    }
  }
  load();
  return { element };
}

module.exports = { caseView };

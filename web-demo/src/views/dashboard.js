// The counsellor's and supervisor's start page: my cases (GET /api/cases) with their status
// and next meeting — the session running now, or the next appointment in the sheet — and
// their replay for supervisors and the lead, the
// tasks of the help plans assigned to me across my cases (GET /api/me/tasks; overdue ones
// stand out), and, for counsellors, a new case from one of the templates on offer
// (GET /api/templates, POST /api/cases).
const { h, uniqueId } = require('../dom');
const { t, language } = require('../i18n');
const { api } = require('../api');
const { go } = require('../router');
const { attentionCard } = require('./retention');
const { errorText } = require('../format');

function dateText(value, withTime) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(language(), withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' });
}

// "running now", the next appointment (its start, as the sheet has it), or nothing.
function nextMeetingText(kase) {
  if (kase.running_session) return t('cases.running');
  const next = kase.next_meeting;
  if (!next || !next.start) return t('cases.no_meeting');
  const withTime = /T\d\d:\d\d/.test(next.start);
  return t('cases.next_meeting', { when: dateText(withTime ? next.start : `${next.start}T00:00`, withTime) });
}

function caseRow(kase, me) {
  const named = (text) => [text, h('span', { class: 'visually-hidden' }, `: ${kase.title || kase.id}`)];
  return h(
    'li',
    { class: ['case-row', `case-${kase.status}`], dataset: { caseId: kase.id } },
    h(
      'div',
      { class: 'session-main' },
      h('a', { href: `#/cases/${encodeURIComponent(kase.id)}`, class: 'session-title case-title' }, kase.title || kase.id),
      h('span', { class: 'muted' }, t('cases.line', { status: t(`case.status.${kase.status}`), lead: kase.lead_name || '', role: t(`team_role.${kase.my_role}`) })),
      h('span', { class: ['case-next', kase.running_session && 'is-running'] }, nextMeetingText(kase)),
    ),
    h(
      'div',
      { class: 'session-actions' },
      h('a', { href: `#/room/${encodeURIComponent(kase.id)}`, class: 'button secondary' }, named(t('cases.open_sheet'))),
      me.role === 'supervisor' || kase.my_role === 'lead'
        ? h('a', { href: `#/replay/${encodeURIComponent(kase.id)}`, class: 'button secondary replay-link' }, named(t('dashboard.replay')))
        : null,
      kase.running_session && me.role === 'counsellor'
        ? h('a', { href: `#/sessions/${encodeURIComponent(kase.running_session)}`, class: 'button primary' }, named(t('cases.open_session')))
        : null,
    ),
  );
}

function taskRow(task) {
  const due = task.due ? t('tasks.due', { when: dateText(`${task.due}T00:00`, false) }) : t('tasks.no_due');
  return h(
    'li',
    { class: ['task-row', task.overdue && 'is-overdue', task.done && 'is-done'], dataset: { caseId: task.case_id } },
    h('span', { class: 'task-what' }, task.what || t('tasks.untitled')),
    h('span', { class: 'task-due' }, task.overdue ? [h('strong', { class: 'task-overdue' }, t('tasks.overdue')), ' · ', due] : due),
    h('a', { href: `#/cases/${encodeURIComponent(task.case_id)}`, class: 'task-case' }, task.case_title),
  );
}

function createForm() {
  const titleId = uniqueId('title');
  const templateId = uniqueId('template');
  const title = h('input', { id: titleId, required: true, maxlength: 200, autocomplete: 'off' });
  const template = h('select', { id: templateId }, h('option', { value: 'default' }, t('template.default')));
  const message = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card create-case' },
    h('h2', {}, t('cases.create')),
    h('div', { class: 'field' }, h('label', { for: titleId, class: 'field-label' }, t('cases.case_title')), title),
    h('div', { class: 'field' }, h('label', { for: templateId, class: 'field-label' }, t('dashboard.template')), template),
    message,
    h('button', { type: 'submit', class: 'primary' }, t('cases.create_submit')),
  );
  api
    .templates()
    .then((data) => {
      const offered = (data && data.templates) || [];
      if (offered.length) template.replaceChildren(...offered.map((tpl) => h('option', { value: tpl.name, selected: tpl.name === 'default' }, tpl.title)));
    })
    .catch(() => {});
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    try {
      const created = await api.createCase(title.value.trim(), template.value);
      go(`/cases/${encodeURIComponent(created.id)}`);
    } catch (e) {
      message.textContent = errorText(e);
    }
  });
  return form;
}

function listInto(list, promise, pick, row, none) {
  promise
    .then((data) => {
      const items = pick(data) || [];
      list.replaceChildren(...(items.length ? items.map(row) : [h('li', { class: 'muted' }, none)]));
    })
    .catch((e) => list.replaceChildren(h('li', { class: 'form-error', role: 'alert' }, errorText(e))));
}

function dashboardView({ me }) {
  const cases = h('ul', { class: 'case-list' }, h('li', { class: 'muted' }, t('app.loading')));
  const tasks = h('ul', { class: 'task-list' }, h('li', { class: 'muted' }, t('app.loading')));
  const counsellor = me.role === 'counsellor';
  const element = h(
    'div',
    { class: 'dashboard' },
    h('h1', {}, t('dashboard.title')),
    h(
      'div',
      { class: 'dashboard-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'my-cases' }, h('h2', { id: 'my-cases' }, t('cases.mine')), cases),
      counsellor ? h('section', { class: 'card my-tasks', 'aria-labelledby': 'my-tasks' }, h('h2', { id: 'my-tasks' }, t('tasks.mine')), tasks) : null,
      counsellor ? createForm() : null,
    ),
  );
  const loaded = api.cases();
  listInto(cases, loaded, (d) => d && d.cases, (c) => caseRow(c, me), t('cases.none'));
  loaded.then((d) => {
    const card = attentionCard((d && d.cases) || [], me);
    if (card) element.querySelector('.dashboard-grid').prepend(card);
  }, () => {});
  if (counsellor) listInto(tasks, api.myTasks(), (d) => d && d.tasks, taskRow, t('tasks.none'));
  return { element };
}

module.exports = { dashboardView };

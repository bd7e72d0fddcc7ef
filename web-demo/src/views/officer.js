// The data-protection officer's view for admins (GET /api/admin/retention; `konsil
// retention list` on the command line): cases by deletion date with their status,
// template and retention class, holds, restrictions, erasure requests waiting for their
// second person, and the erasures done — ids, dates and reasons, never a case's content.
// An admin acts on a case from here: a legal hold, a restriction, an erasure.
const { h } = require('../dom');
const { t, language } = require('../i18n');
const { api } = require('../api');

function dateText(ms) {
  return ms === null || ms === undefined ? '–' : new Date(ms).toLocaleDateString(language(), { dateStyle: 'medium' });
}

function table(className, headings, rows) {
  if (!rows.length) return h('p', { class: 'muted' }, t('officer.none'));
  return h(
    'table',
    { class: ['officer-table', className] },
    h('thead', {}, h('tr', {}, headings.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows),
  );
}

function notes(c) {
  return [c.due && t('officer.due'), c.held && t('officer.held'), c.restricted && t('officer.restricted'), c.inactive && t('officer.inactive')]
    .filter(Boolean)
    .join(', ');
}

function officerView() {
  const body = h('div', { class: 'officer' }, h('p', {}, t('app.loading')));
  const element = h('div', { class: 'officer-page' }, h('h1', {}, t('officer.title')), h('p', { class: 'hint' }, t('officer.hint')), body);
  const id = (caseId) => h('a', { href: `#/cases/${encodeURIComponent(caseId)}`, class: 'case-id' }, h('code', {}, caseId.slice(0, 8)));
  api
    .officer()
    .then((v) => {
      body.replaceChildren(
        h('section', { 'aria-labelledby': 'officer-cases' }, h('h2', { id: 'officer-cases' }, t('officer.cases')),
          table('officer-cases', [t('officer.case'), t('officer.status'), t('officer.template'), t('officer.closed'), t('officer.delete_at'), t('officer.notes')],
            v.cases.map((c) => h('tr', { dataset: { caseId: c.id } }, h('td', {}, id(c.id)), h('td', {}, t(`case.status.${c.status}`)), h('td', {}, `${c.template} v${c.template_version} · ${c.class}`), h('td', {}, dateText(c.closed_at)), h('td', {}, dateText(c.delete_at)), h('td', {}, notes(c)))))),
        h('section', { 'aria-labelledby': 'officer-holds' }, h('h2', { id: 'officer-holds' }, t('officer.holds')),
          table('officer-holds', [t('officer.case'), t('officer.since'), t('officer.until'), t('officer.reason')],
            v.holds.map((x) => h('tr', {}, h('td', {}, id(x.case_id)), h('td', {}, dateText(x.set_at)), h('td', {}, x.until ? dateText(x.until) : t('retention.until_lifted')), h('td', {}, x.reason))))),
        h('section', { 'aria-labelledby': 'officer-restrictions' }, h('h2', { id: 'officer-restrictions' }, t('officer.restrictions')),
          table('officer-restrictions', [t('officer.case'), t('officer.since'), t('officer.reason')],
            v.restrictions.map((x) => h('tr', {}, h('td', {}, id(x.case_id)), h('td', {}, dateText(x.since)), h('td', {}, x.reason))))),
        h('section', { 'aria-labelledby': 'officer-requests' }, h('h2', { id: 'officer-requests' }, t('officer.requests')),
          table('officer-requests', [t('officer.case'), t('officer.since'), t('officer.reason'), ''],
            v.requests.map((x) => h('tr', {}, h('td', {}, id(x.case_id)), h('td', {}, dateText(x.requested_at)), h('td', {}, x.reason),
              h('td', {}, h('button', { type: 'button', class: 'danger confirm-erasure', onclick: (e) => api.confirmErasure(x.case_id, x.id).then(() => e.target.closest('tr').remove(), (err) => { e.target.textContent = err.message; }) }, t('retention.confirm_erasure'))))))),
        h('section', { 'aria-labelledby': 'officer-erasures' }, h('h2', { id: 'officer-erasures' }, t('officer.erasures')),
          table('officer-erasures', [t('officer.case'), t('officer.erased_at'), t('officer.how')],
            v.erasures.map((x) => h('tr', {}, h('td', {}, h('code', {}, x.case_id.slice(0, 8))), h('td', {}, dateText(x.erased_at)), h('td', {}, t(`officer.how.${x.how}`)))))),
      );
    })
    .catch((e) => body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, t('error.generic', { message: e.message }))));
  return { element };
}

module.exports = { officerView };

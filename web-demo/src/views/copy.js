// The client's own copy (GDPR Art. 15; GET /api/me/copy, or GET /api/cases/{id}/clients/
// {client}/copy when a counsellor takes it on the client's behalf) as a page to read, print
// or save: who it is about, the case sheet exactly as the client may read it, its consents,
// what the data is used for, who received it, how long it is kept and on which basis, and
// the client's rights; the JSON as the server gave it to download. And the print view of
// the case sheet as a client sees it (GET /api/cases/{id}/client-view), for counsellors.
// Both carry a print stylesheet (style.css, @media print): the page prints without the
// frame, buttons and links.
const { h } = require('../dom');
const { t, language } = require('../i18n');
const { api } = require('../api');
const { fieldLabel } = require('../sheet/labels');

function timeText(ms, withTime = true) {
  if (ms === null || ms === undefined) return t('copy.none');
  return new Date(ms).toLocaleString(language(), withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'long' });
}

// The sheet's values as nested lists: every key the client reads, every value as text.
function valueTree(value, pathSoFar) {
  if (Array.isArray(value)) {
    if (!value.length) return h('span', { class: 'muted' }, t('copy.empty'));
    return h('ol', { class: 'copy-list' }, value.map((item, i) => h('li', {}, valueTree(item, [...pathSoFar, i]))));
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (!keys.length) return h('span', { class: 'muted' }, t('copy.empty'));
    return h(
      'dl',
      { class: 'copy-fields' },
      keys.map((k) => [h('dt', {}, fieldLabel([...pathSoFar, k], 'client')), h('dd', {}, valueTree(value[k], [...pathSoFar, k]))]),
    );
  }
  if (value === '' || value === null || value === undefined) return h('span', { class: 'muted' }, t('copy.empty'));
  if (typeof value === 'boolean') return t(value ? 'copy.yes' : 'copy.no');
  return String(value);
}

function section(id, title, ...content) {
  return h('section', { class: 'copy-section', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

function toolbar(download) {
  return h(
    'div',
    { class: 'button-row copy-tools' },
    h('button', { type: 'button', class: 'primary print-button', onclick: () => window.print() }, t('copy.print')),
    download ? h('a', { class: 'button secondary', href: download.href, download: download.name }, t('copy.download')) : null,
  );
}

function renderCopy(copy, download) {
  const recipients = copy.recipients.length
    ? h(
        'table',
        { class: 'copy-table' },
        h('thead', {}, h('tr', {}, [t('copy.recipient'), t('copy.recipient_role'), t('copy.first'), t('copy.last'), t('copy.reads')].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          copy.recipients.map((r) =>
            h('tr', {}, h('td', {}, r.name), h('td', {}, t(`role.${r.role}`)), h('td', {}, timeText(r.first)), h('td', {}, timeText(r.last)), h('td', {}, String(r.reads))),
          ),
        ),
      )
    : h('p', {}, t('copy.no_recipients'));
  const r = copy.retention;
  return h(
    'article',
    { class: 'copy-page' },
    h('h1', {}, t('copy.title')),
    h('p', { class: 'copy-intro' }, t('copy.intro', { when: timeText(copy.generated_at) })),
    toolbar(download),
    section(
      'copy-about',
      t('copy.about'),
      h(
        'dl',
        { class: 'copy-fields' },
        h('dt', {}, t('copy.name')), h('dd', {}, copy.about.name),
        h('dt', {}, t('copy.joined')), h('dd', {}, timeText(copy.about.joined_at)),
        h('dt', {}, t('copy.case')), h('dd', {}, copy.case.title),
        h('dt', {}, t('copy.sessions')),
        h('dd', {}, h('ul', {}, copy.sessions.map((s) => h('li', {}, t('case.session_span', { from: timeText(s.started_at), to: timeText(s.ended_at) }), s.attended ? ` (${t('copy.attended')})` : '')))),
      ),
    ),
    section('copy-purposes', t('copy.purposes'), h('ul', {}, copy.purposes.map((p) => h('li', {}, p)))),
    section('copy-sheet', t('copy.sheet'), h('p', { class: 'hint' }, t('copy.sheet_hint', { v: copy.sheet.v })), h('div', { class: 'copy-sheet' }, valueTree(copy.sheet.data, []))),
    section('copy-consents', t('copy.consents'), copy.consents.length ? valueTree(copy.consents, ['consents']) : h('p', {}, t('copy.no_consents'))),
    section('copy-recipients', t('copy.recipients'), h('p', { class: 'hint' }, t('copy.recipients_hint')), recipients),
    section(
      'copy-retention',
      t('copy.retention'),
      h('p', {}, r.delete_at ? t('copy.delete_at', { when: timeText(r.delete_at, false) }) : t('copy.delete_after', { days: r.after_closure_days })),
      h('p', {}, t('copy.basis'), ' ', h('span', { class: 'copy-basis' }, r.basis)),
      r.held ? h('p', {}, t('copy.held')) : null,
      r.restricted ? h('p', {}, t('copy.restricted')) : null,
    ),
    section('copy-rights', t('copy.rights'), h('p', {}, t('copy.rights_text'))),
  );
}

// The copy: the client's own (no caseId), or taken on a client's behalf.
function copyView({ caseId, clientId }) {
  const element = h('div', { class: 'copy-view' }, h('p', { class: 'no-print' }, h('a', { href: caseId ? `#/cases/${encodeURIComponent(caseId)}` : '#/' }, t('session.back'))), h('p', {}, t('app.loading')));
  const load = caseId ? api.clientCopy(caseId, clientId) : api.myCopy();
  load
    .then((copy) => {
      const href = caseId ? `/api/cases/${encodeURIComponent(caseId)}/clients/${encodeURIComponent(clientId)}/copy` : '/api/me/copy';
      element.replaceChildren(element.firstChild, renderCopy(copy, { href, name: `konsil-kopie-${copy.about.id}.json` }));
    })
    .catch((e) => element.replaceChildren(element.firstChild, h('p', { class: 'form-error', role: 'alert' }, t('error.generic', { message: e.message }))));
  return { element };
}

// The case sheet as a client of the case reads it, to print for (or with) the client.
function printView({ caseId }) {
  const element = h('div', { class: 'copy-view' }, h('p', { class: 'no-print' }, h('a', { href: `#/cases/${encodeURIComponent(caseId)}` }, t('session.back'))), h('p', {}, t('app.loading')));
  api
    .clientView(caseId)
    .then((view) =>
      element.replaceChildren(
        element.firstChild,
        h(
          'article',
          { class: 'copy-page client-view' },
          h('h1', {}, view.case.title),
          h('p', { class: 'copy-intro' }, t('print.intro', { v: view.v })),
          toolbar(null),
          h('div', { class: 'copy-sheet' }, valueTree(view.data, [])),
        ),
      ),
    )
    .catch((e) => element.replaceChildren(element.firstChild, h('p', { class: 'form-error', role: 'alert' }, t('error.generic', { message: e.message }))));
  return { element };
}

module.exports = { copyView, printView };

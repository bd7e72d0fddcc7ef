// The replay's list of who changed what, filterable by section and by author: the
// changes around the version shown (the one that made it marked), each a button that
// moves there.
const { h, uniqueId } = require('../dom');
const { t } = require('../i18n');
const { pathLabel, sectionLabel } = require('./changes');
const { colourClass } = require('./timeline');
const { authorText, timeText } = require('./attribution');

const AROUND = 20;
const ALL = '';

function createChangeList({ onSelect }) {
  const sectionId = uniqueId('section-filter');
  const authorId = uniqueId('author-filter');
  const sectionFilter = h('select', { id: sectionId, class: 'section-filter' });
  const authorFilter = h('select', { id: authorId, class: 'author-filter' });
  const summary = h('p', { class: 'muted small change-summary' });
  const list = h('ol', { class: 'change-list' });
  const element = h(
    'section',
    { class: 'card replay-changes', 'aria-labelledby': 'replay-changes-title' },
    h('h2', { id: 'replay-changes-title' }, t('replay.changes')),
    h(
      'div',
      { class: 'change-filters' },
      h('div', { class: 'field' }, h('label', { for: sectionId, class: 'field-label' }, t('replay.filter_section')), sectionFilter),
      h('div', { class: 'field' }, h('label', { for: authorId, class: 'field-label' }, t('replay.filter_author')), authorFilter),
    ),
    summary,
    list,
  );
  let changes = [];
  let authors = [];
  let version = 0;
  let shownKey = null;

  function fillFilters() {
    const sections = new Map();
    for (const change of changes) for (const s of change.sections) sections.set(JSON.stringify(s), s);
    const keepSection = sectionFilter.value;
    const keepAuthor = authorFilter.value;
    sectionFilter.replaceChildren(
      h('option', { value: ALL }, t('replay.all_sections')),
      ...[...sections].map(([key, s]) => h('option', { value: key, selected: key === keepSection }, sectionLabel(s))),
    );
    authorFilter.replaceChildren(
      h('option', { value: ALL }, t('replay.all_authors')),
      ...authors.map((a) => h('option', { value: a.id, selected: a.id === keepAuthor }, authorText(a))),
    );
  }

  const matches = (change) =>
    (sectionFilter.value === ALL || change.sections.some((s) => JSON.stringify(s) === sectionFilter.value)) &&
    (authorFilter.value === ALL || (change.author && change.author.id === authorFilter.value));

  function row(change, lane, current) {
    const versions = change.first === change.last ? String(change.first + 1) : `${change.first + 1}–${change.last + 1}`;
    return h(
      'li',
      { class: ['change', current && 'is-current'] },
      h(
        'button',
        { type: 'button', class: 'change-button', 'aria-current': current ? 'true' : null, dataset: { version: change.last + 1 }, onclick: () => onSelect(change.last + 1) },
        h('span', { class: 'change-version' }, t('replay.version_short', { v: versions })),
        h('time', { class: 'change-time', datetime: new Date(change.lastTs).toISOString() }, timeText(change.lastTs)),
        h('span', { class: ['change-author', colourClass(lane)] }, change.author ? authorText(change.author) : t('presence.unknown')),
        h('span', { class: 'change-what' }, change.paths.map(pathLabel).join('; ')),
      ),
    );
  }

  const laneFor = (c, laneOf) => (c.author ? laneOf.get(c.author.id) : 0);

  // The filtered changes up to AROUND before and after the one that made version v;
  // the rows stay as they are while that selection and the marked change stay the same.
  function render(force) {
    const laneOf = new Map(authors.map((a, i) => [a.id, i]));
    const shown = changes.filter(matches);
    let at = shown.findIndex((c) => c.last + 1 > version);
    if (at === -1) at = shown.length;
    const start = Math.max(0, at - AROUND);
    const slice = shown.slice(start, at + AROUND);
    const marked = slice.findIndex((c) => c.first < version && version <= c.last + 1);
    const key = `${start}:${slice.length}:${marked}:${shown.length}`;
    if (!force && key === shownKey) return;
    shownKey = key;
    summary.textContent = t('replay.changes_count', { shown: slice.length, total: shown.length });
    list.replaceChildren(
      ...(slice.length
        ? slice.map((c, i) => row(c, laneFor(c, laneOf), i === marked))
        : [h('li', { class: 'muted' }, t('replay.no_changes'))]),
    );
  }

  sectionFilter.addEventListener('change', () => render(true));
  authorFilter.addEventListener('change', () => render(true));

  return {
    element,
    list,
    setData(nextChanges, nextAuthors) {
      changes = nextChanges;
      authors = nextAuthors;
      fillFilters();
      render(true);
    },
    setVersion(v) {
      version = v;
      render();
    },
  };
}

module.exports = { createChangeList };

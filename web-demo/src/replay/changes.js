// "Who changed what": the history's ops grouped into changes — consecutive ops of one
// author on the same fields (a word typed key by key is one change) — each with its
// versions, time, author, the fields it touched and their sections, named from the
// catalogue ("Anliegen › Fristen › Frist 2 › Was").
const { GROUPS } = require('../sheet/layout');
const { fieldLabel, itemLabel } = require('../sheet/labels');
const { t } = require('../i18n');

// The field a component changes: a text edit changes the text, a list edit the item.
function componentPath(component) {
  const p = component.p || [];
  return 'si' in component || 'sd' in component ? p.slice(0, -1) : p;
}

// The paths an op changed; [] for the creation (the whole sheet), none for an empty op.
function changedPaths(entry) {
  if (entry.create || entry.del) return [[]];
  const seen = new Map();
  for (const component of entry.op || []) {
    const path = componentPath(component);
    seen.set(JSON.stringify(path), path);
  }
  return [...seen.values()];
}

// The section a path belongs to, as a path: ["concern"] or ["sections","debt"].
function sectionOf(path) {
  if (!path.length) return [];
  return GROUPS.includes(path[0]) && path.length > 1 ? path.slice(0, 2) : path.slice(0, 1);
}

function pathLabel(path) {
  if (!path.length) return t('replay.whole_sheet');
  const parts = [];
  path.forEach((step, i) => {
    const upTo = path.slice(0, i + 1);
    if (typeof step === 'number') parts.push(itemLabel(path.slice(0, i), step, 'team'));
    else if (!(i === 0 && GROUPS.includes(step) && path.length > 1)) parts.push(fieldLabel(upTo, 'team'));
  });
  return parts.join(' › ');
}

const sectionLabel = (section) => (section.length ? fieldLabel(section, 'team') : t('replay.whole_sheet'));

// Groups entries (in version order) into changes, continuing the last group of earlier
// calls: {first, last, ts, lastTs, author, paths, sections}. Empty ops (nothing the
// reader may see) make no change.
function createChangeLog() {
  const changes = [];
  function add(entries) {
    for (const entry of entries) {
      const paths = changedPaths(entry);
      if (!paths.length) continue;
      const key = JSON.stringify(paths);
      const authorId = entry.author ? entry.author.id : null;
      const previous = changes[changes.length - 1];
      if (previous && previous.key === key && previous.author && previous.author.id === authorId && previous.last === entry.v - 1) {
        previous.last = entry.v;
        previous.lastTs = entry.ts;
        continue;
      }
      const sections = [...new Map(paths.map((p) => [JSON.stringify(sectionOf(p)), sectionOf(p)])).values()];
      changes.push({ key, first: entry.v, last: entry.v, ts: entry.ts, lastTs: entry.ts, author: entry.author || null, paths, sections });
    }
  }
  return { add, all: () => changes };
}

module.exports = { createChangeLog, changedPaths, pathLabel, sectionLabel };

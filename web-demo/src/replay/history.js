// Loads a case's whole history page by page (GET /api/cases/{id}/history, following
// `next`) into memory once: the versions, the change log, the authors in order of their
// first change and the case's events, if the server sends any.
const { api } = require('../api');
const { createVersions } = require('./versions');
const { createChangeLog } = require('./changes');

// The version an event belongs to: its own when it has one, else the sheet's version at
// its time (the one the first op at or after it starts from).
function eventVersion(event, entries, latest) {
  if (Number.isInteger(event.v)) return event.v;
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (entries[mid].ts < event.ts) low = mid + 1;
    else high = mid;
  }
  return low < entries.length ? entries[low].v : latest;
}

// {v, ts, type, who} whatever names the server gives the fields.
function normaliseEvent(event, versions) {
  const person = event.principal || event.author || event.actor || null;
  return {
    v: eventVersion(event, versions.entries(), versions.latest()),
    ts: event.ts,
    type: String(event.type || event.kind || event.action || 'event').replace(/[^a-z0-9_]/gi, '_'),
    who: (person && person.name) || event.name || '',
  };
}

// onPage({loaded, done}) after each page; resolves with the loaded history.
async function loadHistory(caseId, onPage) {
  let page = await api.history(caseId, 0);
  const versions = createVersions(page.snapshot);
  const changes = createChangeLog();
  const authors = new Map();
  const rawEvents = [];
  const history = { versions, changes, authors: () => [...authors.values()], events: () => [] };
  for (;;) {
    const entries = page.ops || [];
    versions.add(entries);
    changes.add(entries);
    for (const entry of entries) if (entry.author && !authors.has(entry.author.id)) authors.set(entry.author.id, entry.author);
    if (Array.isArray(page.events)) rawEvents.push(...page.events);
    const done = page.next === null || page.next === undefined;
    history.events = () => rawEvents.map((e) => normaliseEvent(e, versions));
    onPage({ loaded: versions.latest(), done });
    if (done) return history;
    page = await api.history(caseId, page.next);
  }
}

module.exports = { loadHistory };

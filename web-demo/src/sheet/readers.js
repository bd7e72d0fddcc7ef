// "Wer sieht das?": who reads a part of the case sheet, as the hub computed it from the
// template's rules and the client's current consents (the case resource's `readers`,
// protocol/access.md, "Who reads a part"), never written by hand. A part is governed by
// the rule with the longest path that is a prefix of it; the line names each person of
// the case that reads it now (and how: free text hidden, names replaced), and those who
// would read it under a consent the client has not given.
const { h } = require('../dom');
const { t } = require('../i18n');

// The readers entry of the rule governing path: {path, readers}, or null.
function governing(readers, path) {
  let best = null;
  for (const entry of readers || []) {
    const p = entry.path || [];
    if (p.length > path.length || !p.every((step, i) => step === path[i])) continue;
    if (!best || p.length > best.path.length) best = entry;
  }
  return best;
}

// Whether path is itself a rule's path.
function isRulePath(readers, path) {
  const entry = governing(readers, path);
  return Boolean(entry && entry.path.length === path.length);
}

function consentText(consent) {
  if (consent.kind === 'share') return t('readers.consent.share', { specialty: t(`specialty.${consent.with}`) });
  return t(`readers.consent.${consent.kind}`);
}

// Who a reader is, for this page's person.
function whoText(reader, me, names) {
  if (reader.role === 'client') return me.role === 'client' ? t('readers.you') : t('readers.the_client');
  if (reader.id && reader.id === me.id) return t('readers.you');
  const name = names ? names.text(reader.id) : reader.name;
  const detail = reader.role === 'supervisor' ? t('role.supervisor')
    : reader.lead ? t('role.lead')
      : reader.specialty ? t(`specialty.${reader.specialty}`) : t('role.counsellor');
  return t('readers.person', { name: name || reader.name, detail });
}

function howText(reads) {
  return reads === 'free_text_hidden' ? t('readers.reads.hidden')
    : reads === 'names_replaced' ? t('readers.reads.names_replaced')
      : reads === 'pseudonym' ? t('readers.reads.pseudonym') : '';
}

function readerItem(reader, me, names) {
  const parts = [whoText(reader, me, names)];
  const how = howText(reader.reads);
  if (how) parts.push(` (${how})`);
  if (reader.consent && reader.reads !== 'nothing' && reader.consent.reads !== reader.reads) {
    parts.push(` – ${reader.consent.given
      ? t('readers.while', { consent: consentText(reader.consent) })
      : t('readers.with', { consent: consentText(reader.consent), how: howText(reader.consent.reads) || t('readers.reads.text') })}`);
  }
  if (reader.reads === 'nothing' && reader.consent) parts.push(` – ${t('readers.if', { consent: consentText(reader.consent) })}`);
  return h(
    'li',
    { class: 'reader', dataset: { reader: reader.id || reader.role, reads: reader.reads } },
    parts.join(''),
  );
}

// The line for path (its governing rule's readers), or null when the hub said nothing.
function readersLine(readers, path, me, names) {
  const entry = governing(readers, path);
  if (!entry) return null;
  const now = entry.readers.filter((r) => r.reads !== 'nothing');
  const later = entry.readers.filter((r) => r.reads === 'nothing');
  return h(
    'div',
    { class: 'readers', dataset: { readersFor: JSON.stringify(entry.path) } },
    h('span', { class: 'readers-label' }, t('readers.title')),
    h('ul', { class: 'readers-now' }, now.length ? now.map((r) => readerItem(r, me, names)) : h('li', {}, t('readers.nobody'))),
    later.length ? h('ul', { class: 'readers-later' }, later.map((r) => readerItem(r, me, names))) : null,
  );
}

// Whether the client's supervision consent stands, as the readers say of supervisor id.
function supervisionConsent(readers, id) {
  for (const entry of readers || []) {
    const r = entry.readers.find((x) => x.id === id && x.consent && x.consent.kind === 'supervision');
    if (r) return Boolean(r.consent.given);
  }
  return false;
}

module.exports = { readersLine, isRulePath, governing, supervisionConsent };

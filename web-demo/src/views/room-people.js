// Presence in the room: one entry per person (name, role, specialty as the hub stamped
// them, the field each of their tabs is in, and what this page may do about them), the
// people who have gone (with the time), a name badge at the field each person is in, and
// their caret inside text fields. Each person keeps one colour (live/people.js).
const { h } = require('../dom');
const { t } = require('../i18n');
const { fieldLabel } = require('../sheet/labels');
const { drawCarets } = require('../sheet/carets');
const { personName, formatTime } = require('../format');

// A client's name is its own choice (name_self_chosen): the people list says so (full);
// a supervisor is told the pseudonym instead (the hub decides which: access.md, "Names").
function describe(identity, fallbackId) {
  const who = identity || {};
  const name = personName(who.name || who.display_name) || who.id || fallbackId || t('presence.unknown');
  const own = who.name_self_chosen && name === who.name;   /* not the default "Klient:in" */
  const full = own ? t('name.self_chosen', { name }) : name;
  const role = who.role ? t(`role.${who.role}`) : '';
  const specialty = who.specialty ? t(`specialty.${who.specialty}`) : '';
  return { name, full, detail: [role, specialty].filter(Boolean).join(' · ') };
}

// Where someone is, named only when this page shows that place itself.
function whereText(places, audience, shows) {
  const shown = places.filter((p) => p.path && p.path.length && shows(p.path));
  if (!shown.length) return t('presence.looking');
  const fields = [...new Set(shown.map((p) => fieldLabel(p.path, audience)))];
  return t('presence.in', { field: fields.join(', ') });
}

// actionsFor(person): what this page may do about a person present (buttons), or null.
function renderPeople({ me, people, audience, shows, actionsFor }) {
  const meDetail = [t(`role.${me.role}`), me.specialty ? t(`specialty.${me.specialty}`) : ''].filter(Boolean).join(' · ');
  const items = [
    h('li', { class: 'person is-me' }, h('span', { class: `person-dot tone-${people.meTone}`, 'aria-hidden': 'true' }), h('span', { class: 'person-name' }, t('presence.you', { name: personName(me.name) || me.id })), h('span', { class: 'person-detail' }, meDetail)),
    ...people.present.map((person) => {
      const d = describe(person.identity, person.key);
      return h(
        'li',
        { class: 'person', dataset: { person: person.key } },
        h('span', { class: `person-dot tone-${person.tone}`, 'aria-hidden': 'true' }),
        h('span', { class: 'person-name' }, d.full),
        d.detail ? h('span', { class: 'person-detail' }, d.detail) : null,
        h('span', { class: 'person-where' }, whereText(person.places, audience, shows)),
        actionsFor ? actionsFor(person, d.name) : null,
      );
    }),
    ...people.away.map((person) => {
      const d = describe(person.identity, person.key);
      return h(
        'li',
        { class: 'person is-away', dataset: { person: person.key } },
        h('span', { class: 'person-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'person-name' }, d.full),
        h('span', { class: 'person-where' }, t('presence.away', { time: formatTime(person.at) })),
      );
    }),
  ];
  return h(
    'section',
    { class: ['people', 'card-flat', people.stale && 'is-stale'], 'aria-labelledby': 'people-title' },
    h('h2', { id: 'people-title' }, t('presence.title', { count: people.present.length + 1 })),
    people.stale ? h('p', { class: 'muted small' }, t('presence.offline')) : null,
    h('ul', { class: 'people-list' }, items),
  );
}

// Puts a name badge at the field each other person is in, and their carets in text.
function markFields(container, form, people) {
  for (const badge of container.querySelectorAll('.presence-badge')) badge.remove();
  const carets = [];
  for (const person of people.present) {
    const d = describe(person.identity, person.key);
    const badged = new Set();
    for (const place of person.places) {
      if (!place.path || !form.shows(place.path)) continue;
      if (place.index !== null && place.index !== undefined) carets.push({ ...place, tone: person.tone, name: d.name });
      const key = JSON.stringify(place.path);
      if (badged.has(key)) continue;
      badged.add(key);
      const target = form.elementFor(place.path);
      const slot = target && target.querySelector('.presence-slot');
      if (!slot) continue;
      slot.append(h('span', { class: `presence-badge tone-${person.tone}`, title: d.detail || d.name }, d.name));
    }
  }
  drawCarets(container, carets);
}

module.exports = { renderPeople, markFields };

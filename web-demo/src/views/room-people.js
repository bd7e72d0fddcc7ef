// Presence in the room: the list of people (name, role, specialty as the hub stamped
// them, falling back to what is known) with the field each one is in, and a name badge
// at that field in the form.
const { h } = require('../dom');
const { t } = require('../i18n');
const { fieldLabel } = require('../sheet/labels');

const TONES = 6;

// The same colour for the same person on every page (FNV-1a of the id).
function tone(key) {
  let hash = 0x811c9dc5;
  for (const ch of String(key)) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `tone-${hash % TONES}`;
}

function describe(person) {
  const who = person.identity || {};
  const name = who.name || who.display_name || who.id || t('presence.unknown');
  const role = who.role ? t(`role.${who.role}`) : '';
  const specialty = who.specialty ? t(`specialty.${who.specialty}`) : '';
  return { name, detail: [role, specialty].filter(Boolean).join(' · '), key: who.id || person.id };
}

// Where someone is, named only when this page shows that place itself.
function whereText(path, audience, shows) {
  return path && path.length && shows(path) ? t('presence.in', { field: fieldLabel(path, audience) }) : t('presence.looking');
}

function renderPeople({ me, others, audience, shows }) {
  const meDetail = [t(`role.${me.role}`), me.specialty ? t(`specialty.${me.specialty}`) : ''].filter(Boolean).join(' · ');
  const items = [
    h('li', { class: 'person is-me' }, h('span', { class: `person-dot ${tone(me.id)}`, 'aria-hidden': 'true' }), h('span', { class: 'person-name' }, t('presence.you', { name: me.name || me.id })), h('span', { class: 'person-detail' }, meDetail)),
    ...others.map((person) => {
      const d = describe(person);
      return h(
        'li',
        { class: 'person', dataset: { presenceId: person.id } },
        h('span', { class: `person-dot ${tone(d.key)}`, 'aria-hidden': 'true' }),
        h('span', { class: 'person-name' }, d.name),
        d.detail ? h('span', { class: 'person-detail' }, d.detail) : null,
        h('span', { class: 'person-where' }, whereText(person.path, audience, shows)),
      );
    }),
  ];
  return h(
    'section',
    { class: 'people card-flat', 'aria-labelledby': 'people-title' },
    h('h2', { id: 'people-title' }, t('presence.title', { count: others.length + 1 })),
    h('ul', { class: 'people-list' }, items),
  );
}

// Puts a name badge at the field each other person is in.
function markFields(container, form, others) {
  for (const badge of container.querySelectorAll('.presence-badge')) badge.remove();
  for (const person of others) {
    if (!person.path || !form.shows(person.path)) continue;
    const target = form.elementFor(person.path);
    const slot = target && target.querySelector('.presence-slot');
    if (!slot) continue;
    const d = describe(person);
    slot.append(h('span', { class: `presence-badge ${tone(d.key)}`, title: d.detail || d.name }, d.name));
  }
}

module.exports = { renderPeople, markFields };

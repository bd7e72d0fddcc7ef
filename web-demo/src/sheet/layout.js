// How the case sheet's shape becomes a form: which text fields are long, which values are
// choices, what a new list item holds, which fields are filled in automatically, and
// which groups hold sections of their own. Patterns are key paths without list indices
// ("help_plan.tasks.what"); "*" stands for any one key.

const { withoutStamps } = require('./stamps');

const GROUPS = ['sections'];

const LONG_TEXT = [
  'concern.own_words', 'situation.summary', 'situation.resources', 'situation.assessment',
  'sections.*.client_summary', 'sections.*.cause', 'sections.*.strategy', 'sections.*.assessment',
  'sections.*.situation', 'sections.*.custody', 'sections.*.treatment', 'sections.*.goal',
  'sections.*.notes.text', 'internal.*.text', 'internal.*.note', 'internal.case_conference.result',
  'person.address', 'meta.closure.reason', 'help_plan.goals.goal',
  'budget.notes', 'assessment.strategy', 'assessment.notes', 'review.*', 'reports.*',
  'agreement.client_comment',
];

const CHOICES = {
  'meta.status': ['erstkontakt', 'aktiv', 'ruhend', 'abgeschlossen', 'gesperrt'],
  'meta.retention.class': ['standard', 'extended', 'legal_hold'],
  'consents.type': ['processing', 'specialisation_access', 'external_release', 'supervision', 'recording', 'handover', 'tool_sharing', 'revocation'],
  'consents.kind': ['share', 'supervision', 'processing', 'release'],
  'consents.status': ['given', 'revoked'],
  'consents.how': ['self', 'in_person', 'paper', 'phone'],
  'appointments.mode': ['vor_ort', 'video', 'telefon', 'chat'],
  'appointments.status': ['gebucht', 'verschoben', 'abgesagt', 'stattgefunden'],
  'documents.list.status': ['fehlt', 'vorhanden', 'geprueft', 'gesendet'],
  'internal.risk.level': ['niedrig', 'mittel', 'hoch', 'akut'],
};

// A person who owns something, chosen from the team (the hub checks it): set whole, never
// typed.
const OWNERS = ['help_plan.tasks.owner'];

// Values that start as null: what they hold once set.
const NULLABLE = {
  'person.household.adults': 'number',
  'person.household.single_parent': 'boolean',
  'assessment.over_indebted': 'boolean',
  'agreement.client_agrees': 'boolean',
};

// Values that hold a calendar day ("YYYY-MM-DD"), a day and time ("YYYY-MM-DDTHH:MM", local)
// or a month ("YYYY-MM"): edited with the browser's date controls.
const DATES = {
  date: [
    'person.date_of_birth', 'concern.deadlines.date', 'help_plan.tasks.due', 'help_plan.next_review',
    'meta.closure.closed_at', 'meta.retention.delete_after', 'sections.debt.certificates.issued',
    'sections.social_law.applications.applied_on', 'sections.social_law.notices.date',
    'sections.social_law.notices.received', 'sections.social_law.notices.objection_deadline',
    'sections.migration.residence.expires', 'sections.housing.eviction.notice_date',
    'sections.housing.eviction.eviction_date', 'internal.case_conference.date',
    'meta.first_contact', 'meta.period.begin', 'meta.period.end', 'account.p_konto_certificate',
    'goals.by', 'help_plan.measures.until',
  ],
  'datetime-local': ['appointments.start'],
  month: ['sections.housing.rent_arrears.month'],
};
const DATE_PATTERNS = { date: /^\d{4}-\d{2}-\d{2}$/, 'datetime-local': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, month: /^\d{4}-\d{2}$/ };

// Moments the sheet records (times of notes, messages, creation): shown in local time.
const MOMENTS = ['*.at', '*.created_at', 'meta.created_at'];

// Filled in by the server when an item is created (the template's stamps; stamps.js):
// shown, not edited.
const AUTOMATIC = ['*.author', '*.at', '*.from', '*.given_by', '*.from_role', '*.recorded_by', '*.created_by', '*.created_at', 'consents.how'];

// Fields a client's page leaves out: bookkeeping that means nothing to them.
const CLIENT_OMITS = ['meta.case_id', 'meta.created_at', 'meta.channels'];

const note = () => ({ text: '' });

// A fresh item for the list at a key path, without the fields the server stamps
// (stamps.js); ctx = {role, template}.
const ITEMS = {
  'concern.topics': () => '',
  'concern.deadlines': () => ({ what: '', date: '', source: '' }),
  'consents': (ctx) => (ctx.role === 'client'
    ? { kind: 'processing', status: 'given', note: '' }
    : { kind: 'processing', status: 'given', how: 'in_person', note: '' }),
  'appointments': () => ({ start: '', mode: 'vor_ort', place: '', status: 'gebucht' }),
  'help_plan.goals': () => ({ goal: '', owner: '' }),
  'help_plan.tasks': () => ({ what: '', owner: '', due: '', done: false }),
  'documents.list': () => ({ title: '', status: 'fehlt' }),
  'documents.checklist': () => ({ what: '', done: false }),
  'person.household.children': () => ({ age_bracket: '' }),
  'meta.specialisations': () => '',
  'meta.channels': () => '',
  'meta.closure.goals_reached': () => '',
  'sections.debt.budget.income': () => ({ what: '', amount: '' }),
  'sections.debt.budget.expenses': () => ({ what: '', amount: '' }),
  'sections.debt.creditors': () => ({ creditor: '', claim: '', amount: '' }),
  'sections.debt.certificates': () => ({ kind: '', issued: '' }),
  'sections.social_law.benefits': () => ({ benefit: '', authority: '' }),
  'sections.social_law.applications': () => ({ benefit: '', authority: '', file_number: '', applied_on: '', status: '' }),
  'sections.social_law.notices': () => ({ date: '', received: '', objection_deadline: '', objection_filed: false }),
  'sections.housing.rent_arrears': () => ({ month: '', amount: '' }),
  'sections.family.children': () => ({ age_bracket: '' }),
  'sections.family.child_welfare': () => ({ concern: '' }),
  'sections.addiction.substances': () => ({ substance: '', pattern: '' }),
  'sections.*.notes': note,
  'internal.notes': note,
  'internal.risk': () => ({ kind: '', level: 'niedrig', note: '' }),
  'internal.case_conference': () => ({ date: '', result: '' }),
  'chat': () => ({ text: '' }),
  // the debt-counselling intake and the help-plan review
  'concern.urgent': () => ({ what: '', date: '', source: '' }),
  'budget.income': () => ({ what: '', amount: '' }),
  'budget.expenses': () => ({ what: '', amount: '' }),
  'creditors': () => ({ creditor: '', claim: '', amount: '', title: false }),
  'review.previous_goals': () => ({ goal: '', reached: '', evidence: '' }),
  'goals': () => ({ goal: '', indicator: '', by: '' }),
  'help_plan.measures': () => ({ measure: '', who: '', until: '' }),
  'meta.present': () => '',
};

function matches(pattern, keys) {
  const parts = pattern.split('.');
  if (parts[0] === '*' && parts.length < keys.length) {
    return matches(parts.slice(1).join('.'), keys.slice(keys.length - parts.length + 1));
  }
  return parts.length === keys.length && parts.every((part, i) => part === '*' || part === keys[i]);
}

function find(table, keyPath) {
  const keys = keyPath.split('.');
  return Object.keys(table).find((pattern) => matches(pattern, keys));
}
const listed = (patterns, keyPath) => patterns.some((p) => matches(p, keyPath.split('.')));

const isLongText = (keyPath) => listed(LONG_TEXT, keyPath);
const choicesFor = (keyPath) => CHOICES[find(CHOICES, keyPath)] || null;
const nullableKind = (keyPath) => NULLABLE[find(NULLABLE, keyPath)] || null;
const isAutomatic = (keyPath) => listed(AUTOMATIC, keyPath);
const isOwner = (keyPath) => listed(OWNERS, keyPath);
const clientOmits = (keyPath) => listed(CLIENT_OMITS, keyPath);
const dateKind = (keyPath) => Object.keys(DATES).find((kind) => listed(DATES[kind], keyPath)) || null;
// Whether value can be shown in a date control of that kind ('' is an empty one).
const fitsDate = (kind, value) => value === '' || DATE_PATTERNS[kind].test(value);
const isMoment = (keyPath) => listed(MOMENTS, keyPath);

// A new item for a list: its own shape when known, else one like the items it already
// has with every value emptied, else a text; never with the fields the server stamps.
function newItem(keyPath, items, ctx) {
  const factory = ITEMS[find(ITEMS, keyPath)];
  const template = ctx && ctx.template;
  const role = ctx && ctx.role;
  if (factory) return withoutStamps(template, keyPath, role, factory(ctx || {}));
  if (items.length && items[0] !== null && typeof items[0] === 'object' && !Array.isArray(items[0])) {
    const like = Object.fromEntries(Object.entries(items[0]).map(([k, v]) => [k, emptyLike(v)]));
    return withoutStamps(template, keyPath, role, like);
  }
  return '';
}

function emptyLike(value) {
  if (typeof value === 'string') return '';
  if (typeof value === 'boolean') return false;
  if (typeof value === 'number') return 0;
  if (Array.isArray(value)) return [];
  return value === null ? null : {};
}

module.exports = { GROUPS, isLongText, choicesFor, nullableKind, isAutomatic, isOwner, clientOmits, dateKind, fitsDate, isMoment, newItem };

// What the server fills in (protocol/access.md, "Stamped fields"): the fields of list
// items named by the template's `stamps`, and a consent record's given_by, recorded_by
// and at (and how, when the client records it). A page leaves them out of the items it
// adds — the hub refuses an item that sets one — and shows them as the server set them.
// `declarations` is the case resource's template: {stamps, consents}.

// Whether a stamp's path pattern (object keys, "*" for any one key) names the list at
// keys (the list's key path as an array).
function names(pattern, keys) {
  return pattern.length === keys.length && pattern.every((step, i) => step === '*' || step === keys[i]);
}

const CONSENT_STAMPS = ['given_by', 'recorded_by', 'at'];

// The stamped fields of the items of the list at keyPath ("help_plan.tasks"); role: the
// author's (a client's consent records also get `how`).
function stampedFields(declarations, keyPath, role) {
  const keys = keyPath.split('.');
  const d = declarations || {};
  if (d.consents && Array.isArray(d.consents.path) && names(d.consents.path, keys)) {
    return role === 'client' ? [...CONSENT_STAMPS, 'how'] : CONSENT_STAMPS;
  }
  const stamp = (d.stamps || []).find((s) => Array.isArray(s.path) && names(s.path, keys));
  return stamp ? Object.keys(stamp.fields || {}) : [];
}

// Whether the field at keyPath ("chat.from") is one the server fills.
function isStamped(declarations, keyPath) {
  const keys = keyPath.split('.');
  const field = keys.pop();
  return stampedFields(declarations, keys.join('.'), 'counsellor').includes(field) ||
    (field === 'how' && stampedFields(declarations, keys.join('.'), 'client').includes('how'));
}

// item without the fields the server fills.
function withoutStamps(declarations, keyPath, role, item) {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
  const out = { ...item };
  for (const field of stampedFields(declarations, keyPath, role)) delete out[field];
  return out;
}

// Whether the list at keyPath is the case's consent list.
function isConsentList(declarations, keyPath) {
  const d = declarations || {};
  return Boolean(d.consents && Array.isArray(d.consents.path) && d.consents.path.join('.') === keyPath);
}

module.exports = { stampedFields, isStamped, withoutStamps, isConsentList };

// Labels for the case sheet from the catalogue, keyed by key path ("field.help_plan.tasks.what").
// A client's page first looks for a plain-language entry ("client.field.…"); a key the
// catalogue lacks is shown as a readable form of the key itself.
const { t, has } = require('../i18n');
const { keyPath } = require('./paths');
const { GROUPS } = require('./layout');

function humanise(key) {
  const words = String(key).replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// Catalogue keys to try, most specific first: the key path itself; with the group's
// member as "*" ("sections.*.notes" for every specialty); "*.<key>" for keys that mean
// the same everywhere ("*.author").
function candidates(kp) {
  const keys = kp.split('.');
  const out = [kp];
  if (keys.length >= 2 && GROUPS.includes(keys[0])) out.push([keys[0], '*', ...keys.slice(2)].join('.'));
  if (keys.length > 1) out.push(`*.${keys[keys.length - 1]}`);
  return out;
}

function entry(kind, path, audience) {
  const prefixes = audience === 'client' ? [`client.${kind}`, kind] : [kind];
  for (const prefix of prefixes) {
    for (const kp of candidates(keyPath(path))) if (has(`${prefix}.${kp}`)) return t(`${prefix}.${kp}`);
  }
  return null;
}

function fieldLabel(path, audience) {
  const last = path.filter((step) => typeof step === 'string').pop();
  return entry('field', path, audience) || humanise(last === undefined ? '' : last);
}

// "Task 3" for the third item of help_plan.tasks.
function itemLabel(listPath, index, audience) {
  const prefixes = audience === 'client' ? ['client.item', 'item'] : ['item'];
  for (const prefix of prefixes) {
    for (const kp of candidates(keyPath(listPath))) if (has(`${prefix}.${kp}`)) return t(`${prefix}.${kp}`, { n: index + 1 });
  }
  return t('item.default', { n: index + 1 });
}

const hint = (path, audience) => entry('hint', path, audience);

function choiceLabel(path, value) {
  const key = `choice.${keyPath(path)}.${value}`;
  return has(key) ? t(key) : humanise(value);
}

module.exports = { fieldLabel, itemLabel, hint, choiceLabel };

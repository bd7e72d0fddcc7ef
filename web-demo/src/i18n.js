// The interface language: every string comes from one catalogue per language
// (src/i18n/<code>.json, bundled by build.js). Which one: the join link's ?lang= (a
// counsellor can hand out a link in the client's language), else the language the person
// chose in the menu (kept in this browser), else the first of the browser's languages
// (navigator.languages) that has a catalogue, matched exactly or by its primary subtag
// ("ar-SY" → "ar"), else German. Choosing in the menu drops ?lang= from the address, so
// the choice holds on reload. The catalogue's own "language" entry sets <html lang> and
// dir, so a right-to-left language needs nothing but its file; its "locale" is what Intl
// formats dates and plurals with (Leichte Sprache, "de-x-ls", formats as German).
//
// Plurals: a key used with a count has one entry per plural category of its language
// (Intl.PluralRules: "one"/"other" in German, "zero"…"other" in Arabic), as "key.one",
// "key.other", …; tn() picks the entry.
const catalogues = require('konsil:catalogues');

const DEFAULT_LANGUAGE = 'de';
const STORAGE_KEY = 'konsil.lang';
let current = DEFAULT_LANGUAGE;

function storedChoice() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch (e) {
    return null;
  }
}

// The catalogue for a BCP 47 tag, exact or by its primary subtag; null when none fits.
function match(tag) {
  if (!tag) return null;
  if (catalogues[tag]) return tag;
  const lower = String(tag).toLowerCase();
  const exact = Object.keys(catalogues).find((code) => code.toLowerCase() === lower);
  if (exact) return exact;
  const primary = lower.split('-')[0];
  return catalogues[primary] ? primary : null;
}

function chooseLanguage(browserLanguages = navigator.languages || [navigator.language]) {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked && catalogues[asked]) return asked;
  const stored = storedChoice();
  if (stored && catalogues[stored]) return stored;
  for (const tag of browserLanguages) {
    const code = match(tag);
    if (code) return code;
  }
  return DEFAULT_LANGUAGE;
}

function apply(code) {
  current = catalogues[code] ? code : DEFAULT_LANGUAGE;
  const info = catalogues[current].language;
  document.documentElement.lang = info.code;
  document.documentElement.dir = info.dir;
  document.title = t('app.name');
}

// The language the page starts in (not remembered: only a choice in the menu is).
function setLanguage(code) {
  apply(code);
}

// The person chose a language: remembered, and the link's ?lang= no longer decides.
function chooseLanguageExplicitly(code) {
  apply(code);
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch (e) {
    // Private windows may refuse storage; the choice then lasts for this page.
  }
  const params = new URLSearchParams(location.search);
  if (params.has('lang')) {
    params.delete('lang');
    const query = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
  }
}

function lookup(code, key) {
  const entry = catalogues[code] && catalogues[code][key];
  return typeof entry === 'string' ? entry : undefined;
}

function has(key) {
  return lookup(current, key) !== undefined;
}

const fill = (text, params) =>
  params ? text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m)) : text;

// The text for key with {name} placeholders filled; the default language stands in for
// a missing entry, and the key itself when both lack it (visible, never silent).
function t(key, params) {
  return fill(lookup(current, key) ?? lookup(DEFAULT_LANGUAGE, key) ?? key, params);
}

// Intl's locale for the current catalogue.
const locale = () => catalogues[current].language.locale || catalogues[current].language.code;

// The plural entry of key for count ({count} is filled in, with params).
function tn(key, count, params) {
  let category = 'other';
  try {
    category = new Intl.PluralRules(locale()).select(count);
  } catch (e) {
    category = count === 1 ? 'one' : 'other';
  }
  const all = { count: new Intl.NumberFormat(locale()).format(count), ...params };
  const text = lookup(current, `${key}.${category}`) ?? lookup(current, `${key}.other`);
  if (text !== undefined) return fill(text, all);
  return t(`${key}.${count === 1 ? 'one' : 'other'}`, all);
}

function languages() {
  return Object.keys(catalogues).map((code) => ({ code, name: catalogues[code].language.name, tag: catalogues[code].language.code }));
}

const language = () => current;

module.exports = { chooseLanguage, setLanguage, chooseLanguageExplicitly, t, tn, has, languages, language, locale, match };

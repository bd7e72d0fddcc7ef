// The interface language: every string comes from one catalogue per language
// (src/i18n/<code>.json, bundled by build.js). German unless ?lang= or an earlier choice
// says otherwise; the catalogue's own "language" entry sets <html lang> and dir, so a
// right-to-left language needs nothing but its file.
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

function chooseLanguage() {
  const asked = new URLSearchParams(location.search).get('lang');
  for (const code of [asked, storedChoice()]) {
    if (code && catalogues[code]) return code;
  }
  return DEFAULT_LANGUAGE;
}

function setLanguage(code) {
  current = catalogues[code] ? code : DEFAULT_LANGUAGE;
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch (e) {
    // Private windows may refuse storage; the choice then lasts for this page.
  }
  const info = catalogues[current].language;
  document.documentElement.lang = info.code;
  document.documentElement.dir = info.dir;
  document.title = t('app.name');
}

function lookup(code, key) {
  const entry = catalogues[code] && catalogues[code][key];
  return typeof entry === 'string' ? entry : undefined;
}

function has(key) {
  return lookup(current, key) !== undefined;
}

// The text for key with {name} placeholders filled; the default language stands in for
// a missing entry, and the key itself when both lack it (visible, never silent).
function t(key, params) {
  const text = lookup(current, key) ?? lookup(DEFAULT_LANGUAGE, key) ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

function languages() {
  return Object.keys(catalogues).map((code) => ({ code, name: catalogues[code].language.name }));
}

const language = () => current;

module.exports = { chooseLanguage, setLanguage, t, has, languages, language };

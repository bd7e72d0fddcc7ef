// The addresses of the join links this tab made, so that "copy" still works after the
// session page was left or reloaded. The hub keeps only a hash of a link's token (it can
// never show a link again), so the address lives here: in this tab's sessionStorage, per
// account, gone when the tab closes or the person logs out. A link made elsewhere can be
// replaced by a new one with the same settings instead (session-admin.js).
const KEY = 'konsil.links';

function read() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || '{}') || {};
  } catch (e) {
    return {};
  }
}

function write(all) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(all));
  } catch (e) {
    // Storage refused: the address then lasts as long as the page.
  }
}

const memory = new Map();
const keyOf = (account, linkId) => `${account}\u0000${linkId}`;

function rememberLink(account, linkId, url) {
  memory.set(keyOf(account, linkId), url);
  const all = read();
  all[keyOf(account, linkId)] = url;
  write(all);
}

function recallLink(account, linkId) {
  return memory.get(keyOf(account, linkId)) || read()[keyOf(account, linkId)] || null;
}

function forgetLinks() {
  memory.clear();
  try {
    sessionStorage.removeItem(KEY);
  } catch (e) {
    // nothing kept
  }
}

module.exports = { rememberLink, recallLink, forgetLinks };

// Who is using the page: GET /api/me (null when nobody is logged in), and whether that
// person leads a given session. The answer is remembered (for a client only as long as
// its tab, unless it keeps its edits on the device: live/seal.js), so a page opened with
// no network still knows whose kept case sheet it may show; logging out forgets it.
const { api } = require('./api');
const { keepsOnDevice } = require('./live/seal');

const KEY = 'konsil.me';

function storages() {
  try {
    return [localStorage, sessionStorage];
  } catch (e) {
    return [];
  }
}

function remember(me) {
  for (const s of storages()) s.removeItem(KEY);
  if (!me) return;
  const target = me.role !== 'client' || keepsOnDevice() ? localStorage : sessionStorage;
  try {
    target.setItem(KEY, JSON.stringify(me));
  } catch (e) {
    // Storage refused: the page then needs the network to open.
  }
}

function remembered() {
  for (const s of storages()) {
    try {
      const me = JSON.parse(s.getItem(KEY) || 'null');
      if (me && me.id) return me;
    } catch (e) {
      // unreadable: ignore
    }
  }
  return null;
}

async function resolvePrincipal() {
  try {
    const me = await api.me();
    remember(me);
    return me;
  } catch (e) {
    if (e.status === 401) {
      remember(null);
      return null;
    }
    // No network: the page works from what it kept for the last person here.
    if (e.status === 0) {
      const me = remembered();
      if (me) return { ...me, offline: true };
    }
    throw e;
  }
}

const forgetPrincipal = () => remember(null);

// Whether me leads the session (the session resource's `lead` is the lead's id).
const leads = (session, me) => Boolean(session && me && session.lead === me.id);

module.exports = { resolvePrincipal, forgetPrincipal, remember, leads };

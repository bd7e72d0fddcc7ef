// Who is using the page: GET /api/me (null when nobody is logged in), and whether that
// person leads a given session.
const { api } = require('./api');

async function resolvePrincipal() {
  try {
    return await api.me();
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

// Whether me leads the session (the session resource's `lead` is the lead's id).
const leads = (session, me) => Boolean(session && me && session.lead === me.id);

module.exports = { resolvePrincipal, leads };

// The hub's REST API (DESIGN.md, "HTTP"): JSON in and out, the session cookie sent by the
// browser. Errors come back as ApiError with the HTTP status and the server's
// {error: {code, message}}.

class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

async function request(method, url, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  // The server refuses a request that changes something unless it says it is JSON
  // (protocol/http-api.md, "Cross-site requests"), body or not.
  if (method !== 'GET') init.headers['Content-Type'] = 'application/json';
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code, error.message);
  }
  return { status: response.status, data };
}

const data = (promise) => promise.then((r) => r.data);
const path = (...parts) => parts.map(encodeURIComponent).join('/');

const api = {
  // second: {totp} or {recovery_code} when the account logs in with a second factor.
  login: (username, password, second) => data(request('POST', '/api/login', { username, password, ...(second || {}) })),
  // A second factor set up before the first login that needs it: {secret, uri, digits, period}.
  totpSetupAtLogin: (username, password) => data(request('POST', '/api/login/totp', { username, password })),
  logout: () => data(request('POST', '/api/logout')),
  me: () => data(request('GET', '/api/me')),
  // {cases: [case]}: mine, newest first, each with my_role and next_meeting.
  cases: () => data(request('GET', '/api/cases')),
  // The case with its team, sessions and the template's rules.
  case: (id) => data(request('GET', `/api/cases/${path(id)}`)),
  createCase: (title, template) => data(request('POST', '/api/cases', { title, template })),
  startSession: (caseId) => data(request('POST', `/api/cases/${path(caseId)}/sessions`)),
  closeCase: (caseId) => data(request('POST', `/api/cases/${path(caseId)}/close`)),
  // role: 'counsellor' or 'supervisor' (the hub adds only an account of that role).
  addMember: (caseId, username, role) => data(request('POST', `/api/cases/${path(caseId)}/team`, { username, role })),
  removeMember: (caseId, userId) => data(request('DELETE', `/api/cases/${path(caseId)}/team/${path(userId)}`)),
  handOverLead: (caseId, userId) => data(request('POST', `/api/cases/${path(caseId)}/lead`, { user_id: userId })),
  // Retention (protocol/retention.md): the class while open, "still active", legal holds,
  // restriction (Art. 18), erasure on request (asked, confirmed by a second person).
  setRetentionClass: (caseId, name) => data(request('POST', `/api/cases/${path(caseId)}/retention`, { class: name })),
  keepCase: (caseId) => data(request('POST', `/api/cases/${path(caseId)}/keep`)),
  setHold: (caseId, reason, until) => data(request('POST', `/api/cases/${path(caseId)}/holds`, { reason, until: until || undefined })),
  liftHold: (caseId, holdId, reason) => data(request('POST', `/api/cases/${path(caseId)}/holds/${path(holdId)}/lift`, { reason })),
  restrict: (caseId, reason) => data(request('POST', `/api/cases/${path(caseId)}/restrict`, { reason })),
  unrestrict: (caseId, reason) => data(request('POST', `/api/cases/${path(caseId)}/unrestrict`, { reason })),
  requestErasure: (caseId, reason) => data(request('POST', `/api/cases/${path(caseId)}/erasure`, { reason })),
  confirmErasure: (caseId, requestId) => data(request('POST', `/api/cases/${path(caseId)}/erasure/${path(requestId)}/confirm`)),
  cancelErasure: (caseId, requestId) => data(request('POST', `/api/cases/${path(caseId)}/erasure/${path(requestId)}/cancel`)),
  // The officer's view (admins): cases by deletion date, holds, restrictions, erasures.
  officer: () => data(request('GET', '/api/admin/retention')),
  // The client's own copy (Art. 15): its own, or one a counsellor takes on its behalf.
  myCopy: () => data(request('GET', '/api/me/copy')),
  clientCopy: (caseId, clientId) => data(request('GET', `/api/cases/${path(caseId)}/clients/${path(clientId)}/copy`)),
  // The case sheet as a client of the case reads it, for printing.
  clientView: (caseId) => data(request('GET', `/api/cases/${path(caseId)}/client-view`)),
  // {templates: [{name, version, title, description}]}
  templates: () => data(request('GET', '/api/templates')),
  // {tasks: [{case_id, case_title, index, what, due, done, overdue}]}
  myTasks: () => data(request('GET', '/api/me/tasks')),
  sessions: () => data(request('GET', '/api/sessions')),
  session: (id) => data(request('GET', `/api/sessions/${path(id)}`)),
  endSession: (id) => data(request('POST', `/api/sessions/${path(id)}/end`)),
  // {id, token, url, expires_at, lobby, max_uses, lang}; maxUses null: no limit, lang null: none.
  createLink: (id, { expiresIn, lobby, maxUses, lang }) =>
    data(request('POST', `/api/sessions/${path(id)}/links`, { expires_in_s: expiresIn, lobby, max_uses: maxUses, lang })),
  // {links: [{id, created_at, created_by, created_by_name, expires_at, max_uses, uses, lobby, lang, revoked_at, status, clients, joined}]}
  links: (id) => data(request('GET', `/api/sessions/${path(id)}/links`)),
  // endClients: also end the meeting for the clients who came through the link.
  revokeLink: (id, linkId, endClients) =>
    data(request('DELETE', `/api/sessions/${path(id)}/links/${path(linkId)}${endClients ? '?end_clients=true' : ''}`)),
  removeClient: (id, clientId) => data(request('DELETE', `/api/sessions/${path(id)}/clients/${path(clientId)}`)),
  lobby: (id) => data(request('GET', `/api/sessions/${path(id)}/lobby`)),
  admit: (id, clientId) => data(request('POST', `/api/sessions/${path(id)}/lobby/${path(clientId)}/admit`)),
  decline: (id, clientId) => data(request('POST', `/api/sessions/${path(id)}/lobby/${path(clientId)}/decline`)),
  // One page of a case's history: {snapshot: {v, data}, ops, next, events, sessions}.
  history: (caseId, from) => data(request('GET', `/api/cases/${path(caseId)}/history?from=${from}`)),
  // 200 {session_id, role} when in, 202 {session_id, status: "waiting"} in a lobby.
  join: (token, displayName) => request('POST', '/api/join', { token, display_name: displayName || undefined }),
  // {session_id, status: "waiting" | "admitted" | "ended"}; 401 once declined.
  joinStatus: () => data(request('GET', '/api/join/status')),
  // My second factor: {enabled, enabled_at, pending, recovery_codes_left, required, available}.
  myTotp: () => data(request('GET', '/api/me/totp')),
  myTotpSetup: () => data(request('POST', '/api/me/totp')),
  // {recovery_codes}: shown once.
  myTotpConfirm: (code) => data(request('POST', '/api/me/totp/confirm', { code })),
  myTotpDisable: (code) => data(request('POST', '/api/me/totp/disable', { code })),
  myRecoveryCodes: (code) => data(request('POST', '/api/me/recovery-codes', { code })),
  // Accounts, for admins: {users: [user]}.
  users: () => data(request('GET', '/api/users')),
  // {user, link: {id, token, url, expires_at}}: the link is shown this once.
  createUser: (user) => data(request('POST', '/api/users', user)),
  disableUser: (id) => data(request('POST', `/api/users/${path(id)}/disable`)),
  enableUser: (id) => data(request('POST', `/api/users/${path(id)}/enable`)),
  // {id, token, url, expires_at, user}
  passwordLink: (id) => data(request('POST', `/api/users/${path(id)}/password-link`)),
  resetTotp: (id) => data(request('POST', `/api/users/${path(id)}/totp/reset`)),
  // A set-password link's owner: {username, name, expires_at}.
  passwordInfo: (token) => data(request('POST', '/api/password/info', { token })),
  setPassword: (token, password) => data(request('POST', '/api/password', { token, password })),
};

module.exports = { api, ApiError };

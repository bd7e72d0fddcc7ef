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
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
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
  login: (username, password) => data(request('POST', '/api/login', { username, password })),
  logout: () => data(request('POST', '/api/logout')),
  me: () => data(request('GET', '/api/me')),
  sessions: () => data(request('GET', '/api/sessions')),
  session: (id) => data(request('GET', `/api/sessions/${path(id)}`)),
  createSession: (title, template) => data(request('POST', '/api/sessions', { title, template })),
  addParticipant: (id, username) => data(request('POST', `/api/sessions/${path(id)}/participants`, { username })),
  createLink: (id, expiresInSeconds, lobby) =>
    data(request('POST', `/api/sessions/${path(id)}/links`, { expires_in_s: expiresInSeconds, lobby })),
  revokeLink: (id, linkId) => data(request('DELETE', `/api/sessions/${path(id)}/links/${path(linkId)}`)),
  lobby: (id) => data(request('GET', `/api/sessions/${path(id)}/lobby`)),
  admit: (id, clientId) => data(request('POST', `/api/sessions/${path(id)}/lobby/${path(clientId)}/admit`)),
  decline: (id, clientId) => data(request('POST', `/api/sessions/${path(id)}/lobby/${path(clientId)}/decline`)),
  // One page of a session's history: {snapshot: {v, data}, ops, next[, events]}.
  history: (id, from) => data(request('GET', `/api/sessions/${path(id)}/history?from=${from}`)),
  // 200 {session_id, role} when in, 202 {session_id, status: "waiting"} in a lobby.
  join: (token, displayName) => request('POST', '/api/join', { token, display_name: displayName || undefined }),
  // {session_id, status: "waiting" | "admitted"}; 401 once declined.
  joinStatus: () => data(request('GET', '/api/join/status')),
};

module.exports = { api, ApiError };

'use strict';
// Accounts and REST calls for the access tests: `konsil user add` on the test's
// database, login over HTTP (the cookie comes back in Set-Cookie), JSON requests.
const { execFileSync } = require('node:child_process');
const { binary } = require('./server');

function addUser(db, name, role, password, specialty) {
  const args = ['user', 'add', name, '--role', role, '--db', db];
  if (specialty) args.push('--specialty', specialty);
  return execFileSync(binary(), args, { input: password + '\n', encoding: 'utf8' }).trim();
}

async function api(srv, method, path, { cookie, body, raw, headers } = {}) {
  const h = { ...(headers || {}) };
  if (cookie) h.Cookie = cookie;
  let data;
  if (raw !== undefined) data = raw;
  else if (body !== undefined) data = JSON.stringify(body);
  // Konsil wants every state-changing request to say it is JSON (CSRF rule), body or not.
  if ((data !== undefined || method !== 'GET') && !('Content-Type' in h)) h['Content-Type'] = 'application/json';
  const res = await fetch(srv.httpUrl + path, { method, headers: h, body: data });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = { unparsable: text }; }
  return { status: res.status, json, headers: res.headers };
}

// The login cookie as a Cookie header value: `konsil_session=…`, or over https
// `__Host-konsil_session=…`.
function cookieOf(res) {
  const sc = res.headers.get('set-cookie') || '';
  const m = /^((?:__Host-)?konsil_session)=([^;]*)/.exec(sc);
  return m ? `${m[1]}=${m[2]}` : null;
}

async function login(srv, username, password) {
  const res = await api(srv, 'POST', '/api/login', { body: { username, password } });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.json)}`);
  return cookieOf(res);
}

module.exports = { addUser, api, login, cookieOf };

'use strict';
// The hub's REST API and /ws from Node, for setting up and checking the browser tests:
// log in, create a case or a session (a case with its first session), add to a team,
// make a client link, join by link (each returns or takes the konsil_session cookie), and
// read or edit a case sheet (by its case id) with the stock sharedb client as a given
// principal.
const WebSocket = require('ws');
const ShareDB = require('sharedb/lib/client');

const COOKIE = 'konsil_session';

async function call(server, cookie, method, path, body) {
  const headers = { Accept: 'application/json' };
  if (cookie) headers.Cookie = `${COOKIE}=${cookie}`;
  if (body !== undefined || method !== 'GET') headers['Content-Type'] = 'application/json';
  const response = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const setCookie = response.headers.get('set-cookie') || '';
  const match = new RegExp(`${COOKIE}=([^;]*)`).exec(setCookie);
  return { status: response.status, data: text ? JSON.parse(text) : null, cookie: match ? match[1] : null };
}

async function expectOk(promise, what) {
  const reply = await promise;
  if (reply.status >= 300) throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.data)}`);
  return reply;
}

// Resolves with the login cookie.
async function login(server, username, password) {
  return (await expectOk(call(server, null, 'POST', '/api/login', { username, password }), `login ${username}`)).cookie;
}

// A session (the legacy create: a case with its first session): {id, case_id, …}.
async function createSession(server, cookie, title) {
  return (await expectOk(call(server, cookie, 'POST', '/api/sessions', { title, template: 'default' }), 'create session')).data;
}

async function createCase(server, cookie, title, template = 'default') {
  return (await expectOk(call(server, cookie, 'POST', '/api/cases', { title, template }), 'create case')).data;
}

async function addParticipant(server, cookie, sessionId, username) {
  return (await expectOk(call(server, cookie, 'POST', `/api/sessions/${sessionId}/participants`, { username }), `add ${username}`)).data;
}

async function createLink(server, cookie, sessionId, { lobby = false, expiresIn = 3600 } = {}) {
  return (await expectOk(call(server, cookie, 'POST', `/api/sessions/${sessionId}/links`, { expires_in_s: expiresIn, lobby }), 'create link')).data;
}

// Joins by a link's token; resolves with the client cookie.
async function join(server, token, displayName) {
  return (await expectOk(call(server, null, 'POST', '/api/join', { token, display_name: displayName }), 'join')).cookie;
}

function withDoc(server, cookie, caseId, fn) {
  const socket = new WebSocket(server.wsUrl, { headers: { Cookie: `${COOKIE}=${cookie}` } });
  const connection = new ShareDB.Connection(socket);
  const doc = connection.get('cases', caseId);
  return new Promise((resolve, reject) => doc.fetch((err) => (err ? reject(err) : resolve())))
    .then(() => fn(doc))
    .finally(() => connection.close());
}

// The case sheet as the principal of cookie reads it now.
function fetchCaseSheet(server, cookie, caseId) {
  return withDoc(server, cookie, caseId, (doc) => doc.data);
}

function submitOp(server, cookie, caseId, op) {
  return withDoc(server, cookie, caseId, (doc) => new Promise((resolve, reject) => doc.submitOp(op, (err) => (err ? reject(err) : resolve()))));
}

module.exports = { call, login, createSession, createCase, addParticipant, createLink, join, fetchCaseSheet, submitOp, COOKIE };

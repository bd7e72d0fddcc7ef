'use strict';
// The web app calls only what protocol/openapi.yaml describes: every API address written
// in web-demo/src (string and template literals under /api/ or /j/) with the method it
// is requested with (request('METHOD', …) in api.js; any other mention is a link or a
// download, a GET) must be an operation of the document, with only the query parameters
// the operation lists. Requests go out through api.js's one fetch; the service worker's
// own fetches are the app shell's and pass /api/ by.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const oa = require('../hub/lib/openapi');

const src = path.resolve(__dirname, '../../web-demo/src');

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return /\.m?js$/.test(e.name) ? [p] : [];
  });
}

// [{file, line, method, url}] for every API address in the sources (a bare prefix such
// as "/api/" is no address); a ${…} becomes a path segment "x" (or a query value).
function calls() {
  const out = [];
  const literal = /(['`])(\/(?:api|j)\/[^'`]+)\1/g;
  for (const file of files(src)) {
    const text = fs.readFileSync(file, 'utf8');
    let m;
    while ((m = literal.exec(text))) {
      const before = text.slice(Math.max(0, m.index - 40), m.index);
      const method = /request\(\s*'([A-Z]+)'\s*,\s*$/.exec(before);
      out.push({
        file: path.relative(src, file),
        line: text.slice(0, m.index).split('\n').length,
        method: method ? method[1] : 'GET',
        url: m[2].replace(/\$\{[^}]*\}/g, 'x'),
      });
    }
  }
  return out;
}

test('every API call of the web app is an operation of protocol/openapi.yaml', () => {
  const doc = oa.load();
  const found = calls();
  assert.ok(found.length >= 50, `found ${found.length} calls; the scan reads web-demo/src`);
  const missing = [];
  for (const c of found) {
    const op = oa.find(doc, c.method, c.url);
    if (!op) {
      missing.push(`${c.file}:${c.line} ${c.method} ${c.url}`);
      continue;
    }
    const query = c.url.includes('?') ? new URLSearchParams(c.url.split('?')[1]) : new URLSearchParams();
    const allowed = (op.op.parameters || []).map((p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p))
      .filter((p) => p.in === 'query').map((p) => p.name);
    for (const name of query.keys()) {
      if (!allowed.includes(name)) missing.push(`${c.file}:${c.line} ${c.method} ${c.url}: query parameter ${name} not described`);
    }
  }
  assert.deepEqual(missing, []);
});

test('requests leave the web app only through api.js', () => {
  const fetching = [];
  for (const file of files(src)) {
    const text = fs.readFileSync(file, 'utf8');
    const rel = path.relative(src, file);
    if (/\bXMLHttpRequest\b|\bsendBeacon\b|\bEventSource\b/.test(text)) fetching.push(`${rel}: another way to request`);
    const n = (text.match(/\bfetch\(/g) || []).length;
    if (n === 0 || rel === 'sw.js') continue;
    if (rel !== 'api.js' || n !== 1) fetching.push(`${rel}: ${n} fetch calls`);
  }
  assert.deepEqual(fetching, []);
  // The service worker leaves the API alone: it answers no /api/ request itself.
  assert.match(fs.readFileSync(path.join(src, 'sw.js'), 'utf8'), /url\.pathname\.startsWith\('\/api\/'\)[^\n]*return;/);
});

test('the scan finds what api.js asks for', () => {
  const found = calls().filter((c) => c.file === 'api.js');
  const has = (method, url) => found.some((c) => c.method === method && c.url === url);
  assert.ok(has('DELETE', '/api/cases/x/team/x'));
  assert.ok(has('POST', '/api/users/x/totp/reset'));
  assert.ok(has('GET', '/api/cases/x/history?from=x'));
  // …and that an address the document lacks would be caught.
  assert.equal(oa.find(oa.load(), 'PATCH', '/api/cases/x'), null);
});

'use strict';
// protocol/openapi.yaml as the tests read it: the document, checked against the OpenAPI
// 3.1 schema (@seriousme/openapi-schema-validator), its operations, the operation a
// request (method, concrete path) is for, and a check of a real response against what
// the operation says it answers (status listed, JSON body valid against its schema,
// JSON Schema 2020-12 by Ajv).
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

const file = path.resolve(__dirname, '../../../protocol/openapi.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function load() {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

async function validateDocument(doc) {
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const validator = new Validator();
  const res = await validator.validate(doc);
  return { valid: res.valid, errors: res.errors, version: validator.version };
}

// [{method, path, id, op}] for every operation of the document.
function operations(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      if (item[m]) out.push({ method: m.toUpperCase(), path: p, id: item[m].operationId, op: item[m] });
    }
  }
  return out;
}

// A path template ("/api/cases/{id}") as a pattern for concrete paths (no query).
function pattern(template) {
  const re = template.split('/').map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&')));
  return new RegExp('^' + re.join('/') + '$');
}

// The operation of the document that a request is for, or null. A literal segment wins
// over a parameter (as in OpenAPI's own matching rule).
function find(doc, method, url) {
  const p = url.split('?')[0];
  const hits = operations(doc).filter((o) => o.method === method && pattern(o.path).test(p));
  hits.sort((a, b) => (b.path.match(/\{/g) || []).length < (a.path.match(/\{/g) || []).length ? 1 : -1);
  return hits[0] || null;
}

class Checker {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...doc, $id: 'urn:konsil:openapi' });
    this.compiled = new Map();
    this.seen = new Map(); // operation id -> Set of statuses answered
  }

  responseFor(op, status) {
    const r = op.responses || {};
    const key = String(status);
    if (r[key]) return { key, res: r[key] };
    const range = `${key[0]}XX`;
    if (r[range]) return { key: range, res: r[range] };
    if (r.default) return { key: 'default', res: r.default };
    return null;
  }

  resolve(res) {
    while (res && res.$ref) {
      const parts = res.$ref.replace(/^#\//, '').split('/');
      res = parts.reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
    }
    return res;
  }

  // Checks a request's JSON body against the operation's requestBody; problems.
  checkRequest(method, url, body) {
    const found = find(this.doc, method, url);
    if (!found) return [`${method} ${url}: no operation in openapi.yaml`];
    const rb = this.resolve(found.op.requestBody);
    if (!rb) return body === undefined ? [] : [`${found.id}: a request body where none is described`];
    if (body === undefined) return rb.required ? [`${found.id}: no request body, but one is required`] : [];
    const key = rb === found.op.requestBody
      ? `urn:konsil:openapi#/paths/${found.path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method.toLowerCase()}/requestBody/content/application~1json/schema`
      : `urn:konsil:openapi${found.op.requestBody.$ref}/content/application~1json/schema`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: key });
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return [`${found.id} request: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}: ${JSON.stringify(body).slice(0, 400)}`];
  }

  // Checks one real answer; returns a list of problems (empty when it fits).
  check(method, url, status, contentType, body) {
    const found = find(this.doc, method, url);
    if (!found) return [`${method} ${url}: no operation in openapi.yaml`];
    const seen = this.seen.get(found.id) || new Set();
    seen.add(status);
    this.seen.set(found.id, seen);
    const r = this.responseFor(found.op, status);
    if (!r) return [`${method} ${url} (${found.id}): status ${status} is not among its responses`];
    const res = this.resolve(r.res);
    const media = res.content ? Object.keys(res.content) : [];
    if (media.length === 0) {
      return body === '' || body === null || body === undefined ? [] : [`${found.id} ${status}: a body where none is described`];
    }
    const type = (contentType || '').split(';')[0].trim();
    if (!media.includes(type)) return [`${found.id} ${status}: content type ${type} is not one of ${media.join(', ')}`];
    const schema = res.content[type].schema;
    if (!schema || type !== 'application/json') return [];
    const ref = `urn:konsil:openapi#/paths/${found.path.replace(/~/g, '~0').replace(/\//g, '~1')}/${method.toLowerCase()}/responses/${r.key}`;
    const at = r.res.$ref ? `urn:konsil:openapi${r.res.$ref}` : ref;
    const key = `${at}/content/application~1json/schema`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: key });
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return [`${found.id} ${status}: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}: ${JSON.stringify(body).slice(0, 400)}`];
  }
}

module.exports = { load, validateDocument, operations, find, pattern, Checker, file };

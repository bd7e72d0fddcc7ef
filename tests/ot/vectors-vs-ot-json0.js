#!/usr/bin/env node
// Checks every case of protocol/test-vectors/*.json against the reference library
// ot-json0@1.1.0 (what the sharedb browser client runs).
//
//   node tests/ot/vectors-vs-ot-json0.js          check mode (part of `make check`)
//   node tests/ot/vectors-vs-ot-json0.js --fill   fills every "result": null from ot-json0
//
// Check mode: a case with "result" must give that result (deep equality, object key order
// ignored); a case with "error": true must make ot-json0 throw; a case marked
// "strict": true (refused by Konsil, accepted by ot-json0) must NOT make ot-json0 throw,
// which documents that the library is sloppy there. The format is in
// protocol/test-vectors/README.md.
'use strict';

const fs = require('fs');
const path = require('path');
const json0 = require('ot-json0').type;

const VECTOR_DIR = path.join(__dirname, '..', '..', 'protocol', 'test-vectors');
const ARG_COUNTS = { apply: 2, transform: 3, compose: 2, invert: 1, normalize: 1 };

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

// Runs one case through ot-json0 on deep copies of its arguments (apply mutates the
// document). Returns {result} or {error: message}.
function runReference(c) {
  const a = clone(c.args);
  try {
    let result;
    switch (c.fn) {
      case 'apply': result = json0.apply(a[0], a[1]); break;
      case 'transform': result = json0.transform(a[0], a[1], a[2]); break;
      case 'compose': result = json0.compose(a[0], a[1]); break;
      case 'invert': result = json0.invert(a[0]); break;
      case 'normalize': result = json0.normalize(a[0]); break;
      default: throw new Error('unknown fn ' + c.fn);
    }
    if (result === undefined) return { error: 'result is undefined (not expressible in JSON)' };
    // What the wire would carry: drops undefined members, turns holes into null.
    return { result: JSON.parse(JSON.stringify(result)) };
  } catch (e) {
    return { error: e && e.message ? e.message : String(e) };
  }
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (typeof a !== 'object') return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length &&
    ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

// A lone UTF-16 surrogate cannot travel as valid UTF-8, so no vector may contain one.
function hasLoneSurrogate(value) {
  const s = JSON.stringify(value);
  return s !== undefined && /\\ud[89a-f][0-9a-f]{2}/i.test(s);
}

// Problems with the shape of a case, independent of any implementation.
function formatProblems(c) {
  const problems = [];
  if (typeof c.name !== 'string' || c.name === '') problems.push('missing name');
  if (!(c.fn in ARG_COUNTS)) problems.push('unknown fn ' + JSON.stringify(c.fn));
  else if (!Array.isArray(c.args) || c.args.length !== ARG_COUNTS[c.fn]) {
    problems.push(`${c.fn} takes ${ARG_COUNTS[c.fn]} args`);
  }
  const hasResult = Object.prototype.hasOwnProperty.call(c, 'result');
  if (hasResult === (c.error === true)) problems.push('needs exactly one of "result" and "error": true');
  if ('error' in c && c.error !== true) problems.push('"error" must be true');
  if ('strict' in c && (c.strict !== true || c.error !== true)) {
    problems.push('"strict": true goes only with "error": true');
  }
  const known = new Set(['name', 'fn', 'args', 'result', 'error', 'strict']);
  for (const k of Object.keys(c)) if (!known.has(k)) problems.push('unknown key ' + k);
  if (hasLoneSurrogate(c.args) || (hasResult && hasLoneSurrogate(c.result))) {
    problems.push('contains a lone UTF-16 surrogate');
  }
  return problems;
}

// Invisible characters (combining marks, joiners) are written as \u escapes so a reader
// can see them; everything else stays literal UTF-8.
const escapeInvisible = (text) => text.replace(/[\p{Mn}\p{Cf}]/gu,
  (ch) => Array.from({ length: ch.length },
    (_, i) => '\\u' + ch.charCodeAt(i).toString(16).padStart(4, '0')).join(''));

// One case per line keeps the files readable and their diffs small.
function formatFile(file) {
  const lines = file.cases.map((c) => {
    const ordered = { name: c.name, fn: c.fn, args: c.args };
    if (c.error === true) ordered.error = true; else ordered.result = c.result;
    if (c.strict === true) ordered.strict = true;
    return '    ' + escapeInvisible(JSON.stringify(ordered));
  });
  return '{\n  "description": ' + JSON.stringify(file.description) + ',\n  "cases": [\n' +
    lines.join(',\n') + '\n  ]\n}\n';
}

function main() {
  const fill = process.argv.includes('--fill');
  const files = fs.readdirSync(VECTOR_DIR).filter((f) => f.endsWith('.json')).sort();
  let passed = 0;
  let failed = 0;
  const names = new Map();
  const fail = (where, msg) => { failed++; console.log(`FAIL ${where}: ${msg}`); };

  for (const f of files) {
    const full = path.join(VECTOR_DIR, f);
    const file = JSON.parse(fs.readFileSync(full, 'utf8'));
    let filled = 0;
    for (const c of file.cases) {
      const where = `${f}: ${c.name}`;
      const problems = formatProblems(c);
      if (names.has(c.name)) problems.push('name also used in ' + names.get(c.name));
      names.set(c.name, f);
      if (problems.length) { fail(where, problems.join('; ')); continue; }

      const ref = runReference(c);
      if (fill && c.result === null && c.error !== true) {
        if ('error' in ref) {
          console.log(`WARN ${where}: ot-json0 throws (${ref.error}); left unfilled`);
        } else {
          c.result = ref.result;
          if (ref.result !== null) filled++;
          if (hasLoneSurrogate(c.result)) console.log(`WARN ${where}: result has a lone surrogate`);
        }
      }

      if (c.strict) {
        if ('error' in ref) fail(where, `marked strict but ot-json0 throws too (${ref.error})`);
        else passed++;
      } else if (c.error) {
        if ('error' in ref) passed++;
        else fail(where, 'expected an error, ot-json0 gives ' + JSON.stringify(ref.result));
      } else if ('error' in ref) {
        fail(where, 'ot-json0 throws: ' + ref.error);
      } else if (!deepEqual(ref.result, c.result)) {
        fail(where, `expected ${JSON.stringify(c.result)}, ot-json0 gives ${JSON.stringify(ref.result)}`);
      } else {
        passed++;
      }
    }
    if (fill && filled > 0) {
      fs.writeFileSync(full, formatFile(file));
      console.log(`filled ${filled} results in ${f}`);
    }
  }
  console.log(`vectors-vs-ot-json0: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();

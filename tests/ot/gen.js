'use strict';
// Seeded random documents and strictly valid json0 ops, for the differential fuzzer
// (tests/ot/fuzz-diff.js) and the OT benchmark (bench/ot-bench.js).
//
// "Strictly valid" is the contract of the C engine (src/ot/json0.h): list indices are
// integers in range, object keys are strings, paths lead through existing containers,
// string offsets are UTF-16 code units on code-point boundaries, delete payloads (ld, od,
// sd, text0 d) equal the document, and oi on an existing key carries the matching od.
// A fifth of the cases are payload collisions (payloadCase below): both ops edit inside
// one part of the document and delete or replace it, so that one op's delete payload
// describes content the other op changes.
// strictApply() below is an independent JS statement of those rules; running this file
// (`node tests/ot/gen.js [cases] [seed]`) checks every generated op against it and
// against ot-json0.

const json0 = require('ot-json0').type;

// ---------------------------------------------------------------- random numbers

// mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence.
function makeRng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)],
    // items: [[weight, value], ...]
    weighted(items) {
      let total = 0;
      for (const [w] of items) total += w;
      let x = next() * total;
      for (const [w, v] of items) {
        x -= w;
        if (x < 0) return v;
      }
      return items[items.length - 1][1];
    },
  };
}

// The seed of case `index` in a run seeded with `seed` (splitmix32-style mixing), so any
// single case can be regenerated without the ones before it.
function caseSeed(seed, index) {
  let z = (seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

// ---------------------------------------------------------------- JSON values

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function clone(v) {
  if (Array.isArray(v)) return v.map(clone);
  if (isObject(v)) {
    const out = {};
    for (const k of Object.keys(v)) out[k] = clone(v[k]);
    return out;
  }
  return v;
}

// Deep equality of JSON values; object key order does not matter, numbers compare by value.
// closeNumbers: numbers also count as equal when they differ only by rounding, as sums of
// the same numbers added in another order do: by 1e-9 of the larger of the two, or of 1
// (a sum that cancels to near zero keeps the rounding of its larger terms).
function deepEqual(x, y, closeNumbers = false) {
  if (x === y) return true;
  if (closeNumbers && typeof x === 'number' && typeof y === 'number') {
    return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y), 1);
  }
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i], closeNumbers)) return false;
    return true;
  }
  if (isObject(x)) {
    if (!isObject(y)) return false;
    const kx = Object.keys(x);
    if (kx.length !== Object.keys(y).length) return false;
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(y, k) || !deepEqual(x[k], y[k], closeNumbers)) return false;
    }
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- strings (UTF-16)

const isHighSurrogate = (u) => u >= 0xd800 && u <= 0xdbff;
const isLowSurrogate = (u) => u >= 0xdc00 && u <= 0xdfff;

// Offsets 0..s.length (UTF-16 code units) that do not split a surrogate pair.
function codePointBoundaries(s) {
  const out = [0];
  for (let i = 1; i <= s.length; i++) {
    if (i < s.length && isHighSurrogate(s.charCodeAt(i - 1)) && isLowSurrogate(s.charCodeAt(i))) continue;
    out.push(i);
  }
  return out;
}

const isBoundary = (s, off) =>
  Number.isInteger(off) && off >= 0 && off <= s.length &&
  !(off > 0 && off < s.length && isHighSurrogate(s.charCodeAt(off - 1)) && isLowSurrogate(s.charCodeAt(off)));

const TEXT_PIECES = [
  'a', 'b', 'c', 'x', 'y', 'z', 'Akte', ' ', ' ', '1', '.', ',',
  'ä', 'ö', 'ü', 'ß', 'Ä', 'Ö', 'Ü',
  'e\u0301',            // e + combining acute accent
  '😀',                 // one surrogate pair
  '👩‍👩‍👧',              // ZWJ sequence: three surrogate pairs joined by U+200D
  '🇩🇪',                // flag: two regional indicators
  '\n', '"', '\\', '\t', '\u001f', 'ﬀ', '€',
];

function randomText(rng, minPieces, maxPieces) {
  const n = minPieces + rng.int(maxPieces - minPieces + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(TEXT_PIECES);
  return s;
}

// ---------------------------------------------------------------- documents

// Keys differing only in case ('a'/'A', 'notes'/'Notes') catch case-insensitive lookups.
const KEYS = ['a', 'b', 'c', 'd', 'x', 'y', 'title', 'notes', 'status', 'tasks', 'due', 'name',
  'A', 'Notes', 'ä', 'Ä', 'Straße', 'k😀', '', 'a"b', 'x\\y', 'z\n'];
const NUMERIC_KEYS = ['0', '1', '2', '10'];
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const randomKey = (rng) => (rng.chance(0.12) ? rng.pick(NUMERIC_KEYS) : rng.pick(KEYS));

// Numbers with exact binary fractions (na on them is exactly reversible), and decimals and
// extremes that are not (they test number printing and parsing but are never na targets).
const AWKWARD_NUMBERS = [0.1, 0.3, 3.14159, 1e-7, 6.02e23, -2.5e-5, 123456.789,
  0.30000000000000004, 1.0000000000000002, 123456789.12345679, 1732645200123,
  2 ** 53, -(2 ** 63), 1e21, 5e-324, 1.7976931348623157e308, 2 ** 31, -(2 ** 31) - 1];
function randomNumber(rng) {
  return rng.weighted([
    [6, () => rng.int(100)],
    [2, () => -rng.int(1000)],
    [1, () => rng.int(1 << 30) * (rng.chance(0.5) ? 1 : -1)],
    [2, () => (rng.int(400) - 200) / rng.pick([2, 4, 8, 1024])],
    [1, () => rng.pick(AWKWARD_NUMBERS)],
  ])();
}

function randomScalar(rng) {
  return rng.weighted([
    [5, () => randomText(rng, 0, 6)],
    [3, () => randomNumber(rng)],
    [1, () => rng.chance(0.5)],
    [1, () => null],
  ])();
}

function randomObject(rng, depth, maxDepth, size) {
  const out = {};
  for (let i = 0; i < size; i++) out[randomKey(rng)] = randomValue(rng, depth + 1, maxDepth);
  return out;
}

function randomValue(rng, depth, maxDepth) {
  if (depth >= maxDepth) return randomScalar(rng);
  return rng.weighted([
    [3, () => randomObject(rng, depth, maxDepth, rng.int(5))],
    [3, () => Array.from({ length: rng.int(6) }, () => randomValue(rng, depth + 1, maxDepth))],
    [3, () => randomText(rng, 0, 10)],
    [2, () => randomScalar(rng)],
  ])();
}

// Mostly an object root; sometimes a list, a string, a number or null.
function randomDoc(rng) {
  return rng.weighted([
    [88, () => randomObject(rng, 0, 4, 2 + rng.int(5))],
    [7, () => Array.from({ length: 1 + rng.int(5) }, () => randomValue(rng, 1, 4))],
    [3, () => randomText(rng, 0, 12)],
    [1, () => randomNumber(rng)],
    [1, () => null],
  ])();
}

// A small value to insert (li, oi): mostly scalars, sometimes a shallow container.
const randomPayload = (rng) => (rng.chance(0.75) ? randomScalar(rng) : randomValue(rng, 2, 4));

// ---------------------------------------------------------------- locations in a document

// Every value in doc with its path and its container kind ('object' | 'list' | null for the
// root); used to pick targets for components.
function locations(doc) {
  const out = [];
  const walk = (value, path, parentKind) => {
    out.push({ path, value, parentKind });
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) walk(value[i], path.concat([i]), 'list');
    } else if (isObject(value)) {
      for (const k of Object.keys(value)) walk(value[k], path.concat([k]), 'object');
    }
  };
  walk(doc, [], null);
  return out;
}

const isPrefix = (p, q) => p.length <= q.length && p.every((x, i) => x === q[i]);
const sameParent = (p, q) => p.length === q.length && p.length > 0 && isPrefix(p.slice(0, -1), q);
const related = (p, q) => isPrefix(p, q) || isPrefix(q, p) || sameParent(p, q);

// Where a concurrent (or following) op should aim to collide with an op: each component's
// path (without a string offset), list indices it touches and string offsets it touches.
function focusOf(op) {
  return op.map((c) => {
    if (c.si !== undefined || c.sd !== undefined) {
      const off = c.p[c.p.length - 1];
      const len = (c.si !== undefined ? c.si : c.sd).length;
      return { path: c.p.slice(0, -1), offsets: [off, off + len], indices: [] };
    }
    if (c.t !== undefined) {
      const offsets = [];
      for (const t of c.o) offsets.push(t.p, t.p + (t.i !== undefined ? t.i : t.d).length);
      return { path: c.p, offsets, indices: [] };
    }
    const indices = typeof c.p[c.p.length - 1] === 'number' ? [c.p[c.p.length - 1]] : [];
    if (c.lm !== undefined) indices.push(c.lm);
    return { path: c.p, offsets: [], indices };
  });
}

// Picks one of the candidate locations, preferring those related to a focus path.
function pickLocation(rng, candidates, focus) {
  if (candidates.length === 0) return null;
  if (focus.length > 0 && rng.chance(0.8)) {
    const f = rng.pick(focus);
    const near = candidates.filter((loc) => related(loc.path, f.path));
    if (near.length > 0) return rng.pick(near);
  }
  return rng.pick(candidates);
}

// An index in [lo, hi], preferring the indices a focus touches at this list.
function pickIndex(rng, listPath, lo, hi, focus) {
  const hints = [];
  for (const f of focus) {
    if (f.path.length <= listPath.length || !isPrefix(listPath, f.path)) continue;
    // The index the focus path goes through here; for a component on this very list
    // also the indices it touches (both ends of a move).
    const here = [f.path[listPath.length]];
    if (f.path.length === listPath.length + 1) here.push(...f.indices);
    for (const i of here) if (typeof i === 'number') hints.push(i, i + 1, i - 1);
  }
  const inRange = hints.filter((i) => i >= lo && i <= hi);
  if (inRange.length > 0 && rng.chance(0.75)) return rng.pick(inRange);
  return lo + rng.int(hi - lo + 1);
}

// A code-point boundary in s, preferring offsets a focus touches on this string.
function pickOffset(rng, s, path, focus, ownHints) {
  const hints = ownHints.slice();
  for (const f of focus) {
    if (f.offsets.length > 0 && f.path.length === path.length && isPrefix(path, f.path)) hints.push(...f.offsets);
  }
  const usable = hints.filter((off) => isBoundary(s, off));
  if (usable.length > 0 && rng.chance(0.7)) return rng.pick(usable);
  return rng.pick(codePointBoundaries(s));
}

// A non-empty range [start, end) of s between code-point boundaries, or null.
function pickRange(rng, s, path, focus, ownHints) {
  const bounds = codePointBoundaries(s);
  if (bounds.length < 2) return null;
  const start = pickOffset(rng, s, path, focus, ownHints);
  const after = bounds.filter((b) => b > start);
  if (after.length === 0) return null;
  const end = after[Math.min(after.length - 1, rng.int(Math.min(after.length, 5)))];
  return [start, end];
}

// ---------------------------------------------------------------- components

// Number targets whose value and the added amount are exact binary fractions, so that
// applying an op and its inverse restores the number exactly.
const exactNumber = (v) => typeof v === 'number' && Number.isInteger(v * 1024) && Math.abs(v) < 2 ** 40;
const NA_AMOUNTS = [1, -1, 2, -3, 5, 10, -100, 0.5, -0.25, 0];

function newKey(rng, obj) {
  for (let attempt = 0; attempt < 8; attempt++) {
    const k = randomKey(rng);
    if (!Object.prototype.hasOwnProperty.call(obj, k)) return k;
  }
  return null;
}

const locationsWith = (locs, test) => locs.filter(test);
const lists = (locs) => locationsWith(locs, (l) => Array.isArray(l.value));
const objects = (locs) => locationsWith(locs, (l) => isObject(l.value));
const listItems = (locs) => locationsWith(locs, (l) => l.parentKind === 'list');
const objectFields = (locs) => locationsWith(locs, (l) => l.parentKind === 'object');
const strings = (locs) => locationsWith(locs, (l) => typeof l.value === 'string');

// One generator per component kind: (rng, doc, locs, focus) -> component or null when the
// document offers no target for it.
const COMPONENT_KINDS = {
  na(rng, doc, locs, focus) {
    const loc = pickLocation(rng, locationsWith(locs, (l) => exactNumber(l.value)), focus);
    if (!loc) return null;
    return { p: loc.path, na: rng.pick(NA_AMOUNTS) };
  },
  li(rng, doc, locs, focus) {
    const loc = pickLocation(rng, lists(locs), focus);
    if (!loc) return null;
    const i = pickIndex(rng, loc.path, 0, loc.value.length, focus);
    return { p: loc.path.concat([i]), li: randomPayload(rng) };
  },
  ld(rng, doc, locs, focus) {
    const loc = pickLocation(rng, listItems(locs), focus);
    if (!loc) return null;
    return { p: loc.path, ld: clone(loc.value) };
  },
  'li+ld'(rng, doc, locs, focus) {
    const loc = pickLocation(rng, listItems(locs), focus);
    if (!loc) return null;
    return { p: loc.path, ld: clone(loc.value), li: randomPayload(rng) };
  },
  lm(rng, doc, locs, focus) {
    const loc = pickLocation(rng, locationsWith(lists(locs), (l) => l.value.length > 0), focus);
    if (!loc) return null;
    const last = loc.value.length - 1;
    const from = pickIndex(rng, loc.path, 0, last, focus);
    const to = pickIndex(rng, loc.path, 0, last, focus);
    return { p: loc.path.concat([from]), lm: to };
  },
  oi(rng, doc, locs, focus) {
    const loc = pickLocation(rng, objects(locs), focus);
    if (!loc) return null;
    const k = newKey(rng, loc.value);
    if (k === null) return null;
    return { p: loc.path.concat([k]), oi: randomPayload(rng) };
  },
  od(rng, doc, locs, focus) {
    const loc = pickLocation(rng, objectFields(locs), focus);
    if (!loc) return null;
    return { p: loc.path, od: clone(loc.value) };
  },
  'oi+od'(rng, doc, locs, focus) {
    const loc = pickLocation(rng, objectFields(locs), focus);
    if (!loc) return null;
    return { p: loc.path, od: clone(loc.value), oi: randomPayload(rng) };
  },
  si(rng, doc, locs, focus) {
    const loc = pickLocation(rng, strings(locs), focus);
    if (!loc) return null;
    const off = pickOffset(rng, loc.value, loc.path, focus, []);
    return { p: loc.path.concat([off]), si: randomText(rng, 1, 3) };
  },
  sd(rng, doc, locs, focus) {
    const loc = pickLocation(rng, strings(locs), focus);
    if (!loc) return null;
    const range = pickRange(rng, loc.value, loc.path, focus, []);
    if (!range) return null;
    return { p: loc.path.concat([range[0]]), sd: loc.value.slice(range[0], range[1]) };
  },
  text0(rng, doc, locs, focus) {
    const loc = pickLocation(rng, strings(locs), focus);
    if (!loc) return null;
    let s = loc.value;
    const o = [];
    const n = 1 + rng.int(3);
    for (let i = 0; i < n; i++) {
      const ownHints = o.map((t) => t.p).concat(o.map((t) => t.p + (t.i !== undefined ? t.i : t.d).length));
      if (s.length > 0 && rng.chance(0.45)) {
        const range = pickRange(rng, s, loc.path, focus, ownHints);
        if (!range) continue;
        const d = s.slice(range[0], range[1]);
        o.push({ p: range[0], d });
        s = s.slice(0, range[0]) + s.slice(range[1]);
      } else {
        const off = pickOffset(rng, s, loc.path, focus, ownHints);
        const text = randomText(rng, 1, 3);
        o.push({ p: off, i: text });
        s = s.slice(0, off) + text + s.slice(off);
      }
    }
    if (o.length === 0) return null;
    return { p: loc.path, t: 'text0', o };
  },
  root(rng, doc) {
    return { p: [], od: clone(doc), oi: rng.chance(0.8) ? randomObject(rng, 1, 3, 1 + rng.int(3)) : randomPayload(rng) };
  },
};

const KIND_WEIGHTS = [
  [1, 'na'], [2, 'li'], [1.5, 'ld'], [1, 'li+ld'], [2.5, 'lm'],
  [1.5, 'oi'], [1, 'od'], [1.5, 'oi+od'], [2, 'si'], [1.5, 'sd'], [2, 'text0'], [0.08, 'root'],
];

// The kind of a component, in the names KIND_WEIGHTS uses.
function componentKind(c) {
  if (c.t !== undefined) return 'text0';
  if (c.na !== undefined) return 'na';
  if (c.lm !== undefined) return 'lm';
  if (c.si !== undefined) return 'si';
  if (c.sd !== undefined) return 'sd';
  if (c.p.length === 0) return 'root';
  if (c.li !== undefined) return c.ld !== undefined ? 'li+ld' : 'li';
  if (c.ld !== undefined) return 'ld';
  if (c.oi !== undefined) return c.od !== undefined ? 'oi+od' : 'oi';
  if (c.od !== undefined) return 'od';
  return '?';
}

// An op of 1-4 components valid on doc, each component valid on the document as left by
// the ones before it. focus: paths of another op to collide with (see focusOf).
// Returns {op, doc: the document after the op} (doc itself is not modified).
function randomOp(rng, doc, focus) {
  const n = rng.weighted([[45, 1], [25, 2], [18, 3], [12, 4]]);
  let state = clone(doc);
  const op = [];
  for (let attempt = 0; op.length < n && attempt < n * 6; attempt++) {
    const kind = rng.weighted(KIND_WEIGHTS);
    const ownFocus = op.length > 0 && rng.chance(0.4) ? focusOf(op) : focus;
    const c = COMPONENT_KINDS[kind](rng, state, locations(state), ownFocus);
    if (!c) continue;
    state = json0.apply(state, [c]);
    op.push(c);
  }
  return { op, doc: state };
}

// ---------------------------------------------------------------- payload collisions

// Amounts whose sums are not exact in binary floating point: x + a + b and x + b + a can
// differ in the last digit, so a delete payload that transform rewrites with the other
// op's na can differ from that op's own view of the number (issue 11: 4 + 4.2 - 5).
const INEXACT_AMOUNTS = [0.1, 0.2, 0.7, -0.3, 4.2, -1.1, 2.5e-7, 1 / 3, 1e3 + 0.01, -5.55];

// A small nested value to plant in a document: numbers and strings to edit, containers to
// edit inside, one to three levels deep.
function plantValue(rng, depth) {
  const leaf = () => rng.weighted([
    [3, () => rng.int(20) - 5],
    [1, () => (rng.int(400) - 200) / 8],
    [3, () => randomText(rng, 1, 5)],
    [1, () => randomScalar(rng)],
  ])();
  const inner = () => (depth > 1 && rng.chance(0.6) ? plantValue(rng, depth - 1) : leaf());
  const n = 2 + rng.int(3);
  if (rng.chance(0.5)) return Array.from({ length: n }, inner);
  const out = {};
  for (let i = 0; i < n; i++) out[randomKey(rng)] = inner();
  return out;
}

// doc with a planted value (plantValue) in one of its containers; returns {doc, region}
// where region is the planted value's path.
function plantRegion(rng, doc) {
  const planted = plantValue(rng, 1 + rng.int(3));
  let out = clone(doc);
  if (!Array.isArray(out) && !isObject(out)) out = [out];
  const hosts = locations(out).filter((l) => Array.isArray(l.value) || isObject(l.value));
  const host = rng.pick(hosts);
  let parent = { root: out };
  let key = 'root';
  for (const step of host.path) {
    parent = parent[key];
    key = step;
  }
  const container = parent[key];
  if (Array.isArray(container)) {
    const i = rng.int(container.length + 1);
    container.splice(i, 0, planted);
    return { doc: out, region: host.path.concat([i]) };
  }
  let k = newKey(rng, container);
  if (k === null) k = `planted${rng.int(1000)}`;
  container[k] = planted;
  return { doc: out, region: host.path.concat([k]) };
}

const within = (path, region) => isPrefix(region, path);

// An na that may round: on any moderate number at or below region, by an inexact amount.
function inexactAdd(rng, locs, region) {
  const targets = locs.filter((l) => within(l.path, region) && typeof l.value === 'number' && Math.abs(l.value) < 2 ** 40);
  if (targets.length === 0) return null;
  return { p: rng.pick(targets).path, na: rng.pick(INEXACT_AMOUNTS) };
}

// An edit of what lies at or below region (strictly below it for the kinds that act on a
// key or an index of a container), or null.
const REGION_EDITS = [[3, 'na'], [2, 'si'], [2, 'sd'], [0.5, 'text0'], [1, 'li'], [1, 'ld'],
  [0.7, 'li+ld'], [0.7, 'lm'], [1, 'oi'], [0.7, 'od'], [0.7, 'oi+od']];
function regionEdit(rng, state, region, inexact) {
  const locs = locations(state);
  const kind = rng.weighted(REGION_EDITS);
  if (kind === 'na' && inexact && rng.chance(0.7)) return inexactAdd(rng, locs, region);
  // Containers and values inside the region; the generators pick keys and indices in them.
  const inside = locs.filter((l) => within(l.path, region) &&
    (l.path.length > region.length || ['na', 'si', 'sd', 'text0', 'li', 'lm', 'oi'].includes(kind)));
  const focus = [{ path: region, offsets: [], indices: [] }];
  return COMPONENT_KINDS[kind](rng, state, inside, focus);
}

// A delete or replace of the value at path (ld, li+ld, od, oi+od, or a root replace).
function deleteAt(rng, state, path) {
  let parent = null;
  let value = state;
  for (const step of path) {
    parent = value;
    value = value[step];
  }
  const payload = clone(value);
  const replace = rng.chance(0.45);
  if (path.length === 0) return { p: [], od: payload, oi: randomPayload(rng) };
  if (Array.isArray(parent)) return replace ? { p: path, ld: payload, li: randomPayload(rng) } : { p: path, ld: payload };
  return replace ? { p: path, od: payload, oi: randomPayload(rng) } : { p: path, od: payload };
}

// The value at path in state, or undefined when the path does not lead anywhere.
function valueAt(state, path) {
  let value = state;
  for (const step of path) {
    const fits = Array.isArray(value) ? Number.isInteger(step) && step >= 0 && step < value.length
      : isObject(value) && typeof step === 'string' && Object.prototype.hasOwnProperty.call(value, step);
    if (!fits) return undefined;
    value = value[step];
  }
  return value;
}

// An edit of the value at target: na on a number (an inexact amount when inexact), si or
// sd on a string; null for other values.
function targetEdit(rng, state, target, inexact) {
  const value = valueAt(state, target);
  const here = locations(state).filter((l) => l.path.length === target.length && isPrefix(l.path, target));
  if (typeof value === 'number') {
    if (inexact && rng.chance(0.8)) return { p: target, na: rng.pick(INEXACT_AMOUNTS) };
    return exactNumber(value) ? { p: target, na: rng.pick(NA_AMOUNTS) } : null;
  }
  if (typeof value === 'string') return COMPONENT_KINDS[rng.chance(0.6) || value === '' ? 'si' : 'sd'](rng, state, here, []);
  return null;
}

// An op aimed at target, a number or string inside region: it edits target (usually) and
// maybe something else in region, then deletes or replaces target or a container above it
// (between region and target mostly, above region sometimes, the root rarely), and
// sometimes goes on with a random component. mode: 'edit' (no delete), 'delete' (no
// edits) or 'both'. inexact: na amounts that round.
function payloadOp(rng, doc, region, target, mode, inexact) {
  let state = clone(doc);
  const op = [];
  const push = (c) => {
    if (!c) return;
    state = json0.apply(state, [c]);
    op.push(c);
  };
  if (mode !== 'delete') {
    push(rng.chance(0.8) ? targetEdit(rng, state, target, inexact) : regionEdit(rng, state, region, inexact));
    if (rng.chance(0.4)) push(regionEdit(rng, state, region, inexact));
  }
  if (mode !== 'edit') {
    let path = rng.weighted([
      [6, () => target.slice(0, region.length + rng.int(target.length - region.length + 1))],
      [2, () => region.slice(0, 1 + rng.int(region.length))],
      [0.3, () => []],
    ])();
    if (valueAt(state, path) === undefined) path = region;
    push(deleteAt(rng, state, path));
  }
  if (rng.chance(0.25)) {
    const kind = rng.weighted(KIND_WEIGHTS);
    push(COMPONENT_KINDS[kind](rng, state, locations(state), focusOf(op)));
  }
  return { op, doc: state };
}

// A case whose ops collide on payloads: a and b both aim at one number or string inside a
// planted region of the document (each editing it, deleting or replacing something that
// holds it, or both, at depths of their own), so that a delete payload of one describes
// what the other changes. b adds inexact amounts; a (also used for compose and invert,
// which stay exact) adds exact ones. c goes on from a's document the same way.
function payloadCase(rng) {
  const { doc, region } = plantRegion(rng, randomDoc(rng));
  const leaves = locations(doc).filter((l) => within(l.path, region) && l.path.length > region.length &&
    (typeof l.value === 'string' || (typeof l.value === 'number' && exactNumber(l.value))));
  const numbers = leaves.filter((l) => typeof l.value === 'number');
  const pool = numbers.length > 0 && rng.chance(0.6) ? numbers : leaves;
  const target = pool.length > 0 ? rng.pick(pool).path : region;
  const mode = () => rng.weighted([[6, 'both'], [2, 'edit'], [2, 'delete']]);
  const aMode = mode();
  const bMode = aMode === 'edit' ? rng.pick(['both', 'delete']) : mode();
  const a = payloadOp(rng, doc, region, target, aMode, false);
  const b = payloadOp(rng, doc, region, target, bMode, true);
  const c = rng.chance(0.5) && valueAt(a.doc, region) !== undefined
    ? payloadOp(rng, a.doc, region, target, mode(), false) : randomOp(rng, a.doc, focusOf(a.op));
  return { doc, a: a.op, b: b.op, c: c.op };
}

// A fuzz case: doc, two concurrent ops a and b on doc (b usually aimed at what a touches),
// and c, valid after a (usually aimed at what a touched, for compose).
function randomCase(rng) {
  if (rng.chance(0.2)) return payloadCase(rng);
  const doc = randomDoc(rng);
  const a = randomOp(rng, doc, []);
  const focus = focusOf(a.op);
  const b = randomOp(rng, doc, rng.chance(0.85) ? focus : []);
  const c = randomOp(rng, a.doc, rng.chance(0.85) ? focus : []);
  return { doc, a: a.op, b: b.op, c: c.op };
}

// ---------------------------------------------------------------- strict validity

const COMPONENT_KEYS = new Set(['p', 'na', 'li', 'ld', 'lm', 'oi', 'od', 'si', 'sd', 't', 'o']);
const SHAPES = new Set(['na', 'li', 'ld', 'ld,li', 'lm', 'oi', 'od', 'od,oi', 'si', 'sd', 'o,t']);

function fail(message) {
  throw new Error(message);
}

// Applies op to a copy of doc under the strict rules of the C engine and returns the result;
// throws an Error naming the first rule broken. Written independently of ot-json0.
// closeNumbers: ld/od payloads may differ from the document in numbers that only round
// differently (see deepEqual).
function strictApply(doc, op, closeNumbers = false) {
  if (!Array.isArray(op)) fail('op is not a list');
  const box = { root: clone(doc) };
  op.forEach((c, ci) => {
    const where = `component ${ci}`;
    if (!isObject(c)) fail(`${where}: not an object`);
    for (const k of Object.keys(c)) if (!COMPONENT_KEYS.has(k)) fail(`${where}: unknown key ${k}`);
    const shape = Object.keys(c).filter((k) => k !== 'p').sort().join(',');
    if (!SHAPES.has(shape)) fail(`${where}: invalid combination ${shape}`);
    if (!Array.isArray(c.p)) fail(`${where}: path is not a list`);
    const stringOp = c.si !== undefined || c.sd !== undefined;
    const steps = stringOp ? c.p.slice(0, -1) : c.p;
    // Walk to the parent container of the target.
    let parent = box;
    let key = 'root';
    for (let i = 0; i < steps.length; i++) {
      const container = parent[key];
      const step = steps[i];
      if (Array.isArray(container)) {
        if (!Number.isInteger(step) || step < 0) fail(`${where}: list index ${JSON.stringify(step)} at ${i}`);
        const last = i === steps.length - 1;
        const insertAt = last && c.li !== undefined && c.ld === undefined;
        if (step > container.length - (insertAt ? 0 : 1)) fail(`${where}: index ${step} out of range at ${i}`);
      } else if (isObject(container)) {
        if (typeof step !== 'string') fail(`${where}: object key ${JSON.stringify(step)} at ${i}`);
        if (FORBIDDEN_KEYS.has(step)) fail(`${where}: forbidden key ${step}`);
        const last = i === steps.length - 1;
        const creates = last && c.oi !== undefined && c.od === undefined;
        const exists = Object.prototype.hasOwnProperty.call(container, step);
        if (creates && exists) fail(`${where}: oi on existing key ${step} without od`);
        if (!creates && !exists) fail(`${where}: missing key ${step}`);
      } else {
        fail(`${where}: path goes through a ${container === null ? 'null' : typeof container} at ${i}`);
      }
      parent = container;
      key = step;
    }
    const container = parent;
    const current = container[key];
    const inList = Array.isArray(container);
    const inObject = isObject(container) && container !== box;
    if (c.na !== undefined) {
      if (typeof c.na !== 'number' || typeof current !== 'number') fail(`${where}: na on a non-number`);
      container[key] = current + c.na;
    } else if (stringOp) {
      const off = c.p[c.p.length - 1];
      if (typeof current !== 'string') fail(`${where}: string op on a non-string`);
      const text = c.si !== undefined ? c.si : c.sd;
      if (typeof text !== 'string' || text === '') fail(`${where}: string payload must be a non-empty string`);
      if (!isBoundary(current, off)) fail(`${where}: offset ${off} not a code-point boundary`);
      if (c.si !== undefined) {
        container[key] = current.slice(0, off) + text + current.slice(off);
      } else {
        if (!isBoundary(current, off + text.length) || current.slice(off, off + text.length) !== text) {
          fail(`${where}: sd does not match the document`);
        }
        container[key] = current.slice(0, off) + current.slice(off + text.length);
      }
    } else if (c.t !== undefined) {
      if (c.t !== 'text0' || !Array.isArray(c.o)) fail(`${where}: unknown subtype`);
      if (typeof current !== 'string') fail(`${where}: text0 on a non-string`);
      let s = current;
      for (const t of c.o) {
        const tkeys = Object.keys(t).sort().join(',');
        if (tkeys !== 'i,p' && tkeys !== 'd,p') fail(`${where}: text0 component ${tkeys}`);
        const text = t.i !== undefined ? t.i : t.d;
        if (typeof text !== 'string' || text === '') fail(`${where}: text0 payload must be a non-empty string`);
        if (!isBoundary(s, t.p)) fail(`${where}: text0 offset ${t.p} not a code-point boundary`);
        if (t.i !== undefined) {
          s = s.slice(0, t.p) + text + s.slice(t.p);
        } else {
          if (s.slice(t.p, t.p + text.length) !== text || !isBoundary(s, t.p + text.length)) {
            fail(`${where}: text0 d does not match the document`);
          }
          s = s.slice(0, t.p) + s.slice(t.p + text.length);
        }
      }
      container[key] = s;
    } else if (c.lm !== undefined) {
      if (!inList) fail(`${where}: lm outside a list`);
      if (!Number.isInteger(c.lm) || c.lm < 0 || c.lm > container.length - 1) fail(`${where}: lm ${c.lm} out of range`);
      const [item] = container.splice(key, 1);
      container.splice(c.lm, 0, item);
    } else if (c.li !== undefined || c.ld !== undefined) {
      if (!inList) fail(`${where}: li/ld outside a list`);
      if (c.ld !== undefined && !deepEqual(c.ld, current, closeNumbers)) fail(`${where}: ld does not match the document`);
      if (c.li !== undefined && c.ld !== undefined) container[key] = clone(c.li);
      else if (c.li !== undefined) container.splice(key, 0, clone(c.li));
      else container.splice(key, 1);
    } else {
      if (!inObject && !(container === box && c.oi !== undefined && c.od !== undefined)) {
        fail(`${where}: oi/od outside an object`);
      }
      if (c.od !== undefined && !deepEqual(c.od, current, closeNumbers)) fail(`${where}: od does not match the document`);
      if (c.oi !== undefined) container[key] = clone(c.oi);
      else delete container[key];
    }
  });
  return box.root;
}

// ---------------------------------------------------------------- case-sheet workload

const WORDS = ['Miete', 'Rückstand', 'Jobcenter', 'Bescheid', 'Widerspruch', 'Schuldner', 'Gläubiger',
  'Ratenzahlung', 'Aufenthaltstitel', 'Kita', 'Beratung', 'Termin', 'Unterlagen', 'Frist', 'Antrag',
  'Kündigung', 'Wohngeld', 'Pfändung', 'Übersetzung', 'Sucht', 'Familie', 'Gespräch', 'vereinbart',
  'geklärt', 'offen', 'dringend', 'nächste', 'Woche', 'mit', 'und', 'für', 'die', 'der', 'am', '😀', 'ok'];
const SECTIONS = ['debt', 'socialLaw', 'migration', 'housing', 'family', 'addiction'];
const STATUSES = ['open', 'in progress', 'waiting for documents', 'done', 'escalated'];

const sentence = (rng, words) => Array.from({ length: words }, () => rng.pick(WORDS)).join(' ') + '. ';
const paragraph = (rng, sentences) => Array.from({ length: sentences }, () => sentence(rng, 5 + rng.int(8))).join('');
const isoDate = (rng) => `2024-${String(1 + rng.int(12)).padStart(2, '0')}-${String(1 + rng.int(28)).padStart(2, '0')}`;

function caseSheetTask(rng) {
  return { title: sentence(rng, 3 + rng.int(4)).trim(), owner: rng.pick(SECTIONS), due: isoDate(rng), done: false };
}

// A realistic case sheet of roughly 10-30 KB (see research/domain.md §1.3 for the layout).
function caseSheetDoc(rng) {
  const sections = {};
  for (const name of SECTIONS) {
    sections[name] = {
      status: rng.pick(STATUSES),
      counsellor: `c-${rng.int(1000)}`,
      notes: paragraph(rng, 10 + rng.int(8)),
      facts: Array.from({ length: 3 }, () => ({ label: rng.pick(WORDS), value: sentence(rng, 4).trim() })),
    };
  }
  return {
    meta: { title: 'Integrierte Beratung', created: isoDate(rng), status: 'open', lead: 'c-1' },
    person: { pseudonym: 'Klient:in A.', birthYear: 1970 + rng.int(40), household: 1 + rng.int(5), languages: ['de', 'ar'] },
    concern: { summary: paragraph(rng, 3), situation: paragraph(rng, 5) },
    consents: Array.from({ length: 3 }, () => ({ scope: rng.pick(SECTIONS), given: true, at: isoDate(rng) })),
    appointments: Array.from({ length: 12 }, () => ({ date: isoDate(rng), with: rng.pick(SECTIONS), topic: sentence(rng, 4).trim() })),
    helpPlan: { goals: Array.from({ length: 4 }, () => sentence(rng, 6).trim()), tasks: Array.from({ length: 20 }, () => caseSheetTask(rng)) },
    documents: Array.from({ length: 12 }, () => ({ name: `${rng.pick(WORDS)}.pdf`, received: isoDate(rng) })),
    sections,
    internal: { notes: paragraph(rng, 4) },
    chat: Array.from({ length: 30 }, () => ({ from: rng.pick(SECTIONS), text: sentence(rng, 6).trim(), at: isoDate(rng) })),
  };
}

// One op of the case-sheet mix, valid on doc: 60% text edits at depth 3
// (sections.<name>.notes), 20% task inserts (helpPlan.tasks), 20% field sets (oi+od).
function caseSheetOp(rng, doc) {
  const roll = rng.next();
  if (roll < 0.6) {
    const path = ['sections', rng.pick(SECTIONS), 'notes'];
    const notes = doc.sections[path[1]].notes;
    const bounds = codePointBoundaries(notes);
    const at = bounds[rng.int(bounds.length)];
    if (notes.length > 200 && rng.chance(0.4)) {
      const end = bounds.find((b) => b >= at + 1 + rng.int(6));
      if (end !== undefined) return [{ p: path.concat([at]), sd: notes.slice(at, end) }];
    }
    return [{ p: path.concat([at]), si: rng.chance(0.7) ? rng.pick(['a', 'e', ' ', 'ü', 'n', 's']) : ' ' + rng.pick(WORDS) }];
  }
  if (roll < 0.8) {
    const tasks = doc.helpPlan.tasks;
    return [{ p: ['helpPlan', 'tasks', rng.int(tasks.length + 1)], li: caseSheetTask(rng) }];
  }
  if (rng.chance(0.5)) {
    const name = rng.pick(SECTIONS);
    return [{ p: ['sections', name, 'status'], od: doc.sections[name].status, oi: rng.pick(STATUSES) }];
  }
  const tasks = doc.helpPlan.tasks;
  const i = rng.int(tasks.length);
  return [{ p: ['helpPlan', 'tasks', i, 'done'], od: tasks[i].done, oi: !tasks[i].done }];
}

// The benchmark workload: a case sheet, `opCount` ops valid in sequence on it, and
// `pairCount` pairs of concurrent ops (both generated on the same document state).
function caseSheetWorkload(seed, opCount, pairCount) {
  const rng = makeRng(seed);
  const doc = caseSheetDoc(rng);
  let state = clone(doc);
  const ops = [];
  const pairs = [];
  for (let i = 0; i < Math.max(opCount, pairCount); i++) {
    const op = caseSheetOp(rng, state);
    if (i < pairCount) pairs.push([op, caseSheetOp(rng, state)]);
    if (i < opCount) ops.push(op);
    state = json0.apply(state, op);
  }
  return { doc, ops, pairs };
}

module.exports = {
  makeRng, caseSeed, clone, deepEqual, codePointBoundaries,
  randomDoc, randomOp, randomCase, payloadCase, focusOf, componentKind, strictApply,
  caseSheetDoc, caseSheetOp, caseSheetWorkload,
};

// ---------------------------------------------------------------- self-test

// Every generated op must pass strictApply and give the same document under ot-json0.
function selfTest(cases, seed) {
  const kinds = {};
  let failed = 0;
  let docBytes = 0;
  const check = (label, doc, op, index) => {
    let strict;
    try {
      strict = strictApply(doc, op);
    } catch (e) {
      failed++;
      if (failed <= 5) console.log(`case ${index} ${label}: ${e.message}\n  ${JSON.stringify({ doc, op })}`);
      return null;
    }
    const reference = json0.apply(clone(doc), clone(op));
    if (!deepEqual(strict, reference)) {
      failed++;
      if (failed <= 5) console.log(`case ${index} ${label}: strictApply and ot-json0 differ\n  ${JSON.stringify({ doc, op })}`);
    }
    return reference;
  };
  for (let i = 0; i < cases; i++) {
    const k = randomCase(makeRng(caseSeed(seed, i)));
    docBytes += JSON.stringify(k.doc).length;
    for (const c of k.a.concat(k.b, k.c)) kinds[componentKind(c)] = (kinds[componentKind(c)] || 0) + 1;
    const afterA = check('a', k.doc, k.a, i);
    check('b', k.doc, k.b, i);
    if (afterA !== null) check('c', afterA, k.c, i);
  }
  const workload = caseSheetWorkload(seed, 2000, 200);
  let state = clone(workload.doc);
  for (const op of workload.ops) state = strictApply(state, op);
  console.log(`component kinds: ${JSON.stringify(kinds)}`);
  console.log(`mean document size: ${Math.round(docBytes / cases)} bytes; ` +
    `case sheet: ${JSON.stringify(workload.doc).length} bytes`);
  console.log(`gen self-test: ${cases * 3 - failed} passed, ${failed} failed`);
  return failed === 0;
}

if (require.main === module) {
  const cases = Number(process.argv[2] || 20000);
  const seed = Number(process.argv[3] || 1);
  process.exit(selfTest(cases, seed) ? 0 : 1);
}

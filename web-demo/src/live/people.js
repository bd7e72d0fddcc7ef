// The people in a room as the page lists them: one entry per person however many tabs or
// devices they have open (keyed by the principal id the hub stamps), the places each of
// their presences is at, and those who were here and have gone ("away", with the time
// they went) until they come back.
//
// Colours: every page assigns the same colour to the same person, and no two people
// present share one. People are taken in order of arrival (the `since` each page sends,
// then the id), each gets the first free colour from its id's preferred one on, so a
// newcomer never takes a colour someone already shows. The palette's colours all carry
// white text and a 2 px caret at WCAG AA contrast (4.5:1 and more on white).
const PALETTE_SIZE = 12;

function preferred(key) {
  let hash = 0x811c9dc5;
  for (const ch of String(key)) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return hash % PALETTE_SIZE;
}

// people: [{key, since}] → Map key → tone index.
function assignTones(people) {
  const order = [...people].sort((a, b) => a.since - b.since || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const taken = new Set();
  const tones = new Map();
  for (const { key } of order) {
    let tone = preferred(key);
    for (let i = 0; i < PALETTE_SIZE && taken.has(tone); i++) tone = (tone + 1) % PALETTE_SIZE;
    if (taken.size >= PALETTE_SIZE) tone = tones.size % PALETTE_SIZE;
    taken.add(tone);
    tones.set(key, tone);
  }
  return tones;
}

const keyOf = (presence) => (presence.identity && presence.identity.id) || `presence:${presence.id}`;

// Tracks people over time. me: {id, …}; mySince: when this page joined.
function createPeople(me, mySince) {
  const away = new Map();   // key → {identity, at}
  let lastPresent = new Map();

  // others: presence.others(); connected: whether this page hears the hub (if not, nobody
  // is known to be present, and nobody is taken for gone either). Returns {present: [{key,
  // identity, places, since, tone}], away: [{key, identity, at}], meTone, stale}.
  function compute(others, connected) {
    if (!connected) {
      lastPresent = new Map();
      return { present: [], away: [...away.values()], meTone: assignTones([{ key: me.id, since: mySince }]).get(me.id), stale: true };
    }
    const present = new Map();
    for (const p of others) {
      const key = keyOf(p);
      if (key === me.id) continue;   // my own other tabs are me
      const entry = present.get(key) || { key, identity: p.identity, places: [], since: p.since };
      entry.since = Math.min(entry.since, p.since);
      if (!entry.identity && p.identity) entry.identity = p.identity;
      entry.places.push({ presenceId: p.id, path: p.path, index: p.index, length: p.length });
      present.set(key, entry);
    }
    for (const [key, entry] of lastPresent) {
      if (!present.has(key)) away.set(key, { key, identity: entry.identity, at: Date.now() });
    }
    for (const key of present.keys()) away.delete(key);
    lastPresent = present;
    const mySinceNow = Math.min(mySince, ...others.filter((p) => keyOf(p) === me.id).map((p) => p.since));
    const tones = assignTones([{ key: me.id, since: mySinceNow }, ...[...present.values()].map((e) => ({ key: e.key, since: e.since }))]);
    const list = [...present.values()].sort((a, b) => a.since - b.since);
    for (const entry of list) entry.tone = tones.get(entry.key);
    return { present: list, away: [...away.values()], meTone: tones.get(me.id), stale: false };
  }

  return { compute };
}

module.exports = { createPeople, assignTones, PALETTE_SIZE };

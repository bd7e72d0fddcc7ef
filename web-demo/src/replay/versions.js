// A session's case sheet at any version, rebuilt locally from its history: the ops are
// kept in memory and a copy of the sheet is kept every CHECKPOINT_EVERY versions, so a
// version is the nearest checkpoint at or below it plus at most that many ops (json0),
// or the version shown last plus the few ops after it when stepping forward.
const json0 = require('ot-json0').type;

const CHECKPOINT_EVERY = 100;

const copy = (data) => (data === undefined || data === null ? null : JSON.parse(JSON.stringify(data)));

// One stored op applied to data (which it may change); create and delete included.
function applyEntry(data, entry) {
  if (entry.create) return copy(entry.create.data);
  if (entry.del) return null;
  if (!entry.op || !entry.op.length) return data;
  return json0.apply(data, entry.op);
}

// base: the history's first snapshot {v, data}; entries are added page by page.
function createVersions(base) {
  const entries = [];
  const checkpoints = [copy(base.data)];
  let running = copy(base.data);
  let last = { v: base.v, data: copy(base.data) };

  const first = () => base.v;
  const latest = () => base.v + entries.length;

  function add(pageEntries) {
    for (const entry of pageEntries) {
      if (entry.v !== latest()) throw new Error(`history gap: expected version ${latest()}, got ${entry.v}`);
      running = applyEntry(running, entry);
      entries.push(entry);
      if (entries.length % CHECKPOINT_EVERY === 0) checkpoints.push(copy(running));
    }
  }

  // The op that made version v (the one stored with version v - 1), or null.
  const entryBefore = (v) => (v > base.v && v <= latest() ? entries[v - 1 - base.v] : null);

  // The sheet at version v (clamped to first()…latest()).
  function at(v) {
    const target = Math.max(first(), Math.min(latest(), v));
    const slot = Math.floor((target - base.v) / CHECKPOINT_EVERY);
    const checkpointVersion = base.v + slot * CHECKPOINT_EVERY;
    let from = checkpointVersion;
    let data;
    if (last.v <= target && last.v >= checkpointVersion) {
      from = last.v;
      data = copy(last.data);
    } else {
      data = copy(checkpoints[slot]);
    }
    for (let version = from; version < target; version++) data = applyEntry(data, entries[version - base.v]);
    last = { v: target, data };
    return data;
  }

  return { add, at, first, latest, entryBefore, entries: () => entries };
}

module.exports = { createVersions, CHECKPOINT_EVERY };

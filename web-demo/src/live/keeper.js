// What the page keeps of a case sheet, so that nothing typed is lost to a dead network or
// a reload: the last known snapshot and every edit the hub has not acknowledged, in
// IndexedDB, one record per open room view ("page record"), rewritten after every change.
//
// The edits keep their ShareDB identity. Each op gets its src (a random id of this view,
// never reused) and seq (the connection's counter) when it is made, before it is stored,
// and keeps them however often it is sent. The hub recognises a resent op by (principal,
// src, seq) and acknowledges it instead of applying it again (protocol/sharedb-wire.md),
// so an op sent just before a reload and sent again after it arrives once.
//
// Invariants:
//   - nothing is sent before it is stored: the document stays paused (doc.pause(), the
//     stock client's own switch), and the next op goes out only once the stored record
//     holds it as it is; an op that grew by composing a later keystroke waits for the
//     record that holds the larger op. (Transforms by others' ops need no new record: a
//     stored pair of version and op is resent as it is, and the hub transforms it.)
//   - a record is the version, the data with the edits applied, and the edits, written
//     in one go: restoring it is the stock client's state before the reload.
//   - a record belongs to its account (the principal's id): another account on this
//     browser never reads it; logging out deletes the account's records.
//   - a client's records are sealed with a key that lives as long as its tab (seal.js),
//     unless the client chose to keep them on the device.
//
// When the page opens a case sheet, the records of views no longer open (their Web Lock
// is free) are adopted: the newest becomes this view's starting point (its snapshot shown
// at once, its edits pending, sent when the hub answers) and is replaced by this view's
// record in the same transaction; older ones with edits are sent through a connection of
// their own and then deleted (see flushOthers).
const { createStore, promisifyRequest } = require('idb-keyval');
const ShareDB = require('sharedb/lib/client');
const seal = require('./seal');

const json0 = ShareDB.types.defaultType;
const LOCK_PREFIX = 'konsil-view-';
const SEP = '\u0000';
// A snapshot without edits is kept this long after its view closed, one with edits
// until they are sent (or the account logs out).
const SNAPSHOT_DAYS = 30;

// Views of this page still writing their last record (their close() promises): a view
// opened right after another closed (the room opened anew) waits for them, so it adopts
// what they kept.
const closing = new Set();

let store = null;
function db() {
  if (!store && typeof indexedDB !== 'undefined') store = createStore('konsil', 'sheets');
  return store;
}

function randomId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const recordKey = (account, collection, docId, view) => [account, collection, docId, view].join(SEP);

function locks() {
  return typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request ? navigator.locks : null;
}

// Holds the lock named for view until the returned function is called.
function hold(view) {
  const l = locks();
  if (!l) return () => {};
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  l.request(LOCK_PREFIX + view, () => held).catch(() => {});
  return release;
}

async function heldViews() {
  const l = locks();
  if (!l || !l.query) return new Set();
  const state = await l.query();
  return new Set(state.held.map((h) => h.name.slice(LOCK_PREFIX.length)));
}

async function allRecords() {
  const s = db();
  if (!s) return [];
  return s('readonly', (os) => Promise.all([promisifyRequest(os.getAllKeys()), promisifyRequest(os.getAll())])).then(([keys, values]) =>
    keys.map((key, i) => ({ key, ...values[i] })),
  );
}

async function readState(record) {
  if (record.state) return JSON.parse(record.state);
  if (record.sealed) {
    const text = await seal.unseal(record.sealed);
    return text === null ? null : JSON.parse(text);
  }
  return null;
}

function write(key, value, drop = []) {
  return db()('readwrite', (os) => {
    os.put(value, key);
    for (const k of drop) os.delete(k);
    return promisifyRequest(os.transaction);
  });
}

function remove(keys) {
  if (!keys.length || !db()) return Promise.resolve();
  return db()('readwrite', (os) => {
    for (const k of keys) os.delete(k);
    return promisifyRequest(os.transaction);
  });
}

// Deletes every record of the account (logout).
async function wipeAccount(account) {
  try {
    const records = await allRecords();
    await remove(records.filter((r) => r.account === account).map((r) => r.key));
  } catch (e) {
    // No storage: nothing was kept.
  }
  seal.forget();
}

// Deletes what nobody can read any more (the records of closed client tabs) and old
// snapshots without edits; run when the page starts, whoever uses it.
async function sweep() {
  try {
    await orphans(null, null, null);
  } catch (e) {
    // No storage: nothing kept.
  }
}

// Records of this account and document whose views are closed, newest first, readable
// ones with their state; records nobody can read any more (a closed client tab's) and
// old snapshots without edits are deleted on the way.
async function orphans(account, collection, docId) {
  const records = await allRecords();
  const live = await heldViews();
  const stale = [];
  const found = [];
  const cutoff = Date.now() - SNAPSHOT_DAYS * 86400e3;
  for (const record of records) {
    if (live.has(record.view)) continue;
    const state = await readState(record).catch(() => null);
    if (!state) {
      if (record.sealed) stale.push(record.key);
      continue;
    }
    if (!state.pending.length && record.updated < cutoff) {
      stale.push(record.key);
      continue;
    }
    if (record.account === account && record.collection === collection && record.doc === docId) found.push({ ...record, state });
  }
  await remove(stale);
  return found.sort((a, b) => b.updated - a.updated);
}

// The state of a stored record put into a fresh Doc: the snapshot at its version (the data
// with its edits taken back) and the edits as pending ops with their own src and seq.
function restoreInto(doc, state, onOp) {
  let base = state.data;
  for (const p of [...state.pending].reverse()) base = json0.apply(base, json0.invert(p.op));
  doc.ingestSnapshot({ v: state.v, data: base, type: json0.uri });
  const compose = doc.preventCompose;
  doc.preventCompose = true;
  try {
    for (const p of state.pending) {
      doc.submitOp(p.op, { source: p.source }, onOp);
      const op = doc.pendingOps[doc.pendingOps.length - 1];
      op.src = p.src;
      op.seq = p.seq;
      op.localRev = 1;
      op.keptRev = 1;
      // It may have left an earlier page already: never compose a new edit into it.
      op.sentAt = 1;
    }
  } finally {
    doc.preventCompose = compose;
  }
}

// What the page says about where unsent edits are: 'device' (IndexedDB, outlives the
// tab), 'tab' (sealed with the tab's key), 'memory' (nothing stored: lost on reload).
async function durabilityFor(principal) {
  if (!db()) return 'memory';
  try {
    await db()('readonly', (os) => promisifyRequest(os.count()));
  } catch (e) {
    return 'memory';
  }
  if (principal.role !== 'client') return 'device';
  if (!(await seal.available())) return 'memory';
  return seal.keepsOnDevice() ? 'device' : 'tab';
}

// Opens the keeper of one room view. connect() opens a further live connection (for older
// records' edits); onRefused(ops) is told of edits the hub refused or that could not be
// restored (each {op, source}); onChange() of every change of what is stored.
async function openKeeper({ principal, collection, docId, connect, onRefused, onChange }) {
  await Promise.all([...closing]);
  const account = principal.id;
  const view = randomId();
  const key = recordKey(account, collection, docId, view);
  const release = hold(view);
  let durability = await durabilityFor(principal);
  let found = [];
  if (durability !== 'memory') {
    try {
      found = await orphans(account, collection, docId);
    } catch (e) {
      found = [];
    }
  }
  let doc = null;
  let connection = null;
  let adopt = [];          // keys the first write replaces
  let writing = false;
  let dirty = false;
  let closed = false;
  let restoring = false;
  let stored = 0;          // writes done (0: nothing on record yet)
  let meta = found[0] ? found[0].meta || null : null;
  const notify = () => onChange && onChange();

  const pending = () => (doc ? [doc.inflightOp, ...doc.pendingOps].filter(Boolean) : []);

  // Sends the next op once the record holds it as it is.
  function pump() {
    if (!doc || !doc.paused || !connection.canSend || doc.inflightOp) return;
    const next = doc.pendingOps[0];
    if (!next || next.keptRev !== next.localRev) return;
    doc.resume();
    doc.pause();
  }

  async function persist() {
    writing = true;
    while (dirty) {
      dirty = false;
      if (!doc || !doc.type) continue;
      const ops = pending();
      const revs = ops.map((op) => op.localRev);
      const text = JSON.stringify({
        v: doc.version,
        data: doc.data,
        pending: ops.map((op) => ({ op: op.op, src: op.src, seq: op.seq, source: op.source })),
      });
      const record = { account, collection, doc: docId, view, updated: Date.now(), role: principal.role, meta };
      try {
        if (principal.role === 'client') record.sealed = await seal.seal(text);
        else record.state = text;
        await write(key, record, adopt);
        adopt = [];
        ops.forEach((op, i) => {
          op.keptRev = revs[i];
        });
        stored += 1;
      } catch (e) {
        // Storage failed (full, or taken away): stop holding edits back for it.
        durability = 'memory';
        if (doc.paused) doc.resume();
      }
      pump();
      notify();
    }
    writing = false;
  }

  let finished = null;
  function changed() {
    if (closed || durability === 'memory') return;
    dirty = true;
    if (!writing) persist();
  }

  // Gives the op just made (or grown by composing) its identity, or a new revision.
  function stamp() {
    const last = doc.pendingOps[doc.pendingOps.length - 1];
    if (!last || last.sentAt) return;
    if (last.seq == null) {
      last.src = view;
      last.seq = connection.seq++;
      last.localRev = 1;
    } else {
      last.localRev = (last.localRev || 1) + 1;
    }
  }

  // The page learns of a local edit at once, not once it is stored: it is unsent from the
  // moment it is made, and the indicator must not say "saved" meanwhile.
  const onOp = (op, source) => {
    if (source && !restoring) stamp();
    changed();
    if (source) notify();
  };
  const onReceive = () => Promise.resolve().then(() => {
    changed();
    pump();
  });
  const onState = () => pump();

  // Sends the edits of an older record through a connection of its own, then deletes it.
  async function flushOther(record) {
    const live = connect();
    const other = live.connection.get(collection, docId);
    other.pause();
    try {
      restoreInto(other, record.state, () => {});
    } catch (e) {
      if (onRefused) onRefused(record.state.pending);
      await remove([record.key]);
      live.close();
      return;
    }
    live.connection.on('receive', (request) => {
      const m = request.data;
      if (m && m.a === 'op' && m.error && m.op && onRefused) onRefused([{ op: m.op, source: null }]);
    });
    other.subscribe(() => {});
    const go = () => {
      if (live.connection.canSend) other.resume();
    };
    live.connection.on('state', go);
    go();
    await new Promise((resolve) => other.whenNothingPending(resolve));
    await remove([record.key]);
    live.close();
  }

  return {
    durability: () => durability,
    // Edits the hub has not acknowledged.
    unsent: () => pending().length,
    // Whether the newest change is on record (or nothing can be stored).
    isStored: () => durability === 'memory' || (!dirty && !writing && stored > 0),
    // Puts the newest earlier record into doc (a fresh Doc of connection) and starts
    // keeping it. Returns true when doc now holds a sheet to show before the hub answers.
    attach(theDoc, theConnection) {
      doc = theDoc;
      connection = theConnection;
      let restored = false;
      if (durability !== 'memory') doc.pause();
      const [newest, ...older] = found;
      if (newest) {
        restoring = true;
        try {
          restoreInto(doc, newest.state, () => {});
          restored = true;
          adopt = [newest.key];
        } catch (e) {
          if (onRefused) onRefused(newest.state.pending);
          adopt = [newest.key];
        } finally {
          restoring = false;
        }
      }
      doc.on('op', onOp);
      doc.on('load', changed);
      doc.on('del', changed);
      connection.on('receive', onReceive);
      connection.on('state', onState);
      changed();
      (async () => {
        for (const record of older) {
          if (closed) return;
          if (record.state.pending.length) await flushOther(record).catch(() => {});
          else await remove([record.key]).catch(() => {});
        }
      })();
      return restored;
    },
    // What the view asked to keep beside the sheet (e.g. the session's title), from the
    // record it started from.
    meta: () => meta,
    setMeta(value) {
      meta = value;
      changed();
    },
    // The hub refused the sheet (rights gone): what is kept of it goes.
    async discard() {
      closed = true;
      while (writing) await new Promise((r) => setTimeout(r, 20));
      await remove([key, ...adopt]).catch(() => {});
    },
    // The view closes: the last change is written, then the record is left for the next
    // view of this sheet to adopt.
    close() {
      if (finished) return finished;
      if (doc) {
        doc.removeListener('op', onOp);
        doc.removeListener('load', changed);
        doc.removeListener('del', changed);
        connection.removeListener('receive', onReceive);
        connection.removeListener('state', onState);
      }
      finished = (async () => {
        while (writing) await new Promise((r) => setTimeout(r, 20));
        closed = true;
        release();
      })();
      closing.add(finished);
      finished.then(() => closing.delete(finished));
      return finished;
    },
  };
}

module.exports = { openKeeper, wipeAccount, sweep };

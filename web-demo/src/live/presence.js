// Who is in the session room and where: sharedb's untyped presence on the channel named
// after the session. The local value is {path, index?, length?, since}: the field in focus
// (path null when none), the caret and selection inside a text field (UTF-16 offsets, as
// json0's), and when this page joined (people are coloured in order of arrival). Identity
// is never sent by the page: the hub stamps it on every presence message as `u`, which
// the stock client drops, so it is read here from the raw message.
//
// A remote caret moves with the text: every op on that field (anyone's) shifts it as
// caret.js shifts a local caret, until that person's next presence update replaces it.
const { shiftIndex } = require('../sheet/caret');

const samePath = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((s, i) => s === b[i]);

function joinPresence(connection, channel) {
  const presence = connection.getPresence(channel);
  const identities = new Map();
  const entries = new Map();
  const listeners = new Set();
  const since = Date.now();
  let current = { path: null };
  const notify = () => listeners.forEach((fn) => fn());

  const onReceiveRaw = (request) => {
    const message = request.data;
    if (message && message.a === 'p' && message.ch === channel && message.u) identities.set(message.id, message.u);
  };
  connection.on('receive', onReceiveRaw);

  presence.on('receive', (id, value) => {
    if (value === null || value === undefined) entries.delete(id);
    else entries.set(id, { ...value });
    notify();
  });
  presence.on('error', () => {});
  // Whoever left while this page was disconnected never sends its goodbye: start afresh;
  // the others answer the resubscription with their current presence. The hub ended this
  // page's presence with its old connection: it is announced again (the stock client only
  // sends what it had not sent yet).
  let send = () => {};
  const onState = (state) => {
    if (state === 'connected') send();
    else if (entries.size) {
      entries.clear();
      notify();
    }
  };
  connection.on('state', onState);

  presence.subscribe(() => {});
  const local = presence.create();
  send = () => local.submit({ ...current, since }, () => {});
  send();

  return {
    // place: {path, index?, length?}; sent only when it changed.
    set(place) {
      const next = { path: place.path || null };
      if (typeof place.index === 'number') {
        next.index = place.index;
        next.length = place.length || 0;
      }
      if (JSON.stringify(next) === JSON.stringify(current)) return;
      current = next;
      send();
    },
    // [{id, path, index, length, since, identity}] of every other presence (several per
    // person with several tabs), identity as the hub stamped it (may be absent).
    others: () =>
      [...entries].map(([id, value]) => ({
        id,
        path: value && Array.isArray(value.path) ? value.path : null,
        index: value && typeof value.index === 'number' ? value.index : null,
        length: value && typeof value.length === 'number' ? value.length : 0,
        since: value && typeof value.since === 'number' ? value.since : Infinity,
        identity: identities.get(id) || null,
      })),
    since,
    // One op component applied to the sheet: carets in that text move with it.
    shift(component) {
      if (!('si' in component || 'sd' in component)) return;
      const field = component.p.slice(0, -1);
      let moved = false;
      for (const value of entries.values()) {
        if (typeof value.index !== 'number' || !samePath(value.path, field)) continue;
        const start = shiftIndex(value.index, component);
        const end = shiftIndex(value.index + (value.length || 0), component);
        value.index = start;
        value.length = Math.max(0, end - start);
        moved = true;
      }
      if (moved) notify();
    },
    onChange: (fn) => listeners.add(fn),
    leave() {
      connection.removeListener('receive', onReceiveRaw);
      connection.removeListener('state', onState);
      presence.destroy(() => {});
    },
  };
}

module.exports = { joinPresence };

// Who is in the session room and where: sharedb's untyped presence on the channel named
// after the session. The local value is {path} of the field in focus (path null when
// none); identity is never sent by the page: the hub stamps it on every presence message
// as `u`, which the stock client drops, so it is read here from the raw message.

function joinPresence(connection, channel) {
  const presence = connection.getPresence(channel);
  const identities = new Map();
  const people = new Map();
  const listeners = new Set();
  const notify = () => listeners.forEach((fn) => fn());

  const onReceiveRaw = (request) => {
    const message = request.data;
    if (message && message.a === 'p' && message.ch === channel && message.u) identities.set(message.id, message.u);
  };
  connection.on('receive', onReceiveRaw);

  presence.on('receive', (id, value) => {
    if (value === null || value === undefined) people.delete(id);
    else people.set(id, value);
    notify();
  });
  presence.on('error', () => {});
  // Whoever left while this page was disconnected never sends its goodbye: start afresh;
  // the others answer the resubscription with their current presence.
  const onState = (state) => {
    if (state !== 'connected' && people.size) {
      people.clear();
      notify();
    }
  };
  connection.on('state', onState);

  presence.subscribe(() => {});
  const local = presence.create();
  const submit = (path) => local.submit({ path }, () => {});
  submit(null);

  return {
    focus: (path) => submit(path),
    blur: () => submit(null),
    // [{id, path, identity}] of everyone else, identity as the hub stamped it (may be absent).
    others: () =>
      [...people].map(([id, value]) => ({
        id,
        path: value && Array.isArray(value.path) ? value.path : null,
        identity: identities.get(id) || null,
      })),
    onChange: (fn) => listeners.add(fn),
    leave() {
      connection.removeListener('receive', onReceiveRaw);
      connection.removeListener('state', onState);
      presence.destroy(() => {});
    },
  };
}

module.exports = { joinPresence };

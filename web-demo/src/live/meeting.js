// The case's meeting as the hub pushes it to the team's counsellors (protocol/
// sharedb-wire.md, "The meeting channel"): the presence channel meeting/<case id>, whose
// one presence the hub sets to {session, waiting} — the running session (or null) and how
// many clients wait in its lobby — at once after every change. The stock client
// subscribes again after every reconnect and the hub then sends the state as it is.
// onState(state) is called with every value; onRefused(err) once if the hub refuses
// (not a counsellor of the team).
function followMeeting(connection, caseId, { onState, onRefused }) {
  const presence = connection.getPresence(`meeting/${caseId}`);
  const onReceive = (id, value) => {
    if (id === 'meeting' && value && typeof value === 'object') onState({ session: value.session || null, waiting: Number(value.waiting) || 0 });
  };
  presence.on('receive', onReceive);
  presence.on('error', () => {});
  presence.subscribe((err) => {
    if (err && onRefused) onRefused(err);
  });
  return {
    leave() {
      presence.removeListener('receive', onReceive);
      presence.destroy(() => {});
    },
  };
}

module.exports = { followMeeting };

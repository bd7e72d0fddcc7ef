// Where the page is: the client's join link is the path /j/<token> the hub hands out
// (it serves this page there); everything else lives in the hash: #/cases/<case id> (a
// case), #/sessions/<session id> (one session of it: links, lobby), #/room/<case id>
// (the case sheet, live), #/replay/<case id>.
function currentRoute() {
  const joinPath = /^\/j\/([^/]+)\/?$/.exec(location.pathname);
  if (joinPath) return { name: 'join', token: decodeURIComponent(joinPath[1]) };
  const hash = location.hash.replace(/^#\/?/, '');
  const [name, id] = hash.split('/').map(decodeURIComponent);
  if (name === 'room' && id) return { name: 'room', caseId: id };
  if (name === 'replay' && id) return { name: 'replay', caseId: id };
  if (name === 'cases' && id) return { name: 'case', caseId: id };
  if (name === 'sessions' && id) return { name: 'session', sessionId: id };
  if (name === 'login') return { name: 'login' };
  return { name: 'home' };
}

const go = (hash) => {
  location.hash = hash;
};

// Leaves the join path for the page's own address of a case's room.
const openRoomPage = (caseId) => location.assign(`/${location.search}#/room/${encodeURIComponent(caseId)}`);

module.exports = { currentRoute, go, openRoomPage };

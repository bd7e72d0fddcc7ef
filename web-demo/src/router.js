// Where the page is: the client's join link is the path /j/<token> the hub hands out
// (it serves this page there); everything else lives in the hash: #/cases/<case id> (a
// case), #/sessions/<session id> (one session of it: links, lobby), #/room/<case id>
// (the case sheet, live), #/replay/<case id>, #/officer (the data-protection overview,
// admins), #/copy (a client's own copy) or #/copy/<case id>/<client id> (taken on a
// client's behalf), #/print/<case id> (the sheet as a client sees it, to print),
// #/account (my second factor), #/accounts (admins), #/password/<token> (a set-password
// link: the token never leaves the browser in a request line).
function currentRoute() {
  const joinPath = /^\/j\/([^/]+)\/?$/.exec(location.pathname);
  if (joinPath) return { name: 'join', token: decodeURIComponent(joinPath[1]) };
  const hash = location.hash.replace(/^#\/?/, '');
  const [name, id, sub] = hash.split('/').map(decodeURIComponent);
  if (name === 'officer') return { name: 'officer' };
  if (name === 'copy') return { name: 'copy', caseId: id, clientId: sub };
  if (name === 'print' && id) return { name: 'print', caseId: id };
  if (name === 'room' && id) return { name: 'room', caseId: id };
  if (name === 'replay' && id) return { name: 'replay', caseId: id };
  if (name === 'cases' && id) return { name: 'case', caseId: id };
  if (name === 'sessions' && id) return { name: 'session', sessionId: id };
  if (name === 'login') return { name: 'login' };
  if (name === 'account') return { name: 'account' };
  if (name === 'accounts') return { name: 'accounts' };
  if (name === 'password' && id) return { name: 'password', token: id };
  return { name: 'home' };
}

const go = (hash) => {
  location.hash = hash;
};

// Leaves the join path for the page's own address of a case's room.
const openRoomPage = (caseId) => location.assign(`/${location.search}#/room/${encodeURIComponent(caseId)}`);

module.exports = { currentRoute, go, openRoomPage };

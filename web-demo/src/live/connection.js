// The live connection to the hub: the stock sharedb client over a reconnecting WebSocket
// on /ws (the browser sends the session cookie). maxEnqueuedMessages 0: while the socket
// is down nothing is queued in the socket; sharedb keeps the unsent edits itself and
// resends them after reconnecting.
const ShareDB = require('sharedb/lib/client');
// The package's CommonJS build exports the class itself, its ES module build as default.
const rws = require('reconnecting-websocket');
const ReconnectingWebSocket = rws.default || rws;

const COLLECTION = 'cases';

function openConnection() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new ReconnectingWebSocket(`${scheme}//${location.host}/ws`, [], {
    maxEnqueuedMessages: 0,
    minReconnectionDelay: 300,
    maxReconnectionDelay: 4000,
    reconnectionDelayGrowFactor: 1.5,
  });
  const connection = new ShareDB.Connection(socket);
  return {
    connection,
    socket,
    caseDoc: (caseId) => connection.get(COLLECTION, caseId),
    close: () => connection.close(),
  };
}

module.exports = { openConnection };

// Konsil web demo entry: connects to the hub's ShareDB endpoint and shows whether the
// live connection works. The full session room builds on this connection.
const ShareDB = require('sharedb/lib/client');
const ReconnectingWebSocket = require('reconnecting-websocket').default;

const statusText = {
  connecting: 'Verbinde …',
  connected: 'Verbunden',
  disconnected: 'Getrennt – neuer Versuch läuft',
  closed: 'Getrennt',
  stopped: 'Angehalten',
};

function start() {
  const status = document.getElementById('status');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // maxEnqueuedMessages 0: ShareDB resends by itself after reconnecting.
  const socket = new ReconnectingWebSocket(`${scheme}//${location.host}/ws`, [], {
    maxEnqueuedMessages: 0,
  });
  const connection = new ShareDB.Connection(socket);
  const show = (state) => {
    status.textContent = statusText[state] || state;
    status.className = state === 'connected' ? 'ok' : 'down';
  };
  show(connection.state);
  connection.on('state', show);
}

document.addEventListener('DOMContentLoaded', start);

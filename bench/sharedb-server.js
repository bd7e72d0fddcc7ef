'use strict';
// The peer for bench/run-bench.sh: a plain ShareDB server (npm sharedb, its in-memory
// database, json0, presence on) speaking the same wire protocol on the same path as
// `konsil serve`, so bench/loadgen drives both the same way.
//
//   node bench/sharedb-server.js [--listen HOST:PORT]     (default 127.0.0.1:8081; port 0 picks one)
//
// Prints "listening on http://HOST:PORT" to stderr when ready; exits on SIGINT/SIGTERM.
const http = require('node:http');
const { Duplex } = require('node:stream');
const WebSocket = require('ws');
const ShareDB = require('sharedb');

function listenAddress() {
  const i = process.argv.indexOf('--listen');
  const value = i > 0 ? process.argv[i + 1] : '127.0.0.1:8081';
  const m = /^(.+):(\d+)$/.exec(value || '');
  if (!m) {
    console.error('usage: node bench/sharedb-server.js [--listen HOST:PORT]');
    process.exit(2);
  }
  return { host: m[1], port: Number(m[2]) };
}

// ShareDB's agent reads and writes JSON values on an object-mode stream; this one carries
// them over a WebSocket, one message per text frame (what @teamwork/websocket-json-stream does).
function socketStream(ws) {
  const stream = new Duplex({
    objectMode: true,
    read() {},
    write(message, _encoding, done) {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
      done();
    },
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return ws.close(1003);
    let message;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return ws.close(1007);
    }
    stream.push(message);
  });
  ws.on('close', () => {
    stream.push(null);
    stream.destroy();
  });
  stream.on('error', () => ws.terminate());
  stream.on('end', () => ws.close());
  return stream;
}

const backend = new ShareDB({ presence: true, doNotForwardSendPresenceErrorsToClient: true });
const { host, port } = listenAddress();
const server = http.createServer((_req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocket.Server({ server, path: '/ws' });
wss.on('connection', (ws, req) => backend.listen(socketStream(ws), req));

server.listen(port, host, () => {
  const address = server.address();
  console.error(`listening on http://${address.address}:${address.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const ws of wss.clients) ws.terminate();
    server.close(() => backend.close(() => process.exit(0)));
  });
}

'use strict';
// Clients for the hub tests: the stock npm sharedb client over `ws` (what browsers
// run), and a raw WebSocket that sends and inspects protocol messages by hand.
const WebSocket = require('ws');
const ShareDB = require('sharedb/lib/client');
const json0 = require('ot-json0').type;

// A stock sharedb Connection on a login's cookie (a whole Cookie header value).
// `reconnect()` binds a fresh socket, which is what reconnecting-websocket does: the
// client resends its inflight op and resubscribes.
function stockClient(url, { tls, cookie } = {}) {
  const opts = { ...(cookie ? { headers: { Cookie: cookie } } : {}), ...(tls ? { rejectUnauthorized: false } : {}) };
  const ws = new WebSocket(url, opts);
  const connection = new ShareDB.Connection(ws);
  const client = {
    connection,
    ws,
    reconnect(newUrl = url) {
      client.ws = new WebSocket(newUrl, opts);
      connection.bindToSocket(client.ws);
      return client.ws;
    },
    close() {
      connection.close();
    },
  };
  return client;
}

function whenConnected(connection) {
  if (connection.state === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    connection.once('connected', resolve);
    connection.once('error', reject);
  });
}

const promisify = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

function subscribe(doc) {
  return promisify((cb) => doc.subscribe(cb));
}
function fetch(doc) {
  return promisify((cb) => doc.fetch(cb));
}
function create(doc, data) {
  return promisify((cb) => doc.create(data, cb));
}
function submit(doc, op, options) {
  return promisify((cb) => doc.submitOp(op, options || {}, cb));
}
function whenNothingPending(docOrConnection) {
  return new Promise((resolve) => docOrConnection.whenNothingPending(resolve));
}
function fetchSnapshot(connection, c, d, v) {
  return promisify((cb) => connection.fetchSnapshot(c, d, v, cb));
}
function fetchSnapshotByTimestamp(connection, c, d, ts) {
  return promisify((cb) => connection.fetchSnapshotByTimestamp(c, d, ts, cb));
}

// A raw protocol client: every message received is kept in order; next() waits for
// the first one not yet taken that matches. `ws` are the options of the socket (its
// headers carry the login cookie).
class RawClient {
  constructor(url, { ws } = {}) {
    this.ws = new WebSocket(url, ws || {});
    this.messages = [];
    this.taken = new Set();
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of this.waiters) w.reject(new Error(`closed ${code} while waiting`));
        this.waiters = [];
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      const text = data.toString();
      let msg;
      try {
        msg = JSON.parse(text);
      } catch (e) {
        msg = { unparsable: text };
      }
      this.messages.push(msg);
      this.waiters = this.waiters.filter((w) => !this._offer(w));
    });
  }

  _offer(w) {
    for (let i = 0; i < this.messages.length; i++) {
      if (this.taken.has(i) || !w.pred(this.messages[i])) continue;
      this.taken.add(i);
      clearTimeout(w.timer);
      w.resolve(this.messages[i]);
      return true;
    }
    return false;
  }

  open() {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('close', (code) => reject(new Error('closed ' + code)));
    });
  }

  // Opens and completes the handshake; resolves with the hs reply.
  async handshake(id = null) {
    await this.open();
    this.send({ a: 'hs', id, protocol: 1, protocolMinor: 2 });
    const hs = await this.next((m) => m.a === 'hs');
    this.id = hs.id;
    return hs;
  }

  send(msg) {
    this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg));
  }

  next(pred = () => true, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject };
      if (this._offer(w)) return;
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('timed out waiting for a message; got ' + JSON.stringify(this.messages.slice(-5))));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close() {
    this.ws.close();
    return this.closed;
  }
}

module.exports = {
  json0,
  stockClient,
  whenConnected,
  subscribe,
  fetch,
  create,
  submit,
  whenNothingPending,
  fetchSnapshot,
  fetchSnapshotByTimestamp,
  RawClient,
  promisify,
};

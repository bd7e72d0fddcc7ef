'use strict';
// A WebSocket client spoken by hand over a plain TCP socket, for tests that must control
// exactly what a client sends and when (the `ws` package answers a close frame by
// itself). Frames it sends are masked and shorter than 126 bytes; frames it receives
// are parsed whatever their length.
const net = require('node:net');
const crypto = require('node:crypto');

// A client frame (RFC 6455 §5.2): FIN set, the opcode, a masked payload.
function frame(opcode, payload) {
  const body = Buffer.from(payload);
  if (body.length > 125) throw new Error('wire.frame: payload over 125 bytes');
  const mask = crypto.randomBytes(4);
  const out = Buffer.alloc(6 + body.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | body.length;
  mask.copy(out, 2);
  for (let i = 0; i < body.length; i++) out[6 + i] = body[i] ^ mask[i % 4];
  return out;
}

const text = (msg) => frame(0x1, typeof msg === 'string' ? msg : JSON.stringify(msg));

function closeFrame(code) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return frame(0x8, b);
}

// Splits the unmasked server frames off the front of buf; returns [frames, rest].
function parseFrames(buf) {
  const frames = [];
  for (;;) {
    if (buf.length < 2) break;
    let len = buf[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buf.length < 4) break;
      len = buf.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buf.length < 10) break;
      len = Number(buf.readBigUInt64BE(2));
      at = 10;
    }
    if (buf.length < at + len) break;
    frames.push({ opcode: buf[0] & 0x0f, payload: buf.subarray(at, at + len) });
    buf = buf.subarray(at + len);
  }
  return [frames, buf];
}

// Connects to `url` (ws://host:port/path) and upgrades. Resolves with
//   socket     the net.Socket (write frames to it),
//   next(op)   a promise of the first server frame {opcode, payload} with that opcode
//              not yet taken (it resolves in the tick the frame arrives in),
//   ended      true once the server has closed its side (its FIN came; ours follows),
//   closed     a promise of {hadError, error} when the TCP connection is closed.
function connect(url, headers = {}) {
  const u = new URL(url);
  const socket = net.connect({ port: Number(u.port), host: u.hostname, allowHalfOpen: true });
  const frames = [];
  const waiters = [];
  const offer = () => {
    for (let w = 0; w < waiters.length; w++) {
      const i = frames.findIndex((f) => f.opcode === waiters[w].opcode);
      if (i < 0) continue;
      waiters[w].resolve(frames.splice(i, 1)[0]);
      waiters.splice(w--, 1);
    }
  };
  const conn = {
    socket,
    error: null,
    ended: false,
    next(opcode) {
      return new Promise((resolve) => {
        waiters.push({ opcode, resolve });
        offer();
      });
    },
  };
  socket.on('end', () => {
    conn.ended = true;
    socket.end();
  });
  conn.closed = new Promise((resolve) => {
    socket.on('error', (e) => { conn.error = e; });
    socket.on('close', (hadError) => resolve({ hadError, error: conn.error }));
  });
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.on('connect', () => {
      const key = crypto.randomBytes(16).toString('base64');
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`);
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        if (!/^HTTP\/1\.1 101 /.test(head)) {
          reject(new Error('upgrade refused: ' + head.split('\r\n')[0]));
          socket.destroy();
          return;
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve(conn);
      }
      let got;
      [got, buf] = parseFrames(buf);
      frames.push(...got);
      offer();
    });
    socket.on('error', (e) => { if (!upgraded) reject(e); });
  });
}

module.exports = { connect, frame, text, closeFrame, parseFrames };

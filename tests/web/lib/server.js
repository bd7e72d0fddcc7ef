'use strict';
// A real `konsil serve` for the browser tests: loopback only, a temporary database, the
// web demo from web-demo/dist (built once per test process with web-demo/build.js). The
// first start takes a free port from the kernel; restart() starts again on the same port
// and database, as after a crash.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');
const bin = path.resolve(root, process.env.KONSIL_BIN || 'build/konsil');
const webDir = path.join(root, 'web-demo', 'dist');
let built = false;

function buildWebDemo() {
  if (built) return;
  execFileSync(process.execPath, [path.join(root, 'web-demo', 'build.js')], { cwd: root, stdio: 'pipe' });
  built = true;
}

function spawnServer(listen, db) {
  const proc = spawn(bin, ['serve', '--listen', listen, '--db', db, '--web', webDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`konsil serve did not start: ${output}`)), 15000);
    proc.stderr.on('data', (chunk) => {
      output += chunk;
      const m = /listening on https?:\/\/[^:\s]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`konsil serve exited (${code ?? signal}): ${output}`));
    });
  });
  return { proc, exited, port, output: () => output };
}

// Resolves with {url, wsUrl, port, db, kill(), stop(), restart(), addUser()} once it listens.
async function startServer() {
  buildWebDemo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'konsil-web-'));
  const db = path.join(dir, 'konsil.db');
  let current = spawnServer('127.0.0.1:0', db);
  const port = await current.port;
  const server = {
    port,
    db,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    output: () => current.output(),
    async kill() {
      current.proc.kill('SIGKILL');
      await current.exited;
    },
    async stop() {
      if (current.proc.exitCode === null && current.proc.signalCode === null) current.proc.kill('SIGTERM');
      await current.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
    // Starts again on the same port and database; retries while the port is still held.
    async restart() {
      for (let attempt = 0; ; attempt++) {
        current = spawnServer(`127.0.0.1:${port}`, db);
        try {
          await current.port;
          return;
        } catch (e) {
          if (attempt >= 20) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
    // `konsil user add` (password on stdin) for the tests that log in.
    addUser({ name, password, role, specialty, displayName }) {
      const args = ['user', 'add', name, '--role', role, '--db', db, '--display-name', displayName || name];
      if (specialty) args.push('--specialty', specialty);
      execFileSync(bin, args, { input: `${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    },
  };
  return server;
}

// The HTTP status of a request to the server (the REST API answers 404 until it exists).
async function statusOf(server, method, urlPath, body) {
  const response = await fetch(server.url + urlPath, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  await response.arrayBuffer();
  return response.status;
}

module.exports = { startServer, statusOf, root };

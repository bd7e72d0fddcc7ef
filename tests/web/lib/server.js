'use strict';
// A real `konsil serve` for the browser tests: the hub tests' server (loopback, a
// temporary database, accounts and access rules on) serving the web demo from
// web-demo/dist (built once per test process with web-demo/build.js). The first start
// takes a free port from the kernel; restart() starts again on the same port and
// database, as after a crash.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const hub = require('../../hub/lib/server');

const { root } = hub;
const webDir = path.join(root, 'web-demo', 'dist');
let built = false;

function buildWebDemo() {
  if (built) return;
  execFileSync(process.execPath, [path.join(root, 'web-demo', 'build.js')], { cwd: root, stdio: 'pipe' });
  built = true;
}

function spawnServer(dir, listen, args = []) {
  return hub.startServer({ dir, listen, args: ['--web', webDir, ...args] });
}

// Resolves with {url, wsUrl, port, db, kill(), stop(), restart(), signal(), addUser()}
// once it listens; args are further `konsil serve` options.
async function startServer({ args = [] } = {}) {
  buildWebDemo();
  const dir = hub.tempDir();
  let current = await spawnServer(dir, undefined, args);
  const { port, db } = current;
  const bin = hub.binary(false);
  return {
    port,
    db,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    output: () => current.output(),
    async kill() {
      await current.kill();
    },
    async stop() {
      await current.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    // Starts again on the same port and database; retries while the port is still held.
    async restart() {
      for (let attempt = 0; ; attempt++) {
        try {
          current = await spawnServer(dir, `127.0.0.1:${port}`, args);
          return;
        } catch (e) {
          if (attempt >= 20) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
    // Sends a signal to the running server (SIGSTOP freezes it, SIGCONT thaws it).
    signal(sig) {
      current.proc.kill(sig);
    },
    // `konsil user add` (password on stdin) for the tests that log in.
    addUser({ name, password, role, specialty, displayName }) {
      const args = ['user', 'add', name, '--role', role, '--db', db, '--display-name', displayName || name];
      if (specialty) args.push('--specialty', specialty);
      execFileSync(bin, args, { input: `${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    },
  };
}

module.exports = { startServer, root };

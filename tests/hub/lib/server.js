'use strict';
// Starts a real `konsil serve` for a test: loopback, a free port chosen by the kernel
// (--listen 127.0.0.1:0 unless opts.listen names one; the port is read from the
// "listening on" line), a database in
// a fresh temporary folder. KONSIL_BIN picks the binary (tests/run.sh sets it);
// `asan: true` prefers KONSIL_ASAN_BIN when that binary exists.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');

function binary(asan) {
  const asanBin = process.env.KONSIL_ASAN_BIN || 'build/asan/konsil';
  if (asan && fs.existsSync(path.resolve(root, asanBin))) return path.resolve(root, asanBin);
  return path.resolve(root, process.env.KONSIL_BIN || 'build/konsil');
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'konsil-hub-'));
}

// Resolves with {port, url, db, proc, stop, kill, output} once the server listens.
async function startServer(opts = {}) {
  const dir = opts.dir || tempDir();
  const db = opts.db || path.join(dir, 'konsil.db');
  const bin = opts.bin || binary(opts.asan);
  // Suites about other things log supervisors and admins in with their password alone
  // (--totp-required none); those about the second factor pass their own setting.
  const extra = opts.args || [];
  const totp = extra.includes('--totp-required') ? [] : ['--totp-required', 'none'];
  const args = ['serve', '--listen', opts.listen || '127.0.0.1:0', '--db', db, ...totp, ...extra];
  const env = { ...process.env };
  if (!env.ASAN_OPTIONS) env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=1';
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let output = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('konsil serve did not start: ' + output)), 15000);
    proc.stderr.on('data', (d) => {
      output += d;
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
  const scheme = opts.tls ? 'wss' : 'ws';
  return {
    port,
    dir,
    db,
    proc,
    url: `${scheme}://127.0.0.1:${port}/ws`,
    httpUrl: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    output: () => output,
    exited,
    // SIGTERM (or the given signal) and the exit status.
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    async kill() {
      return this.stop('SIGKILL');
    },
  };
}

// Runs the sqlite3 command-line tool on a database; returns its standard output.
function sql(db, query) {
  return execFileSync('sqlite3', [db, query], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim();
}

module.exports = { startServer, sql, tempDir, root, binary };

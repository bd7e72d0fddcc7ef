'use strict';
// A throwaway PostgreSQL cluster for a test (scripts/pg-cluster.sh does the work: initdb and
// pg_ctl in a fresh folder under the system's temporary folder, as the unprivileged user
// konsil-pg when the test runs as root, loopback TCP on a free port, trust for the role
// `konsil` on loopback only). Stopped and removed by stop(), and at the latest when the test
// process exits.
//
//   const pg = await startCluster();   // {url, dir, port, psql(sql), stop()}
//
// available() says whether PostgreSQL is installed (a suite skips with its reason when not).
const { execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const script = path.join(root, 'scripts/pg-cluster.sh');
const running = new Set();

function bindir() {
  let dirs = [];
  try {
    dirs = fs.readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return null;
  }
  dirs = dirs.filter((d) => fs.existsSync(path.join(d, 'initdb')));
  dirs.sort((a, b) => Number(path.basename(path.dirname(b))) - Number(path.basename(path.dirname(a))));
  return dirs[0] || null;
}

// null when the cluster can be made here, else the reason it cannot.
function unavailable() {
  if (!bindir()) return 'PostgreSQL is not installed (scripts/install-deps.sh installs it)';
  if (process.getuid && process.getuid() === 0) {
    try {
      execFileSync('id', ['konsil-pg'], { stdio: 'ignore' });
    } catch {
      return 'no system user konsil-pg (scripts/install-deps.sh adds it)';
    }
  }
  return null;
}

function run(args) {
  return new Promise((resolve, reject) => {
    execFile(script, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pg-cluster.sh ${args[0]}: ${stderr || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

function stopSync(dir) {
  try {
    execFileSync(script, ['stop', dir], { stdio: 'ignore' });
  } catch {
    // best effort at exit
  }
}

process.on('exit', () => {
  for (const dir of running) stopSync(dir);
});

async function startCluster() {
  const why = unavailable();
  if (why) throw new Error(why);
  // A name of our own under the temporary folder (the folder itself is made by the script,
  // owned by konsil-pg; its parent must be one that user can enter).
  const dir = path.join(os.tmpdir(), `konsil-pg-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  running.add(dir);
  let url;
  try {
    url = await run(['start', dir]);
  } catch (e) {
    running.delete(dir);
    stopSync(dir);
    throw e;
  }
  const port = Number(/:(\d+)\//.exec(url)[1]);
  return {
    url,
    dir,
    port,
    // Runs SQL through psql; returns its output (unaligned, tuples only).
    psql(sql) {
      return execFileSync(path.join(bindir(), 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      }).trim();
    },
    // A fresh database on this cluster (each server of a suite may want its own); its URL.
    createDatabase(name) {
      this.psql(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      return url.replace(/\/konsil$/, `/${name}`);
    },
    async stop() {
      running.delete(dir);
      await run(['stop', dir]);
    },
  };
}

module.exports = { startCluster, unavailable, bindir };

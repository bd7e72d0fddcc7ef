'use strict';
// `make install DESTDIR=… PREFIX=/usr` and what it puts in place: exactly the tree the
// man page's FILES section lists; a man page that describes every command and every
// option of `konsil serve --help` and renders without warnings; an installed binary that
// runs, serves the installed web app and reads the installed configuration file; the
// configuration file's rules (the command line wins; unknown names, bad values and
// repeats stop the start with the line's number); a systemd unit that verifies, whose
// sandbox allows every system call and socket family the server makes while it works
// (traced with strace), and a server that refuses to start rather than listen on every
// address when it cannot list the interfaces.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const { tempDir, root } = require('./lib/server');
const { addUser, api, login } = require('./lib/auth');
const c = require('./lib/clients');

// The make running this suite must not hand its job server or flags to the one below.
const env = { ...process.env };
for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'GNUMAKEFLAGS']) delete env[k];

let staged = null;
// One `make install` into a fresh DESTDIR for the whole suite.
function install() {
  if (staged) return staged;
  const dest = tempDir();
  fs.chmodSync(dest, 0o755);  // the unprivileged server below reads the web app in it
  execFileSync('make', ['--no-print-directory', 'install', `DESTDIR=${dest}`, 'PREFIX=/usr'],
               { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  staged = { dest, bin: path.join(dest, 'usr/bin/konsil'), man: fs.readFileSync(path.join(dest, 'usr/share/man/man1/konsil.1'), 'utf8') };
  return staged;
}

function walk(dir, base = dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, base, out);
    else out.push('/' + path.relative(base, p));
  }
  return out;
}

// A section of the man page: its lines from `.SH NAME` to the next `.SH`.
function section(man, name) {
  const lines = man.split('\n');
  const start = lines.findIndex((l) => l === `.SH ${name}` || l === `.SH "${name}"`);
  assert.ok(start >= 0, `the man page has a ${name} section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('.SH '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

// The paths FILES lists: each `.I path` right after a `.TP`, and whether its
// description (up to the next `.TP`) says it is not installed (made at run time or by
// the operator).
function filesListed(man) {
  const lines = section(man, 'FILES');
  const out = [];
  lines.forEach((l, i) => {
    const m = /^\.I (\S+)$/.exec(l);
    if (!m || lines[i - 1] !== '.TP') return;
    const end = lines.findIndex((x, j) => j > i && x === '.TP');
    const text = lines.slice(i + 1, end < 0 ? undefined : end).join(' ');
    out.push({ path: m[1].replace(/\\-/g, '-'), installed: !/not installed/.test(text) });
  });
  return out;
}

// Starts a command that prints "listening on …"; resolves with {port, url, proc, output, stop}.
function startCommand(cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  let output = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('did not start: ' + output)), 20000);
    proc.stderr.on('data', (d) => {
      output += d;
      const m = /listening on https?:\/\/[^:\s]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          port, proc, exited, output: () => output,
          httpUrl: `http://127.0.0.1:${port}`, url: `ws://127.0.0.1:${port}/ws`,
          stop(pid = proc.pid) { try { process.kill(pid, 'SIGTERM'); } catch (e) { /* gone */ } return exited; },
        });
      }
    });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`exited (${code ?? signal}): ${output}`)); });
  });
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

test('make install puts exactly the tree in place that the man page lists under FILES', () => {
  const { dest, man } = install();
  const listed = filesListed(man);
  assert.ok(listed.length >= 8, `FILES lists ${listed.length} paths`);
  const installed = walk(dest);
  for (const f of installed) {
    assert.ok(listed.some(({ path: l, installed: i }) => i && (l === f || (l.endsWith('/') && f.startsWith(l)))),
              `${f} is installed but not in FILES`);
  }
  for (const { path: l, installed: i } of listed) {
    const p = path.join(dest, l);
    if (!i) {
      assert.ok(!fs.existsSync(p), `FILES says ${l} is not installed, but it is`);
      continue;
    }
    assert.ok(fs.existsSync(p), `FILES lists ${l}, which is not installed`);
    if (l.endsWith('/')) assert.ok(walk(p).length > 0, `${l} is empty`);
  }
  assert.ok(installed.includes('/usr/share/konsil/web/index.html'));
  assert.ok(installed.includes('/usr/share/konsil/templates/default.json'));
  for (const f of ['/usr/share/man/man1/konsil.1', '/usr/lib/systemd/system/konsil.service', '/etc/konsil/konsil.conf']) {
    const text = fs.readFileSync(path.join(dest, f), 'utf8');
    assert.doesNotMatch(text, /@[A-Z]+@/, `${f} has every path filled in`);
  }
  assert.equal(fs.statSync(path.join(dest, 'usr/bin/konsil')).mode & 0o777, 0o755);
  // A second install keeps a configuration file the operator changed.
  fs.appendFileSync(path.join(dest, 'etc/konsil/konsil.conf'), 'max-conns = 99\n');
  execFileSync('make', ['--no-print-directory', 'install', `DESTDIR=${dest}`, 'PREFIX=/usr'], { cwd: root, env, stdio: 'ignore' });
  assert.match(fs.readFileSync(path.join(dest, 'etc/konsil/konsil.conf'), 'utf8'), /max-conns = 99\n$/);
});

test('the man page renders cleanly and describes every command and every serve option', () => {
  const { dest, bin, man } = install();
  const groff = run('groff', ['-man', '-ww', '-z', '-Tutf8', path.join(dest, 'usr/share/man/man1/konsil.1')]);
  assert.equal(groff.status, 0);
  assert.equal(groff.stderr, '', 'groff has no warnings');
  assert.equal(run(bin, ['--help']).status, 0);
  const commands = [...run(bin, ['--help']).stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
  assert.ok(commands.length >= 9, commands.join(' '));
  const described = section(man, 'COMMANDS').join('\n');
  for (const cmd of commands) {
    assert.match(described, new RegExp(`^\\.B[IR]? "?${cmd}\\b`, 'm'), `COMMANDS describes ${cmd}`);
    assert.match(section(man, 'SYNOPSIS').join('\n'), new RegExp(`^\\.B konsil ${cmd}\\b`, 'm'), `SYNOPSIS has ${cmd}`);
  }
  const help = run(bin, ['serve', '--help']).stdout;
  const inHelp = new Set([...help.matchAll(/--([a-z][a-z0-9-]+)/g)].map((m) => m[1]));
  const serveSection = section(man, 'SERVE OPTIONS').join('\n');
  const inMan = new Set([...serveSection.matchAll(/\\-\\-([a-z][a-z0-9\\-]*[a-z0-9])/g)].map((m) => m[1].replace(/\\-/g, '-')));
  for (const o of inHelp) if (o !== 'help') assert.ok(inMan.has(o), `the man page describes --${o}`);
  for (const o of inMan) assert.ok(inHelp.has(o), `--${o} of the man page is an option of konsil serve`);
  for (const s of ['CONFIGURATION', 'RUNNING AS A SERVICE', 'BACKUP', 'EXIT STATUS', 'EXAMPLES']) section(man, s);
});

test('the installed binary serves the installed web app with the installed configuration', async () => {
  const { dest, bin } = install();
  const dir = tempDir();
  // The installed file names /var/lib/konsil and /usr/share/konsil: the command line wins.
  const srv = await startCommand(bin, ['serve', '--config', path.join(dest, 'etc/konsil/konsil.conf'),
                                       '--listen', '127.0.0.1:0', '--db', path.join(dir, 'konsil.db'),
                                       '--web', path.join(dest, 'usr/share/konsil/web')]);
  try {
    const res = await fetch(srv.httpUrl + '/');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<script[^>]+src="[^"]*\.js"/);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
});

test('a configuration file sets every kind of option, and the command line wins', async () => {
  const { bin } = install();
  const dir = tempDir();
  const db = path.join(dir, 'konsil.db');
  addUser(db, 'lea', 'counsellor', 'lea-password');
  const conf = path.join(dir, 'konsil.conf');
  fs.writeFileSync(conf, [
    '# Konsil for the test',
    'listen = 127.0.0.1:0',
    `db = ${db}            # the database`,
    '',
    'max-body = 1K',
    'public-origin = https://konsil.example',
    'op-rate = 250.5',
  ].join('\n') + '\n');
  const body = { username: 'lea', password: 'wrong password', padding: 'x'.repeat(2000) };
  let srv = await startCommand(bin, ['serve', '--config', conf]);
  try {
    assert.equal((await api(srv, 'POST', '/api/login', { body })).status, 413, 'max-body from the file');
    // public-origin from the file: an https origin makes the cookie __Host- and Secure.
    const res = await api(srv, 'POST', '/api/login', { body: { username: 'lea', password: 'lea-password' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('set-cookie'), /^__Host-konsil_session=.*; Secure/);
  } finally {
    assert.equal((await srv.stop()).code, 0);
  }
  srv = await startCommand(bin, ['serve', '--config', conf, '--max-body', '4K', '--public-origin', 'http://127.0.0.1']);
  try {
    assert.equal((await api(srv, 'POST', '/api/login', { body })).status, 401, 'the command line wins');
    const res = await api(srv, 'POST', '/api/login', { body: { username: 'lea', password: 'lea-password' } });
    assert.match(res.headers.get('set-cookie'), /^konsil_session=/);
  } finally {
    await srv.stop();
  }
  const refused = (lines, expect) => {
    const bad = path.join(dir, `bad-${Math.random()}.conf`);
    fs.writeFileSync(bad, lines.join('\n'));
    const r = run(bin, ['serve', '--config', bad]);
    assert.equal(r.status, 2, lines.join(' | '));
    assert.ok(r.stderr.includes(bad), r.stderr);
    assert.match(r.stderr, expect);
  };
  refused(['listen = 127.0.0.1:0', '# ok so far', 'max-bodies = 1K'], /line 3: unknown option 'max-bodies'/);
  refused(['max-body = lots'], /line 1: bad value 'lots' for --max-body/);
  refused(['listen = nowhere'], /line 1: --listen wants HOST:PORT/);
  refused(['db = a.db', 'db = b.db'], /line 2: db is given twice/);
  refused(['just words'], /line 1: not `key = value`/);
  refused(['config = other.conf'], /line 1: unknown option 'config'/);
  const missing = run(bin, ['serve', '--config', path.join(dir, 'none.conf')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /none\.conf: No such file/);
});

// The system calls and socket families a filter allows: SystemCallFilter= and
// RestrictAddressFamilies= of the unit, its groups expanded by systemd-analyze.
function sandboxOf(unit) {
  const groups = new Map();
  let current = null;
  for (const line of run('systemd-analyze', ['syscall-filter']).stdout.split('\n')) {
    const g = /^(@[a-z-]+)$/.exec(line.trim());
    if (g && !line.startsWith(' ')) { current = g[1]; groups.set(current, []); continue; }
    const m = /^\s+([@a-z0-9_-]+)/.exec(line);
    if (m && current) groups.get(current).push(m[1]);
  }
  const expand = (name, out = new Set()) => {
    if (!name.startsWith('@')) out.add(name);
    else for (const n of groups.get(name) || []) expand(n, out);
    return out;
  };
  const allowed = new Set();
  for (const [, v] of unit.matchAll(/^SystemCallFilter=(.*)$/gm)) {
    const deny = v.startsWith('~');
    for (const name of v.replace(/^~/, '').split(/\s+/).filter(Boolean)) {
      for (const s of expand(name)) deny ? allowed.delete(s) : allowed.add(s);
    }
  }
  const families = new Set(/^RestrictAddressFamilies=(.*)$/m.exec(unit)[1].split(/\s+/));
  return { allowed, families };
}

test('the unit verifies, and its sandbox allows everything the server does while it works', async (t) => {
  const { dest, bin } = install();
  const unit = fs.readFileSync(path.join(dest, 'usr/lib/systemd/system/konsil.service'), 'utf8');
  for (const want of ['User=konsil', 'StateDirectory=konsil', 'ProtectSystem=strict', 'ProtectHome=yes',
                      'PrivateTmp=yes', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=\n',
                      'MemoryDenyWriteExecute=yes', 'SystemCallFilter=@system-service']) {
    assert.ok(unit.includes(want), `the unit has ${want.trim()}`);
  }
  assert.match(unit, /^ExecStart=\/usr\/bin\/konsil serve --config \/etc\/konsil\/konsil\.conf --master-key-file %d\/master\.key$/m);
  assert.match(unit, /^LoadCredential=master\.key:\/etc\/konsil\/master\.key$/m);
  // verify checks that ExecStart's binary exists: point it at the staged one.
  const vdir = tempDir();
  fs.writeFileSync(path.join(vdir, 'konsil.service'), unit.replace('/usr/bin/konsil', bin));
  const verify = run('systemd-analyze', ['verify', '--man=no', path.join(vdir, 'konsil.service')]);
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', 'systemd-analyze verify has nothing to say');
  const security = run('systemd-analyze', ['security', '--offline=yes', path.join(vdir, 'konsil.service')]);
  const exposure = /Overall exposure level for konsil\.service: ([\d.]+)/.exec(security.stdout);
  assert.ok(exposure, security.stdout + security.stderr);
  t.diagnostic(`systemd-analyze security: exposure ${exposure[1]} of 10`);
  assert.ok(Number(exposure[1]) <= 2, `exposure ${exposure[1]}`);

  // The server under strace, as an unprivileged user when the suite runs as root (as the
  // unit runs it): login, a case, an edit over /ws, the web app, a clean stop.
  const dir = tempDir();
  fs.chmodSync(dir, 0o777);
  const db = path.join(dir, 'konsil.db');
  const trace = path.join(dir, 'trace');
  const asUser = process.getuid() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
  const args = ['-f', '-qq', '-o', trace, ...asUser, bin, 'serve', '--listen', '127.0.0.1:0', '--db', db,
                '--web', path.join(dest, 'usr/share/konsil/web')];
  const srv = await startCommand('strace', args);
  let stopped;
  try {
    if (process.getuid() === 0) execFileSync('chmod', ['0666', db]);
    addUser(db, 'lea', 'counsellor', 'lea-password');
    const cookie = await login(srv, 'lea', 'lea-password');
    const created = await api(srv, 'POST', '/api/cases', { cookie, body: { title: 'Sandbox' } });
    assert.equal(created.status, 201);
    const client = c.stockClient(srv.url, { cookie });
    const doc = client.connection.get('cases', created.json.id);
    await c.subscribe(doc);
    await c.submit(doc, [{ p: ['meta', 'title'], od: doc.data.meta.title, oi: 'Sandbox 2' }]);
    client.close();
    assert.equal((await fetch(srv.httpUrl + '/')).status, 200);
  } finally {
    // strace's child is the server (setpriv execs it): stop that one.
    const child = Number(fs.readFileSync(`/proc/${srv.proc.pid}/task/${srv.proc.pid}/children`, 'utf8').trim());
    stopped = await srv.stop(child);
  }
  assert.equal(stopped.code, 0, srv.output());
  const { allowed, families } = sandboxOf(unit);
  const text = fs.readFileSync(trace, 'utf8');
  // Everything from the server's own exec on (setpriv's calls come before it).
  const serverPart = text.slice(text.lastIndexOf(`execve("${bin}"`));
  const calls = new Set([...serverPart.matchAll(/^\d+ +([a-z0-9_]+)\(/gm)].map((m) => m[1]));
  assert.ok(calls.has('fdatasync') && calls.has('accept'), [...calls].join(' '));
  const forbidden = [...calls].filter((s) => !allowed.has(s));
  assert.deepEqual(forbidden, [], `system calls outside SystemCallFilter: ${forbidden.join(' ')}`);
  const used = new Set([...serverPart.matchAll(/ socket\((AF_[A-Z0-9]+)/g)].map((m) => m[1]));
  const outside = [...used].filter((f) => !families.has(f));
  assert.deepEqual(outside, [], `socket families outside RestrictAddressFamilies: ${outside.join(' ')}`);
  t.diagnostic(`${calls.size} distinct system calls, socket families ${[...used].join(' ')}`);
});

test('a server that cannot list the interfaces refuses to start instead of listening everywhere', () => {
  const { bin } = install();
  const dir = tempDir();
  // What a sandbox without AF_NETLINK does to getifaddrs.
  const src = path.join(dir, 'noifaddrs.c');
  fs.writeFileSync(src, '#include <errno.h>\nstruct ifaddrs;\nint getifaddrs(struct ifaddrs **p) { (void)p; errno = EAFNOSUPPORT; return -1; }\n');
  execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(dir, 'noifaddrs.so'), src]);
  const r = run(bin, ['serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'konsil.db')],
                { env: { ...process.env, LD_PRELOAD: path.join(dir, 'noifaddrs.so') }, timeout: 20000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /asked to listen on 127\.0\.0\.1, libwebsockets bound 0\.0\.0\.0/);
  assert.doesNotMatch(r.stderr, /listening on/);
});

test.after(() => {
  if (staged) fs.rmSync(staged.dest, { recursive: true, force: true });
});

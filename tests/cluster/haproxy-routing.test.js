'use strict';
// scripts/haproxy.cfg as shipped, run by the real haproxy in front of three plain HTTP
// servers on loopback that answer with their own name: a case's WebSocket URL
// (/ws?case=<id>) and its REST calls (/api/cases/<id>/…, /api/sessions/<id>/…) reach the same
// node, every time; other cases spread over the nodes; when the node serving a case stops,
// its calls move to one other node and the other nodes' cases stay where they were.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function haproxyPath() {
  for (const p of ['/usr/sbin/haproxy', '/usr/bin/haproxy']) {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return p;
    } catch {
      // next
    }
  }
  return null;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function node(name) {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { name, port, server, stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
  });
}

async function until(fn, what) {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('never: ' + what);
}

test('the shipped haproxy.cfg routes a case to one node and moves only a dead node\'s cases', async (t) => {
  const bin = haproxyPath();
  if (!bin) {
    t.skip('haproxy is not installed (scripts/install-deps.sh installs it)');
    return;
  }
  const nodes = [await node('n1'), await node('n2'), await node('n3')];
  cleanups.push(async () => { for (const n of nodes) await n.stop().catch(() => {}); });
  const listen = await freePort();
  const env = {
    ...process.env,
    KONSIL_LISTEN: `127.0.0.1:${listen}`,
    KONSIL_NODE1: `127.0.0.1:${nodes[0].port}`,
    KONSIL_NODE2: `127.0.0.1:${nodes[1].port}`,
    KONSIL_NODE3: `127.0.0.1:${nodes[2].port}`,
  };
  const proxy = spawn(bin, ['-db', '-f', path.join(root, 'scripts/haproxy.cfg')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proxy.stderr.on('data', (d) => { log += d; });
  cleanups.push(async () => { proxy.kill('SIGTERM'); });
  await until(async () => (await get(listen, '/').catch(() => null))?.status === 200, 'the proxy answers: ' + log);

  const cases = Array.from({ length: 60 }, (_, i) => `case-${i}-${(i * 7919).toString(36)}`);
  const home = {};
  for (const id of cases) {
    const ws = (await get(listen, `/ws?case=${id}`)).body;
    assert.ok(['n1', 'n2', 'n3'].includes(ws));
    for (let k = 0; k < 3; k++) {
      assert.equal((await get(listen, `/ws?case=${id}`)).body, ws, `ws of ${id} stays`);
      assert.equal((await get(listen, `/api/cases/${id}/history?from=0`)).body, ws, `REST of ${id} with its ws`);
      assert.equal((await get(listen, `/api/sessions/${id}/links`)).body, ws, `legacy REST of ${id} with its ws`);
    }
    home[id] = ws;
  }
  const counts = { n1: 0, n2: 0, n3: 0 };
  for (const id of cases) counts[home[id]]++;
  for (const n of ['n1', 'n2', 'n3']) assert.ok(counts[n] >= 5, `n${n} serves some of 60 cases: ${JSON.stringify(counts)}`);

  // n2 stops: its cases move, the others stay.
  await nodes[1].stop();
  const moved = cases.filter((id) => home[id] === 'n2');
  await until(async () => (await get(listen, `/ws?case=${moved[0]}`)).body !== 'n2', 'the proxy drops n2');
  for (const id of cases) {
    const now = (await get(listen, `/ws?case=${id}`)).body;
    if (home[id] === 'n2') assert.ok(now === 'n1' || now === 'n3', `${id} moved to a live node`);
    else assert.equal(now, home[id], `${id} stayed on ${home[id]}`);
    assert.equal((await get(listen, `/api/cases/${id}/x`)).body, now, `REST of ${id} follows its ws`);
  }
});

'use strict';
// The web demo on a throttled phone: how many bytes the page sends and how long until a
// client's room is usable — its case sheet shown, the connection confirmed, nothing
// waiting — first on a fresh phone (nothing cached) and then on the next visit (the
// service worker and the browser cache hold the app). Chromium with a 412×915 viewport,
// CPU slowed 4× and Lighthouse's "Slow 4G" (150 ms round trip, 1.6 Mbit/s down,
// 750 kbit/s up) through the DevTools protocol. Prints figures; asserts nothing.
//
//   node bench/web-phone.js [--runs N] [--bin build/konsil] [--web web-demo/dist]
//
// --bin and --web measure another build the same way (e.g. an older one, for comparison).
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const hub = require('../tests/hub/lib/server');
const rest = require('../tests/web/lib/rest');
const { PEOPLE } = require('../tests/web/lib/people');
const { launchBrowser } = require('../tests/web/lib/browser');

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(opt('--runs', 3));
const root = path.resolve(__dirname, '..');
const bin = path.resolve(root, opt('--bin', 'build/konsil'));
const web = path.resolve(root, opt('--web', 'web-demo/dist'));
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

async function visit(browser, server, session, context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
  });
  const start = Date.now();
  await page.goto(`${server.url}/#/room/${encodeURIComponent(session)}`);
  // Usable: the sheet is there and the connection confirmed (the status says so; an old
  // build without a heartbeat says so as soon as the socket is open).
  await page.waitForSelector('.room-client [data-path]', { timeout: 120000 });
  await page.waitForSelector('.status[data-state="connected"][data-pending="0"]', { timeout: 120000 });
  const ms = Date.now() - start;
  await page.close();
  return { ms, bytes };
}

async function main() {
  const srv = await hub.startServer({ auth: true, bin, args: ['--web', web] });
  const server = { url: srv.httpUrl, wsUrl: srv.url };
  const anna = PEOPLE.anna;
  execFileSync(bin, ['user', 'add', anna.name, '--role', anna.role, '--specialty', anna.specialty, '--db', srv.db], { input: `${anna.password}\n` });
  const cookie = await rest.login(server, anna.name, anna.password);
  const browser = await launchBrowser();
  const cold = [];
  const warm = [];
  try {
    for (let i = 0; i < runs; i++) {
      const session = await rest.createSession(server, cookie, `Bench ${i}`);
      const link = await rest.createLink(server, cookie, session.id);
      const client = await rest.join(server, link.token, 'Kim');
      const context = await browser.newContext({ viewport: { width: 412, height: 915 }, isMobile: true, hasTouch: true, locale: 'de-DE' });
      await context.addCookies([{ name: rest.COOKIE, value: client, url: server.url, httpOnly: true, sameSite: 'Strict' }]);
      cold.push(await visit(browser, server, session.id, context));
      warm.push(await visit(browser, server, session.id, context));
      await context.close();
    }
  } finally {
    await browser.close();
    await srv.stop();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const line = (name, xs) => `${name}: usable room after ${median(xs.map((x) => x.ms))} ms (median of ${xs.length}: ${xs.map((x) => x.ms).join(', ')}), ${median(xs.map((x) => x.bytes))} bytes transferred`;
  console.log(`web demo ${path.relative(root, web)} served by ${path.relative(root, bin)}, phone 412×915, CPU 4× slower, Slow 4G`);
  console.log(line('first visit', cold));
  console.log(line('next visit ', warm));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

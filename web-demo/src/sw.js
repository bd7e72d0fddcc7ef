// Konsil's service worker (scope /): keeps the app shell — the page, its script, styles,
// icon and heartbeat worker, as build.js lists them — so the page opens with no network
// at all. The case sheet itself is kept by the page (src/live/keeper.js), never here;
// /api and /ws always go to the network.
//
// Pages (any navigation: /, /j/<token>, with or without a hash) come from the cache at
// once and the cached page is refreshed from the network behind them; the hashed assets
// never change, so the cache answers them. A new build is a new worker: it takes over
// at once and drops the old cache.
const VERSION = '__KONSIL_VERSION__';
const SHELL = __KONSIL_SHELL__;
const CACHE = `konsil-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('konsil-shell-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function refreshPage(cache) {
  return fetch('/', { cache: 'no-cache' })
    .then((response) => (response.ok ? cache.put('/', response.clone()).then(() => response) : response))
    .catch(() => null);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/') || url.pathname === '/ws') return;
  if (request.mode === 'navigate') {
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const cached = await cache.match('/');
        const fresh = refreshPage(cache);
        if (cached) {
          event.waitUntil(fresh);
          return cached;
        }
        return (await fresh) || fetch(request);
      }),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

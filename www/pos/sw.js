// Service worker of the POS page: after the first load the till quotes with the network off.
//
// On install it stores the page, its modules and the package files of the core module (the
// .wasm included) in the Cache API. Requests are answered network first (with a 4 s timeout; so a
// rebuilt package is picked up while the network is there) and fall back to the cache when the network is gone; every successful
// same-origin GET refreshes its cached copy. Scope: /pos/ (requests the page makes to /pkg/ and
// /shared/ go through it too: a service worker sees every request of the pages it controls).
// v2: the POS runs on the core module (pkg/core/web.js, loyalty_engine_core_bg.wasm); activating
// this worker deletes v1's cache, which held the full module.
// v3: the till panel (till.js, shared/api.js, shared/i18n.js); API calls (/v1/) never cached.
const CACHE = 'loyalty-pos-v3';
const NETWORK_TIMEOUT_MS = 4000;

const PRECACHE = [
  './',
  './index.html',
  './pos.css',
  './pos.js',
  './sample-data.js',
  './till.js',
  '../shared/api.js',
  '../shared/i18n.js',
  './generated-sample.json',
  '../shared/sample.js',
  // The core module only (`loyalty-engine/core`): the till needs validate and quote.
  '../pkg/core/web.js',
  '../pkg/api.js',
  '../pkg/web-init.js',
  '../pkg/wasm/loyalty_engine_core.js',
  '../pkg/wasm/loyalty_engine_core_bg.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // `cache: 'reload'`: straight from the server, never from the HTTP cache.
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // The server's API is never answered from the cache: a till must know it is offline.
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/v1/')) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        // A network that hangs counts as gone after NETWORK_TIMEOUT_MS (the till must not wait).
        const response = await Promise.race([
          fetch(request),
          new Promise((_, reject) => setTimeout(() => reject(new Error('network timeout')), NETWORK_TIMEOUT_MS)),
        ]);
        if (response.ok) await cache.put(request, response.clone());
        return response;
      } catch (networkError) {
        const cached = await cache.match(request, { ignoreSearch: true });
        if (cached) return cached;
        throw networkError;
      }
    })(),
  );
});

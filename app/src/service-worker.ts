/**
 * The service worker: the app shell loads with the network off. On install
 * it precaches this build's files and the SPA fallback page; on activate it
 * drops older builds' caches. Navigations go to the network first (online
 * always gets the current page) and fall back to the cached shell; the
 * build's hashed files are served from the cache. Nothing else is touched:
 * the API, the image proxy, attachments and `/sync` never reach Cache
 * Storage (see shell-routes). Data lives in IndexedDB (y-indexeddb), not here.
 */
import { build, files, version } from '$service-worker';
import { ROUTES, SHELL_URL, routeFor, shellCacheName, staleCaches } from '$lib/offline/shell-routes';
import { cachedAsset, navigate, type StrategyDeps } from '$lib/offline/shell-strategies';

// The project's TypeScript lib is the DOM one; these are the few worker types used here.
interface ExtendableEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}

interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}

interface WorkerScope {
  readonly location: Location;
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const worker = self as unknown as WorkerScope;
const CACHE = shellCacheName(version);
const ASSETS = new Set([...build, ...files]);
// `vite dev` has no build: the worker then stays out of the way instead of caching dev modules.
const ENABLED = build.length > 0;

worker.addEventListener('install', (event) => {
  if (!ENABLED) {
    event.waitUntil(worker.skipWaiting());
    return;
  }
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([...ASSETS, SHELL_URL]))
      .then(() => worker.skipWaiting()),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(staleCaches(keys, CACHE).map((key) => caches.delete(key))))
      .then(() => worker.clients.claim()),
  );
});

const deps: StrategyDeps = { fetch: (request) => fetch(request), open: () => caches.open(CACHE) };

worker.addEventListener('fetch', (event) => {
  if (!ENABLED) {
    return;
  }
  const { request } = event;
  const route = routeFor(request, worker.location.origin, ASSETS);
  if (route === ROUTES.shell) {
    event.respondWith(navigate(request, deps));
  } else if (route === ROUTES.asset) {
    event.respondWith(cachedAsset(request, deps));
  }
});

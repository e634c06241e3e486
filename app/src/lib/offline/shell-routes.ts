/**
 * @module app/lib/offline/shell-routes
 * What the service worker may do with a request. Only the app shell (the
 * SPA fallback page) and the build's own files are ever cached: they hold
 * no one's data. Everything that is authenticated or private (the API, the
 * image proxy and attachments under `/api`, the `/sync` socket, the health
 * probes) is never answered from, nor written to, Cache Storage.
 */

/** Every cache the worker owns starts with this, so activation removes only its own old versions. */
export const SHELL_CACHE_PREFIX = 'shoal-shell-';

/** The URL the shell is precached under; the server answers every non-API path with the same page. */
export const SHELL_URL = '/';

/** A navigation waits this long for the network before the cached shell is shown (slow or captive networks). */
export const NAVIGATION_TIMEOUT_MS = 3000;

export const ROUTES = {
  /** A page navigation: network first, the cached shell when the network fails or is too slow. */
  shell: 'shell',
  /** A file of this build: cache first. */
  asset: 'asset',
  /** Left to the browser: the worker does not answer it and caches nothing of it. */
  network: 'network',
} as const;

export type Route = (typeof ROUTES)[keyof typeof ROUTES];

export interface RequestFacts {
  method: string;
  mode: string;
  url: string;
}

const PRIVATE_PREFIXES = ['/api', '/sync', '/healthz', '/readyz'] as const;

/** Whether a path belongs to the server's authenticated or operational endpoints. */
export function isPrivatePath(pathname: string): boolean {
  return PRIVATE_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`));
}

/** The cache name for one build. */
export function shellCacheName(version: string): string {
  return `${SHELL_CACHE_PREFIX}${version}`;
}

/** The worker's caches of older builds (not other caches of the origin). */
export function staleCaches(keys: readonly string[], current: string): string[] {
  return keys.filter((key) => key.startsWith(SHELL_CACHE_PREFIX) && key !== current);
}

/**
 * Decides how the worker treats a request.
 * @param request method, mode and absolute URL.
 * @param origin the app's origin (the worker's scope).
 * @param assets the paths of this build's files (precached).
 */
export function routeFor(request: RequestFacts, origin: string, assets: ReadonlySet<string>): Route {
  if (request.method !== 'GET') {
    return ROUTES.network;
  }
  const url = new URL(request.url);
  if (url.origin !== origin || isPrivatePath(url.pathname)) {
    return ROUTES.network;
  }
  if (request.mode === 'navigate') {
    return ROUTES.shell;
  }
  return assets.has(url.pathname) ? ROUTES.asset : ROUTES.network;
}

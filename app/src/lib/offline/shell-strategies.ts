/**
 * @module app/lib/offline/shell-strategies
 * The service worker's two answers, over an injected fetch and cache so
 * they can be exercised outside a worker: navigations network first with
 * the cached shell as the fallback, build files cache first.
 */
import { NAVIGATION_TIMEOUT_MS, SHELL_URL } from './shell-routes';

/** The part of a `Cache` the strategies use (keys are paths of the app's origin). */
export interface ShellCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
}

export interface StrategyDeps {
  fetch(request: Request): Promise<Response>;
  /** This build's cache. */
  open(): Promise<ShellCache>;
  timeoutMs?: number;
}

/**
 * Network first; after a failure, a server error (a proxy in front of a stopped server) or the
 * timeout, the cached shell if there is one. Online, the current page always wins.
 */
export async function navigate(request: Request, deps: StrategyDeps): Promise<Response> {
  const network = deps.fetch(request);
  // A late failure after the cached shell was served is expected, not an error.
  network.catch(() => undefined);
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), deps.timeoutMs ?? NAVIGATION_TIMEOUT_MS));
  const response = await Promise.race([network, timeout]).catch(() => null);
  if (response !== null && response.status < 500) {
    return response;
  }
  const cached = await (await deps.open()).match(SHELL_URL);
  return cached ?? response ?? network;
}

/** Cache first; a miss (an evicted entry) is fetched and put back, as it is one of this build's files. */
export async function cachedAsset(request: Request, deps: StrategyDeps): Promise<Response> {
  const path = new URL(request.url).pathname;
  const cache = await deps.open();
  const cached = await cache.match(path);
  if (cached) {
    return cached;
  }
  const response = await deps.fetch(request);
  if (response.ok) {
    await cache.put(path, response.clone());
  }
  return response;
}

/**
 * The service worker's answers over a fake network and cache: a navigation
 * gets the network's page when it comes (even a 404), and the cached shell
 * when the network fails, answers 5xx or is slower than the timeout; build
 * files come from the cache, and a miss is fetched and put back only when
 * it succeeded.
 */
import { describe, expect, it } from 'vitest';
import { SHELL_URL } from '../../app/src/lib/offline/shell-routes';
import { cachedAsset, navigate, type ShellCache, type StrategyDeps } from '../../app/src/lib/offline/shell-strategies';

const ORIGIN = 'https://shoal.example';
const SHELL = '<!doctype html><title>cached shell</title>';

class FakeCache implements ShellCache {
  readonly entries = new Map<string, string>();
  async match(url: string): Promise<Response | undefined> {
    const body = this.entries.get(url);
    return body === undefined ? undefined : new Response(body, { headers: { 'content-type': 'text/html' } });
  }
  async put(url: string, response: Response): Promise<void> {
    this.entries.set(url, await response.text());
  }
}

function setup(network: (request: Request) => Promise<Response>, withShell = true) {
  const cache = new FakeCache();
  if (withShell) {
    cache.entries.set(SHELL_URL, SHELL);
  }
  const fetched: string[] = [];
  const deps: StrategyDeps = {
    fetch: (request) => {
      fetched.push(new URL(request.url).pathname);
      return network(request);
    },
    open: async () => cache,
    timeoutMs: 50,
  };
  return { cache, fetched, deps };
}

const page = (path: string) => new Request(`${ORIGIN}${path}`);
const offline = () => Promise.reject(new TypeError('Failed to fetch'));

describe('navigations', () => {
  it('get the network’s page when the network answers, cached shell or not', async () => {
    const { deps, cache } = setup(async () => new Response('fresh', { status: 200 }));
    expect(await (await navigate(page('/inbox'), deps)).text()).toBe('fresh');
    const missing = setup(async () => new Response('not here', { status: 404 }));
    expect((await navigate(page('/nope'), missing.deps)).status).toBe(404);
    expect([...cache.entries.keys()]).toEqual([SHELL_URL]);
  });

  it('get the cached shell when the network fails, answers 5xx or is too slow', async () => {
    const failing = setup(offline);
    expect(await (await navigate(page('/inbox'), failing.deps)).text()).toBe(SHELL);
    const down = setup(async () => new Response('bad gateway', { status: 502 }));
    expect(await (await navigate(page('/inbox/t1'), down.deps)).text()).toBe(SHELL);
    const slow = setup(() => new Promise<Response>(() => {}));
    expect(await (await navigate(page('/records'), slow.deps)).text()).toBe(SHELL);
  });

  it('without a cached shell, surface what the network did', async () => {
    await expect(navigate(page('/inbox'), setup(offline, false).deps)).rejects.toThrow('Failed to fetch');
    expect((await navigate(page('/inbox'), setup(async () => new Response('', { status: 503 }), false).deps)).status).toBe(503);
  });
});

describe('build files', () => {
  const FILE = '/_app/immutable/entry/start.abc.js';

  it('come from the cache without touching the network', async () => {
    const { deps, cache, fetched } = setup(offline);
    cache.entries.set(FILE, 'export {}');
    expect(await (await cachedAsset(page(FILE), deps)).text()).toBe('export {}');
    expect(fetched).toEqual([]);
  });

  it('are fetched and put back on a miss, unless the fetch failed', async () => {
    const ok = setup(async () => new Response('export {}', { status: 200 }));
    expect(await (await cachedAsset(page(FILE), ok.deps)).text()).toBe('export {}');
    expect(ok.cache.entries.get(FILE)).toBe('export {}');
    const gone = setup(async () => new Response('gone', { status: 404 }));
    expect((await cachedAsset(page(FILE), gone.deps)).status).toBe(404);
    expect(gone.cache.entries.has(FILE)).toBe(false);
  });
});

/**
 * What the service worker may answer and cache: only navigations (the
 * shell) and this build's files on the app's own origin; the API (image
 * proxy and attachments included), `/sync` and the health probes are always
 * left to the network, whatever their mode.
 */
import { describe, expect, it } from 'vitest';
import { ROUTES, isPrivatePath, routeFor, shellCacheName, staleCaches } from '../../app/src/lib/offline/shell-routes';

const ORIGIN = 'https://shoal.example';
const ASSETS = new Set(['/_app/immutable/entry/start.abc.js', '/favicon.svg']);
const get = (path: string, mode = 'cors') => ({ method: 'GET', mode, url: `${ORIGIN}${path}` });

describe('the service worker routes', () => {
  it('never answers private or operational paths, navigations included', () => {
    const paths = [
      '/api/me',
      '/api',
      '/api/image-proxy?u=https%3A%2F%2Fevil.example%2Fa.png&s=sig',
      '/api/messages/m1/attachments/0',
      '/api/threads?view=mine',
      '/sync',
      '/sync?room=me',
      '/healthz',
      '/readyz',
    ];
    for (const path of paths) {
      expect(isPrivatePath(new URL(`${ORIGIN}${path}`).pathname), path).toBe(true);
      for (const mode of ['navigate', 'cors', 'no-cors', 'same-origin']) {
        expect(routeFor(get(path, mode), ORIGIN, ASSETS), `${mode} ${path}`).toBe(ROUTES.network);
      }
    }
  });

  it('does not mistake app routes that merely start with the same letters for private ones', () => {
    expect(isPrivatePath('/apis-guide')).toBe(false);
    expect(isPrivatePath('/synced')).toBe(false);
    expect(routeFor(get('/synced', 'navigate'), ORIGIN, ASSETS)).toBe(ROUTES.shell);
  });

  it('answers navigations with the shell and build files from the cache', () => {
    expect(routeFor(get('/inbox', 'navigate'), ORIGIN, ASSETS)).toBe(ROUTES.shell);
    expect(routeFor(get('/', 'navigate'), ORIGIN, ASSETS)).toBe(ROUTES.shell);
    expect(routeFor(get('/_app/immutable/entry/start.abc.js'), ORIGIN, ASSETS)).toBe(ROUTES.asset);
    expect(routeFor(get('/favicon.svg', 'no-cors'), ORIGIN, ASSETS)).toBe(ROUTES.asset);
  });

  it('leaves other methods, other origins and unknown files to the network', () => {
    expect(routeFor({ method: 'POST', mode: 'navigate', url: `${ORIGIN}/login` }, ORIGIN, ASSETS)).toBe(ROUTES.network);
    expect(routeFor({ method: 'HEAD', mode: 'cors', url: `${ORIGIN}/favicon.svg` }, ORIGIN, ASSETS)).toBe(ROUTES.network);
    expect(routeFor({ method: 'GET', mode: 'navigate', url: 'https://other.example/inbox' }, ORIGIN, ASSETS)).toBe(ROUTES.network);
    expect(routeFor(get('/_app/immutable/entry/old.zzz.js'), ORIGIN, ASSETS)).toBe(ROUTES.network);
    expect(routeFor(get('/_app/version.json'), ORIGIN, ASSETS)).toBe(ROUTES.network);
  });

  it('drops only its own older caches on activation', () => {
    const current = shellCacheName('200');
    expect(staleCaches([shellCacheName('100'), current, 'someone-else'], current)).toEqual([shellCacheName('100')]);
  });
});

/**
 * The static sub-app over a built-app directory made on the fly: the
 * service worker is served as JavaScript that the browser revalidates on
 * every load, hashed assets are immutable, and the shell carries its CSP
 * under every path that reaches it, `/` and `/index.html` included (the
 * worker precaches `/`, and a cached shell must keep the policy).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticApp } from '../../server/static';

const SHELL = '<!doctype html><html><body><script>boot()</script></body></html>';

describe('the static app', () => {
  let dir: string;
  let app: NonNullable<ReturnType<typeof staticApp>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-static-'));
    await mkdir(join(dir, '_app/immutable/entry'), { recursive: true });
    await writeFile(join(dir, 'index.html'), SHELL);
    await writeFile(join(dir, 'service-worker.js'), 'self.addEventListener("fetch", () => {});');
    await writeFile(join(dir, '_app/immutable/entry/start.abc123.js'), 'export {};');
    const built = staticApp(dir);
    if (built === null) {
      throw new Error('the shell was not found');
    }
    app = built;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the service worker as JavaScript with Cache-Control: no-cache', async () => {
    const res = await app.request('/service-worker.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('addEventListener');
  });

  it('marks hashed build files immutable', async () => {
    const res = await app.request('/_app/immutable/entry/start.abc123.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers /, /index.html and any route with the shell under its CSP, never cached without revalidation', async () => {
    for (const path of ['/', '/index.html', '/inbox/some-thread']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toBe(SHELL);
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self' 'sha256-");
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
    }
  });
});

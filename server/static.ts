/**
 * @module server/static
 * Serves the built single-page app: hashed assets cached forever, the
 * service worker revalidated on every load, every other non-API path
 * (`/` and `/index.html` included) answered with the app shell, under a
 * strict CSP whose script hashes are taken from the shell itself at boot.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { AppEnv } from './context';

/** Paths that name the shell file itself: answered like any route, so the CSP always goes with it. */
const SHELL_PATHS = new Set(['/', '/index.html']);
const SERVICE_WORKER = '/service-worker.js';
const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g;

/**
 * The Content-Security-Policy for the app shell.
 * @param shellHtml the built index.html, whose inline bootstrap scripts get hashes.
 */
export function contentSecurityPolicy(shellHtml: string): string {
  const hashes = [...shellHtml.matchAll(INLINE_SCRIPT)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1] ?? '').digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    // Svelte sets inline styles for transitions and dynamic sizes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Builds the static sub-app.
 * @param appDir the adapter-static output directory.
 * @returns null when the app has not been built (API-only process).
 */
export function staticApp(appDir: string): Hono<AppEnv> | null {
  const shell = join(appDir, 'index.html');
  if (!existsSync(shell)) {
    return null;
  }
  const csp = contentSecurityPolicy(readFileSync(shell, 'utf8'));
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
  });
  app.use('/_app/immutable/*', async (c, next) => {
    await next();
    if (c.res.status === 200) {
      c.header('Cache-Control', 'public, max-age=31536000, immutable');
    }
  });
  // A stale worker would keep serving an old shell: the browser must ask every time.
  app.use(SERVICE_WORKER, async (c, next) => {
    await next();
    if (c.res.status === 200) {
      c.header('Cache-Control', 'no-cache');
    }
  });
  const files = serveStatic({ root: appDir });
  app.get('*', (c, next) => (SHELL_PATHS.has(c.req.path) ? next() : files(c, next)));
  app.get('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', csp);
    c.header('Cache-Control', 'no-cache');
  });
  app.get('*', serveStatic({ path: shell }));
  return app;
}

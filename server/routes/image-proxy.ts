/**
 * @module server/routes/image-proxy
 * `POST /api/image-proxy/sign` (session): signed proxy paths for the remote
 * images a viewer chose to show. `GET /api/image-proxy?url&u&e&s` (the
 * signature is the credential, because the sandboxed message frame sends no
 * cookie): the image, re-served from Shoal's origin with nothing of the
 * viewer sent upstream and nothing of the upstream's headers passed back.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../context';
import { proxyImage, signImageUrls } from '../commands/image-proxy';
import { requireAuth } from '../middleware/session';
import { IdSchema } from '../schemas';
import { check, readJson } from '../validate';

const UrlSchema = z.string().min(1, 'is required').max(4096, 'must be at most 4096 characters');

const SignSchema = z.object({ urls: z.array(UrlSchema).max(200, 'must list at most 200 addresses') });

const ProxySchema = z.object({
  url: UrlSchema,
  u: IdSchema,
  e: z.coerce.number({ error: 'must be a number' }).int('must be a whole number'),
  s: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a signature'),
});

export const imageProxyRoutes = new Hono<AppEnv>()
  .post('/sign', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { urls } = await readJson(c, SignSchema);
    return c.json(signImageUrls(c.var.deps, auth, urls));
  })
  .get('/', async (c) => {
    const image = await proxyImage(c.var.deps, check(ProxySchema, c.req.query()));
    return c.body(image.body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': image.type,
      'Content-Length': String(image.body.byteLength),
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'private, max-age=3600',
    });
  });

/**
 * @module server/routes/attachments
 * `GET /api/messages/:id/attachments/:index`: one attachment of a message
 * the viewer may see, always as a download.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../context';
import { readAttachment } from '../commands/attachments';
import { requireAuth } from '../middleware/session';
import { IdSchema } from '../schemas';
import { check } from '../validate';

const ParamsSchema = z.object({
  id: IdSchema,
  index: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').max(10_000, 'is not an attachment'),
});

/** RFC 5987 value characters: everything else is percent-encoded. */
const encodeExtValue = (value: string) =>
  encodeURIComponent(value).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * `attachment` with an ASCII `filename` fallback and the exact name as
 * RFC 6266 `filename*`; quotes, backslashes, separators and controls never
 * reach the header.
 */
export function attachmentDisposition(filename: string): string {
  const name = filename.replace(/[\p{Cc}\p{Cf}/\\]/gu, '_').trim() || 'attachment';
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(name)}`;
}

export const attachmentRoutes = new Hono<AppEnv>().get('/:id/attachments/:index', async (c) => {
  const auth = requireAuth(c.var.auth);
  const { id, index } = check(ParamsSchema, c.req.param());
  const file = await readAttachment(c.var.deps, auth, id, index);
  return c.body(file.body as Uint8Array<ArrayBuffer>, 200, {
    'Content-Type': file.contentType,
    'Content-Length': String(file.body.byteLength),
    'Content-Disposition': attachmentDisposition(file.filename),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'private, no-store',
  });
});

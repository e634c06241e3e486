/**
 * @module server/routes/signature
 * The signed-in person's email signature at /api/me/signature.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { MAX_SIGNATURE_LENGTH, type SignatureInput } from '../../sync/api';
import { getSignature, updateSignature } from '../commands/signature';
import type { AppEnv } from '../context';
import { requireAuth } from '../middleware/session';
import { presentSignature } from '../presenters/signature';
import { readJson } from '../validate';

const SignatureSchema = z.strictObject({
  signature: z
    .string({ error: 'must be text' })
    .max(MAX_SIGNATURE_LENGTH, `must be at most ${MAX_SIGNATURE_LENGTH.toLocaleString('en')} characters`)
    .refine((text) => !text.includes('\0'), 'must not contain NUL characters'),
}) satisfies z.ZodType<SignatureInput>;

export const signatureRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    return c.json(presentSignature(await getSignature(c.var.deps, auth)));
  })
  .put('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { signature } = await readJson(c, SignatureSchema);
    const row = await updateSignature(c.var.deps, auth, signature);
    c.var.log.info({ userId: auth.user.id, length: row.body.length }, 'signature saved');
    return c.json(presentSignature(row));
  });

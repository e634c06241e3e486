/**
 * @module server/routes/mail-views
 * Reading mail: thread lists, a thread, a record's emails, search, counts
 * and "why can I see this?". Each answer holds only what the viewer may see.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { THREAD_LANES, THREAD_VIEWS } from '../../sync/mail-api';
import type { AppEnv } from '../context';
import { explainVisibility } from '../commands/explain-visibility';
import { getThread, listRecordEmails, listThreads, mailCounts, searchMail } from '../commands/mail-views';
import { requireAuth } from '../middleware/session';
import { IdParamSchema, IdSchema } from '../schemas';
import { check } from '../validate';

const LimitSchema = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be 1–200')
  .max(200, 'must be 1–200')
  .default(50);
const CursorSchema = z.string().max(200, 'is not a cursor this list gave out').optional();
const TextSchema = z.string().trim().max(200, 'must be at most 200 characters');

const ThreadListSchema = z.object({
  view: z.enum(THREAD_VIEWS, { error: `must be one of ${THREAD_VIEWS.join(', ')}` }).default('team'),
  owner: IdSchema.optional(),
  lane: z.enum(THREAD_LANES, { error: `must be one of ${THREAD_LANES.join(', ')}` }).default('all'),
  q: TextSchema.optional().transform((v) => v || undefined),
  cursor: CursorSchema,
  limit: LimitSchema,
});

const SearchSchema = z.object({ q: TextSchema.min(1, 'is required'), cursor: CursorSchema, limit: LimitSchema });

const RecordEmailsSchema = z.object({
  owner: z.union([z.literal('all'), IdSchema], { error: 'must be all or a person id' }).optional(),
  cursor: CursorSchema,
  limit: LimitSchema,
});

export const threadRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    return c.json(await listThreads(c.var.deps, auth, check(ThreadListSchema, c.req.query())));
  })
  .get('/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    return c.json(await getThread(c.var.deps, auth, id));
  });

export const mailReadRoutes = new Hono<AppEnv>()
  .get('/search', async (c) => {
    const auth = requireAuth(c.var.auth);
    return c.json(await searchMail(c.var.deps, auth, check(SearchSchema, c.req.query())));
  })
  .get('/counts', async (c) => {
    const auth = requireAuth(c.var.auth);
    return c.json(await mailCounts(c.var.deps, auth));
  });

export const messageVisibilityRoutes = new Hono<AppEnv>().get('/:id/visibility', async (c) => {
  const auth = requireAuth(c.var.auth);
  const { id } = check(IdParamSchema, c.req.param());
  return c.json(await explainVisibility(c.var.deps, auth, id));
});

export const recordEmailRoutes = new Hono<AppEnv>().get('/:id/emails', async (c) => {
  const auth = requireAuth(c.var.auth);
  const { id } = check(IdParamSchema, c.req.param());
  return c.json(await listRecordEmails(c.var.deps, auth, id, check(RecordEmailsSchema, c.req.query())));
});

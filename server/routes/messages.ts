/**
 * @module server/routes/messages
 * Sending mail (new, reply, reply-all, forward) and marking messages read,
 * mounted under `/api/mail`.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { outboundStatus, sendMail, SendMailSchema } from '../commands/send-mail';
import type { AppEnv } from '../context';
import { requireAuth } from '../middleware/session';
import { markMessageSeen } from '../outbound/mark-seen';
import { IdParamSchema } from '../schemas';
import { check, readJson } from '../validate';

const MarkSeenSchema = z.object({ seen: z.boolean({ error: 'must be true or false' }) });

export const messageRoutes = new Hono<AppEnv>()
  .post('/send', async (c) => {
    const auth = requireAuth(c.var.auth);
    const input = await readJson(c, SendMailSchema);
    const result = await sendMail(c.var.deps, auth, input);
    c.var.log.info({ outboundId: result.body.outboundId, status: result.body.status, http: result.status }, 'mail send');
    return c.json(result.body, result.status);
  })
  .get('/outbound/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    return c.json(await outboundStatus(c.var.deps, auth, id));
  })
  .post('/messages/:id/seen', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const { seen } = await readJson(c, MarkSeenSchema);
    return c.json(await markMessageSeen(c.var.deps, auth, id, seen));
  });

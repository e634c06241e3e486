/**
 * @module server/routes/notifications
 * The signed-in person's notifications: list and mark read.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { listVisibleNotifications, markNotificationsRead } from '../../db/queries/notifications';
import type { NotificationListDto } from '../../sync/mail-api';
import type { AppEnv } from '../context';
import { requireAuth } from '../middleware/session';
import { IdSchema } from '../schemas';
import { readJson } from '../validate';

const MarkReadSchema = z.strictObject({ ids: z.array(IdSchema).max(500, 'at most 500 ids').nullable().default(null) });

export const notificationRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { rows, unread } = await listVisibleNotifications(c.var.deps.db, auth.user.id, 100);
    const body: NotificationListDto = {
      notifications: rows.map((n) => ({ id: n.id, kind: n.kind, payload: n.payload, createdAt: n.createdAt.toISOString(), readAt: n.readAt?.toISOString() ?? null })),
      unread,
    };
    return c.json(body);
  })
  .post('/read', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { ids } = await readJson(c, MarkReadSchema);
    const updated = await markNotificationsRead(c.var.deps.db, auth.user.id, ids, c.var.deps.now());
    return c.json({ updated });
  });

/**
 * @module db/queries/notifications
 * A person's in-app notifications. One about a message shows only while the
 * person may see that message, so a notification never outlives a sharing
 * change that hid its mail.
 */
import type { Queryable } from '../types';
import { visibleMessageIdsSql } from './visibility';

export interface NotificationRow {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  readAt: Date | null;
}

const VISIBLE = `n.user_id = $1 and (n.payload->>'messageId' is null or n.payload->>'messageId' in (
  select id::text from ${visibleMessageIdsSql('$1::uuid', '(select org_id from users where id = $1::uuid)')} visible))`;

/** A person's notifications, newest first, with the unread count. */
export async function listVisibleNotifications(q: Queryable, userId: string, limit: number): Promise<{ rows: NotificationRow[]; unread: number }> {
  const rows = await q.query<NotificationRow>(
    `select n.id, n.kind, n.payload, n.created_at as "createdAt", n.read_at as "readAt" from notifications n
     where ${VISIBLE} order by n.created_at desc, n.id desc limit $2`,
    [userId, limit],
  );
  const [count] = await q.query<{ n: number }>(`select count(*)::int as n from notifications n where ${VISIBLE} and n.read_at is null`, [userId]);
  return { rows, unread: count?.n ?? 0 };
}

/** Marks some (or, with null, all) of a person's notifications read. @returns how many changed. */
export async function markNotificationsRead(q: Queryable, userId: string, ids: readonly string[] | null, at: Date): Promise<number> {
  const rows = await q.query<{ id: string }>(
    `update notifications set read_at = $3 where user_id = $1 and read_at is null and ($2::uuid[] is null or id = any($2::uuid[])) returning id`,
    [userId, ids, at],
  );
  return rows.length;
}

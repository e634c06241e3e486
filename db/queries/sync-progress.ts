/**
 * @module db/queries/sync-progress
 * Progress and completion of an account's initial sync, and notifications.
 */
import type { Queryable } from '../types';

/** Stores done/total for the API and UI. */
export async function setAccountProgress(q: Queryable, accountId: string, done: number, total: number): Promise<void> {
  await q.query('update mail_accounts set sync_done = $2, sync_total = $3 where id = $1', [accountId, done, total]);
}

/**
 * Marks the initial sync complete once every folder's backfill is done.
 * @returns true only for the call that completed it (so the owner is told once).
 */
export async function completeInitialSync(q: Queryable, accountId: string, at: Date): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `update mail_accounts a set initial_sync_completed_at = $2
     where a.id = $1 and a.initial_sync_completed_at is null
       and exists (select 1 from mail_folders f where f.account_id = a.id)
       and not exists (select 1 from mail_folders f where f.account_id = a.id and not f.backfill_done)
     returning a.id`,
    [accountId, at],
  );
  return rows.length > 0;
}

/** Adds an in-app notification. */
export async function insertNotification(
  q: Queryable,
  n: { userId: string; kind: string; payload: Record<string, unknown> },
): Promise<void> {
  await q.query('insert into notifications (id, user_id, kind, payload) values ($1, $2, $3, $4::text::jsonb)', [
    crypto.randomUUID(),
    n.userId,
    n.kind,
    JSON.stringify(n.payload),
  ]);
}

/** Lists a person's notifications, newest first. */
export async function listNotifications(
  q: Queryable,
  userId: string,
  limit = 50,
): Promise<{ id: string; kind: string; payload: Record<string, unknown>; createdAt: Date; readAt: Date | null }[]> {
  return q.query(
    `select id, kind, payload, created_at as "createdAt", read_at as "readAt" from notifications
     where user_id = $1 order by created_at desc limit $2`,
    [userId, limit],
  );
}

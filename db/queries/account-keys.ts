/**
 * @module db/queries/account-keys
 * The only SQL key rotation needs: page through mailbox data keys under a
 * row lock and write back re-wrapped ones. Secret columns are never read
 * here; re-wrapping leaves them untouched.
 */
import type { Queryable } from '../types';

export interface AccountKeyRow {
  id: string;
  wrappedDek: string;
}

/**
 * Locks and returns the next page of accounts' wrapped data keys, in id order.
 * Call inside a transaction: the lock keeps a concurrent writer off the row until the page commits.
 * @param q a transaction.
 * @param afterId the last id of the previous page, or null for the first page.
 * @param limit page size.
 * @returns up to `limit` rows with ids greater than `afterId`.
 */
export async function lockAccountKeysPage(q: Queryable, afterId: string | null, limit: number): Promise<AccountKeyRow[]> {
  const columns = 'select id, wrapped_dek as "wrappedDek" from mail_accounts';
  if (afterId === null) {
    return q.query<AccountKeyRow>(`${columns} order by id limit $1 for update`, [limit]);
  }
  return q.query<AccountKeyRow>(`${columns} where id > $1 order by id limit $2 for update`, [afterId, limit]);
}

/**
 * Replaces one account's wrapped data key.
 * @param q a transaction holding the row's lock.
 * @param id the account.
 * @param wrappedDek the data key wrapped with the active KEK.
 */
export async function updateWrappedDek(q: Queryable, id: string, wrappedDek: string): Promise<void> {
  await q.query('update mail_accounts set wrapped_dek = $2 where id = $1', [id, wrappedDek]);
}

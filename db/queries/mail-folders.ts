/**
 * @module db/queries/mail-folders
 * Per-folder sync state and where messages sit (folder, uidvalidity, uid).
 */
import type { Queryable } from '../types';

export interface FolderRow {
  id: string;
  accountId: string;
  path: string;
  role: string;
  uidvalidity: number | null;
  uidnext: number | null;
  highestModseq: number | null;
  backfillLowUid: number | null;
  backfillDone: boolean;
  messageCount: number;
  /** When expunges were last found by a full UID diff (QRESYNC passes leave it alone). */
  lastFullSyncAt: Date | null;
}

const COLUMNS = `id, account_id as "accountId", path, role, uidvalidity, uidnext, highest_modseq as "highestModseq",
  backfill_low_uid as "backfillLowUid", backfill_done as "backfillDone", message_count as "messageCount",
  last_full_sync_at as "lastFullSyncAt"`;

/** Creates or refreshes a folder row from LIST. */
export async function upsertFolder(
  q: Queryable,
  folder: { accountId: string; path: string; delimiter: string; role: string; selectable: boolean },
): Promise<FolderRow> {
  const rows = await q.query<FolderRow>(
    `insert into mail_folders (id, account_id, path, delimiter, role, selectable) values ($1, $2, $3, $4, $5, $6)
     on conflict (account_id, path) do update set delimiter = excluded.delimiter, role = excluded.role,
       selectable = excluded.selectable
     returning ${COLUMNS}`,
    [crypto.randomUUID(), folder.accountId, folder.path, folder.delimiter, folder.role, folder.selectable],
  );
  return rows[0] as FolderRow;
}

/** Lists an account's folders. */
export async function listFolders(q: Queryable, accountId: string): Promise<FolderRow[]> {
  return q.query<FolderRow>(`select ${COLUMNS} from mail_folders where account_id = $1 order by path`, [accountId]);
}

/** Reads one folder's state (inside a transaction, to advance it). */
export async function findFolder(q: Queryable, id: string): Promise<FolderRow | null> {
  const rows = await q.query<FolderRow>(`select ${COLUMNS} from mail_folders where id = $1`, [id]);
  return rows[0] ?? null;
}

/** Advances a folder's checkpoint; only the given fields change. */
export async function updateFolder(
  q: Queryable,
  id: string,
  patch: Partial<
    Pick<FolderRow, 'uidvalidity' | 'uidnext' | 'highestModseq' | 'backfillLowUid' | 'backfillDone' | 'messageCount'> & {
      lastFullSyncAt: Date;
    }
  > & {
    synced?: boolean;
  },
): Promise<void> {
  const map: Record<string, string> = {
    uidvalidity: 'uidvalidity',
    uidnext: 'uidnext',
    highestModseq: 'highest_modseq',
    backfillLowUid: 'backfill_low_uid',
    backfillDone: 'backfill_done',
    messageCount: 'message_count',
    lastFullSyncAt: 'last_full_sync_at',
  };
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [key, column] of Object.entries(map)) {
    const value = (patch as Record<string, unknown>)[key];
    if (value !== undefined) {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
  }
  if (patch.synced) {
    sets.push('last_sync_at = now()');
  }
  if (sets.length > 0) {
    await q.query(`update mail_folders set ${sets.join(', ')} where id = $1`, params);
  }
}

/**
 * Forgets the UIDs of an old UIDVALIDITY. The messages stay (orphaned, to be
 * relinked by their stable key as the folder is re-read), so nothing looks new.
 */
export async function resetFolderUidValidity(q: Queryable, folderId: string, uidvalidity: number): Promise<void> {
  const rows = await q.query<{ messageId: string }>(
    `delete from message_locations where folder_id = $1 and uidvalidity <> $2 returning message_id as "messageId"`,
    [folderId, uidvalidity],
  );
  await orphanUnlocated(q, rows.map((r) => r.messageId));
  await q.query(
    `update mail_folders set uidvalidity = $2, uidnext = null, highest_modseq = null, backfill_low_uid = null,
       backfill_done = false where id = $1`,
    [folderId, uidvalidity],
  );
}

/** The UIDs Shoal holds for a folder, ascending. */
export async function knownUids(q: Queryable, folderId: string, uidvalidity: number): Promise<number[]> {
  const rows = await q.query<{ uid: number }>(
    'select uid from message_locations where folder_id = $1 and uidvalidity = $2 order by uid',
    [folderId, uidvalidity],
  );
  return rows.map((r) => r.uid);
}

/** The flags Shoal holds per UID of a folder (as stored: sorted). */
export async function locationFlags(q: Queryable, folderId: string, uidvalidity: number): Promise<Map<number, readonly string[]>> {
  const rows = await q.query<{ uid: number; flags: string[] }>(
    'select uid, flags from message_locations where folder_id = $1 and uidvalidity = $2',
    [folderId, uidvalidity],
  );
  return new Map(rows.map((r) => [r.uid, r.flags]));
}

/** Removes expunged locations and orphans messages left nowhere. @returns the affected message ids. */
export async function removeLocations(q: Queryable, folderId: string, uidvalidity: number, uids: readonly number[]): Promise<string[]> {
  if (uids.length === 0) {
    return [];
  }
  const rows = await q.query<{ messageId: string }>(
    `delete from message_locations where folder_id = $1 and uidvalidity = $2 and uid = any($3::bigint[])
     returning message_id as "messageId"`,
    [folderId, uidvalidity, uids],
  );
  const ids = rows.map((r) => r.messageId);
  await orphanUnlocated(q, ids);
  return ids;
}

async function orphanUnlocated(q: Queryable, messageIds: readonly string[]): Promise<void> {
  if (messageIds.length === 0) {
    return;
  }
  await q.query(
    `update messages m set orphaned_at = now()
     where m.id = any($1::uuid[]) and m.orphaned_at is null
       and not exists (select 1 from message_locations l where l.message_id = m.id)`,
    [messageIds],
  );
}

/**
 * Applies server flags to a location and mirrors \\Seen onto its message.
 * @returns the message's id when its read state changed (what sync documents show), else null.
 */
export async function setLocationFlags(
  q: Queryable,
  folderId: string,
  uidvalidity: number,
  uid: number,
  flags: readonly string[],
  modseq: number | null,
): Promise<string | null> {
  const rows = await q.query<{ messageId: string }>(
    `update message_locations set flags = $4, modseq = coalesce($5, modseq)
     where folder_id = $1 and uidvalidity = $2 and uid = $3 returning message_id as "messageId"`,
    [folderId, uidvalidity, uid, flags, modseq],
  );
  const messageId = rows[0]?.messageId;
  if (!messageId) {
    return null;
  }
  const seen = flags.includes('\\Seen');
  const [before] = await q.query<{ seen: boolean }>(
    `with old as (select seen from messages where id = $1)
     update messages set seen = $2, flags = $3 where id = $1 returning (select seen from old) as seen`,
    [messageId, seen, flags],
  );
  return before && before.seen !== seen ? messageId : null;
}

/**
 * Deletes messages that stayed orphaned since before `before`: by then every
 * folder has been re-read, so they were really deleted on the server.
 * @returns how many.
 */
export async function purgeOrphans(q: Queryable, accountId: string, before: Date): Promise<number> {
  const rows = await q.query<{ id: string }>(
    `delete from messages where account_id = $1 and orphaned_at is not null and orphaned_at < $2
       and not exists (select 1 from message_locations l where l.message_id = messages.id)
     returning id`,
    [accountId, before],
  );
  return rows.length;
}

/** Counts stored locations and how many messages the server reported, for progress. */
export async function accountProgress(q: Queryable, accountId: string): Promise<{ done: number; total: number }> {
  const rows = await q.query<{ done: number; total: number }>(
    `select (select count(*)::int from message_locations l join mail_folders f on f.id = l.folder_id where f.account_id = $1)
          + (select count(*)::int from message_quarantine where account_id = $1) as done,
            (select coalesce(sum(message_count), 0)::int from mail_folders where account_id = $1) as total`,
    [accountId],
  );
  return rows[0] ?? { done: 0, total: 0 };
}

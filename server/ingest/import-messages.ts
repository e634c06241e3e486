/**
 * @module server/ingest/import-messages
 * Imports an mbox file or a folder of .eml files into a mailbox through the
 * same store as IMAP sync (parse, thread, match, store, quarantine). Imported
 * mail lives in a folder of its own that sync never selects.
 */
import { basename } from 'node:path';
import { updateFolder, upsertFolder } from '../../db/queries/mail-folders';
import type { Db } from '../../db/types';
import { applyRulesAfterBatch } from '../conversion/apply-rules';
import type { Keyring } from '../secrets/keyring';
import { describeSource, readSource } from './import-source';
import { createMessageStore } from './store-messages';
import type { FetchedMessage } from './sync-folder';

export const IMPORT_BATCH = 100;

export interface ImportProgress {
  done: number;
  total: number;
}

export interface ImportResult extends ImportProgress {
  folder: string;
  stored: number;
  quarantined: number;
}

/**
 * Imports every message of `path` into an account.
 * @throws when the account does not exist.
 */
export async function importMessages(
  db: Db,
  keyring: Keyring,
  accountId: string,
  path: string,
  onProgress: (p: ImportProgress) => void = () => {},
): Promise<ImportResult> {
  const [account] = await db.query<{ orgId: string; addresses: string[] }>(
    `select a.org_id as "orgId",
       coalesce((select array_agg(f.address) from mail_account_addresses f where f.account_id = a.id), array[a.email]) as addresses
     from mail_accounts a where a.id = $1`,
    [accountId],
  );
  if (!account) {
    throw new Error(`No mailbox with id ${accountId}`);
  }
  const { count: total, fingerprint: uidvalidity } = await describeSource(path);
  const folderPath = `[Imported] ${basename(path)}`;
  const folder = await upsertFolder(db, { accountId, path: folderPath, delimiter: '/', role: 'other', selectable: false });
  await updateFolder(db, folder.id, { uidvalidity, messageCount: total });
  const store = createMessageStore(db, {
    accountId,
    orgId: account.orgId,
    ownAddresses: account.addresses,
    messageIdKey: keyring.messageIdKey,
  });
  let batch: FetchedMessage[] = [];
  let done = 0;
  const flush = async () => {
    await store.storeBatch({ ...folder, uidvalidity }, uidvalidity, batch, {});
    await applyRulesAfterBatch({ db }, accountId, folder, uidvalidity, batch);
    done += batch.length;
    batch = [];
    onProgress({ done, total });
  };
  let uid = 0;
  for await (const raw of readSource(path)) {
    uid += 1;
    batch.push({ uid, flags: ['\\Seen'], modseq: null, internalDate: new Date(), source: raw, emailId: null, gmThreadId: null });
    if (batch.length >= IMPORT_BATCH) {
      await flush();
    }
  }
  if (batch.length > 0) {
    await flush();
  }
  await updateFolder(db, folder.id, { backfillDone: true, synced: true });
  const [counts] = await db.query<{ stored: number; quarantined: number }>(
    `select (select count(*)::int from message_locations where folder_id = $1 and uidvalidity = $2) as stored,
            (select count(*)::int from message_quarantine where folder_id = $1 and uidvalidity = $2) as quarantined`,
    [folder.id, uidvalidity],
  );
  return { folder: folderPath, done, total, stored: counts?.stored ?? 0, quarantined: counts?.quarantined ?? 0 };
}

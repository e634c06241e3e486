/**
 * @module server/ingest/sent-copies
 * The server's copies of mail Shoal sent. Sending stores the message at once
 * under `mid:<Message-ID>`; on a server with stable ids (OBJECTID, Gmail's
 * X-GM-MSGID) sync keys the Sent copy `id:<emailId>` instead, so without
 * this it would be stored a second time. Gmail files its own copy even when
 * Shoal does not APPEND one, so this cannot be left to the APPEND path.
 */
import { findSentFromShoalByHeaderIds, rekeyMessage } from '../../db/queries/outbound';
import type { Tx } from '../../db/types';
import type { AccountContext } from './account-context';
import type { ParsedMessage } from './parse-message';
import type { FetchedMessage } from './sync-folder';

interface BatchItem {
  fetched: FetchedMessage;
  parsed: ParsedMessage;
  key: string;
}

/**
 * Points each not-yet-known `id:` key of the batch at the message Shoal sent
 * with the same Message-ID and sender, so the caller links the copy (a new
 * location) instead of storing it anew. The first copy also re-keys the
 * message to its server id, the key the next sync computes; a further copy
 * (another server id, same Message-ID) is linked without re-keying.
 * Shoal's Message-IDs are signed and unique, and the sender must match too,
 * so a stranger's mail reusing one cannot be absorbed into a sent message.
 * @param known key → message id for the batch, extended in place.
 */
export async function linkSentCopies(tx: Tx, ctx: AccountContext, items: readonly BatchItem[], known: Map<string, string>): Promise<void> {
  const candidates = items.filter((i) => i.key.startsWith('id:') && !known.has(i.key) && i.parsed.headerMessageId !== null);
  if (candidates.length === 0) {
    return;
  }
  const rows = await findSentFromShoalByHeaderIds(
    tx,
    ctx.orgId,
    ctx.accountId,
    candidates.map((i) => i.parsed.headerMessageId as string),
  );
  const sent = new Map(rows.map((r) => [r.headerMessageId, r]));
  for (const item of candidates) {
    const row = sent.get(item.parsed.headerMessageId as string);
    if (!row || row.fromAddress !== (item.parsed.from?.address ?? null) || !item.fetched.emailId || known.has(item.key)) {
      continue;
    }
    if (row.messageKey.startsWith('mid:')) {
      await rekeyMessage(tx, ctx.accountId, row.id, item.fetched.emailId, item.fetched.gmThreadId);
      row.messageKey = item.key;
    }
    known.set(item.key, row.id);
  }
}

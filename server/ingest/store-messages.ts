/**
 * @module server/ingest/store-messages
 * The write side of ingestion. A batch is parsed first (outside any
 * transaction), then stored in one transaction together with the folder's
 * checkpoint: a crash either keeps the whole batch and its checkpoint or
 * neither, so a replay finds every location already there and skips it.
 */
import { findFolder, updateFolder, type FolderRow } from '../../db/queries/mail-folders';
import {
  findMessageByKey,
  insertLocation,
  insertMessage,
  insertParticipants,
  insertQuarantine,
  locationExists,
} from '../../db/queries/messages';
import {
  insertThread,
  mergeThreads,
  recordMessageIds,
  recordThreadDecision,
  threadByGmThreadId,
  threadsByMessageIds,
  threadsBySubject,
  touchThread,
} from '../../db/queries/threads';
import type { Db, Tx } from '../../db/types';
import { findSignedThreadId } from './message-id';
import { parseMessage, type ParsedMessage, type ParseResult } from './parse-message';
import { normalizeSubject } from './subject';
import type { FetchedMessage, FolderCheckpoint, MessageSink } from './sync-folder';
import { decideThread, type ThreadLookup } from './threading';

export interface AccountContext {
  accountId: string;
  orgId: string;
  /** The account's own addresses (From addresses): decide direction, and never count as shared participants. */
  ownAddresses: readonly string[];
  messageIdKey: Uint8Array;
}

/** The stable identity of a message within an account. */
export function messageKey(fetched: FetchedMessage, parsed: ParsedMessage): string {
  if (fetched.emailId) {
    return `id:${fetched.emailId}`;
  }
  return parsed.headerMessageId ? `mid:${parsed.headerMessageId}` : `sha:${parsed.rawSha256}`;
}

function lookupFor(tx: Tx, orgId: string): ThreadLookup {
  return {
    byMessageIds: (ids) => threadsByMessageIds(tx, orgId, ids),
    byGmThreadId: (gm) => threadByGmThreadId(tx, orgId, gm),
    bySubject: (subject, since, until) => threadsBySubject(tx, orgId, subject, new Date(since), new Date(until)),
    async byThreadIds(ids) {
      // Keyed by the id asked for; the value follows a merge to the surviving thread.
      const rows = await tx.query<{ askedId: string; threadId: string; messageCount: number }>(
        `select t.id as "askedId", coalesce(s.id, t.id) as "threadId", coalesce(s.message_count, t.message_count) as "messageCount"
         from threads t left join threads s on s.id = t.merged_into
         where t.org_id = $1 and t.id = any($2::uuid[])`,
        [orgId, ids],
      );
      return new Map(rows.map((r) => [r.askedId, { threadId: r.threadId, messageCount: r.messageCount }]));
    },
  };
}

function participantsOf(parsed: ParsedMessage): { address: string; role: string }[] {
  const rows: { address: string; role: string }[] = [];
  if (parsed.from) {
    rows.push({ address: parsed.from.address, role: 'from' });
  }
  for (const [role, list] of [['to', parsed.to], ['cc', parsed.cc], ['bcc', parsed.bcc], ['reply_to', parsed.replyTo]] as const) {
    for (const a of list) {
      rows.push({ address: a.address, role });
    }
  }
  return rows;
}

async function assignThread(tx: Tx, ctx: AccountContext, parsed: ParsedMessage, sentAt: Date, gmThreadId: string | null) {
  const normalizedSubject = normalizeSubject(parsed.subject);
  const decision = await decideThread(
    {
      message: {
        headerMessageId: parsed.headerMessageId,
        inReplyTo: parsed.inReplyTo,
        references: parsed.references,
        normalizedSubject,
        participants: participantsOf(parsed)
          .filter((p) => p.role !== 'bcc' && p.role !== 'reply_to')
          .map((p) => p.address),
        sentAt: sentAt.getTime(),
        gmThreadId,
      },
      ownThreadId: findSignedThreadId(ctx.messageIdKey, parsed),
      ownAddresses: ctx.ownAddresses,
    },
    lookupFor(tx, ctx.orgId),
  );
  if (decision.kind === 'new') {
    const threadId = crypto.randomUUID();
    await insertThread(tx, { id: threadId, orgId: ctx.orgId, subject: parsed.subject, normalizedSubject });
    return { threadId, reason: decision.reason, detail: decision.detail };
  }
  await mergeThreads(tx, decision.threadId, decision.merge);
  const detail = decision.merge.length > 0 ? { ...decision.detail, merged: decision.merge } : decision.detail;
  return { threadId: decision.threadId, reason: decision.reason, detail };
}

async function storeParsed(tx: Tx, ctx: AccountContext, folder: FolderRow, uidvalidity: number, fetched: FetchedMessage, parsed: ParsedMessage) {
  const key = messageKey(fetched, parsed);
  const location = { folderId: folder.id, uidvalidity, uid: fetched.uid, flags: fetched.flags, modseq: fetched.modseq };
  const existing = await findMessageByKey(tx, ctx.accountId, key);
  if (existing) {
    await insertLocation(tx, { ...location, messageId: existing });
    return;
  }
  const sentAt = parsed.sentAt ? new Date(parsed.sentAt) : fetched.internalDate;
  const thread = await assignThread(tx, ctx, parsed, sentAt, fetched.gmThreadId);
  const id = crypto.randomUUID();
  const outbound = parsed.from !== null && ctx.ownAddresses.includes(parsed.from.address);
  await insertMessage(
    tx,
    {
      id,
      orgId: ctx.orgId,
      accountId: ctx.accountId,
      threadId: thread.threadId,
      messageKey: key,
      headerMessageId: parsed.headerMessageId,
      inReplyTo: parsed.inReplyTo,
      references: parsed.references,
      subject: parsed.subject,
      fromAddress: parsed.from?.address ?? null,
      fromName: parsed.from?.name || null,
      to: parsed.to,
      cc: parsed.cc,
      bcc: parsed.bcc,
      replyTo: parsed.replyTo,
      sentAt: parsed.sentAt ? new Date(parsed.sentAt) : null,
      receivedAt: fetched.internalDate,
      snippet: parsed.snippet,
      textBody: parsed.text,
      htmlBody: parsed.html,
      headers: parsed.headers,
      attachments: parsed.attachments,
      size: parsed.size,
      rawSha256: Buffer.from(parsed.rawSha256, 'hex'),
      emailId: fetched.emailId,
      gmThreadId: fetched.gmThreadId,
      seen: fetched.flags.includes('\\Seen'),
      flags: fetched.flags,
      direction: outbound ? 'outbound' : 'inbound',
    },
    fetched.source,
  );
  await insertParticipants(tx, id, participantsOf(parsed));
  await recordMessageIds(tx, ctx.orgId, thread.threadId, id, parsed.headerMessageId, [
    ...(parsed.inReplyTo ? [parsed.inReplyTo] : []),
    ...parsed.references,
  ]);
  await recordThreadDecision(tx, { orgId: ctx.orgId, messageId: id, ...thread });
  // Conversation time (Date header, else arrival), the same clock threading compares against.
  await touchThread(tx, thread.threadId, sentAt);
  await insertLocation(tx, { ...location, messageId: id });
}

async function advanceCheckpoint(tx: Tx, folder: FolderRow, checkpoint: FolderCheckpoint): Promise<void> {
  const current = (await findFolder(tx, folder.id)) as FolderRow;
  await updateFolder(tx, folder.id, {
    uidnext: checkpoint.uidnext !== undefined ? Math.max(current.uidnext ?? 0, checkpoint.uidnext) : undefined,
    backfillLowUid:
      checkpoint.backfillLowUid !== undefined
        ? Math.min(current.backfillLowUid ?? Number.MAX_SAFE_INTEGER, checkpoint.backfillLowUid)
        : undefined,
    backfillDone: checkpoint.backfillDone ? true : undefined,
  });
}

/**
 * A sink for one account.
 * @param parse injectable so benchmarks can parse in worker threads.
 */
export function createMessageStore(
  db: Db,
  ctx: AccountContext,
  parse: (raw: Uint8Array) => Promise<ParseResult> = (raw) => parseMessage(raw),
): MessageSink {
  return {
    async storeBatch(folder, uidvalidity, messages, checkpoint) {
      const parsed: ParseResult[] = [];
      for (const message of messages) {
        parsed.push(await parse(message.source));
      }
      await db.transaction(async (tx) => {
        for (const [i, fetched] of messages.entries()) {
          if (await locationExists(tx, folder.id, uidvalidity, fetched.uid)) {
            continue;
          }
          const result = parsed[i] as ParseResult;
          if (!result.ok) {
            await insertQuarantine(tx, { accountId: ctx.accountId, folderId: folder.id, uidvalidity, uid: fetched.uid, reason: result.reason, raw: fetched.source });
            continue;
          }
          await storeParsed(tx, ctx, folder, uidvalidity, fetched, result.message);
        }
        await advanceCheckpoint(tx, folder, checkpoint);
      });
    },
  };
}

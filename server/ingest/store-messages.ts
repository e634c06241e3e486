/**
 * @module server/ingest/store-messages
 * The write side of ingestion. A batch is parsed first (outside any
 * transaction), then stored in one transaction together with the folder's
 * checkpoint: a crash keeps the whole batch and its checkpoint or neither,
 * so a replay finds every location already there and skips it. Reads are
 * prefetched per batch and writes are multi-row, so a batch costs a handful
 * of round trips rather than a dozen per message.
 */
import { analyzeIngestTables, preferLz4 } from '../../db/queries/ingest-batch';
import { mergeThreads } from '../../db/queries/threads';
import type { Db, Tx } from '../../db/types';
import { participantsOf, type AccountContext } from './account-context';
import { BatchLookup } from './batch-lookup';
import { BatchWriter } from './batch-writer';
import { findSignedThreadId } from './message-id';
import { parseMessage, type ParsedMessage, type ParseResult } from './parse-message';
import { linkSentCopies } from './sent-copies';
import { normalizeSubject } from './subject';
import type { FetchedMessage, FolderCheckpoint, MessageSink } from './sync-folder';
import { decideThread, subjectWindowMs } from './threading';

export type { AccountContext } from './account-context';

/** The stable identity of a message within an account. */
export function messageKey(fetched: FetchedMessage, parsed: ParsedMessage): string {
  if (fetched.emailId) {
    return `id:${fetched.emailId}`;
  }
  return parsed.headerMessageId ? `mid:${parsed.headerMessageId}` : `sha:${parsed.rawSha256}`;
}

function referencedIds(parsed: ParsedMessage): string[] {
  return [...(parsed.inReplyTo ? [parsed.inReplyTo] : []), ...parsed.references];
}

interface Item {
  fetched: FetchedMessage;
  parsed: ParsedMessage;
  key: string;
}

async function decide(lookup: BatchLookup, ctx: AccountContext, item: Item, sentAt: Date) {
  const { parsed, fetched } = item;
  const normalizedSubject = normalizeSubject(parsed.subject);
  const participants = participantsOf(parsed).filter((p) => p.role !== 'bcc' && p.role !== 'reply_to').map((p) => p.address);
  const decision = await decideThread(
    {
      message: {
        headerMessageId: parsed.headerMessageId,
        inReplyTo: parsed.inReplyTo,
        references: parsed.references,
        normalizedSubject,
        participants,
        sentAt: sentAt.getTime(),
        gmThreadId: fetched.gmThreadId,
      },
      ownThreadId: findSignedThreadId(ctx.messageIdKey, parsed),
      ownAddresses: ctx.ownAddresses,
    },
    lookup,
  );
  return { decision, normalizedSubject, participants };
}

/** One query for every subject the batch might fall back to, over the batch's whole time span. */
async function prefetchSubjects(lookup: BatchLookup, items: readonly Item[]): Promise<void> {
  if (items.length === 0) {
    return;
  }
  const times = items.map((i) => (i.parsed.sentAt ? Date.parse(i.parsed.sentAt) : i.fetched.internalDate.getTime()));
  const subjects = items.map((i) => normalizeSubject(i.parsed.subject)).filter((s) => s.length > 0);
  await lookup.prefetchSubjects(subjects, Math.min(...times) - subjectWindowMs, Math.max(...times) + subjectWindowMs);
}

async function storeItems(tx: Tx, ctx: AccountContext, folderId: string, uidvalidity: number, items: Item[]): Promise<void> {
  const writer = new BatchWriter(tx, ctx, folderId, uidvalidity);
  const known = await writer.existingKeys(items.map((i) => i.key));
  await linkSentCopies(tx, ctx, items, known);
  const lookup = new BatchLookup(tx, ctx.orgId);
  await lookup.prefetch(items.flatMap((i) => [...(i.parsed.headerMessageId ? [i.parsed.headerMessageId] : []), ...referencedIds(i.parsed)]));
  await prefetchSubjects(lookup, items);
  for (const item of items) {
    const existing = known.get(item.key);
    if (existing) {
      writer.relink(item.fetched, existing);
      continue;
    }
    const sentAt = item.parsed.sentAt ? new Date(item.parsed.sentAt) : item.fetched.internalDate;
    const { decision, normalizedSubject, participants } = await decide(lookup, ctx, item, sentAt);
    let threadId: string;
    if (decision.kind === 'new') {
      threadId = crypto.randomUUID();
      writer.addThread(threadId, item.parsed.subject, normalizedSubject);
      lookup.addThread(threadId, normalizedSubject);
    } else {
      threadId = decision.threadId;
      if (decision.merge.length > 0) {
        // Merging rewrites stored rows, so everything pending is written first.
        await writer.flush();
        await mergeThreads(tx, threadId, decision.merge);
        lookup.reset();
        await lookup.prefetch(items.flatMap((i) => referencedIds(i.parsed).concat(i.parsed.headerMessageId ?? [])));
        await prefetchSubjects(lookup, items);
      }
    }
    const detail = decision.kind === 'existing' && decision.merge.length > 0 ? { ...decision.detail, merged: decision.merge } : decision.detail;
    const messageId = writer.addMessage(item.fetched, item.parsed, item.key, { threadId, reason: decision.reason, detail }, sentAt);
    known.set(item.key, messageId);
    lookup.addMessage({
      threadId,
      own: item.parsed.headerMessageId,
      referenced: referencedIds(item.parsed),
      participants,
      at: sentAt.getTime(),
      gmThreadId: item.fetched.gmThreadId,
    });
  }
  await writer.flush();
}

/**
 * A sink for one account.
 * @param parse injectable so benchmarks and tests can parse elsewhere (worker threads).
 */
export function createMessageStore(
  db: Db,
  ctx: AccountContext,
  parse: (raw: Uint8Array) => Promise<ParseResult> = (raw) => parseMessage(raw),
): MessageSink {
  const statistics = analyzeSchedule(db);
  // Parses started by prepare(), so the next batch parses while this one is written.
  const started = new WeakMap<FetchedMessage, Promise<ParseResult>>();
  const parsing = (m: FetchedMessage) => started.get(m) ?? parse(m.source);
  return {
    prepare(messages) {
      for (const m of messages) {
        started.set(m, parse(m.source));
      }
    },
    async storeBatch(folder, uidvalidity, messages, checkpoint: FolderCheckpoint) {
      const parsed = await Promise.all(messages.map(parsing));
      await db.transaction(async (tx) => {
        await preferLz4(tx);
        const writer = new BatchWriter(tx, ctx, folder.id, uidvalidity);
        const stored = await writer.storedUids(messages.map((m) => m.uid));
        const items: Item[] = [];
        for (const [i, fetched] of messages.entries()) {
          const result = parsed[i] as ParseResult;
          if (stored.has(fetched.uid)) {
            continue;
          }
          if (!result.ok) {
            writer.quarantine(fetched, result.reason);
            continue;
          }
          items.push({ fetched, parsed: result.message, key: messageKey(fetched, result.message) });
        }
        await writer.flush();
        await storeItems(tx, ctx, folder.id, uidvalidity, items);
        await writer.advanceCheckpoint(checkpoint);
      });
      await statistics.stored(messages.length);
    },
  };
}

/** Stored messages before the first statistics refresh; each later one waits for twice as many. */
const FIRST_ANALYZE_AT = 256;

/**
 * Refreshes table statistics as this store's messages double (256, 512, …),
 * so a first sync into a fresh database is planned for the tables it is
 * building, and a long-running store analyzes only a handful of times.
 */
function analyzeSchedule(db: Db): { stored(count: number): Promise<void> } {
  let total = 0;
  let next = FIRST_ANALYZE_AT;
  return {
    async stored(count) {
      total += count;
      if (total < next) {
        return;
      }
      next = total * 2;
      await analyzeIngestTables(db);
    },
  };
}

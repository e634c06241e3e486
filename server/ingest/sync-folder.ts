/**
 * @module server/ingest/sync-folder
 * One sync pass over one folder. Order matters: a UIDVALIDITY change is
 * handled first (silent rebuild), then new mail above the stored UIDNEXT,
 * then the newest-first backfill, then flag changes and expunges. Each batch
 * is stored in one transaction together with the folder's checkpoint, so a
 * crash at any point resumes without loss or duplicates.
 */
import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { findFolder, knownUids, removeLocations, resetFolderUidValidity, setLocationFlags, updateFolder, type FolderRow } from '../../db/queries/mail-folders';
import type { Db } from '../../db/types';

export const BACKFILL_BATCH = 100;

/** A message as fetched, before parsing. */
export interface FetchedMessage {
  uid: number;
  flags: string[];
  modseq: number | null;
  internalDate: Date;
  source: Uint8Array;
  /** Stable server id (OBJECTID / X-GM-MSGID) only when the server really has one. */
  emailId: string | null;
  gmThreadId: string | null;
}

export interface FolderCheckpoint {
  uidnext?: number;
  backfillLowUid?: number;
  backfillDone?: boolean;
}

/** Stores a batch and advances the folder checkpoint in the same transaction. */
export interface MessageSink {
  /** Starts work that needs no transaction (parsing) as soon as a batch is fetched. */
  prepare?(messages: readonly FetchedMessage[]): void;
  storeBatch(folder: FolderRow, uidvalidity: number, messages: FetchedMessage[], checkpoint: FolderCheckpoint): Promise<void>;
}

export interface FolderPassResult {
  stored: number;
  expunged: number;
  flagsChanged: number;
  uidValidityReset: boolean;
}

export interface PassContext {
  db: Db;
  client: ImapFlow;
  sink: MessageSink;
  /** Whether emailId/threadId from imapflow are real server ids (OBJECTID or Gmail), not its md5 stand-in. */
  stableIds: boolean;
  /** Lets the caller stop between batches (shutdown, lost lease). */
  shouldStop: () => boolean;
}

const FETCH_QUERY = { uid: true, flags: true, source: true, internalDate: true, emailId: true, threadId: true } as const;

function toFetched(msg: FetchMessageObject, stableIds: boolean): FetchedMessage {
  return {
    uid: msg.uid,
    flags: [...(msg.flags ?? [])].sort(),
    modseq: msg.modseq === undefined ? null : Number(msg.modseq),
    internalDate: msg.internalDate instanceof Date ? msg.internalDate : new Date(msg.internalDate ?? Date.now()),
    source: msg.source ?? new Uint8Array(),
    emailId: stableIds ? (msg.emailId ?? null) : null,
    gmThreadId: stableIds ? (msg.threadId ?? null) : null,
  };
}

/**
 * Fetches whole messages by UID range or set, collecting them first: imapflow
 * deadlocks if another command runs inside its fetch iterator.
 */
async function fetchMessages(ctx: PassContext, range: string, minUid: number): Promise<FetchedMessage[]> {
  const out: FetchedMessage[] = [];
  for await (const msg of ctx.client.fetch(range, FETCH_QUERY, { uid: true })) {
    // `UID FETCH n:*` returns the last message even when nothing is >= n.
    if (msg.uid >= minUid) {
      out.push(toFetched(msg, ctx.stableIds));
    }
  }
  return out.sort((a, b) => a.uid - b.uid);
}

/**
 * UID SEARCH that fails loudly. imapflow resolves `undefined` or `false`
 * instead of throwing when the connection has just dropped (no mailbox is
 * selected any more) or the server refused; read as "no messages", that would
 * expunge every stored location or end the backfill with mail still unread.
 */
async function searchUids(ctx: PassContext, query: Parameters<ImapFlow['search']>[0]): Promise<number[]> {
  const result = await ctx.client.search(query, { uid: true });
  if (!Array.isArray(result)) {
    throw new Error('UID SEARCH gave no answer: the connection closed or the server refused it');
  }
  return result;
}

async function syncNewMail(ctx: PassContext, folder: FolderRow, uidvalidity: number, serverUidNext: number): Promise<number> {
  const from = folder.uidnext;
  if (from === null || serverUidNext <= from) {
    return 0;
  }
  const messages = await fetchMessages(ctx, `${from}:*`, from);
  let stored = 0;
  for (let i = 0; i < messages.length; i += BACKFILL_BATCH) {
    const batch = messages.slice(i, i + BACKFILL_BATCH);
    const last = batch.at(-1)?.uid ?? from;
    await ctx.sink.storeBatch(folder, uidvalidity, batch, { uidnext: last + 1 });
    stored += batch.length;
  }
  await updateFolder(ctx.db, folder.id, { uidnext: Math.max(serverUidNext, from) });
  return stored;
}

async function backfill(ctx: PassContext, folder: FolderRow, uidvalidity: number): Promise<number> {
  if (folder.backfillDone) {
    return 0;
  }
  const low = folder.backfillLowUid ?? folder.uidnext ?? 1;
  const below = low > 1 ? await searchUids(ctx, { uid: `1:${low - 1}` }) : [];
  const uids = below.filter((uid) => uid < low).sort((a, b) => b - a);
  let stored = 0;
  const fetchChunk = async (i: number) => {
    const chunk = uids.slice(i, i + BACKFILL_BATCH);
    const messages = await fetchMessages(ctx, chunk.join(','), chunk.at(-1) as number);
    ctx.sink.prepare?.(messages);
    return messages;
  };
  // The prefetch can fail (the connection dropped) while a batch is being written; unobserved until
  // the loop awaits it, that rejection would count as unhandled and end the process. The await still throws.
  const prefetch = (i: number) => {
    const pending = fetchChunk(i);
    pending.catch(() => undefined);
    return pending;
  };
  // The next batch downloads while this one is parsed and written: IMAP and the database overlap.
  let next = uids.length > 0 ? prefetch(0) : null;
  for (let i = 0; next && !ctx.shouldStop(); i += BACKFILL_BATCH) {
    const messages = await next;
    next = i + BACKFILL_BATCH < uids.length ? prefetch(i + BACKFILL_BATCH) : null;
    const lowest = uids[Math.min(i + BACKFILL_BATCH, uids.length) - 1] as number;
    await ctx.sink.storeBatch(folder, uidvalidity, messages, { backfillLowUid: lowest, backfillDone: next === null });
    stored += messages.length;
  }
  // A prefetch left over after a stop must still settle before the mailbox lock is released.
  await next?.catch(() => []);
  if (uids.length === 0) {
    await updateFolder(ctx.db, folder.id, { backfillDone: true, backfillLowUid: low });
  }
  return stored;
}

async function syncFlags(ctx: PassContext, folder: FolderRow, uidvalidity: number, serverModseq: number | null): Promise<number> {
  const condstore = serverModseq !== null && folder.highestModseq !== null;
  if (condstore && serverModseq === folder.highestModseq) {
    return 0;
  }
  const options = condstore ? { uid: true, changedSince: BigInt(folder.highestModseq as number) } : { uid: true };
  const changes: { uid: number; flags: string[]; modseq: number | null }[] = [];
  for await (const msg of ctx.client.fetch('1:*', { uid: true, flags: true }, options)) {
    changes.push({ uid: msg.uid, flags: [...(msg.flags ?? [])].sort(), modseq: msg.modseq === undefined ? null : Number(msg.modseq) });
  }
  for (const change of changes) {
    await setLocationFlags(ctx.db, folder.id, uidvalidity, change.uid, change.flags, change.modseq);
  }
  return changes.length;
}

async function syncExpunges(ctx: PassContext, folder: FolderRow, uidvalidity: number): Promise<number> {
  const known = await knownUids(ctx.db, folder.id, uidvalidity);
  if (known.length === 0) {
    return 0;
  }
  const onServer = new Set(await searchUids(ctx, { all: true }));
  const gone = known.filter((uid) => !onServer.has(uid));
  await removeLocations(ctx.db, folder.id, uidvalidity, gone);
  return gone.length;
}

/**
 * Runs one pass over a folder the caller has selected (read-only is enough).
 * @returns what changed.
 */
export async function syncFolderPass(ctx: PassContext, folderId: string): Promise<FolderPassResult> {
  const mailbox = ctx.client.mailbox;
  if (!mailbox) {
    throw new Error('syncFolderPass needs a selected mailbox');
  }
  const uidvalidity = Number(mailbox.uidValidity);
  const serverUidNext = Number(mailbox.uidNext);
  const serverModseq = mailbox.highestModseq === undefined ? null : Number(mailbox.highestModseq);
  let folder = (await findFolder(ctx.db, folderId)) as FolderRow;
  const reset = folder.uidvalidity !== null && folder.uidvalidity !== uidvalidity;
  if (reset) {
    await resetFolderUidValidity(ctx.db, folder.id, uidvalidity);
  }
  if (folder.uidvalidity === null || reset || folder.uidnext === null) {
    // The first sight of this UIDVALIDITY fixes the boundary: backfill below it, new mail above it.
    await updateFolder(ctx.db, folder.id, { uidvalidity, uidnext: serverUidNext });
  }
  await updateFolder(ctx.db, folder.id, { messageCount: mailbox.exists });
  folder = (await findFolder(ctx.db, folderId)) as FolderRow;
  const fresh = await syncNewMail(ctx, folder, uidvalidity, serverUidNext);
  folder = (await findFolder(ctx.db, folderId)) as FolderRow;
  const old = await backfill(ctx, folder, uidvalidity);
  folder = (await findFolder(ctx.db, folderId)) as FolderRow;
  if (ctx.shouldStop()) {
    // The modseq checkpoint only moves once flags were actually read up to it.
    return { stored: fresh + old, expunged: 0, flagsChanged: 0, uidValidityReset: reset };
  }
  const flagsChanged = await syncFlags(ctx, folder, uidvalidity, serverModseq);
  const expunged = await syncExpunges(ctx, folder, uidvalidity);
  await updateFolder(ctx.db, folder.id, { highestModseq: serverModseq ?? undefined, synced: true });
  return { stored: fresh + old, expunged, flagsChanged, uidValidityReset: reset };
}

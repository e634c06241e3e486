/**
 * @module server/ingest/sync-folder
 * One sync pass over one folder. Order matters: a UIDVALIDITY change is
 * handled first (silent rebuild), then new mail above the stored UIDNEXT,
 * then the newest-first backfill, then flag changes and expunges. Each batch
 * is stored in one transaction together with the folder's checkpoint, so a
 * crash at any point resumes without loss or duplicates.
 */
import type { FetchMessageObject, ImapFlow } from 'imapflow';
import { findFolder, resetFolderUidValidity, updateFolder, type FolderRow } from '../../db/queries/mail-folders';
import type { Db } from '../../db/types';
import { ReadAhead } from './read-ahead';
import { FULL_DIFF_INTERVAL_MS, searchUids, syncChanges, type ChangeOptions, type ExpungeSource } from './sync-changes';

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
  /** Stored messages whose read state changed or that lost a location (expunged, moved), once written. */
  changed?(messageIds: readonly string[]): void;
}

export interface FolderPassResult {
  stored: number;
  expunged: number;
  flagsChanged: number;
  uidValidityReset: boolean;
  /** How expunges were found; null when the pass stopped before looking. */
  expungeSource: ExpungeSource | null;
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

/** Fetched but not yet stored, in raw bytes: how far IMAP may run ahead of the database. */
const READ_AHEAD_BYTES = 2 * 1024 * 1024;
/** One transaction takes what is waiting up to this much, so a slow store writes fewer, larger ones. */
const STORE_MAX_BYTES = 1536 * 1024;
const STORE_MAX_MESSAGES = 3 * BACKFILL_BATCH;

interface FetchedChunk {
  messages: FetchedMessage[];
  bytes: number;
  lowestUid: number;
  last: boolean;
}

/** Fetches the chunks in order into `ahead`, parsing each as it lands, until done, stopped or closed. */
async function fetchAhead(ctx: PassContext, chunks: readonly number[][], ahead: ReadAhead<FetchedChunk>): Promise<void> {
  try {
    for (const [i, chunk] of chunks.entries()) {
      if (!(await ahead.room()) || ctx.shouldStop()) {
        break;
      }
      const lowestUid = chunk.at(-1) as number;
      const messages = await fetchMessages(ctx, chunk.join(','), lowestUid);
      ctx.sink.prepare?.(messages);
      const bytes = messages.reduce((sum, m) => sum + m.source.byteLength, 0);
      ahead.push({ messages, bytes, lowestUid, last: i === chunks.length - 1 });
    }
    ahead.end();
  } catch (error) {
    ahead.end(error);
  }
}

async function backfill(ctx: PassContext, folder: FolderRow, uidvalidity: number): Promise<number> {
  if (folder.backfillDone) {
    return 0;
  }
  const low = folder.backfillLowUid ?? folder.uidnext ?? 1;
  const below = low > 1 ? await searchUids(ctx, { uid: `1:${low - 1}` }) : [];
  const uids = below.filter((uid) => uid < low).sort((a, b) => b - a);
  if (uids.length === 0) {
    await updateFolder(ctx.db, folder.id, { backfillDone: true, backfillLowUid: low });
    return 0;
  }
  const chunks: number[][] = [];
  for (let i = 0; i < uids.length; i += BACKFILL_BATCH) {
    chunks.push(uids.slice(i, i + BACKFILL_BATCH));
  }
  // IMAP downloads (and the parse pool parses) ahead while batches are written: network, parsing and the database overlap.
  const ahead = new ReadAhead<FetchedChunk>(READ_AHEAD_BYTES);
  const fetching = fetchAhead(ctx, chunks, ahead);
  let stored = 0;
  try {
    for (;;) {
      const taken = ctx.shouldStop() ? null : await ahead.take(STORE_MAX_BYTES, STORE_MAX_MESSAGES, (c) => c.messages.length);
      if (!taken) {
        break;
      }
      // Chunks stay in fetch order (newest first, each ascending), the order a batch at a time would store them in.
      const messages = taken.flatMap((c) => c.messages);
      const last = taken.at(-1) as FetchedChunk;
      await ctx.sink.storeBatch(folder, uidvalidity, messages, { backfillLowUid: last.lowestUid, backfillDone: last.last });
      ahead.release(taken);
      stored += messages.length;
    }
  } finally {
    // A fetch still running after a stop or a failure must settle before the mailbox lock is released.
    ahead.close();
    await fetching;
  }
  return stored;
}

/**
 * Runs one pass over a folder the caller has selected (read-only is enough).
 * @param changes when a full UID diff is due even with QRESYNC (default: once a day).
 * @returns what changed.
 */
export async function syncFolderPass(
  ctx: PassContext,
  folderId: string,
  changes: ChangeOptions = { fullDiffIntervalMs: FULL_DIFF_INTERVAL_MS, now: new Date() },
): Promise<FolderPassResult> {
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
    return { stored: fresh + old, expunged: 0, flagsChanged: 0, uidValidityReset: reset, expungeSource: null };
  }
  const changed = await syncChanges(ctx, folder, uidvalidity, serverModseq, changes);
  await updateFolder(ctx.db, folder.id, {
    highestModseq: serverModseq ?? undefined,
    lastFullSyncAt: changed.expungeSource === 'uid-diff' ? changes.now : undefined,
    synced: true,
  });
  return { stored: fresh + old, uidValidityReset: reset, ...changed };
}

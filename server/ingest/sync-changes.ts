/**
 * @module server/ingest/sync-changes
 * What changed among the messages Shoal already holds for a folder: flag
 * changes (CONDSTORE CHANGEDSINCE when both sides know a modseq, all flags
 * otherwise) and expunges.
 *
 * Expunges come from QRESYNC when the session enabled it: one
 * `UID FETCH 1:* (FLAGS) (CHANGEDSINCE <stored modseq> VANISHED)` answers
 * flag changes and every UID expunged since, so a pass costs what changed,
 * not what the folder holds. Otherwise, and at least once per
 * `fullDiffIntervalMs` as a safety net against a server that under-reports
 * VANISHED, expunges come from a full UID diff.
 *
 * The messages whose read state changed or that lost a location go to the
 * sink's `changed` once written, so sync documents follow (read state,
 * threads whose last visible message went).
 */
import type { ExpungeEvent, ImapFlow } from 'imapflow';
import { knownUids, locationFlags, removeLocations, setLocationFlags, type FolderRow } from '../../db/queries/mail-folders';
import type { PassContext } from './sync-folder';

/** How a pass learned of expunges. */
export type ExpungeSource = 'qresync' | 'uid-diff';

/** Default safety net: a full UID diff once a day even when QRESYNC is in use. */
export const FULL_DIFF_INTERVAL_MS = 24 * 60 * 60_000;

/**
 * More vanished UIDs than this in one answer and the pass diffs instead: a
 * server may send a huge range (`1:4294967295`), and collecting it would
 * cost more than listing the folder.
 */
const MAX_VANISHED = 100_000;

/** Rows per DELETE when removing vanished locations. */
const REMOVE_CHUNK = 5_000;

export interface ChangeOptions {
  /** A full UID diff runs when the last one is older than this. */
  fullDiffIntervalMs: number;
  now: Date;
}

export interface ChangeResult {
  flagsChanged: number;
  expunged: number;
  expungeSource: ExpungeSource;
}

/**
 * UID SEARCH that fails loudly. imapflow resolves `undefined` or `false`
 * instead of throwing when the connection has just dropped (no mailbox is
 * selected any more) or the server refused; read as "no messages", that would
 * expunge every stored location or end the backfill with mail still unread.
 */
export async function searchUids(ctx: PassContext, query: Parameters<ImapFlow['search']>[0]): Promise<number[]> {
  const result = await ctx.client.search(query, { uid: true });
  if (!Array.isArray(result)) {
    throw new Error('UID SEARCH gave no answer: the connection closed or the server refused it');
  }
  return result;
}

interface FlagChange {
  uid: number;
  flags: string[];
  modseq: number | null;
}

/** Collected before writing: imapflow deadlocks if another command runs inside its fetch iterator. */
async function fetchFlags(ctx: PassContext, changedSince: bigint | null): Promise<FlagChange[]> {
  const options = changedSince === null ? { uid: true } : { uid: true, changedSince };
  const changes: FlagChange[] = [];
  for await (const msg of ctx.client.fetch('1:*', { uid: true, flags: true }, options)) {
    changes.push({ uid: msg.uid, flags: [...(msg.flags ?? [])].sort(), modseq: msg.modseq === undefined ? null : Number(msg.modseq) });
  }
  return changes;
}

/** Tells the sink which stored messages changed in a way sync documents show. */
function report(ctx: PassContext, messageIds: readonly string[]): void {
  if (messageIds.length > 0) {
    ctx.sink.changed?.(messageIds);
  }
}

/** More flag answers than this and the stored flags are read first, so only real changes are written. */
const COMPARE_ABOVE = 50;

/**
 * Drops the answers that match what is stored. A full FLAGS fetch (no
 * CONDSTORE, or the first pass after a backfill) lists every message of the
 * folder, and writing each one back would cost two statements per message
 * for nothing: a 6,000-message folder took 15 s a pass on a busy machine.
 */
async function onlyChanged(ctx: PassContext, folder: FolderRow, uidvalidity: number, changes: readonly FlagChange[]): Promise<readonly FlagChange[]> {
  if (changes.length <= COMPARE_ABOVE) {
    return changes;
  }
  const stored = await locationFlags(ctx.db, folder.id, uidvalidity);
  return changes.filter((change) => {
    const was = stored.get(change.uid);
    // Not stored (yet): nothing to update.
    return was !== undefined && [...was].sort().join(' ') !== change.flags.join(' ');
  });
}

async function applyFlags(ctx: PassContext, folder: FolderRow, uidvalidity: number, answers: readonly FlagChange[]): Promise<number> {
  const readChanged: string[] = [];
  const changes = await onlyChanged(ctx, folder, uidvalidity, answers);
  for (const change of changes) {
    const messageId = await setLocationFlags(ctx.db, folder.id, uidvalidity, change.uid, change.flags, change.modseq);
    if (messageId) {
      readChanged.push(messageId);
    }
  }
  report(ctx, readChanged);
  return changes.length;
}

/** Applies flag changes since the stored modseq (or all flags without CONDSTORE). @returns how many locations were updated. */
export async function syncFlags(ctx: PassContext, folder: FolderRow, uidvalidity: number, serverModseq: number | null): Promise<number> {
  const condstore = serverModseq !== null && folder.highestModseq !== null;
  if (condstore && serverModseq === folder.highestModseq) {
    return 0;
  }
  const changes = await fetchFlags(ctx, condstore ? BigInt(folder.highestModseq as number) : null);
  return applyFlags(ctx, folder, uidvalidity, changes);
}

/** Removes the locations whose UIDs the server no longer lists. @returns how many. */
export async function syncExpunges(ctx: PassContext, folder: FolderRow, uidvalidity: number): Promise<number> {
  const known = await knownUids(ctx.db, folder.id, uidvalidity);
  if (known.length === 0) {
    return 0;
  }
  const onServer = new Set(await searchUids(ctx, { all: true }));
  const gone = known.filter((uid) => !onServer.has(uid));
  report(ctx, await removeLocations(ctx.db, folder.id, uidvalidity, gone));
  return gone.length;
}

/** Whether VANISHED since the stored modseq can stand in for a full UID diff on this pass. */
function qresyncUsable(ctx: PassContext, folder: FolderRow, serverModseq: number | null, options: ChangeOptions): boolean {
  const mailbox = ctx.client.mailbox;
  if (!ctx.client.enabled.has('QRESYNC') || !mailbox || mailbox.noModseq) {
    return false;
  }
  // A modseq that went backwards means the server lost its change history: only a diff is safe.
  if (serverModseq === null || folder.highestModseq === null || serverModseq < folder.highestModseq) {
    return false;
  }
  const last = folder.lastFullSyncAt;
  return last !== null && options.now.getTime() - last.getTime() < options.fullDiffIntervalMs;
}

/**
 * Flags and expunges from one CHANGEDSINCE … VANISHED fetch. Expunges the
 * session was already told about come back as VANISHED (EARLIER); ones not
 * yet announced may arrive as a plain VANISHED during the same command, so
 * both count. The modseq-equality shortcut is not taken: a mailbox kept
 * selected does not learn the new HIGHESTMODSEQ from a VANISHED, and the
 * fetch only costs what changed.
 * @returns null when the server reported more vanished UIDs than is sensible to collect.
 */
async function syncByQresync(ctx: PassContext, folder: FolderRow, uidvalidity: number) {
  const path = ctx.client.mailbox ? ctx.client.mailbox.path : null;
  const vanished = new Set<number>();
  let overflow = false;
  const collect = (event: ExpungeEvent) => {
    if (!event.vanished || event.uid === undefined || event.path !== path) {
      return;
    }
    if (vanished.size >= MAX_VANISHED) {
      overflow = true;
      return;
    }
    vanished.add(event.uid);
  };
  ctx.client.on('expunge', collect);
  let changes: FlagChange[];
  try {
    changes = await fetchFlags(ctx, BigInt(folder.highestModseq as number));
  } finally {
    ctx.client.off('expunge', collect);
  }
  const flagsChanged = await applyFlags(ctx, folder, uidvalidity, changes);
  if (overflow) {
    return { flagsChanged, expunged: null };
  }
  const uids = [...vanished];
  let expunged = 0;
  for (let i = 0; i < uids.length; i += REMOVE_CHUNK) {
    const removed = await removeLocations(ctx.db, folder.id, uidvalidity, uids.slice(i, i + REMOVE_CHUNK));
    report(ctx, removed);
    expunged += removed.length;
  }
  return { flagsChanged, expunged };
}

/**
 * Brings flags and expunges of the selected folder up to date.
 * @returns the counts and which way expunges were found (the caller records a full diff's time).
 */
export async function syncChanges(
  ctx: PassContext,
  folder: FolderRow,
  uidvalidity: number,
  serverModseq: number | null,
  options: ChangeOptions,
): Promise<ChangeResult> {
  if (qresyncUsable(ctx, folder, serverModseq, options)) {
    const result = await syncByQresync(ctx, folder, uidvalidity);
    if (result.expunged !== null) {
      return { flagsChanged: result.flagsChanged, expunged: result.expunged, expungeSource: 'qresync' };
    }
    return { flagsChanged: result.flagsChanged, expunged: await syncExpunges(ctx, folder, uidvalidity), expungeSource: 'uid-diff' };
  }
  const flagsChanged = await syncFlags(ctx, folder, uidvalidity, serverModseq);
  const expunged = await syncExpunges(ctx, folder, uidvalidity);
  return { flagsChanged, expunged, expungeSource: 'uid-diff' };
}

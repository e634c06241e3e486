/**
 * @module server/ingest/batch-writer
 * Collects one batch's rows in memory and writes them table by table, in
 * foreign-key order, with multi-row statements.
 */
import { findFolder, updateFolder, type FolderRow } from '../../db/queries/mail-folders';
import {
  copyMessageRows,
  existingMessageKeys,
  insertDecisionRows,
  insertLocationRows,
  insertMessageIdRows,
  insertParticipantRows,
  insertQuarantineRows,
  insertThreadRows,
  relinkMessageRows,
  storedUids,
  touchThreadRows,
} from '../../db/queries/ingest-batch';
import type { NewMessage } from '../../db/queries/messages';
import { messageRow } from './message-row';
import type { Tx } from '../../db/types';
import type { ParsedMessage } from './parse-message';
import { participantsOf, type AccountContext } from './account-context';
import type { FetchedMessage, FolderCheckpoint } from './sync-folder';

interface Placement {
  threadId: string;
  reason: string;
  detail: Record<string, unknown>;
}

export class BatchWriter {
  private threads: { id: string; orgId: string; subject: string; normalizedSubject: string }[] = [];
  private messages: { message: NewMessage; raw: Uint8Array }[] = [];
  private participants: { messageId: string; address: string; role: string }[] = [];
  private ownIds = new Map<string, { headerId: string; threadId: string; messageId: string }>();
  private phantoms = new Map<string, { headerId: string; threadId: string }>();
  private decisions: { orgId: string; messageId: string; threadId: string; reason: string; detail: Record<string, unknown> }[] = [];
  private locations: { folderId: string; uidvalidity: number; uid: number; messageId: string; flags: string[]; modseq: number | null }[] = [];
  private touches = new Map<string, { threadId: string; added: number; first: Date; last: Date }>();
  private relinks: { messageId: string; flags: string[] }[] = [];
  private quarantines: { accountId: string; folderId: string; uidvalidity: number; uid: number; reason: string; raw: Uint8Array }[] = [];

  constructor(
    private readonly tx: Tx,
    private readonly ctx: AccountContext,
    private readonly folderId: string,
    private readonly uidvalidity: number,
  ) {}

  storedUids(uids: readonly number[]): Promise<Set<number>> {
    return storedUids(this.tx, this.folderId, this.uidvalidity, uids);
  }

  existingKeys(keys: readonly string[]): Promise<Map<string, string>> {
    return existingMessageKeys(this.tx, this.ctx.accountId, keys);
  }

  quarantine(fetched: FetchedMessage, reason: string): void {
    this.quarantines.push({ accountId: this.ctx.accountId, folderId: this.folderId, uidvalidity: this.uidvalidity, uid: fetched.uid, reason, raw: fetched.source });
  }

  addThread(id: string, subject: string, normalizedSubject: string): void {
    this.threads.push({ id, orgId: this.ctx.orgId, subject, normalizedSubject });
  }

  private location(fetched: FetchedMessage, messageId: string): void {
    this.locations.push({ folderId: this.folderId, uidvalidity: this.uidvalidity, uid: fetched.uid, messageId, flags: fetched.flags, modseq: fetched.modseq });
  }

  relink(fetched: FetchedMessage, messageId: string): void {
    this.location(fetched, messageId);
    this.relinks.push({ messageId, flags: fetched.flags });
  }

  /** Queues a new message. @returns its id. */
  addMessage(fetched: FetchedMessage, parsed: ParsedMessage, key: string, placement: Placement, sentAt: Date): string {
    const id = crypto.randomUUID();
    const { threadId } = placement;
    const outbound = parsed.from !== null && this.ctx.ownAddresses.includes(parsed.from.address);
    const message = messageRow(parsed, {
      id,
      orgId: this.ctx.orgId,
      accountId: this.ctx.accountId,
      threadId,
      messageKey: key,
      receivedAt: fetched.internalDate,
      sentAtFallback: null,
      emailId: fetched.emailId,
      gmThreadId: fetched.gmThreadId,
      flags: fetched.flags,
      direction: outbound ? 'outbound' : 'inbound',
    });
    this.messages.push({ message, raw: fetched.source });
    for (const p of participantsOf(parsed)) {
      this.participants.push({ messageId: id, ...p });
    }
    if (parsed.headerMessageId && !this.ownIds.has(parsed.headerMessageId)) {
      this.ownIds.set(parsed.headerMessageId, { headerId: parsed.headerMessageId, threadId, messageId: id });
    }
    for (const ref of [...(parsed.inReplyTo ? [parsed.inReplyTo] : []), ...parsed.references]) {
      if (ref !== parsed.headerMessageId && !this.phantoms.has(ref)) {
        this.phantoms.set(ref, { headerId: ref, threadId });
      }
    }
    this.decisions.push({ orgId: this.ctx.orgId, messageId: id, ...placement });
    // Conversation time (Date header, else arrival), the same clock threading compares against.
    const touch = this.touches.get(threadId) ?? { threadId, added: 0, first: sentAt, last: sentAt };
    touch.added += 1;
    touch.first = sentAt < touch.first ? sentAt : touch.first;
    touch.last = sentAt > touch.last ? sentAt : touch.last;
    this.touches.set(threadId, touch);
    this.location(fetched, id);
    return id;
  }

  /** Writes everything queued, in foreign-key order, and empties the queues. */
  async flush(): Promise<void> {
    const tx = this.tx;
    await insertQuarantineRows(tx, this.quarantines);
    await insertThreadRows(tx, this.threads);
    await copyMessageRows(tx, this.messages);
    await insertParticipantRows(tx, this.participants);
    const phantoms = [...this.phantoms.values()].filter((p) => !this.ownIds.has(p.headerId));
    await insertMessageIdRows(tx, this.ctx.orgId, [...this.ownIds.values()], phantoms);
    await insertDecisionRows(tx, this.decisions);
    await insertLocationRows(tx, this.locations);
    await touchThreadRows(tx, [...this.touches.values()]);
    await relinkMessageRows(tx, this.relinks);
    this.threads = [];
    this.messages = [];
    this.participants = [];
    this.ownIds = new Map();
    this.phantoms = new Map();
    this.decisions = [];
    this.locations = [];
    this.touches = new Map();
    this.relinks = [];
    this.quarantines = [];
  }

  /** Moves the folder checkpoint forward only (a replayed older batch never moves it back). */
  async advanceCheckpoint(checkpoint: FolderCheckpoint): Promise<void> {
    const current = (await findFolder(this.tx, this.folderId)) as FolderRow;
    await updateFolder(this.tx, this.folderId, {
      uidnext: checkpoint.uidnext !== undefined ? Math.max(current.uidnext ?? 0, checkpoint.uidnext) : undefined,
      backfillLowUid:
        checkpoint.backfillLowUid !== undefined
          ? Math.min(current.backfillLowUid ?? Number.MAX_SAFE_INTEGER, checkpoint.backfillLowUid)
          : undefined,
      backfillDone: checkpoint.backfillDone ? true : undefined,
    });
  }
}

/**
 * @module server/presenters/mail
 * Visible mail rows → the JSON of sync/mail-api.ts.
 */
import type { LinkedRecordRow, MessageBodyRow, MessageRow, ThreadRow } from '../../db/queries/mail-views';
import type {
  AddressDto,
  MessageDto,
  MessageSummaryDto,
  PersonRefDto,
  RecordRefDto,
  ThreadSummaryDto,
} from '../../sync/mail-api';

/** Opaque keyset cursor: the last row's time and id. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** @returns the position, or null when the cursor is not one of ours. */
export function decodeCursor(cursor: string): { at: Date; id: string } | null {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  return Number.isNaN(at.getTime()) || !id || !uuid.test(id) ? null : { at, id };
}

const from = (m: MessageRow): AddressDto | null => (m.fromAddress ? { address: m.fromAddress, name: m.fromName || null } : null);
const owner = (m: MessageRow): PersonRefDto => ({ id: m.ownerId, name: m.ownerName });
const addresses = (list: MessageRow['to']): AddressDto[] => list.map((a) => ({ address: a.address, name: a.name || null }));

export function presentMessageSummary(m: MessageRow): MessageSummaryDto {
  return {
    id: m.id,
    threadId: m.threadId,
    subject: m.subject,
    snippet: m.snippet,
    from: from(m),
    to: addresses(m.to),
    date: m.date.toISOString(),
    mailboxOwner: owner(m),
    direction: m.direction,
    sentFromShoal: m.sentFromShoal,
    seen: m.seen,
  };
}

function recordRefs(records: readonly LinkedRecordRow[]): RecordRefDto[] {
  const byId = new Map(records.map((r) => [r.id, { id: r.id, type: r.type, name: r.name }]));
  return [...byId.values()];
}

export function presentMessage(m: MessageBodyRow, records: readonly LinkedRecordRow[]): MessageDto {
  return {
    ...presentMessageSummary(m),
    accountId: m.accountId,
    cc: addresses(m.cc),
    replyTo: addresses(m.replyTo),
    text: m.textBody,
    html: m.htmlBody,
    attachments: m.attachments.map((a, i) => ({
      index: a.partIndex ?? a.index ?? i,
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      contentId: a.contentId ?? null,
    })),
    records: recordRefs(records.filter((r) => r.messageId === m.id)),
  };
}

/** A thread summary from its row and its visible messages (oldest first). */
export function presentThreadSummary(t: ThreadRow, messages: readonly MessageRow[], records: readonly LinkedRecordRow[]): ThreadSummaryDto {
  const last = messages.find((m) => m.id === t.lastMessageId) ?? messages.at(-1);
  const participants = new Map<string, AddressDto>();
  const owners = new Map<string, PersonRefDto>();
  for (const m of messages) {
    for (const a of [from(m), ...addresses(m.to)]) {
      if (a && !participants.has(a.address)) {
        participants.set(a.address, a);
      }
    }
    owners.set(m.ownerId, owner(m));
  }
  const ids = new Set(messages.map((m) => m.id));
  return {
    id: t.id,
    subject: t.subject,
    snippet: last?.snippet ?? '',
    lastMessageAt: t.lastMessageAt.toISOString(),
    messageCount: t.messageCount,
    unreadCount: t.unreadCount,
    from: last ? from(last) : null,
    participants: [...participants.values()].slice(0, 8),
    mailboxOwners: [...owners.values()],
    records: recordRefs(records.filter((r) => ids.has(r.messageId))),
  };
}

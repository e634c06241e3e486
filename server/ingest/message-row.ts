/**
 * @module server/ingest/message-row
 * The one mapping from a parsed message to its `messages` row, shared by
 * sync (batch-writer) and sending (compose), so both store mail identically.
 */
import type { NewMessage } from '../../db/queries/messages';
import type { ParsedMessage } from './parse-message';

/** What the parse does not know: identity, placement, arrival and server state. */
export interface RowContext {
  id: string;
  orgId: string;
  accountId: string;
  threadId: string;
  messageKey: string;
  receivedAt: Date;
  /** Used when the message has no (valid) Date header. */
  sentAtFallback: Date | null;
  emailId: string | null;
  gmThreadId: string | null;
  flags: string[];
  direction: 'inbound' | 'outbound';
}

/** Builds the row to insert. */
export function messageRow(parsed: ParsedMessage, c: RowContext): NewMessage {
  return {
    id: c.id,
    orgId: c.orgId,
    accountId: c.accountId,
    threadId: c.threadId,
    messageKey: c.messageKey,
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
    sentAt: parsed.sentAt ? new Date(parsed.sentAt) : c.sentAtFallback,
    receivedAt: c.receivedAt,
    snippet: parsed.snippet,
    textBody: parsed.text,
    htmlBody: parsed.html,
    headers: parsed.headers,
    attachments: parsed.attachments,
    size: parsed.size,
    rawSha256: Buffer.from(parsed.rawSha256, 'hex'),
    emailId: c.emailId,
    gmThreadId: c.gmThreadId,
    seen: c.flags.includes('\\Seen'),
    flags: c.flags,
    direction: c.direction,
  };
}

/**
 * @module db/queries/messages
 * Single-message writes (sending); sync writes whole batches through
 * ingest-batch.ts. One logical message per (account, message key).
 */
import { insertMessageRows, insertParticipantRows } from './ingest-batch';
import type { Queryable } from '../types';

export interface NewMessage {
  id: string;
  orgId: string;
  accountId: string;
  threadId: string;
  messageKey: string;
  headerMessageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  fromAddress: string | null;
  fromName: string | null;
  to: unknown[];
  cc: unknown[];
  bcc: unknown[];
  replyTo: unknown[];
  sentAt: Date | null;
  receivedAt: Date;
  snippet: string;
  textBody: string | null;
  htmlBody: string | null;
  headers: Record<string, string>;
  attachments: unknown[];
  size: number;
  rawSha256: Uint8Array;
  emailId: string | null;
  gmThreadId: string | null;
  seen: boolean;
  flags: string[];
  direction: 'inbound' | 'outbound';
}

/** Inserts one message and its raw bytes (the batch statement with one row). */
export async function insertMessage(q: Queryable, m: NewMessage, raw: Uint8Array): Promise<void> {
  await insertMessageRows(q, [{ message: m, raw }]);
}

/** Records every participant address of one message with its role. */
export async function insertParticipants(q: Queryable, messageId: string, rows: { address: string; role: string }[]): Promise<void> {
  await insertParticipantRows(q, rows.map((r) => ({ messageId, ...r })));
}

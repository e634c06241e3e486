/**
 * @module db/queries/messages
 * Single-message writes (sending); sync writes whole batches through
 * ingest-batch.ts. One logical message per (account, message key).
 */
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

/** Inserts a message and its raw bytes. */
export async function insertMessage(q: Queryable, m: NewMessage, raw: Uint8Array): Promise<void> {
  await q.query(
    `insert into messages (id, org_id, account_id, thread_id, message_key, header_message_id, in_reply_to, "references",
       subject, from_address, from_name, to_addresses, cc_addresses, bcc_addresses, reply_to, sent_at, received_at,
       snippet, text_body, html_body, headers, attachments, size, raw_sha256, email_id, gm_thread_id, seen, flags, direction)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb, $13::text::jsonb, $14::text::jsonb,
       $15::text::jsonb, $16, $17, $18, $19, $20, $21::text::jsonb, $22::text::jsonb, $23, $24, $25, $26, $27, $28, $29)`,
    [
      m.id, m.orgId, m.accountId, m.threadId, m.messageKey, m.headerMessageId, m.inReplyTo, m.references, m.subject,
      m.fromAddress, m.fromName, JSON.stringify(m.to), JSON.stringify(m.cc), JSON.stringify(m.bcc), JSON.stringify(m.replyTo),
      m.sentAt, m.receivedAt, m.snippet, m.textBody, m.htmlBody, JSON.stringify(m.headers), JSON.stringify(m.attachments),
      m.size, m.rawSha256, m.emailId, m.gmThreadId, m.seen, m.flags, m.direction,
    ],
  );
  await q.query('insert into message_raw (message_id, raw) values ($1, $2)', [m.id, raw]);
}

/** Records every participant address with its role. */
export async function insertParticipants(q: Queryable, messageId: string, rows: { address: string; role: string }[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await q.query(
    `insert into message_participants (message_id, address, role)
     select $1, a, r from unnest($2::text[], $3::text[]) as t(a, r) on conflict do nothing`,
    [messageId, rows.map((r) => r.address), rows.map((r) => r.role)],
  );
}

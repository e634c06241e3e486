/**
 * @module app/lib/outbox/types
 * What the device keeps while a person writes and sends mail: drafts (one
 * per thread and mode, or per new message) and outbox entries (a message
 * handed to Send, with the id that makes every retry the same send).
 */
import type { OutboundDto, SendMailInput, SendMode } from '$sync/api';

export type { SendMode };

/** An address with its display name ('' when none). */
export interface Recipient {
  address: string;
  name: string;
}

export const RECIPIENT_FIELDS = ['to', 'cc', 'bcc'] as const;
export type RecipientField = (typeof RECIPIENT_FIELDS)[number];

export interface Draft {
  /** `thread:<threadId>:<mode>` or `new:<uuid>` (see ./draft-key). */
  key: string;
  mode: SendMode;
  threadId: string | null;
  /** The message answered or forwarded (null for a new message). */
  replyToMessageId: string | null;
  accountId: string;
  from: string;
  to: Recipient[];
  cc: Recipient[];
  bcc: Recipient[];
  /** Only sent for new messages and forwards; a reply takes the thread's subject. */
  subject: string;
  text: string;
  /** Epoch ms of the last edit. */
  updatedAt: number;
}

/**
 * - `queued`: waiting (offline, or retrying after a network error);
 * - `sending`: a request is out, or the server is still delivering;
 * - `sent`: the mail server took it;
 * - `failed`: refused (bad recipient, SMTP refusal): the person may edit and resend;
 * - `unconfirmed`: the mail server may or may not have it; never retried, so never sent twice.
 */
export const OUTBOX_STATUSES = ['queued', 'sending', 'sent', 'failed', 'unconfirmed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export interface OutboxEntry {
  /** The client-made idempotency key: every attempt posts this same id. */
  id: string;
  input: SendMailInput;
  /** The draft it was sent from, so "Edit" can give it back. */
  draft: Draft;
  status: OutboxStatus;
  /** Why it failed, or why the last attempt did not go through. */
  error: string | null;
  attempts: number;
  /** Epoch ms before which no automatic retry happens (null: due now). */
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The server's report once it answered. */
  result: OutboundDto | null;
}

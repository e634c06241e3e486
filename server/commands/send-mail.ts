/**
 * @module server/commands/send-mail
 * Sending from one of your mailboxes. The request's `id` is the idempotency
 * key: the first request composes and records the message, every later one
 * with that id reports it (and retries it only if it provably failed). Only
 * the mailbox's owner may send from it, and only as one of its From addresses.
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { findMailAccount, type MailAccountRow } from '../../db/queries/mail-accounts';
import { findMessageRaw, findOutbound, findOwnedMessage, insertOutbound, type OutboundRow, type ParentMessageRow } from '../../db/queries/outbound';
import { ERROR_CODES, SEND_MODES, type OutboundDto, type SendMailInput, type SendMode } from '../../sync/api';
import type { Auth, Deps } from '../context';
import { HttpError, invalid, notFound } from '../errors';
import type { Address } from '../ingest/addresses';
import { createOutgoingMessageId } from '../ingest/message-id';
import {
  composeMessage,
  forwardedAttachments,
  forwardHtml,
  forwardSubject,
  forwardText,
  replyHtml,
  replyRecipients,
  replyReferences,
  replySubject,
  replyText,
  type ComposeInput,
} from '../outbound/compose';
import { deliverOutbound, type OutboundDeps } from '../outbound/send-message';
import { EmailSchema, IdSchema } from '../schemas';

const RecipientSchema = z.union([
  EmailSchema.transform((address): Address => ({ address, name: '' })),
  z
    .object({ address: EmailSchema, name: z.string().trim().max(200, 'must be at most 200 characters').nullish() })
    .transform((r): Address => ({ address: r.address, name: r.name ?? '' })),
]);
const Recipients = z.array(RecipientSchema).max(100, 'at most 100 recipients');

export const SendMailSchema = z.object({
  id: IdSchema,
  accountId: IdSchema,
  from: EmailSchema,
  to: Recipients.optional(),
  cc: Recipients.optional(),
  bcc: Recipients.optional(),
  subject: z.string().max(998, 'must be at most 998 characters').optional(),
  text: z.string({ error: 'is required' }).max(1_000_000, 'is too long'),
  html: z.string().max(1_000_000, 'is too long').nullish(),
  replyToMessageId: IdSchema.nullish(),
  mode: z.enum(SEND_MODES, { error: `must be one of ${SEND_MODES.join(', ')}` }).optional(),
}) satisfies z.ZodType<unknown, SendMailInput>;

export type ValidSendMail = z.output<typeof SendMailSchema>;

/** How long a request waits for a concurrent request with the same id to finish. */
const SETTLE_MS = 15_000;
const SETTLE_POLL_MS = 100;

export interface SendResult {
  status: 200 | 201 | 202;
  body: OutboundDto;
}

/** The outbound row as the app sees it (never the raw bytes). */
export function presentOutbound(row: OutboundRow): OutboundDto {
  return {
    outboundId: row.id,
    status: row.status,
    messageId: row.headerMessageId,
    threadId: row.threadId,
    storedMessageId: row.storedMessageId,
    error: row.error,
    sentAt: row.sentAt?.toISOString() ?? null,
    appendedAt: row.appendedAt?.toISOString() ?? null,
  };
}

/** @throws {HttpError} 404 unless the person owns the mailbox (admins included: sending is personal). */
async function ownAccount(deps: Deps, auth: Auth, accountId: string): Promise<MailAccountRow> {
  const account = await findMailAccount(deps.db, auth.user.orgId, accountId);
  if (!account || account.ownerId !== auth.user.id) {
    throw notFound('Mailbox');
  }
  return account;
}

function modeOf(input: ValidSendMail): SendMode {
  const mode = input.mode ?? (input.replyToMessageId ? 'reply' : 'new');
  if (mode !== 'new' && !input.replyToMessageId) {
    throw invalid('replyToMessageId', `replyToMessageId: is required to ${mode === 'forward' ? 'forward' : 'reply'}`);
  }
  if (mode === 'new' && input.replyToMessageId) {
    throw invalid('mode', 'mode: must be reply, replyAll or forward when replyToMessageId is given');
  }
  return mode;
}

/** A plain host name for the Message-ID's right-hand side (IDN domains in their ASCII form). */
function idDomain(address: string): string {
  const ascii = domainToASCII(address.slice(address.lastIndexOf('@') + 1));
  return /^[a-z0-9.-]+$/i.test(ascii) && ascii.includes('.') ? ascii : 'localhost.localdomain';
}

function senderOf(account: MailAccountRow, from: string) {
  const sender = account.fromAddresses.find((a) => a.address === from);
  if (!sender) {
    const allowed = account.fromAddresses.map((a) => a.address).join(', ');
    throw new HttpError(400, ERROR_CODES.fromAddressNotAllowed, `from: ${from} is not an address of this mailbox (${allowed})`, 'from');
  }
  return sender;
}

/** The given recipients, or for a reply the ones derived from the parent (without the account's own addresses). */
function recipientsOf(account: MailAccountRow, input: ValidSendMail, mode: SendMode, parent: ParentMessageRow | null) {
  const own = [account.email, ...account.fromAddresses.map((a) => a.address)];
  const derived = parent && (mode === 'reply' || mode === 'replyAll') ? replyRecipients(parent, mode === 'replyAll', own) : { to: [], cc: [] };
  const recipients = { to: input.to ?? derived.to, cc: input.cc ?? derived.cc, bcc: input.bcc ?? [] };
  if (recipients.to.length + recipients.cc.length + recipients.bcc.length === 0) {
    throw invalid('to', 'to: add at least one recipient');
  }
  return recipients;
}

/** Subject, bodies and attachments: as given for new mail; a reply adds the quoted original, a forward also its files. */
async function contentOf(deps: Deps, input: ValidSendMail, mode: SendMode, parent: ParentMessageRow | null) {
  const subject = (input.subject ?? '').trim() || parent?.subject || '';
  if (!parent) {
    return { subject, text: input.text, html: input.html ?? null, attachments: [] };
  }
  if (mode !== 'forward') {
    return {
      subject: replySubject(subject),
      text: replyText(input.text, parent),
      html: input.html ? replyHtml(input.html, parent) : null,
      attachments: [],
    };
  }
  const raw = (await findMessageRaw(deps.db, parent.id)) ?? new Uint8Array();
  return {
    subject: forwardSubject(subject),
    text: forwardText(input.text, parent),
    html: input.html ? forwardHtml(input.html, parent) : null,
    attachments: await forwardedAttachments(raw),
  };
}

async function plan(deps: Deps, auth: Auth, account: MailAccountRow, input: ValidSendMail): Promise<{ compose: ComposeInput; threadId: string | null }> {
  const sender = senderOf(account, input.from);
  const mode = modeOf(input);
  const parent = input.replyToMessageId ? await findOwnedMessage(deps.db, auth.user.id, input.replyToMessageId) : null;
  if (input.replyToMessageId && !parent) {
    throw new HttpError(404, ERROR_CODES.notFound, 'The message you are replying to was not found', 'replyToMessageId');
  }
  const threadId = parent ? parent.threadId : crypto.randomUUID();
  const refs = parent ? replyReferences(parent) : { inReplyTo: null, references: [] };
  const compose: ComposeInput = {
    from: { address: sender.address, name: sender.name ?? auth.user.name },
    ...recipientsOf(account, input, mode, parent),
    ...(await contentOf(deps, input, mode, parent)),
    // A forward starts its own exchange: it keeps the conversation's References but answers no one.
    inReplyTo: mode === 'forward' ? null : refs.inReplyTo,
    references: refs.references,
    messageId: createOutgoingMessageId(deps.keyring.messageIdKey, threadId, idDomain(sender.address)),
    date: deps.now(),
  };
  return { compose, threadId: parent ? threadId : null };
}

function outboundDeps(deps: Deps): OutboundDeps {
  return { db: deps.db, keyring: deps.keyring, log: deps.log, now: deps.now, allowPrivateHosts: deps.config.mailAllowPrivateHosts };
}

/** Waits while another request holds the send, then reports where it ended. */
async function settle(deps: Deps, id: string): Promise<SendResult> {
  const deadline = Date.now() + SETTLE_MS;
  let row = (await findOutbound(deps.db, id)) as OutboundRow;
  while (row.status === 'sending' && row.error === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    row = (await findOutbound(deps.db, id)) as OutboundRow;
  }
  if (row.status === 'failed') {
    throw new HttpError(502, ERROR_CODES.connectionFailed, row.error ?? 'Sending failed', 'smtp');
  }
  return { status: row.status === 'sent' ? 200 : 202, body: presentOutbound(row) };
}

/** Delivers a claimed-or-claimable send and maps the outcome to HTTP. */
async function attempt(deps: Deps, account: MailAccountRow, id: string): Promise<SendResult> {
  const outcome = await deliverOutbound(outboundDeps(deps), account, id);
  if (outcome.kind === 'busy') {
    return settle(deps, id);
  }
  if (outcome.kind === 'failed') {
    const { problem, field } = outcome;
    const message = problem.hint ? `${problem.message} ${problem.hint}` : problem.message;
    throw new HttpError(field === 'smtp' ? 502 : 422, ERROR_CODES.connectionFailed, message, field);
  }
  const row = (await findOutbound(deps.db, id)) as OutboundRow;
  // Stored as sent at once: the thread shows it before the Sent copy syncs.
  deps.changes?.publish({ kind: 'messages', accountId: account.id, threadIds: row.threadId ? [row.threadId] : [] });
  return { status: outcome.kind === 'sent' ? 201 : 202, body: presentOutbound(row) };
}

/** A repeated id: report the send, or retry it when it provably failed. */
async function replay(deps: Deps, auth: Auth, account: MailAccountRow, row: OutboundRow): Promise<SendResult> {
  if (row.authorId !== auth.user.id || row.accountId !== account.id) {
    throw new HttpError(409, ERROR_CODES.conflict, 'This send id was already used for another message; make a new id for each message', 'id');
  }
  if (row.status === 'queued' || row.status === 'failed') {
    return attempt(deps, account, row.id);
  }
  return settle(deps, row.id);
}

/**
 * Sends (or re-reports) a message.
 * @returns 201 when this request sent it, 200 for a send already done, 202 while it is in flight or unconfirmed.
 * @throws {HttpError} 404 mailbox or replied message; 400 From address or recipients; 409 id reused;
 *   502/422 `connection_failed` when the SMTP server refused (the send is then `failed` and may be retried).
 */
export async function sendMail(deps: Deps, auth: Auth, input: ValidSendMail): Promise<SendResult> {
  const account = await ownAccount(deps, auth, input.accountId);
  const existing = await findOutbound(deps.db, input.id);
  if (existing) {
    return replay(deps, auth, account, existing);
  }
  const planned = await plan(deps, auth, account, input);
  const raw = await composeMessage(planned.compose);
  const inserted = await insertOutbound(deps.db, {
    id: input.id,
    orgId: account.orgId,
    accountId: account.id,
    authorId: auth.user.id,
    threadId: planned.threadId,
    headerMessageId: planned.compose.messageId.slice(1, -1),
    raw,
  });
  if (!inserted) {
    // A concurrent request with the same id recorded it first: this one only reports.
    return replay(deps, auth, account, (await findOutbound(deps.db, input.id)) as OutboundRow);
  }
  return attempt(deps, account, input.id);
}

/**
 * The state of one of the person's sends.
 * @throws {HttpError} 404 for an unknown id or someone else's send.
 */
export async function outboundStatus(deps: Deps, auth: Auth, id: string): Promise<OutboundDto> {
  const row = await findOutbound(deps.db, id);
  if (!row || row.authorId !== auth.user.id) {
    throw notFound('Send');
  }
  return presentOutbound(row);
}

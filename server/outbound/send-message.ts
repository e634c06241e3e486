/**
 * @module server/outbound/send-message
 * Delivers a composed message exactly once. The `outbound_messages` row is
 * claimed (queued/failed → sending) by one conditional update, so of two
 * requests with the same idempotency id only one ever talks to SMTP. A
 * failure that provably delivered nothing (refused before the message was
 * handed over, or refused by the server's reply) becomes `failed` and may be
 * retried; a connection lost after hand-over stays `sending` and is never
 * retried: it may have gone out, and a retry must never send twice.
 *
 * After SMTP accepts it, the message is stored at once (it appears in Shoal
 * immediately) under `mid:<Message-ID>`, and, with "store sent messages"
 * on, APPENDed to the Sent folder; the next sync finds that copy (or the
 * provider's own) by the same key and links it instead of copying it.
 */
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { ExternalLogger } from 'nodemailer/lib/shared';
import type { Logger } from 'pino';
import { isUniqueViolation } from '../../db/errors';
import { findAccountSecrets, type MailAccountRow } from '../../db/queries/mail-accounts';
import {
  claimOutbound,
  findMessageByHeaderId,
  findSentFolder,
  insertSentMessage,
  liveThreadId,
  markOutboundAppended,
  markOutboundFailed,
  markOutboundSent,
  markOutboundUnconfirmed,
  markSentFromShoal,
  rekeyMessage,
} from '../../db/queries/outbound';
import type { Db, Tx } from '../../db/types';
import { classifyConnectionError, type ConnectionProblem } from '../mail/connection-errors';
import { imapOptions, pinEndpoint, smtpOptions, type DialableEndpoint, type EndpointSettings, type Timeouts } from '../mail/connection';
import { findPreset } from '../mail/presets';
import { verifyOwnMessageId } from '../ingest/message-id';
import { parseMessage, type ParsedMessage } from '../ingest/parse-message';
import { participantsOf } from '../ingest/account-context';
import { normalizeSubject } from '../ingest/subject';
import { openAccountSecrets } from '../secrets/account-secrets';
import type { Keyring } from '../secrets/keyring';
import { composedMessageRow, withoutBcc } from './compose';

/** Sending may carry attachments: a longer socket timeout than the connection probe's. */
export const SEND_TIMEOUTS: Timeouts = { connectMs: 15_000, greetingMs: 15_000, socketMs: 60_000 };

export interface OutboundDeps {
  db: Db;
  keyring: Keyring;
  log: Logger;
  now: () => Date;
  /** Whether mail servers on private addresses may be used (MAIL_ALLOW_PRIVATE_HOSTS). */
  allowPrivateHosts: boolean;
}

/** Both endpoints of an account with their credentials opened (password or OAuth2 token). */
export async function accountEndpoints(db: Db, keyring: Keyring, account: MailAccountRow): Promise<{ imap: EndpointSettings; smtp: EndpointSettings }> {
  const sealed = await findAccountSecrets(db, account.id);
  if (!sealed) {
    throw new Error('account secrets are missing');
  }
  const secrets = openAccountSecrets(keyring, account.id, sealed);
  const credential = (secret: string) =>
    account.authKind === 'oauth2' ? ({ kind: 'oauth2', accessToken: secret } as const) : ({ kind: 'password', password: secret } as const);
  return {
    imap: { host: account.imapHost, port: account.imapPort, security: account.imapSecurity, user: account.imapUser, credential: credential(secrets.imap) },
    smtp: { host: account.smtpHost, port: account.smtpPort, security: account.smtpSecurity, user: account.smtpUser, credential: credential(secrets.smtp) },
  };
}

export type DeliveryOutcome =
  | { kind: 'sent'; threadId: string; storedMessageId: string }
  /** Another request holds the send, or it is already done. */
  | { kind: 'busy' }
  /** Nothing was delivered; `field` is the input the server refused, when it was one. */
  | { kind: 'failed'; problem: ConnectionProblem; field: 'from' | 'to' | 'smtp' }
  /** The connection broke after the message was handed over: it may have been delivered. */
  | { kind: 'unconfirmed'; message: string };

interface SmtpError {
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
}

/** A nodemailer logger that only notices the moment the message is handed to the server (MAIL FROM follows). */
function handOverWatch(): { logger: ExternalLogger; handedOver: () => boolean } {
  let handedOver = false;
  const ignore = () => {};
  const logger: ExternalLogger = {
    trace: ignore,
    debug: ignore,
    info: (entry: unknown) => {
      if (typeof entry === 'object' && entry !== null && (entry as { tnx?: unknown }).tnx === 'send') {
        handedOver = true;
      }
    },
    warn: ignore,
    error: ignore,
    fatal: ignore,
  };
  return { logger, handedOver: () => handedOver };
}

function envelopeOf(parsed: ParsedMessage): { from: string; to: string[] } {
  const to = [...new Set([...parsed.to, ...parsed.cc, ...parsed.bcc].map((a) => a.address))];
  return { from: parsed.from?.address ?? '', to };
}

function refusedField(error: SmtpError): 'from' | 'to' | 'smtp' {
  if (error.command === 'MAIL FROM') {
    return 'from';
  }
  return error.command === 'RCPT TO' ? 'to' : 'smtp';
}

async function transmit(smtp: DialableEndpoint, parsed: ParsedMessage, raw: Uint8Array): Promise<{ rejected: string[] }> {
  const watch = handOverWatch();
  const transport = nodemailer.createTransport({ ...smtpOptions(smtp, SEND_TIMEOUTS), logger: watch.logger });
  try {
    const info = await transport.sendMail({ envelope: envelopeOf(parsed), raw: withoutBcc(raw) });
    return { rejected: info.rejected };
  } catch (error) {
    throw Object.assign(new Error('smtp failed'), { cause: error, handedOver: watch.handedOver() });
  } finally {
    transport.close();
  }
}

async function failOrHold(deps: OutboundDeps, account: MailAccountRow, id: string, wrapped: unknown): Promise<DeliveryOutcome> {
  const { cause, handedOver } = wrapped as { cause: unknown; handedOver: boolean };
  const error: SmtpError = typeof cause === 'object' && cause !== null ? (cause as SmtpError) : {};
  const target = { protocol: 'smtp', host: account.smtpHost, port: account.smtpPort, security: account.smtpSecurity } as const;
  const problem = classifyConnectionError(cause, target, findPreset(account.provider)?.passwordHint ?? null);
  const refused = typeof error.responseCode === 'number';
  // 'API' errors are nodemailer refusing locally (bad envelope, empty message) before writing anything.
  if (handedOver && !refused && error.command !== 'API') {
    const message = `${problem.message} The message may have been delivered, so Shoal will not send it again; check the Sent folder before sending a new copy.`;
    await markOutboundUnconfirmed(deps.db, id, message);
    deps.log.warn({ outboundId: id, code: problem.code }, 'send unconfirmed');
    return { kind: 'unconfirmed', message };
  }
  const text = refused && problem.code === 'unknown' ? `${target.host} refused the message (${String(error.responseCode)}).` : problem.message;
  const human = { ...problem, message: text };
  await markOutboundFailed(deps.db, id, problem.hint ? `${text} ${problem.hint}` : text);
  deps.log.warn({ outboundId: id, code: problem.code, responseCode: error.responseCode }, 'send failed');
  return { kind: 'failed', problem: human, field: refused ? refusedField(error) : 'smtp' };
}

interface SentRecord {
  threadId: string;
  storedMessageId: string;
}

/**
 * Stores the sent message in its conversation (the thread signed into its
 * Message-ID), or links to the copy sync already stored for that
 * Message-ID, and marks the send `sent`, in one transaction.
 */
async function storeSent(
  tx: Tx,
  deps: OutboundDeps,
  account: MailAccountRow,
  outboundId: string,
  sent: { parsed: ParsedMessage; raw: Uint8Array; threadId: string; note: string | null },
): Promise<SentRecord> {
  const { parsed } = sent;
  const at = deps.now();
  const existing = await findMessageByHeaderId(tx, account.orgId, account.id, parsed.headerMessageId as string);
  let record: SentRecord;
  if (existing) {
    await markSentFromShoal(tx, existing.id);
    record = { threadId: existing.threadId, storedMessageId: existing.id };
  } else {
    const live = await liveThreadId(tx, sent.threadId);
    const id = crypto.randomUUID();
    record = { threadId: live ?? sent.threadId, storedMessageId: id };
    await insertSentMessage(tx, {
      message: composedMessageRow(parsed, { id, orgId: account.orgId, accountId: account.id, threadId: record.threadId, at }),
      raw: sent.raw,
      participants: participantsOf(parsed),
      newThread: live ? null : { subject: parsed.subject, normalizedSubject: normalizeSubject(parsed.subject) },
    });
  }
  await markOutboundSent(tx, outboundId, record.threadId, at, sent.note);
  return record;
}

/** Stores a delivered send; retried once if sync stored the same message at the same moment. */
async function recordSent(deps: OutboundDeps, account: MailAccountRow, outboundId: string, parsed: ParsedMessage, raw: Uint8Array, note: string | null): Promise<SentRecord> {
  const signed = verifyOwnMessageId(deps.keyring.messageIdKey, parsed.headerMessageId ?? '');
  if (!signed) {
    throw new Error('a composed message lacks its signed Message-ID');
  }
  const write = () => deps.db.transaction((tx) => storeSent(tx, deps, account, outboundId, { parsed, raw, threadId: signed.threadId, note }));
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) {
      return write();
    }
    throw error;
  }
}

/**
 * Claims and delivers one send, then stores it and saves the Sent copy.
 * @returns what happened; never throws for a mail server problem.
 */
export async function deliverOutbound(deps: OutboundDeps, account: MailAccountRow, outboundId: string): Promise<DeliveryOutcome> {
  const raw = await claimOutbound(deps.db, outboundId);
  if (!raw) {
    return { kind: 'busy' };
  }
  const parsed = await parseMessage(raw);
  if (!parsed.ok) {
    // We built these bytes; unreadable means a bug, and nothing was sent.
    await markOutboundFailed(deps.db, outboundId, `The message could not be read back: ${parsed.reason}`);
    throw new Error(`composed message unreadable: ${parsed.reason}`);
  }
  const { smtp, imap } = await accountEndpoints(deps.db, deps.keyring, account);
  const pinned = await pinEndpoint('smtp', smtp, { allowPrivateHosts: deps.allowPrivateHosts, log: deps.log });
  if (!pinned.ok) {
    await markOutboundFailed(deps.db, outboundId, pinned.problem.message);
    return { kind: 'failed', problem: pinned.problem, field: 'smtp' };
  }
  let rejected: string[];
  try {
    ({ rejected } = await transmit(pinned.endpoint, parsed.message, raw));
  } catch (error) {
    return failOrHold(deps, account, outboundId, error);
  }
  const note = rejected.length > 0 ? `The server did not accept these recipients: ${rejected.join(', ')}` : null;
  const stored = await recordSent(deps, account, outboundId, parsed.message, raw, note);
  if (account.storeSent) {
    await appendToSent(deps, account, imap, { outboundId, storedMessageId: stored.storedMessageId, raw });
  }
  return { kind: 'sent', ...stored };
}

async function sentPath(db: Db, client: ImapFlow, accountId: string): Promise<string | null> {
  const known = await findSentFolder(db, accountId);
  if (known) {
    return known.path;
  }
  // Not synced yet: ask the server for its SPECIAL-USE \Sent folder.
  const listed = await client.list();
  return listed.find((f) => f.specialUse === '\\Sent')?.path ?? null;
}

/**
 * On servers with stable ids (OBJECTID, Gmail) sync keys messages `id:<emailId>`,
 * so the stored send takes the APPENDed copy's id to be found by that key.
 */
async function adoptServerId(deps: OutboundDeps, client: ImapFlow, path: string, uid: number, storedMessageId: string, accountId: string) {
  if (!client.capabilities.has('OBJECTID') && !client.capabilities.has('X-GM-EXT-1')) {
    return;
  }
  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    const message = await client.fetchOne(String(uid), { uid: true, emailId: true }, { uid: true });
    if (message && message.emailId) {
      await rekeyMessage(deps.db, accountId, storedMessageId, message.emailId);
    }
  } finally {
    lock.release();
  }
}

/** APPENDs the sent bytes (Bcc included, as a Sent copy should) to the Sent folder as \Seen. Failures are logged, not thrown. */
async function appendToSent(
  deps: OutboundDeps,
  account: MailAccountRow,
  imap: EndpointSettings,
  sent: { outboundId: string; storedMessageId: string; raw: Uint8Array },
): Promise<void> {
  const pinned = await pinEndpoint('imap', imap, { allowPrivateHosts: deps.allowPrivateHosts, log: deps.log });
  if (!pinned.ok) {
    deps.log.warn({ accountId: account.id, outboundId: sent.outboundId, code: pinned.problem.code }, 'could not save the sent message to the Sent folder');
    return;
  }
  const client = new ImapFlow(imapOptions(pinned.endpoint, SEND_TIMEOUTS));
  client.on('error', () => {});
  try {
    await client.connect();
    const path = await sentPath(deps.db, client, account.id);
    if (!path) {
      deps.log.warn({ accountId: account.id, outboundId: sent.outboundId }, 'no Sent folder to save the sent message in');
      return;
    }
    const result = await client.append(path, Buffer.from(sent.raw), ['\\Seen'], deps.now());
    if (result) {
      await markOutboundAppended(deps.db, sent.outboundId, deps.now());
      if (result.uid) {
        await adoptServerId(deps, client, path, result.uid, sent.storedMessageId, account.id);
      }
    }
    await client.logout();
  } catch (error) {
    const problem = classifyConnectionError(error, { protocol: 'imap', host: account.imapHost, port: account.imapPort, security: account.imapSecurity });
    deps.log.warn({ accountId: account.id, outboundId: sent.outboundId, code: problem.code }, 'could not save the sent message to the Sent folder');
  } finally {
    client.close();
  }
}

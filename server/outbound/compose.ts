/**
 * @module server/outbound/compose
 * Builds the RFC 822 bytes of a message sent from Shoal, and the rules of
 * replying and forwarding: who a reply goes to, `Re:`/`Fwd:` without
 * stacking, In-Reply-To/References from the parent, and a forward that
 * quotes the original and carries its attachments. Pure apart from parsing
 * the original's MIME for a forward.
 */
import { messageRow } from '../ingest/message-row';
import { simpleParser } from 'mailparser';
import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { NewMessage } from '../../db/queries/messages';
import type { ParentMessageRow } from '../../db/queries/outbound';
import type { Address } from '../ingest/addresses';
import type { ParsedMessage } from '../ingest/parse-message';

/** References kept on a reply: the thread's root plus the newest ones (RFC 5322 §3.6.4 allows trimming). */
export const REFERENCES_CAP = 30;
/** Original attachments re-attached to a forward, in total; bigger ones are only listed. */
export const FORWARD_ATTACHMENT_BYTES = 20 * 1024 * 1024;

const replyMarker = /^\s*re\s*(?:\[\d{1,4}\])?\s*:/iu;
const forwardMarker = /^\s*fwd?\s*(?:\[\d{1,4}\])?\s*:/iu;

/** `Re: <subject>`, unless the subject already starts with a reply marker. */
export function replySubject(subject: string): string {
  const trimmed = subject.trim();
  return replyMarker.test(trimmed) ? trimmed : `Re: ${trimmed}`;
}

/** `Fwd: <subject>`, unless the subject already starts with a forward marker. */
export function forwardSubject(subject: string): string {
  const trimmed = subject.trim();
  return forwardMarker.test(trimmed) ? trimmed : `Fwd: ${trimmed}`;
}

/**
 * The parent's References plus the parent's own id, deduplicated and capped
 * to the root and the newest ids, and In-Reply-To (the parent's id).
 */
export function replyReferences(parent: Pick<ParentMessageRow, 'headerMessageId' | 'references'>): {
  inReplyTo: string | null;
  references: string[];
} {
  const ids = [...new Set([...parent.references, ...(parent.headerMessageId ? [parent.headerMessageId] : [])])];
  const references = ids.length <= REFERENCES_CAP ? ids : [ids[0] as string, ...ids.slice(ids.length - (REFERENCES_CAP - 1))];
  return { inReplyTo: parent.headerMessageId, references };
}

function without(list: readonly Address[], drop: ReadonlySet<string>): Address[] {
  const seen = new Set(drop);
  const out: Address[] = [];
  for (const a of list) {
    if (!seen.has(a.address)) {
      seen.add(a.address);
      out.push(a);
    }
  }
  return out;
}

/**
 * Default recipients of a reply. To a message the account sent, a reply
 * goes to its recipients again; otherwise to Reply-To, else From. Reply-all
 * adds the parent's other To and Cc. The account's own addresses never
 * appear: nobody wants their own reply in their inbox.
 * @param own every address of the account, lowercase.
 */
export function replyRecipients(parent: ParentMessageRow, all: boolean, own: readonly string[]): { to: Address[]; cc: Address[] } {
  const ownSet = new Set(own);
  const sender: Address[] = parent.fromAddress ? [{ address: parent.fromAddress, name: parent.fromName ?? '' }] : [];
  const fromUs = parent.fromAddress !== null && ownSet.has(parent.fromAddress);
  const primary = fromUs ? parent.to : parent.replyTo.length > 0 ? parent.replyTo : sender;
  const to = without(primary, ownSet);
  if (!all) {
    return { to, cc: [] };
  }
  const others = fromUs ? parent.cc : [...parent.to, ...parent.cc];
  return { to, cc: without(others, new Set([...ownSet, ...to.map((a) => a.address)])) };
}

function formatAddresses(list: readonly Address[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ');
}

function formatSize(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  return bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The header block of a forwarded message, as text lines (with the attachment list). */
export function forwardedHeader(parent: ParentMessageRow): string[] {
  const from = parent.fromAddress ? formatAddresses([{ address: parent.fromAddress, name: parent.fromName ?? '' }]) : '';
  const date = (parent.sentAt ?? parent.receivedAt).toUTCString();
  const lines = ['---------- Forwarded message ---------', `From: ${from}`, `Date: ${date}`, `Subject: ${parent.subject}`];
  lines.push(`To: ${formatAddresses(parent.to)}`);
  if (parent.cc.length > 0) {
    lines.push(`Cc: ${formatAddresses(parent.cc)}`);
  }
  if (parent.attachments.length > 0) {
    const names = parent.attachments.map((a) => `${a.filename ?? 'untitled'} (${a.contentType}, ${formatSize(a.size)})`);
    lines.push(`Attachments: ${names.join('; ')}`);
  }
  return lines;
}

function quoteLines(body: string | null): string[] {
  return (body ?? '').replace(/\r\n/gu, '\n').replace(/\n+$/u, '').split('\n').map((line) => (line.startsWith('>') ? `>${line}` : `> ${line}`));
}

/** The attribution line above a quoted reply, as mail clients write it. */
export function replyAttribution(parent: ParentMessageRow): string {
  const from = parent.fromAddress ? formatAddresses([{ address: parent.fromAddress, name: parent.fromName ?? '' }]) : 'someone';
  return `On ${(parent.sentAt ?? parent.receivedAt).toUTCString()}, ${from} wrote:`;
}

/** The person's text followed by the original, quoted with `> `. */
export function forwardText(text: string, parent: ParentMessageRow): string {
  return `${text}\n\n${forwardedHeader(parent).join('\n')}\n\n${quoteLines(parent.textBody).join('\n')}\n`;
}

/** A reply: the person's text (and signature), then the attribution and the original quoted, so the thread reads on in any client. */
export function replyText(text: string, parent: ParentMessageRow): string {
  if (!parent.textBody?.trim()) {
    return text;
  }
  return `${text.replace(/\s+$/u, '')}\n\n${replyAttribution(parent)}\n${quoteLines(parent.textBody).join('\n')}\n`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/gu, (c) => `&#${c.charCodeAt(0)};`);
}

// type="cite" marks it as quoted for every client (Shoal's own view folds it).
const BLOCKQUOTE = '<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">';

/** The reply's HTML followed by the attribution and the original as escaped text in a blockquote. */
export function replyHtml(html: string, parent: ParentMessageRow): string {
  if (!parent.textBody?.trim()) {
    return html;
  }
  const body = escapeHtml(parent.textBody.replace(/\s+$/u, '')).replace(/\r?\n/gu, '<br>');
  return `${html}<br><br><div>${escapeHtml(replyAttribution(parent))}</div>${BLOCKQUOTE}${body}</blockquote>`;
}

/** The person's HTML followed by the original as escaped, quoted text (its own HTML is never trusted). */
export function forwardHtml(html: string, parent: ParentMessageRow): string {
  const header = forwardedHeader(parent).map(escapeHtml).join('<br>');
  const body = escapeHtml(parent.textBody ?? '').replace(/\r?\n/gu, '<br>');
  return `${html}<br><br><div>${header}</div>${BLOCKQUOTE}${body}</blockquote>`;
}

/**
 * The original's attachments, decoded from its raw message, to attach to a
 * forward; inline parts become plain attachments. Stops adding once the
 * total would pass `FORWARD_ATTACHMENT_BYTES` (those stay listed in the text).
 */
export async function forwardedAttachments(raw: Uint8Array): Promise<Mail.Attachment[]> {
  const parsed = await simpleParser(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
  });
  const out: Mail.Attachment[] = [];
  let total = 0;
  for (const a of parsed.attachments) {
    total += a.content.length;
    if (total > FORWARD_ATTACHMENT_BYTES) {
      break;
    }
    out.push({
      filename: a.filename ?? 'attachment',
      content: a.content,
      contentType: a.contentType || 'application/octet-stream',
      contentDisposition: 'attachment',
    });
  }
  return out;
}

/** Everything a message is built from; ids are without angle brackets except `messageId`. */
export interface ComposeInput {
  from: Address;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  subject: string;
  text: string;
  html: string | null;
  inReplyTo: string | null;
  references: string[];
  /** From `createOutgoingMessageId`, with angle brackets. */
  messageId: string;
  date: Date;
  attachments: Mail.Attachment[];
}

const toMailAddress = (a: Address): Mail.Address => (a.name ? { name: a.name, address: a.address } : { address: a.address });

/**
 * Builds the RFC 822 message. Bcc is kept in these bytes (they are the
 * copy stored in Shoal and in the Sent folder); `withoutBcc` makes the copy
 * that goes over SMTP. Files and URLs are never read for attachments.
 */
export async function composeMessage(input: ComposeInput): Promise<Buffer> {
  const composer = new MailComposer({
    from: toMailAddress(input.from),
    to: input.to.map(toMailAddress),
    cc: input.cc.length > 0 ? input.cc.map(toMailAddress) : undefined,
    bcc: input.bcc.length > 0 ? input.bcc.map(toMailAddress) : undefined,
    subject: input.subject,
    text: input.text,
    html: input.html ?? undefined,
    inReplyTo: input.inReplyTo ?? undefined,
    references: input.references.length > 0 ? input.references : undefined,
    messageId: input.messageId,
    date: input.date,
    attachments: input.attachments,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const node = composer.compile();
  node.keepBcc = true;
  return node.build();
}

/**
 * The same message without its Bcc header (and the header's folded
 * continuation lines), for delivery: Bcc recipients are only in the envelope.
 */
export function withoutBcc(raw: Uint8Array): Buffer {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) {
    return bytes;
  }
  // Header bytes are 7-bit (encoded words), so latin1 round-trips them exactly.
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const kept: string[] = [];
  let dropping = false;
  for (const line of lines) {
    const continuation = line.startsWith(' ') || line.startsWith('\t');
    dropping = continuation ? dropping : /^bcc\s*:/iu.test(line);
    if (!dropping) {
      kept.push(line);
    }
  }
  return Buffer.concat([Buffer.from(kept.join('\r\n'), 'latin1'), bytes.subarray(end)]);
}

/**
 * The `messages` row for a message Shoal sent, from its parse: keyed
 * `mid:<Message-ID>` (the key sync gives the Sent copy on servers without
 * stable ids), read, outbound, received now.
 */
export function composedMessageRow(
  parsed: ParsedMessage,
  ids: { id: string; orgId: string; accountId: string; threadId: string; at: Date },
): NewMessage {
  return messageRow(parsed, {
    ...ids,
    messageKey: `mid:${parsed.headerMessageId}`,
    receivedAt: ids.at,
    sentAtFallback: ids.at,
    emailId: null,
    gmThreadId: null,
    flags: ['\\Seen'],
    direction: 'outbound',
  });
}

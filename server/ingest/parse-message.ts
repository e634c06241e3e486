/**
 * @module server/ingest/parse-message
 * Raw RFC 822 bytes → a `ParsedMessage` of plain JSON data, or the reason it
 * could not be read. It never throws: a message that cannot be parsed is
 * quarantined with the reason, so one hostile message never stalls a sync.
 *
 * mailparser does the MIME work with its own DoS limits (1,000 parts, 1 MB
 * header block per part, bounded HTML nesting). Around it: a size cap, a
 * wall-clock guard, our own reading of the id and date headers (mailparser
 * turns a bad Date into "now" and wraps a whole In-Reply-To in `<>`), and
 * cleaning of every string for Postgres (no NUL, no unpaired surrogates).
 * `textAsHtml` is never produced (mailparser#412 XSS); `html` is stored raw
 * and sanitized at render time.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { simpleParser, type AddressObject, type Attachment, type ParsedMail, type SimpleParserOptions } from 'mailparser';
import { flattenMailboxes, type Address } from './addresses';
import { extractMessageIds } from './message-id';

import { snippetOf } from './snippet';

export type { Address } from './addresses';

/** Attachment metadata; the content itself stays in the raw message. */
export interface AttachmentMeta {
  filename: string | null;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Content-ID without angle brackets, to resolve `cid:` links. */
  contentId: string | null;
  disposition: string | null;
  /** Position among this message's attachments (0-based, stable across re-parses). */
  partIndex: number;
  /** IMAP part number (`'1.2'`), for fetching just this part; null for a non-multipart message. */
  partId: string | null;
  /** SHA-256 of the decoded content, hex. */
  checksum: string;
}

/** Everything ingestion keeps from a message. JSON-safe: strings, numbers, booleans, null. */
export interface ParsedMessage {
  headerMessageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  /** ISO 8601, or null when the Date header is missing or not a date. */
  sentAt: string | null;
  text: string | null;
  html: string | null;
  snippet: string;
  attachments: AttachmentMeta[];
  /** Allowlisted routing headers, lowercase keys, first occurrence, unfolded. */
  headers: Record<string, string>;
  size: number;
  rawSha256: string;
  isAutoReply: boolean;
}

export type ParseResult = { ok: true; message: ParsedMessage } | { ok: false; reason: string };

/** Options for `parseMessage`. */
export interface ParseOptions {
  /** Larger raw messages are refused before parsing. Default 50 MB. */
  maxBytes?: number;
  /** Wall-clock budget for the MIME parse. Default 10 s. */
  timeoutMs?: number;
}

const megabyte = 1024 * 1024;

/** Parser limits. References keep the root plus the newest 99, as Mailspring indexes them. */
export const parseLimits = {
  maxBytes: 50 * megabyte,
  timeoutMs: 10_000,
  maxReferences: 100,
  maxSubjectLength: 1000,
  maxHeaderValueLength: 1000,
  maxFilenameLength: 255,
  chunkBytes: 64 * 1024,
} as const;

/** Headers routing and auto-reply detection read; everything else stays in the raw message. */
const keptHeaders = [
  'list-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-post', 'auto-submitted', 'precedence',
  'x-autoreply', 'x-autorespond', 'x-auto-response-suppress', 'x-failed-recipients', 'return-path',
  'delivered-to',
] as const;

/** RFC 3834 §2: precedence values an auto-responder must not answer. */
const bulkPrecedence: ReadonlySet<string> = new Set(['bulk', 'junk', 'list', 'auto_reply']);

const parserOptions: SimpleParserOptions = {
  skipImageLinks: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  // The snippet is built from the raw HTML below; html-to-text is the slow,
  // recursion-prone part of mailparser and `text` should mean "the sender's text part".
  skipHtmlToText: true,
  checksumAlgo: 'sha256',
};

/**
 * Parses one raw message. Never throws.
 * @param raw the RFC 822 bytes as fetched (no mbox `From ` line).
 * @returns the parsed message, or `{ ok: false, reason }` with a short
 *   human reason that contains no message content.
 */
export async function parseMessage(raw: Uint8Array, options: ParseOptions = {}): Promise<ParseResult> {
  try {
    return await parseChecked(raw, options);
  } catch (error) {
    // Only a bug of ours gets here; the promise of "never throws" still holds.
    return { ok: false, reason: `could not read message: ${shortError(error)}` };
  }
}

async function parseChecked(raw: Uint8Array, options: ParseOptions): Promise<ParseResult> {
  const maxBytes = options.maxBytes ?? parseLimits.maxBytes;
  if (raw.byteLength > maxBytes) {
    return { ok: false, reason: `message is larger than ${formatLimit(maxBytes)}` };
  }
  if (raw.byteLength === 0) {
    return { ok: false, reason: 'message is empty' };
  }
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let mail: ParsedMail | 'timeout';
  try {
    mail = await parseWithDeadline(bytes, options.timeoutMs ?? parseLimits.timeoutMs);
  } catch (error) {
    return { ok: false, reason: `could not parse MIME: ${shortError(error)}` };
  }
  if (mail === 'timeout') {
    return { ok: false, reason: 'parse timed out' };
  }
  return { ok: true, message: toParsedMessage(mail, bytes) };
}

/**
 * Feeds the parser in chunks so the event loop (and the timer) runs between
 * them, and stops feeding when the deadline passes. A parse stuck inside one
 * chunk cannot be interrupted in-process; the guard still answers on time.
 */
async function parseWithDeadline(bytes: Buffer, timeoutMs: number): Promise<ParsedMail | 'timeout'> {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += parseLimits.chunkBytes) {
    chunks.push(bytes.subarray(offset, offset + parseLimits.chunkBytes));
  }
  const source = Readable.from(chunks, { objectMode: false });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([simpleParser(source, parserOptions), deadline]);
  } finally {
    clearTimeout(timer);
    source.destroy();
  }
}

function toParsedMessage(mail: ParsedMail, bytes: Buffer): ParsedMessage {
  const lines = headerValues(mail);
  const headers = keptHeaderValues(lines);
  // mailparser gives '' for an HTML-only message: no text part is null, not ''.
  const text = typeof mail.text === 'string' && mail.text !== '' ? cleanText(mail.text) : null;
  const html = typeof mail.html === 'string' ? cleanText(mail.html) : null;
  return {
    headerMessageId: firstId(lines.get('message-id')),
    inReplyTo: lastId(lines.get('in-reply-to')),
    references: referencesOf(lines.get('references') ?? []),
    subject: cleanLine(mail.subject ?? '').slice(0, parseLimits.maxSubjectLength).replace(/[\ud800-\udfff]/gu, ''),
    from: addressesOf(mail.from)[0] ?? null,
    to: addressesOf(mail.to),
    cc: addressesOf(mail.cc),
    bcc: addressesOf(mail.bcc),
    replyTo: addressesOf(mail.replyTo),
    sentAt: parseDate(lines.get('date')?.[0]),
    text,
    html,
    snippet: snippetOf(text, html),
    attachments: mail.attachments.map(attachmentMeta),
    headers,
    size: bytes.length,
    rawSha256: createHash('sha256').update(bytes).digest('hex'),
    isAutoReply: isAutoReply(headers),
  };
}

/** Raw, unfolded values of the top-level header lines, by lowercase name, in order. */
function headerValues(mail: ParsedMail): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const { key, line } of mail.headerLines ?? []) {
    const colon = line.indexOf(':');
    const value = line.slice(colon + 1).replace(/\r?\n/gu, '').trim();
    const list = values.get(key);
    if (list) {
      list.push(value);
    } else {
      values.set(key, [value]);
    }
  }
  return values;
}

function keptHeaderValues(lines: Map<string, string[]>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of keptHeaders) {
    const value = lines.get(name)?.[0];
    if (value !== undefined) {
      kept[name] = cleanLine(value).slice(0, parseLimits.maxHeaderValueLength);
    }
  }
  return kept;
}

function firstId(values: string[] | undefined): string | null {
  return values === undefined ? null : (extractMessageIds(values[0] ?? '')[0] ?? null);
}

/**
 * The parent is the last id of In-Reply-To: old mailers write
 * `Message from Joe <joe@example.com> of "date" <id>`, where the first
 * bracketed token is the author's address; a single id is unaffected.
 */
function lastId(values: string[] | undefined): string | null {
  return values === undefined ? null : (extractMessageIds(values[0] ?? '').at(-1) ?? null);
}

/** Every id of every References header, deduped, capped to the root plus the newest ones. */
function referencesOf(values: string[]): string[] {
  const ids = [...new Set(values.flatMap((value) => extractMessageIds(value)))];
  if (ids.length <= parseLimits.maxReferences) {
    return ids;
  }
  return [ids[0] ?? '', ...ids.slice(ids.length - (parseLimits.maxReferences - 1))];
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): Address[] {
  if (value === undefined) {
    return [];
  }
  const objects = Array.isArray(value) ? value : [value];
  return flattenMailboxes(objects.flatMap((object) => object.value));
}

/** Latest instant `Date` can print as a 4-digit ISO year. */
const maxDateMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * V8 parses RFC 2822 dates, comments included, but also turns "0" into
 * 2000-01-01; requiring a clock time (or an ISO date) keeps such junk out.
 */
function parseDate(value: string | undefined): string | null {
  if (value === undefined || value.length > 200 || !/\d{1,2}:\d{2}|^\d{4}-\d{2}-\d{2}/u.test(value)) {
    return null;
  }
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 && ms <= maxDateMs ? new Date(ms).toISOString() : null;
}

function attachmentMeta(attachment: Attachment, index: number): AttachmentMeta {
  return {
    filename: attachment.filename ? cleanFilename(attachment.filename) : null,
    contentType: (attachment.contentType || 'application/octet-stream').toLowerCase(),
    size: attachment.size,
    contentId: attachment.cid ? cleanLine(attachment.cid) : null,
    disposition: attachment.contentDisposition ? attachment.contentDisposition.toLowerCase() : null,
    partIndex: index,
    partId: attachment.partId ?? null,
    checksum: attachment.checksum,
  };
}

function isAutoReply(headers: Record<string, string>): boolean {
  const autoSubmitted = (headers['auto-submitted'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const precedence = (headers.precedence ?? '').trim().toLowerCase();
  return (
    (autoSubmitted !== '' && autoSubmitted !== 'no') ||
    bulkPrecedence.has(precedence) ||
    headers['x-autoreply'] !== undefined ||
    headers['x-autorespond'] !== undefined
  );
}

/** Body text: NUL bytes out (Postgres text refuses them), unpaired surrogates replaced. */
function cleanText(value: string): string {
  return value.replaceAll('\u0000', '').replace(/[\ud800-\udfff]/gu, '\ufffd');
}

/** One line of header text: controls become spaces, whitespace collapsed. */
function cleanLine(value: string): string {
  return cleanText(value)
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Bidi overrides go too: `invoice\u202Efdp.exe` displays as "invoiceexe.pdf"
 * and would disguise an executable in the attachment list.
 */
function cleanFilename(value: string): string {
  const name = cleanLine(value).replace(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/gu, '');
  return name.slice(0, parseLimits.maxFilenameLength).replace(/[\ud800-\udfff]/gu, '');
}

/** "50 MB", "1.5 MB"; tiny test limits in bytes rather than as 0.00001 MB. */
function formatLimit(bytes: number): string {
  const mb = Math.round((bytes / megabyte) * 100) / 100;
  return mb > 0 ? `${mb} MB` : `${bytes} bytes`;
}

/** The error's message, one line, capped: enough to tell causes apart, never a quote of the message. */
function shortError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return cleanLine(message).slice(0, 120) || 'unknown error';
}

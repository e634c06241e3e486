/**
 * @module server/commands/attachments
 * An attachment's bytes, decoded on demand from the stored raw message of a
 * message the viewer may see. The response is always a download
 * (`Content-Disposition: attachment`, `nosniff`, a sandboxing CSP) and its
 * type is the declared one only when that type is inert; HTML, XML, SVG and
 * scripts go out as `application/octet-stream`, so nothing a sender attaches
 * can run on Shoal's origin.
 */
import { simpleParser } from 'mailparser';
import { findVisibleMessageContent } from '../../db/queries/attachments';
import type { Auth, Deps } from '../context';
import { HttpError, notFound } from '../errors';
import { ERROR_CODES } from '../../sync/api';

/** Declared types served as they are: none of them is rendered as a document by a browser. */
const INERT_TYPES: ReadonlySet<string> = new Set([
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp',
  'application/pdf', 'application/zip', 'text/plain', 'text/csv', 'text/calendar',
  'audio/mpeg', 'audio/ogg', 'video/mp4', 'video/webm',
  'application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
]);

const PARSE_TIMEOUT_MS = 10_000;

export interface AttachmentFile {
  filename: string;
  contentType: string;
  body: Uint8Array;
}

/** The type to send: the declared one when inert, else a download of opaque bytes. */
export function servedContentType(declared: string): string {
  const type = declared.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!INERT_TYPES.has(type)) {
    return 'application/octet-stream';
  }
  return type.startsWith('text/') ? `${type}; charset=utf-8` : type;
}

async function decode(raw: Uint8Array, index: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('attachment decode timed out')), PARSE_TIMEOUT_MS);
  });
  try {
    const parsed = await Promise.race([
      simpleParser(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
        skipHtmlToText: true,
        skipTextToHtml: true,
        skipImageLinks: true,
        skipTextLinks: true,
        checksumAlgo: 'sha256',
      }),
      timeout,
    ]);
    return parsed.attachments[index] ?? null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One attachment of a visible message.
 * @throws {HttpError} 404 when the message is not visible to the viewer, or has no such attachment.
 */
export async function readAttachment(deps: Deps, auth: Auth, messageId: string, index: number): Promise<AttachmentFile> {
  const content = await findVisibleMessageContent(deps.db, auth.user.id, auth.user.orgId, messageId);
  if (!content) {
    throw notFound('Message');
  }
  const meta = content.attachments.find((a, i) => (a.partIndex ?? i) === index);
  if (!meta) {
    throw notFound('Attachment');
  }
  if (!content.raw) {
    throw new HttpError(404, ERROR_CODES.notFound, 'This attachment’s content is not stored');
  }
  const part = await decode(content.raw, index);
  // The stored checksum ties the bytes to the listed metadata: a parser change can never serve a different part.
  if (!part || (meta.checksum && part.checksum !== meta.checksum)) {
    throw new HttpError(404, ERROR_CODES.notFound, 'This attachment’s content is not stored');
  }
  return {
    filename: meta.filename ?? 'attachment',
    contentType: servedContentType(meta.contentType),
    body: new Uint8Array(part.content.buffer, part.content.byteOffset, part.content.byteLength),
  };
}

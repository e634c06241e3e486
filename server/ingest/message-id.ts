/**
 * @module server/ingest/message-id
 * Message-IDs for mail sent from Shoal, signed so a reply can be filed in
 * its conversation by the id alone. The signature is the point: FreeScout
 * accepted unsigned ids of its own shape and anyone could attach mail to a
 * stranger's conversation by forging `References` (GHSA-6r38-6mcf-2ww3).
 * Here an id only counts when its HMAC verifies under the server key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Shortest key accepted: 128 bits. */
const minKeyBytes = 16;
const randomLength = 10;
const macHexLength = 16;
const base32 = 'abcdefghijklmnopqrstuvwxyz234567';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const randomPattern = /^[a-z0-9]{10}$/;
/** `s.<32 hex thread>.<10 random>.<16 hex mac>@<domain>` after `<>` are stripped. */
const ownIdPattern = /^s\.([0-9a-f]{32})\.([a-z0-9]{10})\.([0-9a-f]{16})@[^\s<>@]+$/;
/** Ids longer than this are not ours; bail out before any regex work. */
const maxIdLength = 320;

/** 10 base32 characters, 50 bits: only there so two sends never share an id. */
export function randomIdPart(): string {
  const bytes = randomBytes(randomLength);
  let out = '';
  for (const byte of bytes) {
    out += base32[byte & 31];
  }
  return out;
}

/**
 * Creates the Message-ID for an outgoing message of a thread:
 * `<s.{threadIdNoDashes}.{rand10}.{hmac16}@{domain}>`.
 * @param key server secret (≥ 16 bytes) used for the HMAC.
 * @param threadId the thread's UUID.
 * @param domain the sending domain, for the right-hand side.
 * @param random source of the 10-character random part (tests inject it).
 * @throws when the key is short, the thread id is not a UUID, the random part
 *   is not 10 of `[a-z0-9]` or the domain is unusable: all programming errors.
 */
export function createOutgoingMessageId(key: Uint8Array, threadId: string, domain: string, random: () => string = randomIdPart): string {
  assertKey(key);
  const thread = threadId.toLowerCase();
  if (!uuidPattern.test(thread)) {
    throw new Error('thread id must be a UUID');
  }
  const rand = random();
  if (!randomPattern.test(rand)) {
    throw new Error('random part must be 10 characters of [a-z0-9]');
  }
  if (!/^[a-z0-9.-]+$/i.test(domain) || !domain.includes('.')) {
    throw new Error('domain must be a plain host name');
  }
  return `<s.${thread.replaceAll('-', '')}.${rand}.${mac(key, thread, rand)}@${domain.toLowerCase()}>`;
}

/**
 * Checks whether a Message-ID is one Shoal created with this key.
 * Tolerates surrounding whitespace and angle brackets, and a case change
 * by a relay (every part is generated lowercase).
 * @returns the thread id it was created for, or null for anything else,
 *   forged or foreign.
 */
export function verifyOwnMessageId(key: Uint8Array, id: string): { threadId: string } | null {
  assertKey(key);
  if (id.length > maxIdLength) {
    return null;
  }
  let value = id.trim();
  if (value.startsWith('<') && value.endsWith('>')) {
    value = value.slice(1, -1);
  }
  const match = ownIdPattern.exec(value.toLowerCase());
  if (!match) {
    return null;
  }
  const [, compact = '', rand = '', given = ''] = match;
  const threadId = `${compact.slice(0, 8)}-${compact.slice(8, 12)}-${compact.slice(12, 16)}-${compact.slice(16, 20)}-${compact.slice(20)}`;
  const expected = Buffer.from(mac(key, threadId, rand), 'latin1');
  return timingSafeEqual(expected, Buffer.from(given, 'latin1')) ? { threadId } : null;
}

/**
 * The thread named by the first Shoal-signed id among a message's parents,
 * In-Reply-To first, then References newest first (the nearest ancestor
 * wins when a conversation was split). Forged ids verify to nothing.
 * @returns the thread id for `ThreadingInput.ownThreadId`, or null.
 */
export function findSignedThreadId(key: Uint8Array, message: { inReplyTo: string | null; references: readonly string[] }): string | null {
  const candidates = [message.inReplyTo, ...[...message.references].reverse()];
  for (const id of candidates) {
    const verified = id === null ? null : verifyOwnMessageId(key, id);
    if (verified) {
      return verified.threadId;
    }
  }
  return null;
}

function mac(key: Uint8Array, threadId: string, rand: string): string {
  return createHmac('sha256', key).update(`${threadId}.${rand}`).digest('hex').slice(0, macHexLength);
}

function assertKey(key: Uint8Array): void {
  if (key.byteLength < minKeyBytes) {
    throw new Error(`message-id key must be at least ${minKeyBytes} bytes`);
  }
}

/** RFC 5322 caps a header line at 998 characters; nothing longer is an id. */
const maxHeaderIdLength = 998;

/**
 * Pulls Message-IDs out of a `Message-ID`/`In-Reply-To`/`References` value,
 * in order, without angle brackets. Text around the ids is ignored, which
 * matters for old mailers' `In-Reply-To: Your message of "…" <id>`. A value
 * that is one bare `local@domain` token counts as that id; bare tokens in
 * prose do not (Gnus writes `In-Reply-To: joe@example.com's message of …`).
 * Ids stay case-sensitive: only whitespace (folding) is removed.
 */
export function extractMessageIds(value: string): string[] {
  const ids: string[] = [];
  for (const match of value.matchAll(/<([^<>]*)>/gu)) {
    pushId(ids, match[1] ?? '');
  }
  const bare = value.trim();
  if (ids.length === 0 && /^[^\s<>]+@[^\s<>]+$/u.test(bare)) {
    pushId(ids, bare);
  }
  return ids;
}

function pushId(ids: string[], candidate: string): void {
  const id = candidate.replace(/\s+/gu, '');
  if (id.length > 0 && id.length <= maxHeaderIdLength && !/\p{Cc}/u.test(id)) {
    ids.push(id);
  }
}

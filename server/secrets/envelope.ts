/**
 * @module server/secrets/envelope
 * AES-256-GCM sealing in one self-describing text format,
 * `v1:<kid>:<iv>:<tag>:<ct>` (base64url, no padding), so a stored value says
 * which key opened it and rotation can tell old values from new ones.
 *
 * Every way of failing to open becomes a {@link SecretError} with a stable
 * code. Messages name at most the key id, never key material, ciphertext or
 * plaintext, because they end up in logs and API error bodies.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Format version written by {@link seal}; bump it when the layout changes. */
export const SEALED_VERSION = 'v1';
/** The kid of a value sealed with an account's data key rather than a KEK. */
export const DEK_KID = 'dek';
/** Key ids: the same alphabet MAIL_KEKS accepts, and free of the `:` separator. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** AES-256 key length in bytes. */
export const KEY_BYTES = 32;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Why a sealed value could not be opened. */
export const SECRET_ERROR_CODES = {
  /** Not `v1:<kid>:<iv>:<tag>:<ct>`, or a part has the wrong size. */
  malformed: 'secret_malformed',
  /** Names a key the keyring does not hold. */
  unknownKey: 'secret_unknown_key',
  /** Wrong key, wrong AAD (moved to another row or column), or tampered bytes. */
  authFailed: 'secret_auth_failed',
} as const;
export type SecretErrorCode = (typeof SECRET_ERROR_CODES)[keyof typeof SECRET_ERROR_CODES];

/** A stored secret that cannot be opened; the message is safe to log. */
export class SecretError extends Error {
  override readonly name = 'SecretError';
  constructor(
    readonly code: SecretErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The decoded parts of a sealed value. */
export interface SealedParts {
  kid: string;
  iv: Uint8Array;
  tag: Uint8Array;
  ct: Uint8Array;
}

/** Looks a key up by id; undefined when the keyring does not hold it. */
export type KeyLookup = (kid: string) => Uint8Array | undefined;

function assertKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) {
    throw new Error(`AES-256-GCM needs a ${KEY_BYTES}-byte key`);
  }
}

const encode = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** Strict base64url: Node's decoder skips junk, so insist the text re-encodes to itself. */
function decode(text: string, what: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64url');
  if (!BASE64URL.test(text) || encode(bytes) !== text) {
    throw new SecretError(SECRET_ERROR_CODES.malformed, `Sealed secret has an invalid ${what}`);
  }
  return new Uint8Array(bytes);
}

/**
 * Encrypts bytes under one key with a fresh random IV.
 * @param key 32-byte AES key.
 * @param kid the key's id, written into the output so the right key can be found again.
 * @param plaintext what to protect.
 * @param aad context the value is bound to (e.g. `<accountId>|imap_secret`); not stored.
 * @returns `v1:<kid>:<iv>:<tag>:<ct>`.
 * @throws {Error} when the key is not 32 bytes or the kid is not a valid id.
 */
export function seal(key: Uint8Array, kid: string, plaintext: Uint8Array, aad: string): string {
  assertKey(key);
  if (!KID_PATTERN.test(kid)) {
    throw new Error('Key id must be 1–32 characters of A-Z, a-z, 0-9, _ or -');
  }
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [SEALED_VERSION, kid, encode(iv), encode(cipher.getAuthTag()), encode(ct)].join(':');
}

/**
 * Splits and decodes a sealed value without decrypting it.
 * @param value a stored `v1:<kid>:<iv>:<tag>:<ct>` string.
 * @returns its parts.
 * @throws {SecretError} `secret_malformed` when the layout or a part's size is wrong.
 */
export function parseSealed(value: string): SealedParts {
  const parts = value.split(':');
  if (parts.length !== 5 || parts[0] !== SEALED_VERSION) {
    throw new SecretError(SECRET_ERROR_CODES.malformed, `Sealed secret is not in ${SEALED_VERSION} format`);
  }
  const [, kid, iv, tag, ct] = parts as [string, string, string, string, string];
  if (!KID_PATTERN.test(kid)) {
    throw new SecretError(SECRET_ERROR_CODES.malformed, 'Sealed secret has an invalid key id');
  }
  const parsed = { kid, iv: decode(iv, 'IV'), tag: decode(tag, 'tag'), ct: decode(ct, 'ciphertext') };
  if (parsed.iv.length !== IV_BYTES || parsed.tag.length !== TAG_BYTES) {
    throw new SecretError(SECRET_ERROR_CODES.malformed, 'Sealed secret has a wrong-sized IV or tag');
  }
  return parsed;
}

/**
 * Decrypts a sealed value with the key it names.
 * @param value a stored `v1:<kid>:<iv>:<tag>:<ct>` string.
 * @param keyFor finds the key for the value's kid.
 * @param aad the same context it was sealed with.
 * @returns the plaintext bytes.
 * @throws {SecretError} `secret_malformed`, `secret_unknown_key` or `secret_auth_failed`.
 */
export function open(value: string, keyFor: KeyLookup, aad: string): Uint8Array {
  const { kid, iv, tag, ct } = parseSealed(value);
  const key = keyFor(kid);
  if (!key) {
    throw new SecretError(SECRET_ERROR_CODES.unknownKey, `Sealed secret needs key "${kid}", which is not in the keyring`);
  }
  assertKey(key);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([decipher.update(ct), decipher.final()]));
  } catch {
    // GCM cannot say which of key, AAD or bytes was wrong, and must not hint at it.
    throw new SecretError(SECRET_ERROR_CODES.authFailed, `Sealed secret failed authentication with key "${kid}"`);
  }
}

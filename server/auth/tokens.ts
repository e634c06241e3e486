/**
 * @module server/auth/tokens
 * Session and invite tokens per the Lucia guide: `<id>.<secret>`, each part
 * 120 random bits, only SHA-256 of the secret stored, compared in constant time.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';

const TOKEN_PART = /^[a-z2-7]{24}$/;

/** 120 random bits as 24 lowercase base32 characters. */
export function randomPart(): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(15)));
}

/** SHA-256 of a string. */
export function hashSecret(secret: string): Uint8Array {
  return sha256(new TextEncoder().encode(secret));
}

export interface IssuedToken {
  id: string;
  secretHash: Uint8Array;
  /** What the client holds; never stored. */
  token: string;
}

/** Creates a new `<id>.<secret>` token and the hash to store. */
export function issueToken(): IssuedToken {
  const id = randomPart();
  const secret = randomPart();
  return { id, secretHash: hashSecret(secret), token: `${id}.${secret}` };
}

/**
 * Splits a presented token; rejects anything that is not exactly our shape
 * before it reaches a query.
 * @returns the id and secret, or null.
 */
export function splitToken(token: string): { id: string; secret: string } | null {
  const parts = token.split('.');
  if (parts.length !== 2) {
    return null;
  }
  const [id, secret] = parts as [string, string];
  if (!TOKEN_PART.test(id) || !TOKEN_PART.test(secret)) {
    return null;
  }
  return { id, secret };
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  const presented = hashSecret(secret);
  return presented.length === storedHash.length && constantTimeEqual(presented, storedHash);
}

/** A single-part token (invites): 160 random bits. */
export function issueOpaqueToken(): { token: string; hash: Uint8Array } {
  const token = encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(20)));
  return { token, hash: hashSecret(token) };
}

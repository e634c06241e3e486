/**
 * @module server/auth/password
 * argon2id with the OWASP minimum (m=19456 KiB, t=2, p=1).
 */
import { hash, verify } from '@node-rs/argon2';
import { encodeBase64 } from '@oslojs/encoding';

// `Algorithm.Argon2id` is a const enum, which isolated modules cannot inline.
const ARGON2ID = 2;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;

/** Hashes a password for storage. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** Checks a password against a stored hash; a malformed hash counts as a mismatch. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

let decoy: Promise<string> | null = null;

/**
 * Spends the same time as a real verify when the email is unknown, so
 * response timing does not reveal which addresses have accounts.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword(encodeBase64(crypto.getRandomValues(new Uint8Array(24))));
  await verifyPassword(await decoy, password);
  return false;
}

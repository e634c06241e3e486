/**
 * @module server/secrets/account-secrets
 * A mailbox's credentials at rest. Each account has its own random data key
 * (DEK), stored only wrapped by a KEK; the credentials are sealed with the
 * DEK. Rotating a KEK therefore re-wraps one small value per account and
 * never touches the credentials themselves.
 *
 * Every ciphertext is bound to where it lives through its AAD
 * (`<accountId>|<column>`, and `mail_accounts|<accountId>|dek` for the DEK),
 * so a value copied into another row or column fails to open instead of
 * handing one account's password to another.
 */
import { randomBytes } from 'node:crypto';
import { lockAccountKeysPage, updateWrappedDek } from '../../db/queries/account-keys';
import type { Db } from '../../db/types';
import { DEK_KID, KEY_BYTES, open, parseSealed, seal, SECRET_ERROR_CODES, SecretError } from './envelope';
import type { Keyring } from './keyring';

/** The columns that hold sealed credentials; each name is part of its value's AAD. */
export const SECRET_FIELDS = { imap: 'imap_secret', smtp: 'smtp_secret' } as const;
export type SecretField = (typeof SECRET_FIELDS)[keyof typeof SECRET_FIELDS];

/** The KEKs an operation needs: `active` to wrap, `keks` to unwrap. */
export type AccountKeys = Pick<Keyring, 'active' | 'keks'>;

/** Plaintext credentials (password or OAuth refresh token). */
export interface AccountCredentials {
  imap: string;
  /** Null: outgoing mail uses the incoming credential. */
  smtp: string | null;
}

/** What `mail_accounts` stores. */
export interface SealedAccountSecrets {
  wrappedDek: string;
  imapSecret: string;
  smtpSecret: string | null;
}

/** Rows per transaction when re-wrapping: short locks, bounded memory. */
const REWRAP_BATCH = 100;

function assertAccountId(accountId: string): void {
  // The id is an AAD component joined with `|`; one containing it could alias another context.
  if (accountId.length === 0 || accountId.includes('|')) {
    throw new TypeError('accountId must be a non-empty id without "|"');
  }
}

const dekAad = (accountId: string): string => `mail_accounts|${accountId}|dek`;
const fieldAad = (accountId: string, field: SecretField): string => `${accountId}|${field}`;

function wrapDek(keys: AccountKeys, accountId: string, dek: Uint8Array): string {
  return seal(keys.active.key, keys.active.kid, dek, dekAad(accountId));
}

function unwrapDek(keys: AccountKeys, accountId: string, wrappedDek: string): Uint8Array {
  const dek = open(wrappedDek, (kid) => keys.keks.get(kid), dekAad(accountId));
  if (dek.length !== KEY_BYTES) {
    throw new SecretError(SECRET_ERROR_CODES.malformed, 'Wrapped data key has the wrong length');
  }
  return dek;
}

/** Runs `fn` with the account's DEK, then wipes it: a best-effort limit on how long it sits in memory. */
function withDek<T>(keys: AccountKeys, accountId: string, wrappedDek: string, fn: (dek: Uint8Array) => T): T {
  assertAccountId(accountId);
  const dek = unwrapDek(keys, accountId, wrappedDek);
  try {
    return fn(dek);
  } finally {
    dek.fill(0);
  }
}

const sealField = (dek: Uint8Array, accountId: string, field: SecretField, value: string): string =>
  seal(dek, DEK_KID, Buffer.from(value, 'utf8'), fieldAad(accountId, field));

const openField = (dek: Uint8Array, accountId: string, field: SecretField, value: string): string =>
  Buffer.from(open(value, (kid) => (kid === DEK_KID ? dek : undefined), fieldAad(accountId, field))).toString('utf8');

/**
 * Seals a new account's credentials under a fresh DEK wrapped with the active KEK.
 * @param keys the keyring.
 * @param accountId the `mail_accounts.id` the values will be stored under.
 * @param credentials plaintext credentials.
 * @returns the column values to insert.
 * @throws {TypeError} when `accountId` is empty or contains `|`.
 */
export function createAccountSecrets(keys: AccountKeys, accountId: string, credentials: AccountCredentials): SealedAccountSecrets {
  assertAccountId(accountId);
  const dek = new Uint8Array(randomBytes(KEY_BYTES));
  try {
    return {
      wrappedDek: wrapDek(keys, accountId, dek),
      imapSecret: sealField(dek, accountId, SECRET_FIELDS.imap, credentials.imap),
      smtpSecret: credentials.smtp === null ? null : sealField(dek, accountId, SECRET_FIELDS.smtp, credentials.smtp),
    };
  } finally {
    dek.fill(0);
  }
}

/**
 * Opens an account's credentials.
 * @param keys the keyring.
 * @param accountId the row the values were read from.
 * @param sealed the stored column values.
 * @returns the credentials, with `smtp` falling back to `imap` when none is stored.
 * @throws {SecretError} when any value is malformed, names an unknown key, or fails authentication.
 */
export function openAccountSecrets(keys: AccountKeys, accountId: string, sealed: SealedAccountSecrets): { imap: string; smtp: string } {
  return withDek(keys, accountId, sealed.wrappedDek, (dek) => {
    const imap = openField(dek, accountId, SECRET_FIELDS.imap, sealed.imapSecret);
    const smtp = sealed.smtpSecret === null ? imap : openField(dek, accountId, SECRET_FIELDS.smtp, sealed.smtpSecret);
    return { imap, smtp };
  });
}

/**
 * Seals one replacement credential under the account's existing DEK.
 * @param keys the keyring.
 * @param accountId the account.
 * @param wrappedDek its stored `wrapped_dek`.
 * @param field the column the value will be stored in.
 * @param value the plaintext credential.
 * @returns the value to store in `field`.
 * @throws {SecretError} when the DEK cannot be unwrapped.
 */
export function sealAccountSecret(keys: AccountKeys, accountId: string, wrappedDek: string, field: SecretField, value: string): string {
  return withDek(keys, accountId, wrappedDek, (dek) => sealField(dek, accountId, field, value));
}

/**
 * Re-wraps an account's DEK with the active KEK; the DEK, and so every sealed credential, is unchanged.
 * @param keys the keyring, holding the KEK the value names.
 * @param accountId the account.
 * @param wrappedDek its stored `wrapped_dek`.
 * @returns the new `wrapped_dek`, or the same string when it is already wrapped with the active KEK.
 * @throws {SecretError} when the DEK cannot be unwrapped.
 */
export function rewrapDek(keys: AccountKeys, accountId: string, wrappedDek: string): string {
  if (parseSealed(wrappedDek).kid === keys.active.kid) {
    return wrappedDek;
  }
  return withDek(keys, accountId, wrappedDek, (dek) => wrapDek(keys, accountId, dek));
}

/** Re-wraps one locked page. @returns the last id and how many rows changed. */
async function rewrapPage(db: Db, keys: AccountKeys, afterId: string | null) {
  return db.transaction(async (tx) => {
    const rows = await lockAccountKeysPage(tx, afterId, REWRAP_BATCH);
    let rewrapped = 0;
    for (const row of rows) {
      let next: string;
      try {
        next = rewrapDek(keys, row.id, row.wrappedDek);
      } catch (error) {
        if (error instanceof SecretError) {
          throw new SecretError(error.code, `Account ${row.id}: ${error.message}`);
        }
        throw error;
      }
      if (next !== row.wrappedDek) {
        await updateWrappedDek(tx, row.id, next);
        rewrapped += 1;
      }
    }
    return { lastId: rows.at(-1)?.id ?? null, seen: rows.length, rewrapped };
  });
}

/**
 * Re-wraps every account's DEK with the active KEK, 100 rows per transaction.
 * Pages already committed stay re-wrapped if a later page fails; running again finishes the job.
 * @param db the database.
 * @param keys the keyring, holding every KEK still named by a stored value.
 * @returns how many rows were re-wrapped and how many already used the active KEK.
 * @throws {SecretError} naming the account whose DEK could not be unwrapped (its page is rolled back).
 */
export async function rewrapAllAccounts(db: Db, keys: AccountKeys): Promise<{ rewrapped: number; alreadyCurrent: number }> {
  const totals = { rewrapped: 0, alreadyCurrent: 0 };
  let afterId: string | null = null;
  for (;;) {
    const page = await rewrapPage(db, keys, afterId);
    totals.rewrapped += page.rewrapped;
    totals.alreadyCurrent += page.seen - page.rewrapped;
    if (page.seen < REWRAP_BATCH || page.lastId === null) {
      return totals;
    }
    afterId = page.lastId;
  }
}

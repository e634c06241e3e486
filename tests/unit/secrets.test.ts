/**
 * Envelope encryption of mailbox credentials and the keyring file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createAccountSecrets,
  openAccountSecrets,
  rewrapDek,
  sealAccountSecret,
  type AccountKeys,
  type SealedAccountSecrets,
} from '../../server/secrets/account-secrets';
import { open, seal, SECRET_ERROR_CODES, SecretError, type SecretErrorCode } from '../../server/secrets/envelope';
import { addKek, keyringPath, KeyringError, loadKeyring, type KeyringConfig } from '../../server/secrets/keyring';

const FORMAT = /^v1:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]*$/;
const key = () => new Uint8Array(randomBytes(32));
const keysOf = (...keks: [string, Uint8Array][]): AccountKeys => {
  const [kid, activeKey] = keks.at(-1) as [string, Uint8Array];
  return { active: { kid, key: activeKey }, keks: new Map(keks) };
};
const canary = () => `hunter2-plaintext-canary-${randomUUID()}`;

/** Runs `fn` and returns the SecretError it throws, whatever its code. */
function catchSecretError(fn: () => unknown): SecretError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretError);
    return error as SecretError;
  }
  throw new Error('expected a SecretError, but it opened');
}

/** Runs `fn`, expects a SecretError with `code`, and returns it. */
function secretError(fn: () => unknown, code: SecretErrorCode): SecretError {
  const error = catchSecretError(fn);
  expect(error.code).toBe(code);
  return error;
}

/** Flips one bit of the decoded part `index` (2 iv, 3 tag, 4 ct) of a sealed value. */
function flipBit(value: string, index: number): string {
  const parts = value.split(':');
  const bytes = Buffer.from(parts[index] as string, 'base64url');
  bytes[0] = (bytes[0] as number) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join(':');
}

describe('account secrets', () => {
  const k1 = key();
  const keys = keysOf(['k1', k1]);
  const id = randomUUID();
  const imap = canary();
  const smtp = canary();
  const sealed = createAccountSecrets(keys, id, { imap, smtp });

  it('round-trip, with smtp falling back to imap when none is stored', () => {
    expect(openAccountSecrets(keys, id, sealed)).toEqual({ imap, smtp });
    const imapOnly = createAccountSecrets(keys, id, { imap, smtp: null });
    expect(imapOnly.smtpSecret).toBeNull();
    expect(openAccountSecrets(keys, id, imapOnly)).toEqual({ imap, smtp: imap });
    expect(openAccountSecrets(keys, id, createAccountSecrets(keys, id, { imap: '', smtp: 'pässwörd 🔑' }))).toEqual({ imap: '', smtp: 'pässwörd 🔑' });
  });

  it('store v1:<kid>:<iv>:<tag>:<ct>, with the KEK id on the DEK and "dek" on each secret', () => {
    for (const value of [sealed.wrappedDek, sealed.imapSecret, sealed.smtpSecret]) {
      expect(value).toMatch(FORMAT);
    }
    expect(sealed.wrappedDek.split(':')[1]).toBe('k1');
    expect(sealed.imapSecret.split(':')[1]).toBe('dek');
    expect(sealed.smtpSecret?.split(':')[1]).toBe('dek');
  });

  it('use a fresh IV (and DEK) every time, so equal values never look equal', () => {
    const again = createAccountSecrets(keys, id, { imap, smtp });
    expect(again.imapSecret).not.toBe(sealed.imapSecret);
    expect(again.wrappedDek).not.toBe(sealed.wrappedDek);
    const one = sealAccountSecret(keys, id, sealed.wrappedDek, 'imap_secret', imap);
    const two = sealAccountSecret(keys, id, sealed.wrappedDek, 'imap_secret', imap);
    expect(one).not.toBe(two);
    expect(one.split(':')[2]).not.toBe(two.split(':')[2]);
  });

  it('seal one replacement credential under the existing DEK', () => {
    const next = canary();
    const smtpSecret = sealAccountSecret(keys, id, sealed.wrappedDek, 'smtp_secret', next);
    expect(openAccountSecrets(keys, id, { ...sealed, smtpSecret })).toEqual({ imap, smtp: next });
  });

  it('copied to another account fail authentication', () => {
    const other = randomUUID();
    secretError(() => openAccountSecrets(keys, other, sealed), SECRET_ERROR_CODES.authFailed);
    // Even the other account's own, valid DEK cannot open them.
    const theirs = createAccountSecrets(keys, other, { imap: canary(), smtp: null });
    secretError(() => openAccountSecrets(keys, other, { ...theirs, imapSecret: sealed.imapSecret }), SECRET_ERROR_CODES.authFailed);
  });

  it('swapped between the imap and smtp columns fail authentication', () => {
    const swapped: SealedAccountSecrets = { ...sealed, imapSecret: sealed.smtpSecret as string, smtpSecret: sealed.imapSecret };
    secretError(() => openAccountSecrets(keys, id, swapped), SECRET_ERROR_CODES.authFailed);
  });

  it.each([
    ['iv', 2],
    ['tag', 3],
    ['ciphertext', 4],
  ])('fail authentication when one bit of the %s flips', (_part, index) => {
    secretError(() => openAccountSecrets(keys, id, { ...sealed, imapSecret: flipBit(sealed.imapSecret, index) }), SECRET_ERROR_CODES.authFailed);
    secretError(() => openAccountSecrets(keys, id, { ...sealed, wrappedDek: flipBit(sealed.wrappedDek, index) }), SECRET_ERROR_CODES.authFailed);
  });

  it('fail with secret_unknown_key when the KEK is not in the keyring', () => {
    const error = secretError(() => openAccountSecrets(keysOf(['k9', key()]), id, sealed), SECRET_ERROR_CODES.unknownKey);
    expect(error.message).toContain('"k1"');
    const relabelled = sealed.wrappedDek.replace(/^v1:k1:/, 'v1:k7:');
    secretError(() => openAccountSecrets(keys, id, { ...sealed, wrappedDek: relabelled }), SECRET_ERROR_CODES.unknownKey);
    // A secret must be sealed with the DEK; one naming a KEK is refused, not tried.
    secretError(() => openAccountSecrets(keys, id, { ...sealed, imapSecret: sealed.wrappedDek }), SECRET_ERROR_CODES.unknownKey);
  });

  const [, , iv, tag, ct] = sealed.imapSecret.split(':') as string[];
  it.each([
    ['empty', ''],
    ['plaintext', 'hunter2'],
    ['v2 prefix', `v2:dek:${iv}:${tag}:${ct}`],
    ['missing part', `v1:dek:${iv}:${tag}`],
    ['extra part', `v1:dek:${iv}:${tag}:${ct}:x`],
    ['empty kid', `v1::${iv}:${tag}:${ct}`],
    ['kid with a dot', `v1:k.1:${iv}:${tag}:${ct}`],
    ['padded base64', `v1:dek:${iv}==:${tag}:${ct}`],
    ['standard base64 characters', `v1:dek:${iv}:${tag}:${ct}+/`],
    ['non-canonical trailing bits', `v1:dek:${iv}:${(tag as string).slice(0, -1)}B:${ct}`],
    ['short iv', `v1:dek:${(iv as string).slice(4)}:${tag}:${ct}`],
    ['short tag', `v1:dek:${iv}:${(tag as string).slice(0, 16)}:${ct}`],
    ['whitespace', ` ${sealed.imapSecret}`],
  ])('fail with secret_malformed when %s', (_name, value) => {
    secretError(() => openAccountSecrets(keys, id, { ...sealed, imapSecret: value }), SECRET_ERROR_CODES.malformed);
  });

  it('never put plaintext or key material in error messages', () => {
    const attempts = [
      () => openAccountSecrets(keys, randomUUID(), sealed),
      () => openAccountSecrets(keys, id, { ...sealed, imapSecret: flipBit(sealed.imapSecret, 4) }),
      () => openAccountSecrets(keysOf(['k9', key()]), id, sealed),
      () => openAccountSecrets(keys, id, { ...sealed, imapSecret: imap }),
      () => open(seal(k1, 'k1', Buffer.from(imap), 'a'), () => k1, 'b'),
    ];
    const forbidden = [imap, smtp, Buffer.from(k1).toString('base64'), Buffer.from(k1).toString('base64url'), Buffer.from(k1).toString('hex')];
    for (const attempt of attempts) {
      const error = catchSecretError(attempt);
      for (const secret of forbidden) {
        expect(error.message).not.toContain(secret);
        expect(String(error.stack)).not.toContain(secret);
      }
    }
  });
});

describe('re-wrapping a DEK to a new KEK', () => {
  const k1 = key();
  const k2 = key();
  const id = randomUUID();
  const imap = canary();
  const sealed = createAccountSecrets(keysOf(['k1', k1]), id, { imap, smtp: null });
  const both = keysOf(['k1', k1], ['k2', k2]);
  const wrappedDek = rewrapDek(both, id, sealed.wrappedDek);
  const rewrapped = { ...sealed, wrappedDek };

  it('names the new KEK and keeps the credentials openable with both keys', () => {
    expect(wrappedDek.split(':')[1]).toBe('k2');
    expect(openAccountSecrets(both, id, rewrapped).imap).toBe(imap);
    expect(openAccountSecrets(both, id, sealed).imap).toBe(imap);
  });

  it('needs only the new key afterwards, and the old key alone no longer opens it', () => {
    expect(openAccountSecrets(keysOf(['k2', k2]), id, rewrapped).imap).toBe(imap);
    secretError(() => openAccountSecrets(keysOf(['k1', k1]), id, rewrapped), SECRET_ERROR_CODES.unknownKey);
  });

  it('is a no-op when already wrapped with the active key', () => {
    expect(rewrapDek(both, id, wrappedDek)).toBe(wrappedDek);
  });

  it('refuses to re-wrap under another account id', () => {
    secretError(() => rewrapDek(both, randomUUID(), sealed.wrappedDek), SECRET_ERROR_CODES.authFailed);
  });
});

describe('keyring file', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-keyring-'));
    dirs.push(dir);
    return dir;
  };
  const fileConfig = (dataDir: string): KeyringConfig => ({ mailKeks: null, mailKekActive: null, messageIdKey: null, dataDir });
  const warnings = () => {
    const seen: { obj: object; msg: string }[] = [];
    return { seen, log: { warn: (obj: object, msg: string) => void seen.push({ obj, msg }) } };
  };
  const modeOf = (path: string) => statSync(path).mode & 0o777;

  afterEach(() => {
    for (const dir of dirs.splice(0)) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is created 0600 (in a new directory) on first load and gives the same keys when loaded again', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = await loadKeyring(fileConfig(dataDir));
    expect(modeOf(keyringPath(dataDir))).toBe(0o600);
    expect(first.source).toBe('file');
    expect(first.active.kid).toBe('k1');
    expect(first.active.key).toHaveLength(32);
    expect(first.messageIdKey).toHaveLength(32);
    const json = JSON.parse(readFileSync(keyringPath(dataDir), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ version: 1, active: 'k1', keks: [{ kid: 'k1' }] });
    const second = await loadKeyring(fileConfig(dataDir));
    expect(second.active).toEqual(first.active);
    expect(second.messageIdKey).toEqual(first.messageIdKey);
  });

  it('is created once when two processes start together', async () => {
    const dataDir = tempDir();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => loadKeyring(fileConfig(dataDir))));
    expect(b?.active.key).toEqual(a?.active.key);
    expect(c?.messageIdKey).toEqual(a?.messageIdKey);
  });

  it('is repaired to 0600 with a warning when it was readable by others', async () => {
    const dataDir = tempDir();
    const first = await loadKeyring(fileConfig(dataDir));
    chmodSync(keyringPath(dataDir), 0o644);
    const { seen, log } = warnings();
    const again = await loadKeyring(fileConfig(dataDir), log);
    expect(modeOf(keyringPath(dataDir))).toBe(0o600);
    expect(again.active.key).toEqual(first.active.key);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.obj).toMatchObject({ mode: '0644' });
    await loadKeyring(fileConfig(dataDir), log);
    expect(seen).toHaveLength(1);
  });

  it('addKek adds a new active key and keeps the old one for decryption', async () => {
    const dataDir = tempDir();
    const before = await loadKeyring(fileConfig(dataDir));
    expect(await addKek(dataDir)).toBe('k2');
    const after = await loadKeyring(fileConfig(dataDir));
    expect(after.active.kid).toBe('k2');
    expect(after.active.key).not.toEqual(before.active.key);
    expect(after.keks.get('k1')).toEqual(before.active.key);
    expect(after.messageIdKey).toEqual(before.messageIdKey);
    expect(modeOf(keyringPath(dataDir))).toBe(0o600);
    expect(await addKek(dataDir)).toBe('k3');
    expect((await loadKeyring(fileConfig(dataDir))).keks.size).toBe(3);
  });

  it('addKek refuses when there is no keyring file', async () => {
    await expect(addKek(tempDir())).rejects.toThrow(KeyringError);
  });

  it('with MAIL_KEKS set, stores only the Message-ID key, and MAIL_KEKS alone does not make it usable later', async () => {
    const dataDir = tempDir();
    const envKek = key();
    const config: KeyringConfig = { mailKeks: [{ kid: 'env1', key: envKek }], mailKekActive: 'env1', messageIdKey: null, dataDir };
    const first = await loadKeyring(config);
    expect(first).toMatchObject({ source: 'env', active: { kid: 'env1', key: envKek } });
    expect(modeOf(keyringPath(dataDir))).toBe(0o600);
    expect(JSON.parse(readFileSync(keyringPath(dataDir), 'utf8'))).toMatchObject({ keks: [], active: null });
    expect((await loadKeyring(config)).messageIdKey).toEqual(first.messageIdKey);
    await expect(loadKeyring(fileConfig(dataDir))).rejects.toThrow(/holds no KEKs/);
    await expect(addKek(dataDir)).rejects.toThrow(/MAIL_KEKS/);
  });

  it('with every key in the environment, touches no file', async () => {
    const dataDir = join(tempDir(), 'absent');
    const keyring = await loadKeyring({ mailKeks: [{ kid: 'a', key: key() }, { kid: 'b', key: key() }], mailKekActive: 'a', messageIdKey: key(), dataDir });
    expect(keyring.active.kid).toBe('a');
    expect(keyring.keks.size).toBe(2);
    expect(() => statSync(dataDir)).toThrow();
  });

  it('refuses the reserved kid "dek"', async () => {
    await expect(loadKeyring({ mailKeks: [{ kid: 'dek', key: key() }], mailKekActive: 'dek', messageIdKey: key(), dataDir: tempDir() })).rejects.toThrow(/reserved/);
  });

  it('refuses a corrupt file without quoting it', async () => {
    const dataDir = tempDir();
    const secret = Buffer.from(key()).toString('base64');
    writeFileSync(keyringPath(dataDir), `{"version":1,"keks":[{"kid":"k1","key":"${secret}"}],`, { mode: 0o600 });
    const error = await loadKeyring(fileConfig(dataDir)).then(
      () => new Error('expected the corrupt file to be refused'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(KeyringError);
    expect(error.message).not.toContain(secret);
    writeFileSync(keyringPath(dataDir), JSON.stringify({ version: 1, keks: [{ kid: 'k1', key: secret }], active: 'k2', messageIdKey: secret }));
    await expect(loadKeyring(fileConfig(dataDir))).rejects.toThrow(/"active" must be one of/);
  });
});

/**
 * @module server/secrets/keyring
 * Where the keys come from. KEKs (which wrap each mailbox's data key) come
 * from MAIL_KEKS when set; otherwise from `<dataDir>/keyring.json`, created on
 * first run so a single-box install works with no key ceremony. The same file
 * holds the Message-ID signing key when MESSAGE_ID_KEY is unset: a key we
 * derived or regenerated per boot would silently break reply threading.
 *
 * The file is written 0600 through a temp file (a crash never leaves half a
 * keyring) and created with link(), which fails if another process won the
 * race: two processes booting at once must not each seal with their own key.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../env';
import { DEK_KID, KEY_BYTES, KID_PATTERN } from './envelope';

/** Where a keyring's KEKs came from. */
export const KEYRING_SOURCES = { env: 'env', file: 'file' } as const;
export type KeyringSource = (typeof KEYRING_SOURCES)[keyof typeof KEYRING_SOURCES];

/** Every key the process holds. Old KEKs stay in `keks` to open values wrapped before a rotation. */
export interface Keyring {
  /** The KEK that wraps new and re-wrapped data keys. */
  active: { kid: string; key: Uint8Array };
  keks: Map<string, Uint8Array>;
  messageIdKey: Uint8Array;
  source: KeyringSource;
}

export type KeyringConfig = Pick<Config, 'mailKeks' | 'mailKekActive' | 'messageIdKey' | 'dataDir'>;

/** The part of a pino logger the keyring uses. */
export interface KeyringLog {
  warn(obj: object, msg: string): void;
}

/** A keyring that cannot be used; the message names files and key ids, never keys. */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

/** File name of the keyring inside the data directory. */
export const KEYRING_FILE = 'keyring.json';
const FILE_MODE = 0o600;

interface Kek {
  kid: string;
  key: Uint8Array;
}

/** The decoded file. `keks` is empty when it was created only for the Message-ID key. */
interface KeyringFile {
  keks: Kek[];
  active: string | null;
  messageIdKey: Uint8Array;
}

const base64Key = z
  .string()
  .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === KEY_BYTES, {
    message: `must be ${KEY_BYTES} bytes in base64`,
  });

const FileSchema = z.object({
  version: z.literal(1),
  keks: z.array(z.object({ kid: z.string().regex(KID_PATTERN, 'must be a key id'), key: base64Key })),
  active: z.string().nullable(),
  messageIdKey: base64Key,
});

/**
 * Path of the keyring file.
 * @param dataDir the data directory.
 * @returns `<dataDir>/keyring.json`.
 */
export function keyringPath(dataDir: string): string {
  return join(dataDir, KEYRING_FILE);
}

const randomKey = (): Uint8Array => new Uint8Array(randomBytes(KEY_BYTES));
const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));
const toBase64 = (key: Uint8Array): string => Buffer.from(key).toString('base64');

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

function parseFile(text: string, path: string): KeyringFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // V8's JSON errors quote the input, which here is key material.
    throw new KeyringError(`${path} is not valid JSON`);
  }
  const parsed = FileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`);
    throw new KeyringError(`${path} is invalid: ${problems.join('; ')}`);
  }
  const { keks, active, messageIdKey } = parsed.data;
  const file = { keks: keks.map((k) => ({ kid: k.kid, key: fromBase64(k.key) })), active, messageIdKey: fromBase64(messageIdKey) };
  checkKeks(file.keks, path);
  if (file.keks.length > 0 && !file.keks.some((k) => k.kid === active)) {
    throw new KeyringError(`${path}: "active" must be one of its key ids`);
  }
  return file;
}

function serialize({ keks, active, messageIdKey }: KeyringFile): string {
  const json = { version: 1, keks: keks.map((k) => ({ kid: k.kid, key: toBase64(k.key) })), active, messageIdKey: toBase64(messageIdKey) };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Rejects duplicate ids and the id reserved for data-key-sealed values. */
function checkKeks(keks: readonly Kek[], where: string): void {
  const seen = new Set<string>();
  for (const { kid, key } of keks) {
    if (kid === DEK_KID) {
      throw new KeyringError(`${where}: key id "${DEK_KID}" is reserved; rename that key`);
    }
    if (seen.has(kid)) {
      throw new KeyringError(`${where}: key id "${kid}" appears twice`);
    }
    if (key.length !== KEY_BYTES) {
      throw new KeyringError(`${where}: key "${kid}" must be ${KEY_BYTES} bytes`);
    }
    seen.add(kid);
  }
}

/** Reads the file, tightening its mode first; null when it does not exist. */
async function readKeyringFile(path: string, log?: KeyringLog): Promise<KeyringFile | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      return null;
    }
    throw error;
  }
  try {
    // Check and repair through the open descriptor so the file we fix is the file we read.
    const mode = (await handle.stat()).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      await handle.chmod(FILE_MODE).catch(() => {
        throw new KeyringError(`${path} is readable by others (mode 0${mode.toString(8)}) and could not be changed; chmod 600 it`);
      });
      log?.warn({ path, mode: `0${mode.toString(8)}` }, 'keyring file was readable by other users; tightened to 0600');
    }
    return parseFile(await handle.readFile('utf8'), path);
  } finally {
    await handle.close();
  }
}

/** Writes a complete 0600 temp file beside `path` and returns its name. */
async function writeTemp(path: string, file: KeyringFile): Promise<string> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    // The umask can only remove bits; pin exactly 0600 so the owner can always read it back.
    await handle.chmod(FILE_MODE);
    await handle.writeFile(serialize(file), 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/** Makes the rename or link itself durable, not just the file's bytes. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  await handle.sync().finally(() => handle.close());
}

/** Puts `file` at `path`: only if absent (`exclusive`), else replacing it. @returns false when exclusive and it already existed. */
async function install(dataDir: string, file: KeyringFile, exclusive: boolean): Promise<boolean> {
  const path = keyringPath(dataDir);
  const temp = await writeTemp(path, file);
  try {
    if (exclusive) {
      await link(temp, path);
    } else {
      await rename(temp, path);
    }
  } catch (error) {
    if (exclusive && isErrno(error, 'EEXIST')) {
      return false;
    }
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
  await syncDir(dataDir);
  return true;
}

/** Reads the keyring file, creating it (with a first KEK when `withKek`) if absent. */
async function ensureFile(dataDir: string, withKek: boolean, log?: KeyringLog): Promise<KeyringFile> {
  const path = keyringPath(dataDir);
  const existing = await readKeyringFile(path, log);
  if (existing) {
    return existing;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const keks = withKek ? [{ kid: 'k1', key: randomKey() }] : [];
  const fresh: KeyringFile = { keks, active: keks[0]?.kid ?? null, messageIdKey: randomKey() };
  if (await install(dataDir, fresh, true)) {
    return fresh;
  }
  // Another process created it first: use its keys, not ours.
  const winner = await readKeyringFile(path, log);
  if (!winner) {
    throw new KeyringError(`${path} vanished while it was being created`);
  }
  return winner;
}

function toKeyring(keks: readonly Kek[], activeKid: string, messageIdKey: Uint8Array, source: KeyringSource): Keyring {
  const map = new Map(keks.map((k) => [k.kid, k.key]));
  const key = map.get(activeKid);
  if (!key) {
    throw new KeyringError(`Active key "${activeKid}" is not in the keyring`);
  }
  if (messageIdKey.length !== KEY_BYTES) {
    throw new KeyringError(`The Message-ID key must be ${KEY_BYTES} bytes`);
  }
  return { active: { kid: activeKid, key }, keks: map, messageIdKey, source };
}

async function loadFromEnv(config: KeyringConfig, keks: Kek[], log?: KeyringLog): Promise<Keyring> {
  checkKeks(keks, 'MAIL_KEKS');
  const activeKid = config.mailKekActive ?? (keks.at(-1) as Kek).kid;
  if (config.messageIdKey) {
    return toKeyring(keks, activeKid, config.messageIdKey, KEYRING_SOURCES.env);
  }
  const file = await ensureFile(config.dataDir, false, log);
  const stray = file.keks.filter((k) => !keks.some((e) => e.kid === k.kid)).map((k) => k.kid);
  if (stray.length > 0) {
    log?.warn({ path: keyringPath(config.dataDir), kids: stray }, 'keyring file holds KEKs missing from MAIL_KEKS; mailboxes wrapped with them cannot be opened until they are added');
  }
  return toKeyring(keks, activeKid, file.messageIdKey, KEYRING_SOURCES.env);
}

/**
 * Loads the keyring: KEKs from config when set, else from (a newly created) keyring file.
 * @param config key settings from {@link Config}.
 * @param log receives a warning when the file's mode had to be tightened.
 * @returns the keys this process may use.
 * @throws {KeyringError} when the file is unreadable as a keyring, holds no KEK while MAIL_KEKS is unset,
 *   or a key id is duplicated, reserved or not present.
 */
export async function loadKeyring(config: KeyringConfig, log?: KeyringLog): Promise<Keyring> {
  if (config.mailKeks && config.mailKeks.length > 0) {
    return loadFromEnv(config, config.mailKeks, log);
  }
  const file = await ensureFile(config.dataDir, true, log);
  if (file.keks.length === 0 || !file.active) {
    throw new KeyringError(
      `${keyringPath(config.dataDir)} holds no KEKs (it was created while MAIL_KEKS was set): set MAIL_KEKS again`,
    );
  }
  return toKeyring(file.keks, file.active, config.messageIdKey ?? file.messageIdKey, KEYRING_SOURCES.file);
}

function nextKid(keks: readonly Kek[]): string {
  const taken = new Set(keks.map((k) => k.kid));
  let n = Math.max(0, ...keks.map((k) => Number(/^k(\d+)$/.exec(k.kid)?.[1] ?? 0))) + 1;
  while (taken.has(`k${n}`)) {
    n += 1;
  }
  return `k${n}`;
}

/**
 * Adds a fresh KEK to the keyring file and makes it active; earlier KEKs stay, decrypt-only.
 * Serialised by a lock file so two rotations cannot drop each other's key.
 * @param dataDir the data directory holding `keyring.json`.
 * @param log receives a warning when the file's mode had to be tightened.
 * @returns the new key id.
 * @throws {KeyringError} when there is no keyring file, it holds no KEKs (MAIL_KEKS mode), or another rotation holds the lock.
 */
export async function addKek(dataDir: string, log?: KeyringLog): Promise<string> {
  const path = keyringPath(dataDir);
  const lockPath = `${path}.lock`;
  const lock = await open(lockPath, 'wx', FILE_MODE).catch((error: unknown) => {
    throw isErrno(error, 'EEXIST')
      ? new KeyringError(`${lockPath} exists: another rotation is running (delete the file if none is)`)
      : error;
  });
  try {
    const file = await readKeyringFile(path, log);
    if (!file) {
      throw new KeyringError(`No keyring at ${path}: start Shoal once to create it, or check DATA_DIR`);
    }
    if (file.keks.length === 0) {
      throw new KeyringError(`${path} holds no KEKs: keys come from MAIL_KEKS, so add the new key there`);
    }
    const kid = nextKid(file.keks);
    await install(dataDir, { ...file, keks: [...file.keks, { kid, key: randomKey() }], active: kid }, false);
    return kid;
  } finally {
    await lock.close();
    await unlink(lockPath).catch(() => {});
  }
}

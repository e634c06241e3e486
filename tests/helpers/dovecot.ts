/**
 * @module tests/helpers/dovecot
 * A throwaway Debian Dovecot 2.3 on a free loopback port, with its config,
 * Maildirs and logs in a fresh temp dir, plus `doveadm` shortcuts to seed
 * and mutate mailboxes behind the client's back (the recipe is in
 * shared/research/email.md §3).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { prerequisite } from './prereq';

export const DOVECOT_BIN = '/usr/sbin/dovecot';
export const DOVEADM_BIN = '/usr/bin/doveadm';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 25;

/** The folders every user gets, auto-created and subscribed, with their RFC 6154 attribute. */
export const SPECIAL_FOLDERS = {
  Sent: '\\Sent',
  Drafts: '\\Drafts',
  Trash: '\\Trash',
  Junk: '\\Junk',
  Archive: '\\Archive',
} as const;

export interface MailUser {
  name: string;
  password: string;
}

export interface MailboxStatus {
  messages: number;
  uidnext: number;
  uidvalidity: number;
  highestmodseq: number;
}

export interface Dovecot {
  host: typeof HOST;
  port: number;
  /** The temp dir holding config, Maildirs, logs and runtime sockets; removed by stop(). */
  dir: string;
  users: readonly MailUser[];
  /** Runs `doveadm -c <conf> …args`; resolves with stdout, rejects with stderr on a non-zero exit. */
  doveadm(args: string[], input?: Buffer | string): Promise<string>;
  /** Delivers one raw message with `doveadm save`, optionally flags it, and resolves with its UID. */
  save(user: string, mailbox: string, raw: Buffer | string, flags?: string[]): Promise<number>;
  /** Bulk-loads raw messages by writing Maildir files directly; UIDs follow the array order. */
  prefill(user: string, mailbox: string, raws: readonly Buffer[]): Promise<void>;
  status(user: string, mailbox: string): Promise<MailboxStatus>;
  /** Forces a new UIDVALIDITY (default: current + 1) and resolves with it. */
  resetUidValidity(user: string, mailbox: string, value?: number): Promise<number>;
  expunge(user: string, mailbox: string, uid: number): Promise<void>;
  move(user: string, fromMailbox: string, toMailbox: string, uid: number): Promise<void>;
  setFlag(user: string, mailbox: string, uid: number, flag: string, on: boolean): Promise<void>;
  listUids(user: string, mailbox: string): Promise<number[]>;
  /** Dovecot's own `UID THREAD REFERENCES` answer: one flat UID list per thread, in server order. */
  threadReferences(user: string, mailbox: string): Promise<number[][]>;
  stop(): Promise<void>;
}

export interface DovecotOptions {
  users?: MailUser[];
}

const DEFAULT_USERS: readonly MailUser[] = [
  { name: 'alice', password: 'alice-pw' },
  { name: 'bob', password: 'bob-pw' },
];

/** Whether the Dovecot tier can run here (fails under CI when Dovecot is missing). */
export function dovecotAvailable(): boolean {
  return prerequisite(
    'Dovecot tier',
    existsSync(DOVECOT_BIN) ? null : `${DOVECOT_BIN} not found (apt-get install dovecot-imapd)`,
  );
}

interface RunUser {
  /** True when running as root, so files we write must be handed to the run user. */
  handOver: boolean;
  user: string;
  group: string;
  uid: number;
  gid: number;
}

/** Looks a name up in an /etc/passwd-style file and returns its numeric id (third field). */
function lookupId(file: string, name: string): number {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined) {
      return Number(fields[2]);
    }
  }
  throw new Error(`${name} not found in ${file}`);
}

/** Looks a numeric gid up in /etc/group and returns its name. */
function groupName(gid: number): string {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[2] === String(gid) && fields[0]) {
      return fields[0];
    }
  }
  return String(gid);
}

/** As root, Dovecot's processes and mail files belong to nobody; otherwise to whoever runs the tests. */
function runUser(): RunUser {
  if (process.getuid?.() === 0) {
    const uid = lookupId('/etc/passwd', 'nobody');
    const gid = lookupId('/etc/group', 'nogroup');
    return { handOver: true, user: 'nobody', group: 'nogroup', uid, gid };
  }
  const me = userInfo();
  return { handOver: false, user: me.username, group: groupName(me.gid), uid: me.uid, gid: me.gid };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Spawns a command, feeds it stdin, and rejects with its stderr on a non-zero exit. */
function run(command: string, args: string[], input?: Buffer | string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const result = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (code === 0) {
        resolve(result);
      } else {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${result.stderr.trim() || result.stdout.trim()}`));
      }
    });
    // A command that exits before reading stdin would otherwise surface as an unhandled EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The passwd-file and IMAP quoting stay trivial when names and passwords are plain tokens. */
function assertSafe(user: MailUser): void {
  if (!/^[A-Za-z0-9._@-]+$/.test(user.name) || !/^[^:\s"\\]+$/.test(user.password)) {
    throw new Error(
      `Unusable Dovecot test user ${JSON.stringify(user.name)}: names are [A-Za-z0-9._@-]; passwords non-empty, without ':', '"', '\\' or spaces`,
    );
  }
}

function specialFolderBlocks(): string {
  return Object.entries(SPECIAL_FOLDERS)
    .map(([name, use]) => `  mailbox ${name} {\n    special_use = ${use}\n    auto = subscribe\n  }`)
    .join('\n');
}

/** Dovecot rejects one-line `{ … }` blocks, so every block is spelled out over several lines. */
function configText(dir: string, port: number, who: RunUser): string {
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = dovecot-${dir.split('/').pop() ?? 'test'}
log_path = ${dir}/log/dovecot.log
protocols = imap
listen = ${HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = ${who.user}
default_internal_group = ${who.group}
default_login_user = ${who.user}
mail_uid = ${who.uid}
mail_gid = ${who.gid}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:${dir}/mail/%u/Maildir
# Throwaway data: durability only slows the tests down.
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = home=${dir}/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = ${HOST}
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
protocol imap {
  # Sync workers, watchers and tests open many sessions from one address.
  mail_max_userip_connections = 100
}
namespace inbox {
  inbox = yes
  separator = /
${specialFolderBlocks()}
}
`;
}

/** Resolves once something accepts on the port, or rejects after the timeout. */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await accepts(port)) {
      return;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`nothing accepted on ${HOST}:${port} within ${timeoutMs} ms`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function logTail(dir: string, file: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(join(dir, 'log', file), 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

/**
 * Runs `dovecot -c conf`, which forks its master and returns. The daemon
 * inherits stdio, so pipes would never close: its output goes to a file.
 */
function spawnMaster(dir: string, conf: string): Promise<void> {
  const out = openSync(join(dir, 'log', 'startup.log'), 'a');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(DOVECOT_BIN, ['-c', conf], { stdio: ['ignore', out, out] });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) {
        resolve();
      } else {
        reject(new Error(`${DOVECOT_BIN} exited ${code}`));
      }
    });
  }).finally(() => closeSync(out));
}

/** Whether a pid is still a live process; a zombie left for a non-reaping init counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Instances not yet stopped, so a worker that exits without afterAll still takes its Dovecots along. */
const running = new Set<string>();

function killLeftovers(): void {
  for (const dir of running) {
    try {
      process.kill(Number(readFileSync(join(dir, 'run', 'master.pid'), 'utf8').trim()), 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

process.once('exit', killLeftovers);

async function stopMaster(dir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(dir, 'run', 'master.pid'), 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid) && Date.now() < deadline) {
    await sleep(POLL_MS);
  }
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
  }
}

/** Maildir++ keeps INBOX at Maildir/ and folder `A/B` at Maildir/.A.B/. */
function maildirPath(dir: string, user: string, mailbox: string): string {
  const root = join(dir, 'mail', user, 'Maildir');
  if (mailbox.toUpperCase() === 'INBOX') {
    return root;
  }
  return join(root, `.${mailbox.split('/').join('.')}`);
}

/** Creates dirs one by one so each new level can be handed to the run user. */
async function mkdirOwned(path: string, from: string, who: RunUser): Promise<void> {
  const parts = path.slice(from.length).split('/').filter(Boolean);
  let current = from;
  for (const part of parts) {
    current = join(current, part);
    await mkdir(current, { recursive: true });
    if (who.handOver) {
      await chown(current, who.uid, who.gid);
    }
  }
}

const PREFILL_BATCH = 256;
/** Process-wide, so two prefills within the same second never produce the same file name. */
let prefillSerial = 0;

/**
 * Writes each message into tmp/ and renames it into cur/, as Maildir delivery
 * does, so a concurrently syncing Dovecot never sees a half-written file.
 * Dovecot 2.3 numbers new files by the name's seconds, then its `M<n>`
 * number, so a fixed second plus a rising serial keeps UIDs in array order.
 */
async function writeMaildir(path: string, raws: readonly Buffer[], who: RunUser): Promise<void> {
  const stamp = Math.floor(Date.now() / 1000);
  const host = hostname().replace(/[/:]/g, '_');
  const names = raws.map((raw) => {
    prefillSerial += 1;
    return `${stamp}.M${prefillSerial}P${process.pid}.${host},S=${raw.length}`;
  });
  for (let start = 0; start < raws.length; start += PREFILL_BATCH) {
    await Promise.all(
      raws.slice(start, start + PREFILL_BATCH).map(async (raw, offset) => {
        const base = names[start + offset] ?? '';
        const tmp = join(path, 'tmp', base);
        await writeFile(tmp, raw);
        if (who.handOver) {
          await chown(tmp, who.uid, who.gid);
        }
        await rename(tmp, join(path, 'cur', `${base}:2,`));
      }),
    );
  }
}

function parseStatus(output: string): MailboxStatus {
  const values = new Map<string, number>();
  for (const match of output.matchAll(/(\w+)=(\d+)/g)) {
    values.set(match[1] ?? '', Number(match[2]));
  }
  const pick = (key: string): number => {
    const value = values.get(key);
    if (value === undefined) {
      throw new Error(`doveadm mailbox status gave no ${key}: ${output.trim()}`);
    }
    return value;
  };
  return { messages: pick('messages'), uidnext: pick('uidnext'), uidvalidity: pick('uidvalidity'), highestmodseq: pick('highestmodseq') };
}

/** `doveadm search` prints "<mailbox-guid> <uid>" per message. */
function parseSearch(output: string): number[] {
  return output
    .split('\n')
    .map((line) => Number(line.trim().split(/\s+/)[1]))
    .filter((uid) => Number.isInteger(uid) && uid > 0);
}

/** Splits a THREAD response body into threads, each the flat list of its UIDs. */
export function parseThreadResponse(body: string): number[][] {
  const threads: number[][] = [];
  let depth = 0;
  let current: number[] = [];
  for (const token of body.match(/\(|\)|\d+/g) ?? []) {
    if (token === '(') {
      depth += 1;
    } else if (token === ')') {
      depth -= 1;
      if (depth === 0) {
        threads.push(current);
        current = [];
      }
    } else if (depth > 0) {
      current.push(Number(token));
    }
  }
  return threads;
}

function imapQuote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A bare line-based IMAP session: enough for LOGIN/SELECT/THREAD/LOGOUT,
 * none of which answer with literals against Dovecot.
 */
class RawImap {
  private buffer = '';
  private lines: string[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  private tag = 0;

  private constructor(private readonly socket: ReturnType<typeof connect>) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('IMAP connection closed')));
  }

  static async open(port: number): Promise<RawImap> {
    const socket = connect({ host: HOST, port });
    const session = new RawImap(socket);
    await session.nextLine();
    return session;
  }

  /** Sends a command and resolves with its untagged lines; rejects unless tagged OK. */
  async command(text: string): Promise<string[]> {
    this.tag += 1;
    const tag = `a${this.tag}`;
    this.socket.write(`${tag} ${text}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const line = await this.nextLine();
      if (line.startsWith(`${tag} `)) {
        if (!line.startsWith(`${tag} OK`)) {
          throw new Error(`IMAP ${text.split(' ')[0]} failed: ${line}`);
        }
        return untagged;
      }
      untagged.push(line);
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf('\r\n');
    while (end >= 0) {
      this.lines.push(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end + 2);
      end = this.buffer.indexOf('\r\n');
    }
    this.wake();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  private async nextLine(): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        return line;
      }
      if (this.failure) {
        throw this.failure;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }
}

async function threadOverImap(port: number, user: MailUser, mailbox: string): Promise<number[][]> {
  const session = await RawImap.open(port);
  try {
    await session.command(`LOGIN ${imapQuote(user.name)} ${imapQuote(user.password)}`);
    await session.command(`SELECT ${imapQuote(mailbox)}`);
    const untagged = await session.command('UID THREAD REFERENCES UTF-8 ALL');
    await session.command('LOGOUT');
    const line = untagged.find((l) => l.startsWith('* THREAD'));
    return parseThreadResponse(line?.slice('* THREAD'.length) ?? '');
  } finally {
    session.close();
  }
}

interface Instance {
  dir: string;
  conf: string;
  port: number;
  who: RunUser;
  users: readonly MailUser[];
}

async function launch(users: readonly MailUser[]): Promise<Instance> {
  const who = runUser();
  const dir = await mkdtemp(join(tmpdir(), 'shoal-dovecot-'));
  const port = await freePort();
  const conf = join(dir, 'dovecot.conf');
  for (const sub of ['run', 'state', 'mail', 'log']) {
    await mkdir(join(dir, sub));
  }
  await writeFile(join(dir, 'users'), users.map((u) => `${u.name}:{PLAIN}${u.password}\n`).join(''));
  await writeFile(conf, configText(dir, port, who));
  if (who.handOver) {
    await run('chown', ['-R', `${who.uid}:${who.gid}`, dir]);
  }
  try {
    running.add(dir);
    await spawnMaster(dir, conf);
    await waitForPort(port, START_TIMEOUT_MS);
  } catch (error) {
    running.delete(dir);
    const tail = `${await logTail(dir, 'startup.log')}\n${await logTail(dir, 'dovecot.log')}`;
    await stopMaster(dir);
    await rm(dir, { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Dovecot did not start: ${reason}\n--- log tail ---\n${tail}`, { cause: error });
  }
  return { dir, conf, port, who, users };
}

/** Starts a throwaway Dovecot with the given users (default alice/alice-pw and bob/bob-pw). */
export async function startDovecot(options: DovecotOptions = {}): Promise<Dovecot> {
  const users = options.users ?? DEFAULT_USERS;
  users.forEach(assertSafe);
  const instance = await launch(users);
  return bind(instance);
}

function bind(instance: Instance): Dovecot {
  const { dir, conf, port, who, users } = instance;
  const doveadm = async (args: string[], input?: Buffer | string): Promise<string> =>
    (await run(DOVEADM_BIN, ['-c', conf, ...args], input)).stdout;
  const status = async (user: string, mailbox: string): Promise<MailboxStatus> =>
    parseStatus(await doveadm(['mailbox', 'status', '-u', user, 'messages uidnext uidvalidity highestmodseq', mailbox]));
  const listUids = async (user: string, mailbox: string): Promise<number[]> =>
    parseSearch(await doveadm(['search', '-u', user, 'mailbox', mailbox, 'all']));
  const flags = async (user: string, mailbox: string, uid: number, names: string[], on: boolean): Promise<void> => {
    await doveadm(['flags', on ? 'add' : 'remove', '-u', user, names.join(' '), 'mailbox', mailbox, 'uid', String(uid)]);
  };
  const findUser = (name: string): MailUser => {
    const found = users.find((u) => u.name === name);
    if (!found) {
      throw new Error(`unknown Dovecot test user ${name}`);
    }
    return found;
  };

  return {
    host: HOST,
    port,
    dir,
    users,
    doveadm,
    status,
    listUids,
    async save(user, mailbox, raw, flagNames = []) {
      const before = (await status(user, mailbox)).uidnext;
      await doveadm(['save', '-u', user, '-m', mailbox], raw);
      // The newest UID at or above the old UIDNEXT is ours (tests do not race their own saves).
      const uid = Math.max(...parseSearch(await doveadm(['search', '-u', user, 'mailbox', mailbox, 'uid', `${before}:*`])));
      if (!Number.isFinite(uid) || uid < before) {
        throw new Error(`doveadm save into ${user}/${mailbox} left no new UID`);
      }
      if (flagNames.length > 0) {
        await flags(user, mailbox, uid, flagNames, true);
      }
      return uid;
    },
    async prefill(user, mailbox, raws) {
      findUser(user);
      const mailRoot = join(dir, 'mail');
      const path = maildirPath(dir, user, mailbox);
      for (const sub of ['cur', 'new', 'tmp']) {
        await mkdirOwned(join(path, sub), mailRoot, who);
      }
      await writeMaildir(path, raws, who);
    },
    async resetUidValidity(user, mailbox, value) {
      const current = (await status(user, mailbox)).uidvalidity;
      // UIDVALIDITY is a non-zero uint32.
      const next = value ?? (current >= 0xffffffff ? 1 : current + 1);
      if (next === current) {
        throw new Error(`UIDVALIDITY of ${user}/${mailbox} is already ${next}`);
      }
      await doveadm(['mailbox', 'update', '-u', user, '--uid-validity', String(next), mailbox]);
      return next;
    },
    async expunge(user, mailbox, uid) {
      await doveadm(['expunge', '-u', user, 'mailbox', mailbox, 'uid', String(uid)]);
    },
    async move(user, fromMailbox, toMailbox, uid) {
      await doveadm(['move', '-u', user, toMailbox, 'mailbox', fromMailbox, 'uid', String(uid)]);
    },
    async setFlag(user, mailbox, uid, flag, on) {
      await flags(user, mailbox, uid, [flag], on);
    },
    async threadReferences(user, mailbox) {
      return threadOverImap(port, findUser(user), mailbox);
    },
    async stop() {
      await stopMaster(dir);
      running.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

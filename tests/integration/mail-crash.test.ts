/**
 * `kill -9` during the initial sync of the full corpus. A child process
 * (tests/helpers/sync-child.ts) syncs the mailbox; the parent SIGKILLs it at
 * seeded random instants after it has made progress, starts the next one,
 * and finally lets one finish. Each child must take over the dead one's lease
 * (the advisory lock dies with its connection) and move the sync on. In the
 * end Shoal must hold exactly the mailbox: every UID once, each under the
 * message key its bytes call for, and a checkpoint that matches the server.
 * Postgres only: a file-backed PGlite cannot be shared by two processes.
 * Set SHOAL_TEST_SEED to replay a run.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../server/ingest/parse-message';
import { messageKey } from '../../server/ingest/store-messages';
import { client, createHarness, signUpAdmin } from '../helpers/app';
import { CORPUS_SIZE, loadCorpus, type CorpusMessage } from '../helpers/corpus';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { seededRandom, testSeed } from '../helpers/fault-proxy';
import { prerequisite } from '../helpers/prereq';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { waitFor, connectLoopbackAccount } from '../helpers/mail-account';

const MIN_KILLS = 12;
/** Past its progress target a child lives up to this much longer, so the kill lands at any phase of a batch. */
const MAX_KILL_JITTER_MS = 400;
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/sync-child.ts', import.meta.url));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const randomKey = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');


/**
 * Messages the sync may still have ahead of it at the last kill point. A kill lands well past its
 * target: one store commits up to 300 messages, the jitter adds ~700 messages a second, and a busy
 * machine polls late. With only 300 left, a CI run saw the sync finish before its twelfth kill.
 */
const TAIL_MARGIN = 1_500;

/** Seeded kill points: stored-message counts spread over the sync (short of its tail), ascending. */
function killTargets(random: () => number, count: number, size: number): number[] {
  return Array.from({ length: count }, () => 100 + Math.floor(random() * (size - 100 - TAIL_MARGIN))).sort((a, b) => a - b);
}

/** A running sync child: its process, its stderr (for the failure message) and how it ended. */
interface Child {
  proc: ChildProcessWithoutNullStreams;
  spawnedAt: number;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  started: Promise<void>;
}

/** Dovecot serves Maildir files with CRLF line ends, and the raw hash is taken over what it serves. */
function asServed(raw: Buffer): Buffer {
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** The key each UID's bytes call for (Dovecot has no OBJECTID, so Message-ID or the raw hash). */
async function expectedKeys(messages: readonly CorpusMessage[]): Promise<Map<number, string | null>> {
  const keys = new Map<number, string | null>();
  for (const [i, m] of messages.entries()) {
    const source = asServed(m.raw);
    const parsed = await parseMessage(source);
    const fetched = { uid: i + 1, flags: [], modseq: null, internalDate: new Date(), source, emailId: null, gmThreadId: null };
    // UIDs follow the prefill order in a fresh mailbox; a quarantined message has no key.
    keys.set(i + 1, parsed.ok ? messageKey(fetched, parsed.message) : null);
  }
  return keys;
}

const hasPostgres = prerequisite(
  'Postgres tier',
  process.env.TEST_DATABASE_URL ? null : 'TEST_DATABASE_URL is not set (kill -9 needs a database two processes can share)',
);
const postgresCase = hasPostgres ? driverCases().find((d) => d.name === 'postgres') : undefined;

describe.runIf(dovecotAvailable() && postgresCase !== undefined)('kill -9 during the initial sync of the full corpus', () => {
  const corpus = loadCorpus();
  const keks = `k1:${randomKey()}`;
  const messageIdKey = randomKey();
  const children = new Set<Child>();
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let databaseUrl: string;
  let accountId: string;

  const progress = async () => {
    const [row] = await t.db.query<{ stored: number; backfillDone: boolean | null }>(
      `select (select count(*) from message_locations l join mail_folders f on f.id = l.folder_id
               where f.account_id = $1 and f.path = 'INBOX')
            + (select count(*) from message_quarantine where account_id = $1) as stored,
              (select backfill_done from mail_folders where account_id = $1 and path = 'INBOX') as "backfillDone"`,
      [accountId],
    );
    return { stored: Number(row?.stored ?? 0), done: row?.backfillDone === true };
  };

  /**
   * The checkpoint's promise after any crash: every UID in [backfill_low_uid, uidnext) is stored and
   * nothing else is (the server's UIDs are 1..n without gaps, so that is uidnext - low rows).
   */
  const checkpoint = async () => {
    const [row] = await t.db.query<{ low: number | null; uidnext: number | null; inRange: number; outside: number }>(
      `select f.backfill_low_uid as low, f.uidnext,
         count(l.uid) filter (where l.uid >= f.backfill_low_uid and l.uid < f.uidnext)::int as "inRange",
         count(l.uid) filter (where l.uid < f.backfill_low_uid or l.uid >= f.uidnext)::int as outside
       from mail_folders f left join message_locations l on l.folder_id = f.id
       where f.account_id = $1 and f.path = 'INBOX' group by f.id`,
      [accountId],
    );
    const expected = typeof row?.low === 'number' && typeof row.uidnext === 'number' ? row.uidnext - row.low : 0;
    return { ...row, holds: row?.inRange === expected && row?.outside === 0 };
  };

  /** Whether one of the child's connections is inside a transaction right now (the kill will roll it back). */
  const transactionOpen = async () =>
    (
      await t.db.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`,
      )
    )[0]?.n !== 0;

  function spawnChild(): Child {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SHOAL_CHILD_DB_URL: databaseUrl,
        SHOAL_CHILD_ACCOUNT: accountId,
        SHOAL_CHILD_KEKS: keks,
        SHOAL_CHILD_MESSAGE_ID_KEY: messageIdKey,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    proc.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    // The child says "started" once its SIGTERM handler is in place; a graceful stop must wait for it.
    let out = '';
    const started = new Promise<void>((resolve) => {
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('"event":"started"')) {
          resolve();
        }
      });
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const child = { proc, spawnedAt: Date.now(), stderr, exited, started };
    children.add(child);
    void exited.then(() => children.delete(child));
    return child;
  }

  async function kill(child: Child): Promise<void> {
    child.proc.kill('SIGKILL');
    const { signal } = await child.exited;
    expect(signal).toBe('SIGKILL');
  }

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    await dovecot.prefill('alice', 'INBOX', corpus.map((m) => m.raw));
    t = await (postgresCase as NonNullable<typeof postgresCase>).create();
    const [db] = await t.db.query<{ name: string }>('select current_database() as name');
    const url = new URL(process.env.TEST_DATABASE_URL as string);
    url.pathname = `/${db?.name}`;
    databaseUrl = url.toString();
    const h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true', MAIL_KEKS: keks, MESSAGE_ID_KEY: messageIdKey });
    const api = client(h.app);
    const admin = await signUpAdmin(api, 'alice@acme.test');
    accountId = await connectLoopbackAccount(api, admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
  });

  afterAll(async () => {
    for (const child of children) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it(`loses and duplicates nothing across ≥ ${MIN_KILLS} SIGKILLs`, async () => {
    const seed = testSeed('mail-crash');
    const random = seededRandom(seed);
    const started = Date.now();
    const targets = killTargets(random, MIN_KILLS, CORPUS_SIZE);
    console.info(`[mail-crash] kill points (messages stored): ${targets.join(', ')}`);
    for (const [i, target] of targets.entries()) {
      const before = await progress();
      expect(before.done, `the sync finished after ${i} kills`).toBe(false);
      const child = spawnChild();
      // The dead child's lease must pass to this one, and this one must move the sync on.
      await waitFor('the next child to make progress', progress, (p) => p.stored > before.stored, 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\nchild stderr:\n${child.stderr.join('').slice(-2_000)}`);
      });
      const firstBatchMs = Date.now() - child.spawnedAt;
      await waitFor('the kill point', progress, (p) => p.stored >= target || p.done, 60_000);
      const jitter = Math.floor(random() * MAX_KILL_JITTER_MS);
      await sleep(jitter);
      const midTransaction = await transactionOpen();
      const killedAt = Date.now() - started;
      await kill(child);
      const after = await progress();
      const state = await checkpoint();
      console.info(
        `[mail-crash] kill ${i + 1} at ${killedAt} ms, ${Date.now() - child.spawnedAt} ms after spawn ` +
          `(first batch after ${firstBatchMs} ms; target ${target} + ${jitter} ms${midTransaction ? ', mid-transaction' : ''}): ` +
          `${after.stored}/${CORPUS_SIZE} stored (+${after.stored - before.stored}); checkpoint [${state.low}, ${state.uidnext})`,
      );
      expect(state.holds, JSON.stringify(state)).toBe(true);
    }
    const last = spawnChild();
    await waitFor('the last child to finish', progress, (p) => p.done && p.stored >= CORPUS_SIZE, 150_000);
    console.info(`[mail-crash] seed ${seed}: ${targets.length} kills, sync complete after ${Date.now() - started} ms`);
    await last.started;
    last.proc.kill('SIGTERM');
    expect((await last.exited).code).toBe(0);

    const serverUids = await dovecot.listUids('alice', 'INBOX');
    const stored = await t.db.query<{ uid: number; key: string | null }>(
      `select l.uid, m.message_key as key from message_locations l
         join mail_folders f on f.id = l.folder_id join messages m on m.id = l.message_id
       where f.account_id = $1 and f.path = 'INBOX'
       union all
       select q.uid, null as key from message_quarantine q where q.account_id = $1`,
      [accountId],
    );
    const storedUids = stored.map((r) => r.uid).sort((a, b) => a - b);
    expect(serverUids.length).toBe(CORPUS_SIZE);
    // Sorted and of equal length: every server UID exactly once, no stranger.
    expect(storedUids).toEqual([...serverUids].sort((a, b) => a - b));

    const want = await expectedKeys(corpus);
    const wrongKey = stored.filter((r) => want.get(r.uid) !== r.key);
    expect(wrongKey).toEqual([]);
    const [counts] = await t.db.query<{ messages: number; keys: number; unlocated: number; raw: number }>(
      `select count(*)::int as messages, count(distinct message_key)::int as keys,
         count(*) filter (where not exists (select 1 from message_locations l where l.message_id = m.id))::int as unlocated,
         count(*) filter (where exists (select 1 from message_raw r where r.message_id = m.id))::int as raw
       from messages m where account_id = $1`,
      [accountId],
    );
    const distinctWanted = new Set([...want.values()].filter((k) => k !== null)).size;
    console.info(`[mail-crash] ${JSON.stringify({ uids: storedUids.length, ...counts, distinctWanted })}`);
    expect(counts?.messages).toBe(distinctWanted);
    expect(counts?.keys).toBe(counts?.messages);
    expect(counts?.unlocated).toBe(0);
    expect(counts?.raw).toBe(counts?.messages);

    const status = await dovecot.status('alice', 'INBOX');
    const [folder] = await t.db.query<{ uidvalidity: number; uidnext: number; backfillDone: boolean; backfillLowUid: number }>(
      `select uidvalidity, uidnext, backfill_done as "backfillDone", backfill_low_uid as "backfillLowUid"
       from mail_folders where account_id = $1 and path = 'INBOX'`,
      [accountId],
    );
    expect(folder).toEqual({ uidvalidity: status.uidvalidity, uidnext: status.uidnext, backfillDone: true, backfillLowUid: Math.min(...serverUids) });
  }, 290_000);
});

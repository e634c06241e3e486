/**
 * Shoal's threads against Dovecot's `UID THREAD REFERENCES` on the real ham
 * corpus, through the whole pipeline (Dovecot → sync → store). Prints the
 * agreement and explains every kind of difference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncManager } from '../../server/ingest/sync-manager';
import { client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { HAM_GROUPS, loadCorpus } from '../helpers/corpus';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { connectLoopbackAccount } from '../helpers/mail-account';

interface Row {
  uid: number;
  threadId: string;
  headerMessageId: string | null;
  inReplyTo: string | null;
  references: string[];
  reason: string;
}

const DIFFERENCES = {
  dovecotSubjectMerge:
    'Dovecot joined threads with the same base subject and no reference between them (RFC 5256 step 5); Shoal needs a shared participant within 30 days and refuses generic subjects',
  shoalSubjectFallback:
    'Shoal joined by subject + shared participant within 30 days where no reference links the messages; Dovecot kept them apart',
  shoalBridge:
    'A later message referenced both threads, so Shoal merged them (bridging); Dovecot follows only each message’s parent chain',
  referenceParsing:
    'Shoal read a parent id Dovecot did not (In-Reply-To with comments or folded ids, or In-Reply-To beside References)',
} as const;

const cases = driverCases();
const driver = cases.find((c) => c.name === 'postgres') ?? cases[0];

describe.runIf(dovecotAvailable() && driver !== undefined)('threading compared with Dovecot THREAD REFERENCES', () => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let manager: SyncManager;
  let accountId: string;
  const total = loadCorpus({ groups: HAM_GROUPS }).length;

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    await dovecot.prefill('alice', 'INBOX', loadCorpus({ groups: HAM_GROUPS }).map((m) => m.raw));
    t = await (driver as NonNullable<typeof driver>).create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    const api = client(h.app);
    const admin = await signUpAdmin(api, 'alice@acme.test');
    accountId = await connectLoopbackAccount(api, admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
    manager = new SyncManager(
      { db: t.db, keyring: h.deps.keyring, log: h.deps.log, now: () => new Date(), allowPrivateHosts: true },
      { folderIntervalMs: 60_000, watchdogMs: 30_000, idleDelayMs: 1_000, leaseRetryMs: 500 },
    );
    const started = Date.now();
    await manager.ensure(accountId);
    for (;;) {
      const [row] = await t.db.query<{ n: number }>(
        `select count(*)::int as n from message_locations l join mail_folders f on f.id = l.folder_id
         where f.account_id = $1 and f.path = 'INBOX'`,
        [accountId],
      );
      if ((row?.n ?? 0) >= total) {
        break;
      }
      if (Date.now() - started > 280_000) {
        throw new Error(`sync did not finish: ${row?.n} of ${total}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    console.info(`synced ${total} ham messages on ${t.db.driver} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);

  afterAll(async () => {
    await manager?.stopAll();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('agrees on reference-linked mail and explains every difference', async () => {
    const rows = await t.db.query<Row>(
      `select l.uid, m.thread_id as "threadId", m.header_message_id as "headerMessageId", m.in_reply_to as "inReplyTo",
              m."references", d.reason
       from message_locations l join mail_folders f on f.id = l.folder_id join messages m on m.id = l.message_id
       join thread_decisions d on d.message_id = m.id
       where f.account_id = $1 and f.path = 'INBOX'`,
      [accountId],
    );
    const byUid = new Map(rows.map((r) => [r.uid, r]));
    const dovecotThreads = await dovecot.threadReferences('alice', 'INBOX');
    const dovecotOf = new Map<number, number>();
    dovecotThreads.forEach((uids, i) => uids.forEach((uid) => dovecotOf.set(uid, i)));

    const ours = new Map<string, number[]>();
    for (const r of rows) {
      ours.set(r.threadId, [...(ours.get(r.threadId) ?? []), r.uid]);
    }
    const idToUid = new Map(rows.filter((r) => r.headerMessageId).map((r) => [r.headerMessageId as string, r.uid]));
    const linked = (a: Row, b: Row) =>
      [a.inReplyTo, ...a.references].includes(b.headerMessageId) || [b.inReplyTo, ...b.references].includes(a.headerMessageId);

    const explained = new Map<keyof typeof DIFFERENCES, number>();
    const note = (kind: keyof typeof DIFFERENCES) => explained.set(kind, (explained.get(kind) ?? 0) + 1);
    let unexplained = 0;

    // Dovecot threads that Shoal split.
    for (const uids of dovecotThreads) {
      const threadIds = new Set(uids.map((u) => byUid.get(u)?.threadId));
      if (threadIds.size <= 1) {
        continue;
      }
      const groups = [...threadIds].map((id) => uids.filter((u) => byUid.get(u)?.threadId === id).map((u) => byUid.get(u) as Row));
      const crossLinked = groups.some((g, i) => groups.some((o, j) => j > i && g.some((a) => o.some((b) => linked(a, b)))));
      if (crossLinked) {
        unexplained += 1;
      } else {
        note('dovecotSubjectMerge');
      }
    }
    // Shoal threads that Dovecot split.
    for (const uids of ours.values()) {
      const dovecotIds = new Set(uids.map((u) => dovecotOf.get(u)));
      if (dovecotIds.size <= 1) {
        continue;
      }
      const members = uids.map((u) => byUid.get(u) as Row);
      if (members.some((m) => m.reason === 'subject')) {
        note('shoalSubjectFallback');
      } else if (members.some((m) => [m.inReplyTo, ...m.references].filter((id) => id && idToUid.has(id)).length > 1)) {
        note('shoalBridge');
      } else {
        note('referenceParsing');
      }
    }

    const identical = dovecotThreads.filter((uids) => {
      const ids = new Set(uids.map((u) => byUid.get(u)?.threadId));
      const [only] = ids;
      return ids.size === 1 && only !== undefined && (ours.get(only)?.length ?? 0) === uids.length;
    }).length;
    console.info(
      [
        `Threads: Dovecot ${dovecotThreads.length} (${dovecotThreads.filter((u) => u.length > 1).length} with >1 message), ` +
          `Shoal ${ours.size} (${[...ours.values()].filter((u) => u.length > 1).length} with >1 message)`,
        `Identical threads: ${identical} of ${dovecotThreads.length} (${((identical / dovecotThreads.length) * 100).toFixed(1)}%)`,
        ...[...explained].map(([kind, n]) => `  ${n} × ${kind}: ${DIFFERENCES[kind]}`),
        `  ${unexplained} × split despite a reference between the parts`,
      ].join('\n'),
    );
    expect(rows.length).toBe(total);
    // Shoal never separates messages that reference each other.
    expect(unexplained).toBe(0);
    expect(identical / dovecotThreads.length).toBeGreaterThan(0.9);
  });
});

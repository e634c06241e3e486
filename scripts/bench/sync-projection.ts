/**
 * @module scripts/bench/sync-projection
 * What the projection costs on a busy organization: building a person's
 * document, an unchanged re-read, and the fan-out of each kind of change to
 * every hosted document. Not a test (no timed assertions): numbers for
 * docs/BENCHMARKS.md and for deciding which changes may re-read everything.
 *
 *   tsx scripts/bench/sync-projection.ts [people=40] [threads=6000] [messagesPerThread=2.5]
 *
 * Uses BENCH_DATABASE_URL / TEST_DATABASE_URL (Postgres) when set, else PGlite.
 * Last line: one JSON object with every figure.
 */
import { gzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { insertRows } from '../../db/bulk';
import type { Db } from '../../db/types';
import { createLogger } from '../../server/logger';
import { ChangeFeed } from '../../server/sync/projection/change-feed';
import { createLocalChangeBus, type DomainChange } from '../../server/sync/projection/changes';
import { Projection } from '../../server/sync/projection/writer';
import { TestDocs, threadIdsOf } from '../../tests/helpers/sync-projection';
import { createBenchDb } from './support';

const [PEOPLE = 40, THREADS = 6000, PER_THREAD = 2.5] = process.argv.slice(2).map(Number);
const DAY = 86_400_000;
const uuid = () => crypto.randomUUID();

interface Org {
  orgId: string;
  people: string[];
  accounts: string[];
  records: string[];
  threads: string[];
}

/** One organization: a manager over everyone, half the people Public, contacts on most senders. */
async function seed(db: Db): Promise<Org> {
  const orgId = uuid();
  const people = Array.from({ length: PEOPLE }, uuid);
  const accounts = people.map(() => uuid());
  const records = Array.from({ length: Math.ceil(THREADS / 3) }, uuid);
  const threads = Array.from({ length: THREADS }, uuid);
  await insertRows(db, 'organizations', ['id', 'name'], [[orgId, 'Bench']]);
  await insertRows(db, 'users', ['id', 'org_id', 'email', 'name', 'password_hash', 'role', 'manager_id'], people.map((id, i) => [id, orgId, `p${i}@people.test`, `Person ${i}`, 'x', i === 0 ? 'admin' : 'rep', i === 0 ? null : people[0]]));
  await insertRows(db, 'mail_accounts', ['id', 'org_id', 'owner_id', 'label', 'email', 'provider', 'imap_host', 'imap_port', 'imap_security', 'imap_user', 'smtp_host', 'smtp_port', 'smtp_security', 'smtp_user', 'auth_kind', 'wrapped_dek', 'imap_secret'],
    accounts.map((id, i) => [id, orgId, people[i], 'Box', `rep${i}@corp.test`, 'custom', 'imap.test', 993, 'tls', 'u', 'smtp.test', 465, 'tls', 'u', 'password', 'k', 's']));
  await insertRows(db, 'mail_account_addresses', ['account_id', 'address', 'is_default'], accounts.map((id, i) => [id, `rep${i}@corp.test`, true]));
  await insertRows(db, 'email_sharing', ['user_id', 'org_id', 'mode'], people.map((id, i) => [id, orgId, i % 2 === 0 ? 'public' : 'custom']));
  await insertRows(db, 'records', ['id', 'org_id', 'type', 'owner_id', 'name'], records.map((id, i) => [id, orgId, 'contact', people[i % PEOPLE], `Contact ${i}`]));
  await insertRows(db, 'record_emails', ['org_id', 'address', 'record_type', 'record_id', 'is_primary'], records.map((id, i) => [orgId, `c${i}@customer.test`, 'contact', id, true]));
  await insertRows(db, 'email_share_flags', ['owner_id', 'record_id', 'shared', 'hlc'], records.filter((_, i) => i % 4 === 1).map((id, k) => [people[(k * 4 + 1) % PEOPLE], id, true, '0']));
  await insertRows(db, 'threads', ['id', 'org_id', 'subject'], threads.map((id, i) => [id, orgId, `Thread ${i}`]));
  const messages: unknown[][] = [];
  const parts: unknown[][] = [];
  const now = Date.now();
  threads.forEach((threadId, t) => {
    const count = Math.max(1, Math.round(PER_THREAD + (t % 3) - 1));
    for (let k = 0; k < count; k++) {
      const owner = (t * 7 + k * 3) % PEOPLE;
      const id = uuid();
      const customer = t % 5 === 4 ? `stranger${t}@else.test` : `c${t % records.length}@customer.test`;
      messages.push([id, orgId, accounts[owner], threadId, `k:${id}`, new Date(now - (t / THREADS) * 80 * DAY - k * 60_000), new Uint8Array(32), `Subject of thread ${t} message ${k}`, `A snippet of text for message ${k} in thread ${t}, about the quote.`, customer]);
      parts.push([id, customer, 'from'], [id, `rep${owner}@corp.test`, 'to']);
    }
  });
  await insertRows(db, 'messages', ['id', 'org_id', 'account_id', 'thread_id', 'message_key', 'received_at', 'raw_sha256', 'subject', 'snippet', 'from_address'], messages);
  await insertRows(db, 'message_participants', ['message_id', 'address', 'role'], parts);
  await db.query('analyze');
  return { orgId, people, accounts, records, threads };
}

const ms = (start: number) => Math.round((performance.now() - start) * 10) / 10;

async function timeFanOut(feed: ChangeFeed, change: DomainChange): Promise<{ ms: number; refreshes: number; bytes: number }> {
  const before = { ...feed.stats };
  const start = performance.now();
  feed.accept(change);
  await feed.idle();
  return { ms: ms(start), refreshes: feed.stats.refreshes - before.refreshes, bytes: feed.stats.bytes - before.bytes };
}

async function main(): Promise<void> {
  const { db, drop } = await createBenchDb();
  const driver = db.driver;
  try {
    let start = performance.now();
    const org = await seed(db);
    const seedMs = ms(start);
    const projection = new Projection(db, { windowDays: 90, maxThreads: 5000 });
    const docs = new TestDocs();
    const manager = org.people[0] as string;
    start = performance.now();
    await projection.buildDocument(manager, docs.open(manager));
    const buildMs = ms(start);
    const doc = docs.open(manager).doc;
    const v1 = Y.encodeStateAsUpdate(doc);
    const v2 = Y.encodeStateAsUpdateV2(doc);
    start = performance.now();
    const unchanged = await projection.refresh(manager, { all: true }, docs.open(manager));
    const unchangedMs = ms(start);
    start = performance.now();
    for (const person of org.people.slice(1)) {
      await projection.buildDocument(person, docs.open(person));
    }
    const buildOthersMs = ms(start) / (PEOPLE - 1);
    const feed = new ChangeFeed({ db, projection, docs, bus: createLocalChangeBus(), log: createLogger('silent') });
    const busy = org.threads[0] as string;
    const holders = org.people.filter((p) => threadIdsOf(docs.open(p).doc).has(busy)).length;
    await db.query(`insert into thread_fields (thread_id, field, value, hlc) values ($1, 'status', '"pending"', '1')`, [busy]);
    const fields = await timeFanOut(feed, { kind: 'thread-fields', threadIds: [busy] });
    const [reply] = await db.query<{ id: string }>('select id from messages where thread_id = $1 limit 1', [busy]);
    await db.query('update messages set received_at = now() where id = $1', [reply?.id]);
    const messages = await timeFanOut(feed, { kind: 'messages', accountId: org.accounts[0] as string, threadIds: [busy] });
    const flag = await timeFanOut(feed, { kind: 'share-flag', ownerId: org.people[1] as string, recordId: org.records[1] as string });
    const record = await timeFanOut(feed, { kind: 'record-changed', recordId: org.records[0] as string, orgId: org.orgId });
    await db.query(`update email_sharing set mode = 'private' where user_id = $1`, [org.people[2]]);
    const sharing = await timeFanOut(feed, { kind: 'sharing', ownerId: org.people[2] as string });
    await feed.close();
    const figures = {
      driver,
      people: PEOPLE,
      threadsInOrg: THREADS,
      seedMs,
      managerThreads: threadIdsOf(doc).size,
      buildMs,
      buildOthersAvgMs: Math.round(buildOthersMs),
      docV1Bytes: v1.length,
      docV2Bytes: v2.length,
      docV2GzipBytes: gzipSync(v2).length,
      unchangedRefreshMs: unchangedMs,
      unchangedRefreshBytes: unchanged.bytes,
      holdersOfBusyThread: holders,
      fanOut: { fields, messages, flag, record, sharing },
      perRecipientFieldsMs: Math.round((fields.ms / Math.max(1, fields.refreshes)) * 100) / 100,
    };
    console.log(JSON.stringify(figures));
    docs.destroy();
  } finally {
    await drop();
  }
}

await main();

/**
 * Projection = oracle: random sequences of steps against the real commands
 * (HTTP through the app, so the one-line hooks publish their changes) and a
 * real database; every person's document is kept current by the change feed
 * only. After each step, each document holds exactly the threads the
 * independent oracle (tests/helpers/visibility-oracle.ts) allows — 0 leaks,
 * 0 misses — the subject and snippet of every message the person may not
 * see are absent from the document's encoded state (gc on, so revoked
 * content is purged), and a full re-read writes 0 bytes (the incremental
 * document equals a fresh projection).
 *
 * Seeds are printed; replay with SHOAL_TEST_SEED, pin failures in PINNED.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/logger';
import { ChangeFeed } from '../../server/sync/projection/change-feed';
import { createLocalChangeBus, storedBatchChange } from '../../server/sync/projection/changes';
import { Projection } from '../../server/sync/projection/writer';
import { addPerson, client, createHarness, PASSWORD, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { insertTestMailbox } from '../helpers/mail-rows';
import { TestDocs, threadIdsOf } from '../helpers/sync-projection';
import { DOMAINS, EXTERNAL_ADDRESSES, ownAddress, type ModelOrg } from '../helpers/visibility-model';
import { oracleAudience } from '../helpers/visibility-oracle';

const RUNS = Number(process.env.PROJECTION_RUNS ?? 6);
/**
 * Postgres runs every sequence; PGlite a third of them (at least 3), as the SQL oracle runs a tenth there: the
 * projection's queries are the same text on both drivers, and PGlite takes twice as long per sequence.
 */
const runsOn = (driver: string): number => (driver === 'postgres' ? RUNS : Math.max(3, Math.ceil(RUNS / 3)));
const SEED = Number(process.env.SHOAL_TEST_SEED ?? Date.now() % 2_147_483_647);
/** Failing runs found earlier, replayed every time: `{ seed, path }` as fast-check prints them. */
const PINNED: { seed: number; path: string; why: string }[] = [
  { seed: 42, path: '3', why: 'the audience query bound the viewer to the visibility SQL’s own users alias: a new manager missed new mail' },
  { seed: 162325194, path: '12', why: 'deleting a deal its viewer could not access left the lane of a thread it linked at deals: the lost links were not re-read' },
];

const PEOPLE = 5;
const ADDRESSES = [...EXTERNAL_ADDRESSES, ...Array.from({ length: PEOPLE }, (_, i) => ownAddress(i))];
const RECORD_TYPES = ['lead', 'contact', 'account', 'deal'] as const;

type Step =
  | { k: 'ingest'; owner: number; others: number[]; shoal: boolean; thread: number | null }
  | { k: 'sharing'; person: number; mode: 'private' | 'custom' | 'public'; excluded: string[]; audience: number[] | null; exact?: boolean }
  | { k: 'flag'; person: number; record: number; shared: boolean; exact?: boolean }
  | { k: 'manager'; person: number; manager: number | null }
  | { k: 'access'; access: 'public' | 'private' }
  | { k: 'shares'; record: number; people: number[] }
  | { k: 'active'; person: number }
  | { k: 'create'; owner: number; type: (typeof RECORD_TYPES)[number]; addresses: number[] }
  | { k: 'address'; record: number; address: number; add: boolean }
  | { k: 'delete'; record: number }
  | { k: 'reconnect'; person: number };

const person = fc.nat(PEOPLE - 1);
const people = fc.uniqueArray(person, { maxLength: 3 });
/** Below ADDRESSES.length: that address; above: an address some record has now, so mail links often. */
const partyArb = fc.uniqueArray(fc.nat(2 * ADDRESSES.length - 1), { minLength: 1, maxLength: 3 });
const ingestArb = fc.record({ k: fc.constant('ingest' as const), owner: person, others: partyArb, shoal: fc.constantFrom(false, false, false, true), thread: fc.option(fc.nat(20), { freq: 2 }) });
const createArb = fc.record({ k: fc.constant('create' as const), owner: person, type: fc.constantFrom(...RECORD_TYPES), addresses: fc.uniqueArray(fc.nat(ADDRESSES.length - 1), { minLength: 1, maxLength: 2 }) });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: ingestArb },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('sharing' as const), person, mode: fc.constantFrom('private', 'custom', 'public'), excluded: fc.uniqueArray(fc.constantFrom(...DOMAINS), { maxLength: 2 }), audience: fc.option(fc.uniqueArray(person, { minLength: 1, maxLength: 3 }), { freq: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('flag' as const), person, record: fc.nat(10), shared: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('manager' as const), person, manager: fc.option(person, { freq: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('access' as const), access: fc.constantFrom('public', 'private') }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('shares' as const), record: fc.nat(10), people }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('active' as const), person: fc.integer({ min: 1, max: PEOPLE - 1 }) }) },
  { weight: 2, arbitrary: createArb },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('address' as const), record: fc.nat(10), address: fc.nat(ADDRESSES.length - 1), add: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('delete' as const), record: fc.nat(10) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reconnect' as const), person }) },
);
/** A few records and messages first, so later steps have something to change. */
const scenarioArb = fc
  .tuple(fc.array(createArb, { minLength: 2, maxLength: 4 }), fc.array(ingestArb, { minLength: 2, maxLength: 5 }), fc.array(stepArb, { minLength: 8, maxLength: 24 }))
  .map(([records, mail, steps]): Step[] => [...records, ...mail, ...steps]);

/** Each way to gain and to lose visibility at least once, in an order where each one changes something. */
const WALK: Step[] = [
  { k: 'create', owner: 0, type: 'contact', addresses: [0] },
  { k: 'create', owner: 1, type: 'lead', addresses: [3] },
  { k: 'ingest', owner: 2, others: [0], shoal: false, thread: null },
  { k: 'ingest', owner: 3, others: [3], shoal: false, thread: null },
  { k: 'ingest', owner: 4, others: [0], shoal: false, thread: 0 },
  { k: 'flag', person: 2, record: 0, shared: true, exact: true },
  { k: 'flag', person: 2, record: 0, shared: false, exact: true },
  { k: 'sharing', person: 3, mode: 'public', excluded: [], audience: null, exact: true },
  { k: 'address', record: 1, address: 3, add: false },
  { k: 'address', record: 1, address: 3, add: true },
  { k: 'sharing', person: 3, mode: 'public', excluded: [], audience: [4], exact: true },
  { k: 'sharing', person: 3, mode: 'public', excluded: [], audience: null, exact: true },
  { k: 'access', access: 'private' },
  { k: 'shares', record: 1, people: [0] },
  { k: 'manager', person: 1, manager: 2 },
  { k: 'manager', person: 1, manager: null },
  { k: 'shares', record: 1, people: [] },
  { k: 'access', access: 'public' },
  { k: 'active', person: 4 },
  { k: 'ingest', owner: 0, others: [3], shoal: true, thread: null },
  { k: 'active', person: 4 },
  { k: 'sharing', person: 3, mode: 'private', excluded: [], audience: null, exact: true },
  { k: 'flag', person: 2, record: 0, shared: true, exact: true },
  { k: 'delete', record: 0 },
  { k: 'reconnect', person: 0 },
];

interface Person {
  id: string;
  email: string;
  cookie: string;
  account: string;
  folder: string;
}

interface MessageFacts {
  threadId: string;
  subject: string;
  snippet: string;
}

/** One organization under test, its model twin, and the documents the feed keeps current. */
interface World {
  orgId: string;
  api: Client;
  h: Harness;
  projection: Projection;
  docs: TestDocs;
  feed: ChangeFeed;
  people: Person[];
  active: boolean[];
  /** Database id per model record; null once deleted. */
  records: (string | null)[];
  messages: MessageFacts[];
  model: ModelOrg;
  uid: number;
}

const ok = (status: number) => status >= 200 && status < 300;
const token = () => Math.random().toString(36).slice(2, 10);

describe.each(driverCases())('projection = oracle on $name', ({ name, create }) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t.drop();
  });

  async function setUp(): Promise<World> {
    const h = await createHarness(t.db, { SIGNUP: 'open' });
    const api = client(h.app);
    const bus = createLocalChangeBus();
    h.deps.changes = bus;
    const admin = await signUpAdmin(api);
    const found: { userId: string; cookie: string; email: string }[] = [admin];
    for (let i = 1; i < PEOPLE; i++) {
      found.push(await addPerson(api, admin.cookie, i === 1 ? 'manager' : 'rep', `Person ${i}`));
    }
    const list: Person[] = [];
    for (const [i, p] of found.entries()) {
      const account = await insertTestMailbox(t.db, { orgId: admin.orgId, ownerId: p.userId, address: ownAddress(i) });
      const folder = crypto.randomUUID();
      await t.db.query(`insert into mail_folders (id, account_id, path, role) values ($1, $2, 'INBOX', 'inbox')`, [folder, account]);
      list.push({ id: p.userId, email: p.email, cookie: p.cookie, account, folder });
    }
    const projection = new Projection(t.db, { windowDays: 90, maxThreads: 5000 });
    const docs = new TestDocs();
    for (const p of list) {
      await projection.buildDocument(p.id, docs.open(p.id));
    }
    const feed = new ChangeFeed({ db: t.db, projection, docs, bus, log: createLogger('silent') });
    const model: ModelOrg = {
      recordAccess: 'public',
      people: list.map(() => ({ manager: null, groups: [], sharing: null })),
      groupCount: 0,
      records: [],
      flags: [],
      messages: [],
    };
    return { orgId: admin.orgId, api, h, projection, docs, feed, people: list, active: list.map(() => true), records: [], messages: [], model, uid: 0 };
  }

  /** Stores a message the way ingest does (message, participants, location) and publishes the batch like the sync manager. */
  async function ingest(w: World, s: Extract<Step, { k: 'ingest' }>): Promise<void> {
    const owner = w.people[s.owner] as Person;
    const onRecords = w.model.records.flatMap((r) => r.addresses);
    const pick = (i: number) => (i < ADDRESSES.length || onRecords.length === 0 ? ADDRESSES[i % ADDRESSES.length] : onRecords[i % onRecords.length]) as string;
    const others = [...new Set(s.others.map(pick))].filter((a) => a !== ownAddress(s.owner));
    const participants = [ownAddress(s.owner), ...others];
    const existing = s.thread === null || w.messages.length === 0 ? null : (w.messages[s.thread % w.messages.length] as MessageFacts).threadId;
    const threadId = existing ?? crypto.randomUUID();
    const orgId = w.orgId;
    if (!existing) {
      await t.db.query('insert into threads (id, org_id) values ($1, $2)', [threadId, orgId]);
    }
    const id = crypto.randomUUID();
    const facts = { threadId, subject: `subj${token()}`, snippet: `snip${token()}` };
    w.uid += 1;
    await t.db.query(
      `insert into messages (id, org_id, account_id, thread_id, message_key, subject, from_address, received_at, snippet, text_body, raw_sha256, sent_from_shoal)
       values ($1, $2, $3, $4, $5, $6, $7, now() - ($8 || ' seconds')::interval, $9, $9, $10, $11)`,
      [id, orgId, owner.account, threadId, `k:${id}`, facts.subject, participants[0], String(1000 - w.uid), facts.snippet, new Uint8Array(32), s.shoal],
    );
    for (const [i, address] of participants.entries()) {
      await t.db.query('insert into message_participants (message_id, address, role) values ($1, $2, $3)', [id, address, i === 0 ? 'from' : 'to']);
    }
    await t.db.query('insert into message_locations (folder_id, uidvalidity, uid, message_id) values ($1, 1, $2, $3)', [owner.folder, w.uid, id]);
    w.h.deps.changes?.publish(storedBatchChange(owner.account, { id: owner.folder }, 1, [{ uid: w.uid }]));
    w.messages.push(facts);
    w.model.messages.push({ owner: s.owner, sentFromShoal: s.shoal, participants });
  }

  const liveRecord = (w: World, index: number): { i: number; id: string } | null => {
    const live = w.records.map((id, i) => ({ i, id })).filter((r): r is { i: number; id: string } => r.id !== null);
    return live.length === 0 ? null : (live[index % live.length] as { i: number; id: string });
  };

  /** Aims a step's person at someone whose mail exists (sharing and flags then matter), when there is mail. */
  const mailOwner = (w: World, index: number): number => {
    const owners = [...new Set(w.model.messages.map((m) => m.owner))];
    return owners.length === 0 || index % 3 === 2 ? index : (owners[index % owners.length] as number);
  };

  /** A record linked to the person's mail when there is one, so the flag decides something. */
  const flaggable = (w: World, ownerIndex: number, index: number): { i: number; id: string } | null => {
    const mine = new Set(w.model.messages.filter((m) => m.owner === ownerIndex).flatMap((m) => m.participants));
    const linked = w.records.flatMap((id, i) => (id !== null && w.model.records[i]?.addresses.some((a) => mine.has(a)) ? [{ i, id }] : []));
    return linked.length > 0 && index % 4 !== 3 ? (linked[index % linked.length] as { i: number; id: string }) : liveRecord(w, index);
  };

  /** The record owner's session when they can act, else the admin's. */
  const actorFor = (w: World, recordIndex: number) => {
    const owner = w.model.records[recordIndex]?.owner ?? 0;
    return w.active[owner] ? (w.people[owner] as Person).cookie : (w.people[0] as Person).cookie;
  };

  async function apply(w: World, s: Step): Promise<void> {
    const admin = (w.people[0] as Person).cookie;
    switch (s.k) {
      case 'ingest':
        return ingest(w, s);
      case 'sharing': {
        const target = s.exact ? s.person : mailOwner(w, s.person);
        const mode = s.mode;
        const audience = mode === 'private' ? null : s.audience;
        const body = { mode, excludedDomains: s.excluded, audience: audience ? { userIds: audience.map((p) => (w.people[p] as Person).id), groupIds: [] } : null, locked: false };
        if (ok((await w.api.put(`/api/admin/email-sharing/${(w.people[target] as Person).id}`, body, { cookie: admin })).status)) {
          (w.model.people[target] as ModelOrg['people'][number]).sharing = { mode, excluded: s.excluded, audience: audience ? { people: audience, groups: [] } : null };
        }
        return;
      }
      case 'flag': {
        const flagger = s.exact ? s.person : mailOwner(w, s.person);
        const r = s.exact ? liveRecord(w, s.record) : flaggable(w, flagger, s.record);
        if (!r || !w.active[flagger]) {
          return;
        }
        if (ok((await w.api.put(`/api/records/${r.id}/share-flag`, { shared: s.shared }, { cookie: (w.people[flagger] as Person).cookie })).status)) {
          w.model.flags = [...w.model.flags.filter(([p, i]) => !(p === flagger && i === r.i)), [flagger, r.i, s.shared]];
        }
        return;
      }
      case 'manager': {
        const managerId = s.manager === null ? null : (w.people[s.manager] as Person).id;
        if (ok((await w.api.patch(`/api/people/${(w.people[s.person] as Person).id}`, { managerId }, { cookie: admin })).status)) {
          (w.model.people[s.person] as ModelOrg['people'][number]).manager = s.manager;
        }
        return;
      }
      case 'access':
        if (ok((await w.api.put('/api/admin/organization', { recordAccess: s.access }, { cookie: admin })).status)) {
          w.model.recordAccess = s.access;
        }
        return;
      case 'shares': {
        const r = liveRecord(w, s.record);
        if (r && ok((await w.api.put(`/api/records/${r.id}/shares`, { userIds: s.people.map((p) => (w.people[p] as Person).id), groupIds: [] }, { cookie: actorFor(w, r.i) })).status)) {
          (w.model.records[r.i] as ModelOrg['records'][number]).sharedPeople = s.people;
        }
        return;
      }
      case 'active': {
        const target = w.people[s.person] as Person;
        const action = w.active[s.person] ? 'deactivate' : 'reactivate';
        if (!ok((await w.api.post(`/api/people/${target.id}/${action}`, undefined, { cookie: admin })).status)) {
          return;
        }
        w.active[s.person] = action === 'reactivate';
        if (action === 'reactivate') {
          const login = await w.api.post('/api/auth/login', { email: target.email, password: PASSWORD });
          target.cookie = login.cookie ?? target.cookie;
        }
        return;
      }
      case 'create': {
        const owner = w.people[s.owner] as Person;
        const addresses = s.addresses.map((i) => ADDRESSES[i] as string);
        if (!w.active[s.owner]) {
          return;
        }
        const res = await w.api.post<{ id: string }>(
          '/api/records',
          { type: s.type, name: `Record ${w.records.length}`, primaryEmail: addresses[0], secondaryEmails: addresses.slice(1) },
          { cookie: owner.cookie },
        );
        if (ok(res.status)) {
          w.records.push(res.body.id);
          w.model.records.push({ type: s.type, owner: s.owner, addresses, sharedPeople: [], sharedGroups: [] });
        }
        return;
      }
      case 'address': {
        const r = liveRecord(w, s.record);
        if (!r) {
          return;
        }
        const record = w.model.records[r.i] as ModelOrg['records'][number];
        const address = ADDRESSES[s.address] as string;
        const next = s.add ? [...new Set([...record.addresses, address])] : record.addresses.filter((a) => a !== address);
        const body = { primaryEmail: next[0] ?? null, secondaryEmails: next.slice(1) };
        if (ok((await w.api.patch(`/api/records/${r.id}`, body, { cookie: actorFor(w, r.i) })).status)) {
          record.addresses = next;
        }
        return;
      }
      case 'delete': {
        const r = liveRecord(w, s.record);
        if (r && ok((await w.api.delete(`/api/records/${r.id}`, { cookie: actorFor(w, r.i) })).status)) {
          w.records[r.i] = null;
          (w.model.records[r.i] as ModelOrg['records'][number]).addresses = [];
        }
        return;
      }
      case 'reconnect': {
        const p = w.people[s.person] as Person;
        w.docs.drop(p.id);
        await w.projection.buildDocument(p.id, w.docs.open(p.id));
        return;
      }
    }
  }

  /** Every mismatch between the documents and the oracle, as sentences. */
  async function mismatches(w: World): Promise<string[]> {
    await new Promise((resolve) => setImmediate(resolve));
    await w.feed.idle();
    const out: string[] = [];
    for (const [p, person] of w.people.entries()) {
      const hosted = w.docs.open(person.id);
      const sees = (m: number) => w.active[p] === true && oracleAudience(w.model, w.model.messages[m] as ModelOrg['messages'][number]).has(p);
      const expected = new Set(w.messages.filter((_, m) => sees(m)).map((f) => f.threadId));
      const actual = threadIdsOf(hosted.doc);
      [...actual].filter((id) => !expected.has(id)).forEach((id) => out.push(`person ${p}: leak of thread ${id}`));
      [...expected].filter((id) => !actual.has(id)).forEach((id) => out.push(`person ${p}: miss of thread ${id}`));
      const bytes = Buffer.from(Y.encodeStateAsUpdate(hosted.doc));
      w.messages.forEach((f, m) => {
        if (!sees(m) && (bytes.includes(f.subject) || bytes.includes(f.snippet))) {
          out.push(`person ${p}: content of hidden message ${m} in the encoded document`);
        }
      });
      const { bytes: drift } = await w.projection.refresh(person.id, { all: true }, hosted);
      if (drift > 0) {
        out.push(`person ${p}: a full re-read wrote ${drift} bytes (the fed document drifted from canonical state)`);
      }
    }
    return out;
  }

  const run = async (steps: Step[]) => {
    const w = await setUp();
    try {
      for (const [i, step] of steps.entries()) {
        await apply(w, step);
        const found = await mismatches(w);
        if (found.length > 0) {
          throw new Error(`after step ${i} ${JSON.stringify(step)}:\n${found.join('\n')}`);
        }
      }
      expect(w.feed.stats.failures).toBe(0);
    } finally {
      await w.feed.close();
      w.docs.destroy();
    }
  };

  it('documents follow the oracle through every way of gaining and losing a thread', async () => {
    await run(WALK);
  }, 600_000);

  it(`documents follow the oracle through ${runsOn(name)} random step sequences (seed ${SEED})`, async () => {
    console.info(`[projection-oracle] seed ${SEED} (replay with SHOAL_TEST_SEED=${SEED})`);
    await fc.assert(fc.asyncProperty(scenarioArb, run), { numRuns: runsOn(name), seed: SEED, endOnFailure: true });
  }, 1_800_000);

  it.each(PINNED)('documents follow the oracle on pinned seed $seed ($why)', async ({ seed, path }) => {
    await fc.assert(fc.asyncProperty(scenarioArb, run), { seed, path, numRuns: 1 });
  });
});

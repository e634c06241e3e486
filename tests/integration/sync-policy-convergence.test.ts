/**
 * Convergence fuzz of the edit policy, on every driver: 3–10 client
 * documents of two people (several devices each, Yjs client ids random) make
 * conflicting edits offline, then reconnect in a random order, some twice
 * and some reviewed twice. An applied edit reaches the other person's server
 * document through a stand-in fan-out. Afterwards Postgres holds the latest
 * stamp of every key (the same whatever the order), and every server and
 * client document equals that canonical state. Each scenario runs in two
 * orders, whose outcomes must be equal.
 *
 * Replay a failure with SHOAL_TEST_SEED=<seed>; pin it in PINNED.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { readSharedFields } from '../../db/queries/thread-fields';
import type { Db } from '../../db/types';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import { writeEntries } from '../../sync/doc/projection';
import { fieldKey, MAPS, type ThreadField } from '../../sync/doc/schema';
import { formatStamp } from '../../sync/hlc';
import { driverCases, type TestDb } from '../helpers/db';
import { authorOf, connectClient, createTestHost, mapJson, pull, syncClient, type TestHost } from '../helpers/hosted-doc';
import { seedPolicyOrg, type PolicyOrg } from '../helpers/sync-policy-org';

// Each run writes to a real database: CI sets SYNC_FUZZ_RUNS (database-backed fuzz) apart from PROPERTY_RUNS (pure properties).
const RUNS = Number(process.env.SYNC_FUZZ_RUNS ?? 20);
/** Postgres runs every one; PGlite a third (at least 5): the policy's statements are the same text on both drivers. */
const runsOn = (driver: string): number => (driver === 'postgres' ? RUNS : Math.max(5, Math.ceil(RUNS / 3)));
const SEED = Number(process.env.SHOAL_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** `{ seed, path }` of past failures, replayed on every run. */
const PINNED: { seed: number; path: string; why: string }[] = [];

const NOW = Date.UTC(2026, 0, 15, 12);
const THREADS = 3;
const PEOPLE = ['ana', 'ben'] as const;
type Person = (typeof PEOPLE)[number];

interface Edit {
  thread: number;
  field: ThreadField;
  pick: number;
  offset: number;
}

const VALUES: Record<ThreadField, unknown[]> = {
  assignee: [null, 'ana', 'ben'],
  status: ['open', 'pending', 'done'],
  snoozeUntil: [null, '2026-02-01T09:00:00Z'],
  labels: [[], ['vip'], ['eu', 'renewal']],
  read: [true, false],
};

const editArb: fc.Arbitrary<Edit> = fc.record({
  thread: fc.nat(THREADS - 1),
  field: fc.constantFrom<ThreadField>('assignee', 'status', 'snoozeUntil', 'labels', 'read'),
  pick: fc.nat(),
  // Mostly within the drift limit; some ahead of it, so clamping takes part.
  offset: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -180_000, max: 300_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 300_001, max: 3_600_000 }) }),
});

function scheduleArb(n: number): fc.Arbitrary<Schedule> {
  return fc
    .array(fc.nat(n - 1), { maxLength: n })
    .chain((repeats) => fc.shuffledSubarray([...Array.from({ length: n }, (_, i) => i), ...repeats], { minLength: n + repeats.length, maxLength: n + repeats.length }))
    .chain((order) => fc.record({ order: fc.constant(order), twice: fc.array(fc.boolean(), { minLength: order.length, maxLength: order.length }) }));
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 3, max: 10 }).chain((n) =>
  fc.record({
    owners: fc.array(fc.constantFrom<Person>(...PEOPLE), { minLength: n, maxLength: n }),
    clientIds: fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }),
    edits: fc.array(fc.array(editArb, { minLength: 1, maxLength: 6 }), { minLength: n, maxLength: n }),
    schedules: fc.tuple(scheduleArb(n), scheduleArb(n)),
  }),
);
interface Schedule {
  order: number[];
  twice: boolean[];
}

interface Scenario {
  owners: Person[];
  clientIds: number[];
  edits: Edit[][];
  schedules: [Schedule, Schedule];
}

/** The final state of one run, in index space (thread tN, people by name), so runs on different orgs compare. */
interface Outcome {
  postgres: Record<string, unknown>;
  docs: Record<Person, Record<string, unknown>>;
}

function stampOf(client: number, counter: number, offset: number): string {
  return formatStamp({ wallMs: NOW + offset, counter, node: `c${client}` });
}

/** Latest stamp per key over every client's final local value (clamped as the server clamps). */
function expected(s: Scenario): Outcome {
  const shared = new Map<string, { v: unknown; hlc: string }>();
  const personal: Record<Person, Map<string, { v: unknown; hlc: string }>> = { ana: new Map(), ben: new Map() };
  let counter = 0;
  s.edits.forEach((edits, client) => {
    const final = new Map<string, { v: unknown; hlc: string }>();
    for (const e of edits) {
      counter += 1;
      const values = VALUES[e.field];
      final.set(`t${e.thread}|${e.field}`, { v: values[e.pick % values.length], hlc: stampOf(client, counter, Math.min(e.offset, 300_000)) });
    }
    for (const [key, value] of final) {
      const target = key.endsWith('|read') ? personal[s.owners[client] as Person] : shared;
      const held = target.get(key);
      if (!held || held.hlc < value.hlc) {
        target.set(key, value);
      }
    }
  });
  const sorted = (m: Map<string, unknown>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
  const postgres = sorted(new Map([...shared, ...[...personal.ana].map(([k, v]) => [`ana:${k}`, v] as const), ...[...personal.ben].map(([k, v]) => [`ben:${k}`, v] as const)]));
  return { postgres, docs: { ana: sorted(new Map([...shared, ...personal.ana])), ben: sorted(new Map([...shared, ...personal.ben])) } };
}

/** Maps an org's ids to index space: threads to tN, people to their names. */
function indexer(org: PolicyOrg) {
  const names = new Map<string, string>([...org.shared.map((id, i) => [id, `t${i}`] as const), [org.ana, 'ana'], [org.ben, 'ben']]);
  const name = (value: unknown) => (typeof value === 'string' ? (names.get(value) ?? value) : value);
  const key = (threadId: string, field: string) => `${name(threadId) as string}|${field}`;
  const stamped = (value: unknown) => ({ v: name((value as { v: unknown }).v), hlc: (value as { hlc: string }).hlc });
  const fields = (entries: Record<string, unknown>) =>
    sortKeys(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k.replace(/^[0-9a-f-]{36}/, (id) => name(id) as string), stamped(v)])));
  return { name, key, fields };
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function play(db: Db, s: Scenario, schedule: Schedule): Promise<Outcome> {
  const org = await seedPolicyOrg(db, THREADS);
  const ids: Record<Person, string> = { ana: org.ana, ben: org.ben };
  const hosts: Record<Person, TestHost> = { ana: createTestHost(org.ana), ben: createTestHost(org.ben) };
  // Stand-in for the projection's fan-out: everyone who sees the thread gets the canonical shared fields.
  const fanOut = async (threadIds: string[]) => {
    const rows = await readSharedFields(db, threadIds);
    for (const host of Object.values(hosts)) {
      await host.hosted.write((doc) => void writeEntries(doc, MAPS.fields, rows.map((r) => [fieldKey(r.threadId, r.field as ThreadField), { v: r.value, hlc: r.hlc }] as const)));
    }
  };
  const policy = createEditPolicy({
    db,
    now: () => NOW,
    onApplied: async (changes) => {
      for (const c of changes) {
        if (c.kind === 'thread-fields') {
          await fanOut(c.threadIds);
        }
      }
    },
  });
  const clients = s.owners.map((owner, i) => {
    const doc = new Y.Doc({ gc: true });
    doc.clientID = s.clientIds[i] as number;
    pull(doc, hosts[owner]);
    return doc;
  });
  let counter = 0;
  s.edits.forEach((edits, client) => {
    for (const e of edits) {
      counter += 1;
      const values = VALUES[e.field];
      const picked = values[e.pick % values.length];
      const v = e.field === 'assignee' && typeof picked === 'string' ? ids[picked as Person] : picked;
      clients[client]?.getMap(MAPS.fields).set(fieldKey(org.shared[e.thread] as string, e.field), { v, hlc: stampOf(client, counter, e.offset) });
    }
  });
  for (const [step, client] of schedule.order.entries()) {
    const owner = s.owners[client] as Person;
    await syncClient(clients[client] as Y.Doc, hosts[owner], policy, authorOf(ids[owner], `c${client}`), { reviewTwice: schedule.twice[step] ?? false });
  }
  const ix = indexer(org);
  clients.forEach((doc, i) => {
    const owner = s.owners[i] as Person;
    pull(doc, hosts[owner]);
    expect(mapJson(doc, MAPS.fields), `client ${i} equals ${owner}'s server document`).toEqual(mapJson(hosts[owner].hosted.doc, MAPS.fields));
  });
  // A device that never synced an edit still joins late and sees the same.
  expect(mapJson(connectClient(hosts.ana), MAPS.fields)).toEqual(mapJson(hosts.ana.hosted.doc, MAPS.fields));
  const shared = await db.query<{ thread_id: string; field: string; value: unknown; hlc: string }>(
    'select thread_id, field, value, hlc from thread_fields where thread_id = any($1::uuid[])',
    [org.shared],
  );
  const personal = await db.query<{ user_id: string; thread_id: string; field: string; value: unknown; hlc: string }>(
    'select user_id, thread_id, field, value, hlc from thread_user_fields where thread_id = any($1::uuid[])',
    [org.shared],
  );
  const postgres = sortKeys(
    Object.fromEntries([
      ...shared.map((r) => [ix.key(r.thread_id, r.field), { v: ix.name(r.value), hlc: r.hlc }]),
      ...personal.map((r) => [`${ix.name(r.user_id) as string}:${ix.key(r.thread_id, r.field)}`, { v: r.value, hlc: r.hlc }]),
    ]),
  );
  return { postgres, docs: { ana: ix.fields(mapJson(hosts.ana.hosted.doc, MAPS.fields)), ben: ix.fields(mapJson(hosts.ben.hosted.doc, MAPS.fields)) } };
}

describe.each(driverCases())('convergence fuzz on $name', ({ name, create }) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t?.drop();
  });

  const check = async (s: Scenario) => {
    const want = expected(s);
    const first = await play(t.db, s, s.schedules[0]);
    const second = await play(t.db, s, s.schedules[1]);
    expect(first).toEqual(want);
    expect(second).toEqual(first);
  };

  it(`converges on the latest stamp whatever the order (${runsOn(name)} runs)`, async () => {
    console.info(`[sync-policy-convergence] seed ${SEED} (replay with SHOAL_TEST_SEED=${SEED})`);
    await fc.assert(fc.asyncProperty(scenarioArb, check), { seed: SEED, numRuns: runsOn(name) });
  }, 600_000);

  it.each(PINNED)('converges on pinned seed $seed ($why)', async ({ seed, path }) => {
    await fc.assert(fc.asyncProperty(scenarioArb, check), { seed, path, numRuns: 1 });
  });
});

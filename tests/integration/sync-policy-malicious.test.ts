/**
 * Malicious-client fuzz of the edit policy, on every driver: random batches
 * of forged and legitimate writes (server maps, unknown maps, nested types,
 * content JSON cannot hold such as bigint, binary and NaN, deletions,
 * invisible and made-up threads, bad values, assignees who cannot see,
 * absurd and malformed stamps, other people's records, conversions of
 * addresses the author never saw, forged answers), each batch synced and
 * reviewed (some twice). After every batch: Postgres holds exactly what the
 * model lets through (0 forged writes), and the author's server and client
 * documents equal the canonical state.
 *
 * Replay a failure with SHOAL_TEST_SEED=<seed>; pin it in PINNED.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Db } from '../../db/types';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import { recordIdFor } from '../../sync/uuidv5';
import { driverCases, type TestDb } from '../helpers/db';
import { authorOf, connectClient, createTestHost, mapJson, syncClient, type TestHost } from '../helpers/hosted-doc';
import { seedPolicyOrg, type PolicyOrg } from '../helpers/sync-policy-org';
import { ALL_MAP_NAMES, moveArb, NOW, stampText, storedStamp, type Move, type PersonPick, type ThreadPick } from '../helpers/sync-policy-model';

// Each run writes to a real database: CI sets SYNC_FUZZ_RUNS (database-backed fuzz) apart from PROPERTY_RUNS (pure properties).
const RUNS = Number(process.env.SYNC_FUZZ_RUNS ?? 25);
const SEED = Number(process.env.SHOAL_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** `{ seed, path }` of past failures, replayed on every run. */
const PINNED: { seed: number; path: string; why: string }[] = [
  { seed: 1331816214, path: '3:1:2:1:2:2:2:2:2:2:2:3:2:2:2:3:3:3:3:3:3:3', why: 'a bigint in a server map made the review throw' },
  {
    seed: 195344872,
    path: '8:3:1:3:3:3:4:4:3:6:3:3:3:3:3:3:3:3:8:3:3:3:3:6:3:3:3:3:4:4:4:4:4:4:4:4:4:4',
    why: 'a forged NaN never equalled itself, so it was never corrected',
  },
];

type Stamped = { v: unknown; hlc: string };
interface Model {
  fields: Map<string, Stamped>;
  flags: Map<string, Stamped>;
  answers: Map<string, Map<string, unknown>>;
  strangerType: 'lead' | 'contact' | null;
}

const randomId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function threadOf(org: PolicyOrg, pick: ThreadPick, n: number): string {
  const ids: Record<ThreadPick, string> = {
    shared0: org.shared[0] as string,
    shared1: org.shared[1] as string,
    own: org.own,
    hidden: org.hidden,
    random: randomId(n),
    garbage: 'not-a-thread',
  };
  return ids[pick];
}

function personOf(org: PolicyOrg, pick: PersonPick, n: number): string | null {
  const ids: Record<PersonPick, string | null> = { none: null, ana: org.ana, ben: org.ben, cleo: org.cleo, dan: org.dan, random: randomId(n) };
  return ids[pick];
}

function serverContent(org: PolicyOrg): Map<string, Map<string, unknown>> {
  const entries: [string, [string, unknown][]][] = [
    ['meta', [['schema', 1], ['userId', org.ana], ['epoch', 'e1']]],
    ['threads', [...org.shared, org.own].map((id, i) => [id, { subject: `Thread ${i}`, messageCount: 1 }])],
    ['records', [[org.lead, { type: 'lead', name: 'Lead', ownerId: org.ana }]]],
    ['people', [[org.ben, { name: 'Ben', role: 'rep', active: true }]]],
    ['notifications', [['n0', { kind: 'mention', payload: {}, createdAt: '2026-01-01T00:00:00Z', readAt: null }]]],
    ['accounts', []],
  ];
  return new Map(entries.map(([map, kv]) => [map, new Map(kv)]));
}

/** Plays one move on the client document. @returns the map and key it touched, or null. */
function play(client: Y.Doc, org: PolicyOrg, content: Map<string, Map<string, unknown>>, move: Move, n: number): [string, string] | null {
  const stamped = (v: unknown, hlc: string | undefined) => (hlc === undefined ? { v } : { v, hlc });
  switch (move.kind) {
    case 'field': {
      const key = `${threadOf(org, move.thread, n)}|${move.field}`;
      const v = move.field === 'assignee' && move.valid ? personOf(org, move.assignee, n) : move.value;
      client.getMap('fields').set(key, stamped(v, stampText(move.stamp, n)));
      return ['fields', key];
    }
    case 'server': {
      const existing = [...(content.get(move.map)?.keys() ?? [])].sort();
      const key = move.key === 'hidden' ? org.hidden : move.key === 'existing' && existing.length > 0 ? (existing[move.index % existing.length] as string) : `r-${n}`;
      client.getMap(move.map).set(key, move.value);
      return [move.map, key];
    }
    case 'delete': {
      const keys = [...client.getMap(move.map).keys()].sort();
      const key = keys[move.index % Math.max(1, keys.length)];
      if (key === undefined) {
        return null;
      }
      client.getMap(move.map).delete(key);
      return [move.map, key];
    }
    case 'nested': {
      const nested = new Y.Map<unknown>();
      client.getMap(move.map).set(move.key, nested);
      nested.set('v', 1);
      return [move.map, move.key];
    }
    case 'flag': {
      const key = { lead: org.lead, secret: org.secretLead, random: randomId(n), garbage: 'garbage' }[move.record];
      client.getMap('shareFlags').set(key, stamped(move.v, stampText(move.stamp, n)));
      return ['shareFlags', key];
    }
    case 'convert': {
      const key = { stranger: org.stranger, hidden: org.hiddenParty, random: `r${n}@nowhere.test`, bad: `Bad ${n}` }[move.address];
      const hlc = stampText(move.stamp, n);
      const answer = move.form === 'answer' ? { status: 'done', recordId: org.secretLead } : { status: 'pending', recordId: null };
      client.getMap('conversions').set(key, { type: move.type, ...(hlc === undefined ? {} : { hlc }), ...answer, reason: null });
      return ['conversions', key];
    }
  }
}

function lww(target: Map<string, Stamped>, key: string, v: unknown, hlc: string): void {
  const held = target.get(key);
  if (!held || held.hlc < hlc) {
    target.set(key, { v, hlc });
  }
}

/** What the rules let through for the last move on a key. */
function advance(model: Model, org: PolicyOrg, move: Move, key: string, n: number): void {
  if (move.kind === 'field') {
    const stamp = storedStamp(move.stamp, n);
    const thread = threadOf(org, move.thread, n);
    const visible = [...org.shared, org.own].includes(thread);
    const assigneeOk = move.field !== 'assignee' || ['none', 'ana'].includes(move.assignee) || (move.assignee === 'ben' && org.shared.includes(thread));
    if (stamp && visible && move.valid && assigneeOk) {
      lww(model.fields, key, move.field === 'assignee' ? personOf(org, move.assignee, n) : move.value, stamp);
    }
  } else if (move.kind === 'flag') {
    const stamp = storedStamp(move.stamp, n);
    if (stamp && move.record === 'lead' && typeof move.v === 'boolean') {
      lww(model.flags, key, move.v, stamp);
    }
  } else if (move.kind === 'convert') {
    const hlc = stampText(move.stamp, n) as string;
    if (move.form !== 'request' || move.address === 'bad' || storedStamp(move.stamp, n) === null) {
      return;
    }
    const answers = model.answers.get(key) ?? new Map<string, unknown>();
    model.answers.set(key, answers);
    if (move.address !== 'stranger') {
      answers.set(hlc, { type: move.type, hlc, status: 'refused', recordId: null, reason: 'address_not_other_party' });
      return;
    }
    model.strangerType ??= move.type;
    answers.set(hlc, { type: model.strangerType, hlc, status: 'done', recordId: recordIdFor(org.orgId, org.stranger), reason: null });
  }
}

const sortedObject = (entries: Iterable<[string, unknown]>) => Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : 1)));

async function expectCanonical(db: Db, org: PolicyOrg, host: TestHost, client: Y.Doc, model: Model, content: Map<string, Map<string, unknown>>) {
  const latest = (answers: Map<string, unknown>) => answers.get([...answers.keys()].sort().at(-1) as string);
  const expected: Record<string, Record<string, unknown>> = {
    fields: sortedObject(model.fields),
    shareFlags: sortedObject(model.flags),
    conversions: sortedObject([...model.answers].map(([address, answers]) => [address, latest(answers)])),
  };
  for (const map of ALL_MAP_NAMES) {
    const want = expected[map] ?? sortedObject(content.get(map) ?? []);
    expect(mapJson(host.hosted.doc, map), `server ${map}`).toEqual(want);
    expect(mapJson(client, map), `client ${map}`).toEqual(want);
  }
  const inOrg = 'thread_id in (select id from threads where org_id = $1)';
  const shared = await db.query<{ k: string; value: unknown; hlc: string }>(`select thread_id || '|' || field as k, value, hlc from thread_fields where ${inOrg}`, [org.orgId]);
  const personal = await db.query<{ k: string; value: unknown; hlc: string; user_id: string }>(
    `select thread_id || '|' || field as k, value, hlc, user_id from thread_user_fields where ${inOrg}`,
    [org.orgId],
  );
  expect(personal.every((r) => r.user_id === org.ana)).toBe(true);
  expect(sortedObject([...shared, ...personal].map((r) => [r.k, { v: r.value, hlc: r.hlc }]))).toEqual(expected.fields);
  const flags = await db.query<{ record_id: string; shared: boolean; hlc: string }>(
    'select record_id, shared, hlc from email_share_flags where owner_id in (select id from users where org_id = $1)',
    [org.orgId],
  );
  expect(sortedObject(flags.map((f) => [f.record_id, { v: f.shared, hlc: f.hlc }]))).toEqual(expected.shareFlags);
  const records = await db.query<{ id: string; type: string }>('select id, type from records where org_id = $1 order by id', [org.orgId]);
  const converted = model.strangerType ? [{ id: recordIdFor(org.orgId, org.stranger), type: model.strangerType }] : [];
  const want = [{ id: org.lead, type: 'lead' }, { id: org.secretLead, type: 'lead' }, ...converted].sort((a, b) => (a.id < b.id ? -1 : 1));
  expect(records).toEqual(want);
}

async function runScenario(db: Db, batches: { moves: Move[]; twice: boolean }[]): Promise<void> {
  const org = await seedPolicyOrg(db, 2);
  const content = serverContent(org);
  const host = createTestHost(org.ana);
  await host.hosted.write((doc) => content.forEach((entries, map) => entries.forEach((v, k) => doc.getMap(map).set(k, v))));
  const policy = createEditPolicy({ db, now: () => NOW, canonicalValue: async (_h, map, key) => content.get(map)?.get(key) });
  const client = connectClient(host);
  const model: Model = { fields: new Map(), flags: new Map(), answers: new Map(), strangerType: null };
  let n = 0;
  for (const batch of batches) {
    const last = new Map<string, { move: Move; key: string; n: number }>();
    for (const move of batch.moves) {
      n += 1;
      const touched = play(client, org, content, move, n);
      if (touched) {
        last.set(touched.join('\u0000'), { move, key: touched[1], n });
      }
    }
    await syncClient(client, host, policy, authorOf(org.ana), { reviewTwice: batch.twice });
    for (const { move, key, n: at } of last.values()) {
      advance(model, org, move, key, at);
    }
    await expectCanonical(db, org, host, client, model, content);
  }
}

const batchesArb = fc.array(fc.record({ moves: fc.array(moveArb, { minLength: 1, maxLength: 8 }), twice: fc.boolean() }), { minLength: 1, maxLength: 4 });

describe.each(driverCases())('malicious client fuzz on $name', ({ create }) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it(`accepts 0 forged writes and corrects the author's document (${RUNS} runs)`, async () => {
    console.info(`[sync-policy-malicious] seed ${SEED} (replay with SHOAL_TEST_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(batchesArb, (batches) => runScenario(t.db, batches)),
      { seed: SEED, numRuns: RUNS },
    );
  }, 600_000);

  it.each(PINNED)('holds on pinned seed $seed ($why)', async ({ seed, path }) => {
    await fc.assert(fc.asyncProperty(batchesArb, (batches) => runScenario(t.db, batches)), { seed, path, numRuns: 1 });
  });
});

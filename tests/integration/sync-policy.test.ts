/**
 * The edit policy (server/sync/policy) on every driver: a client Y.Doc edits
 * offline, its diff is applied to a server Y.Doc like the host does, then
 * reviewed; Postgres decides, and the author's document ends on the
 * canonical value of every key it touched.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { recordIdFor } from '../../sync/uuidv5';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import type { AppliedChange, CanonicalValue } from '../../server/sync/policy/types';
import type { EditPolicy } from '../../server/sync/types';
import { fieldKey, MAPS } from '../../sync/doc/schema';
import { formatStamp } from '../../sync/hlc';
import { driverCases, type TestDb } from '../helpers/db';
import { authorOf, connectClient, createTestHost, mapJson, pull, syncClient, type TestHost } from '../helpers/hosted-doc';
import { seedPolicyOrg, type PolicyOrg } from '../helpers/sync-policy-org';

const NOW = Date.UTC(2026, 0, 15, 12);
const at = (wallMs: number, counter = 0, node = 'dev-a') => formatStamp({ wallMs, counter, node });

/** What the projection would have written: server maps of Ana's document. */
function serverContent(org: PolicyOrg): Map<string, Map<string, unknown>> {
  return new Map<string, Map<string, unknown>>([
    [MAPS.meta, new Map<string, unknown>([['schema', 1], ['userId', org.ana], ['epoch', 'e1']])],
    [MAPS.threads, new Map<string, unknown>([...org.shared, org.own].map((id, i) => [id, { subject: `Thread ${i}`, messageCount: 1 }]))],
    [MAPS.people, new Map<string, unknown>([[org.ben, { name: 'Ben', role: 'rep', active: true }]])],
  ]);
}

describe.each(driverCases())('sync edit policy on $name', ({ create }) => {
  let t: TestDb;
  let org: PolicyOrg;
  let host: TestHost;
  let client: Y.Doc;
  let policy: EditPolicy;
  let applied: AppliedChange[];
  let content: Map<string, Map<string, unknown>>;
  const ana = () => authorOf(org.ana);

  const makePolicy = (canonical: CanonicalValue | undefined) =>
    createEditPolicy({ db: t.db, now: () => NOW, ...(canonical ? { canonicalValue: canonical } : {}), onApplied: (c) => void applied.push(...c) });

  const stored = async (threadId: string, field: string) =>
    (await t.db.query<{ value: unknown; hlc: string }>('select value, hlc from thread_fields where thread_id = $1 and field = $2', [threadId, field]))[0];
  const logged = async (key: string) =>
    t.db.query<{ hlc: string; outcome: string; reason: string | null }>('select hlc, outcome, reason from sync_writes where user_id = $1 and key = $2 order by hlc', [
      org.ana,
      key,
    ]);
  const inOrg = (table: 'thread_fields' | 'thread_user_fields') =>
    t.db.query(`select thread_id from ${table} where thread_id in (select id from threads where org_id = $1)`, [org.orgId]);
  const setField = (doc: Y.Doc, threadId: string, field: Parameters<typeof fieldKey>[1], value: unknown) => doc.getMap(MAPS.fields).set(fieldKey(threadId, field), value);
  const sync = (doc = client, options: { reviewTwice?: boolean } = {}) => syncClient(doc, host, policy, ana(), options);

  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t?.drop();
  });
  beforeEach(async () => {
    org = await seedPolicyOrg(t.db);
    applied = [];
    content = serverContent(org);
    host = createTestHost(org.ana);
    await host.hosted.write((doc) => content.forEach((entries, map) => entries.forEach((v, k) => doc.getMap(map).set(k, v))));
    policy = makePolicy(async (_hosted, map, key) => content.get(map)?.get(key));
    client = connectClient(host);
  });

  it('lands an accepted edit in Postgres, logs it and fans it out; read is personal', async () => {
    const [thread] = org.shared as [string];
    setField(client, thread, 'status', { v: 'pending', hlc: at(NOW - 1000) });
    setField(client, thread, 'assignee', { v: org.ben, hlc: at(NOW - 900) });
    setField(client, thread, 'read', { v: true, hlc: at(NOW - 800) });
    await sync();
    expect(await stored(thread, 'status')).toEqual({ value: 'pending', hlc: at(NOW - 1000) });
    expect(await stored(thread, 'assignee')).toEqual({ value: org.ben, hlc: at(NOW - 900) });
    const read = await t.db.query('select user_id, value from thread_user_fields where thread_id = $1', [thread]);
    expect(read).toEqual([{ user_id: org.ana, value: true }]);
    expect(await logged(`fields:${fieldKey(thread, 'status')}`)).toEqual([{ hlc: at(NOW - 1000), outcome: 'applied', reason: null }]);
    // The committed shared values travel with the change (the fan-out reads nothing); the personal `read` does not.
    expect(applied).toEqual([
      {
        kind: 'thread-fields',
        threadIds: [thread],
        values: {
          [fieldKey(thread, 'status')]: { v: 'pending', hlc: at(NOW - 1000) },
          [fieldKey(thread, 'assignee')]: { v: org.ben, hlc: at(NOW - 900) },
        },
      },
    ]);
    expect(mapJson(client, MAPS.fields)).toEqual(mapJson(host.hosted.doc, MAPS.fields));
    expect(client.getMap(MAPS.fields).get(fieldKey(thread, 'status'))).toEqual({ v: 'pending', hlc: at(NOW - 1000) });
  });

  it('lets an older stamp lose and shows the stored value instead', async () => {
    const [thread] = org.shared as [string];
    setField(client, thread, 'status', { v: 'done', hlc: at(NOW - 100, 0, 'dev-b') });
    await sync();
    const late = connectClient(host);
    setField(client, thread, 'status', { v: 'pending', hlc: at(NOW - 500) });
    await sync();
    expect(await stored(thread, 'status')).toEqual({ value: 'done', hlc: at(NOW - 100, 0, 'dev-b') });
    expect(client.getMap(MAPS.fields).get(fieldKey(thread, 'status'))).toEqual({ v: 'done', hlc: at(NOW - 100, 0, 'dev-b') });
    expect((await logged(`fields:${fieldKey(thread, 'status')}`)).find((r) => r.outcome === 'lost')).toMatchObject({ reason: 'older_than_stored' });
    pull(late, host);
    expect(mapJson(late, MAPS.fields)).toEqual(mapJson(host.hosted.doc, MAPS.fields));
  });

  it('clamps a stamp from the future to five minutes ahead, in Postgres and in the document', async () => {
    const [thread] = org.shared as [string];
    setField(client, thread, 'labels', { v: ['vip'], hlc: at(NOW + 3_600_000, 7) });
    await sync();
    const clamped = at(NOW + 5 * 60_000, 7);
    expect(await stored(thread, 'labels')).toEqual({ value: ['vip'], hlc: clamped });
    expect(client.getMap(MAPS.fields).get(fieldKey(thread, 'labels'))).toEqual({ v: ['vip'], hlc: clamped });
    expect(await logged(`fields:${fieldKey(thread, 'labels')}`)).toEqual([{ hlc: at(NOW + 3_600_000, 7), outcome: 'applied', reason: 'hlc_clamped' }]);
  });

  it('refuses malformed and absurd stamps and invalid values, and puts the stored value back', async () => {
    const [a, b, c] = org.shared as [string, string, string];
    setField(client, a, 'status', { v: 'open', hlc: at(NOW - 10) });
    await sync();
    setField(client, a, 'status', { v: 'done', hlc: 'yesterday' });
    setField(client, b, 'status', { v: 'done', hlc: at(NOW + 2 * 86_400_000) });
    setField(client, c, 'status', { v: 'done', hlc: at(Date.UTC(1999, 0, 1)) });
    setField(client, c, 'labels', { v: ['x'.repeat(41)], hlc: at(NOW) });
    setField(client, c, 'read', { v: 'yes', hlc: at(NOW) });
    setField(client, b, 'snoozeUntil', { v: null });
    client.getMap(MAPS.fields).set(`${a}|priority`, { v: 1, hlc: at(NOW) });
    await sync();
    expect(await stored(a, 'status')).toEqual({ value: 'open', hlc: at(NOW - 10) });
    const rows = await t.db.query('select thread_id from thread_fields where thread_id = any($1::uuid[]) and thread_id <> $2', [[b, c], a]);
    expect(rows).toEqual([]);
    expect(await t.db.query('select 1 from thread_user_fields where thread_id = $1', [c])).toEqual([]);
    expect(mapJson(client, MAPS.fields)).toEqual({ [fieldKey(a, 'status')]: { v: 'open', hlc: at(NOW - 10) } });
    const reasons = (await t.db.query<{ reason: string }>(`select reason from sync_writes where user_id = $1 and outcome = 'refused' order by reason`, [org.ana])).map((r) => r.reason);
    expect(reasons).toEqual(['hlc_absurd', 'hlc_absurd', 'hlc_malformed', 'invalid_value', 'invalid_value', 'not_stamped', 'unknown_field']);
  });

  it('reverts forged server-map keys to the canonical value and empties unknown maps', async () => {
    const [thread] = org.shared as [string];
    client.getMap(MAPS.threads).set(thread, { subject: 'forged', messageCount: 99 });
    client.getMap(MAPS.threads).set(randomUUID(), { subject: 'injected' });
    client.getMap(MAPS.meta).set('epoch', 'e2');
    client.getMap(MAPS.people).set(org.ben, { name: 'Ben', role: 'admin', active: true });
    client.getMap(MAPS.records).set(org.secretLead, { type: 'lead', name: 'Secret' });
    client.getMap('evil').set('x', 1);
    const nested = new Y.Map<unknown>();
    client.getMap(MAPS.notifications).set('n1', nested);
    nested.set('kind', 'forged');
    await sync();
    for (const name of [MAPS.meta, MAPS.threads, MAPS.people, MAPS.records, MAPS.notifications, 'evil']) {
      const want = Object.fromEntries([...(content.get(name) ?? new Map<string, unknown>())].sort(([x], [y]) => (x < y ? -1 : 1)));
      expect(mapJson(host.hosted.doc, name)).toEqual(want);
      expect(mapJson(client, name)).toEqual(want);
    }
    expect(await t.db.query('select 1 from sync_writes where user_id = $1', [org.ana])).toEqual([]);
  });

  it('without a canonical source puts back the value the key held before the update', async () => {
    policy = makePolicy(undefined);
    const [thread] = org.shared as [string];
    client.getMap(MAPS.threads).set(thread, { subject: 'forged' });
    client.getMap(MAPS.threads).set(org.hidden, { subject: 'injected' });
    client.getMap(MAPS.meta).delete('epoch');
    await sync();
    expect(client.getMap(MAPS.threads).get(thread)).toEqual(content.get(MAPS.threads)?.get(thread));
    expect(client.getMap(MAPS.threads).has(org.hidden)).toBe(false);
    expect(client.getMap(MAPS.meta).get('epoch')).toBe('e1');
  });

  it('refuses edits to threads the author cannot see and removes the injected thread', async () => {
    client.getMap(MAPS.threads).set(org.hidden, { subject: 'injected' });
    setField(client, org.hidden, 'status', { v: 'done', hlc: at(NOW) });
    setField(client, org.hidden, 'read', { v: true, hlc: at(NOW) });
    setField(client, randomUUID(), 'status', { v: 'done', hlc: at(NOW) });
    client.getMap(MAPS.fields).set('not-a-thread|status', { v: 'done', hlc: at(NOW) });
    await sync();
    expect(await inOrg('thread_fields')).toEqual([]);
    expect(await inOrg('thread_user_fields')).toEqual([]);
    expect(mapJson(client, MAPS.fields)).toEqual({});
    expect(client.getMap(MAPS.threads).has(org.hidden)).toBe(false);
    expect(applied).toEqual([]);
  });

  it('assigns only to an active person who can see the thread', async () => {
    const [a, b, c, d] = [...org.shared, org.own] as [string, string, string, string];
    setField(client, a, 'assignee', { v: org.cleo, hlc: at(NOW) });
    setField(client, b, 'assignee', { v: org.dan, hlc: at(NOW) });
    setField(client, c, 'assignee', { v: randomUUID(), hlc: at(NOW) });
    setField(client, d, 'assignee', { v: org.ben, hlc: at(NOW) });
    await sync();
    expect(await inOrg('thread_fields')).toEqual([]);
    expect(mapJson(client, MAPS.fields)).toEqual({});
    expect((await t.db.query<{ n: number }>(`select count(*)::int as n from sync_writes where user_id = $1 and reason = 'assignee_cannot_see_thread'`, [org.ana]))[0]?.n).toBe(4);
    setField(client, a, 'assignee', { v: org.ben, hlc: at(NOW, 1) });
    await sync();
    expect(await stored(a, 'assignee')).toEqual({ value: org.ben, hlc: at(NOW, 1) });
  });

  it('decides each assignment of one batch by its own person and thread', async () => {
    const [a, b] = org.shared as [string, string];
    setField(client, a, 'assignee', { v: org.ben, hlc: at(NOW) });
    setField(client, org.own, 'assignee', { v: org.ben, hlc: at(NOW) });
    setField(client, b, 'assignee', { v: org.cleo, hlc: at(NOW) });
    await sync();
    expect(await stored(a, 'assignee')).toEqual({ value: org.ben, hlc: at(NOW) });
    expect(await stored(org.own, 'assignee')).toBeUndefined();
    expect(await stored(b, 'assignee')).toBeUndefined();
    const refused = await t.db.query<{ key: string }>(`select key from sync_writes where user_id = $1 and reason = 'assignee_cannot_see_thread' order by key`, [org.ana]);
    expect(refused.map((r) => r.key).sort()).toEqual([`fields:${fieldKey(org.own, 'assignee')}`, `fields:${fieldKey(b, 'assignee')}`].sort());
  });

  it('decides a write Yjs ordered behind a concurrent one by its stamp, not by client id', async () => {
    const [thread] = org.shared as [string];
    const high = new Y.Doc({ gc: true });
    high.clientID = 0x7fff_fff0;
    pull(high, host);
    const low = new Y.Doc({ gc: true });
    low.clientID = 7;
    pull(low, host);
    setField(high, thread, 'status', { v: 'pending', hlc: at(NOW - 50, 0, 'high') });
    setField(low, thread, 'status', { v: 'done', hlc: at(NOW - 10, 0, 'low') });
    await sync(high);
    const changes = host.apply(Y.encodeStateAsUpdate(low, Y.encodeStateVector(host.hosted.doc)), ana());
    // Yjs keeps the higher client id's value: the newer edit is hidden until Postgres decides.
    expect(host.hosted.doc.getMap(MAPS.fields).get(fieldKey(thread, 'status'))).toEqual({ v: 'pending', hlc: at(NOW - 50, 0, 'high') });
    expect(changes.written.get(MAPS.fields)?.get(fieldKey(thread, 'status'))).toEqual([{ v: 'done', hlc: at(NOW - 10, 0, 'low') }]);
    await policy.review(host.hosted, ana(), changes.changed, { previous: changes.previous, written: changes.written });
    pull(low, host);
    expect(await stored(thread, 'status')).toEqual({ value: 'done', hlc: at(NOW - 10, 0, 'low') });
    pull(high, host);
    for (const doc of [high, low, host.hosted.doc]) {
      expect(doc.getMap(MAPS.fields).get(fieldKey(thread, 'status'))).toEqual({ v: 'done', hlc: at(NOW - 10, 0, 'low') });
    }
  });

  it('replays idempotently: the same update, the same review, and the same stamp after a reset', async () => {
    const [thread] = org.shared as [string];
    setField(client, thread, 'status', { v: 'pending', hlc: at(NOW - 100) });
    const update = Y.encodeStateAsUpdate(client, Y.encodeStateVector(host.hosted.doc));
    await sync(client, { reviewTwice: true });
    const before = await t.db.query('select value, hlc, updated_at from thread_fields where thread_id = $1', [thread]);
    const logBefore = await t.db.query('select key, hlc, outcome from sync_writes where user_id = $1 order by key, hlc', [org.ana]);
    const writes = host.serverWrites;
    expect(host.apply(update, ana()).changed.size).toBe(0);
    // A newer write by someone else, then Ana's reset device sends her old write again as a new Yjs item.
    await t.db.query(`update thread_fields set value = '"done"', hlc = $1 where thread_id = $2`, [at(NOW - 10, 0, 'ben'), thread]);
    const reset = new Y.Doc({ gc: true });
    setField(reset, thread, 'status', { v: 'pending', hlc: at(NOW - 100) });
    await sync(reset);
    expect(await t.db.query('select key, hlc, outcome from sync_writes where user_id = $1 order by key, hlc', [org.ana])).toEqual(logBefore);
    expect((await t.db.query<{ updated_at: Date }>('select updated_at from thread_fields where thread_id = $1', [thread]))[0]?.updated_at).toEqual((before[0] as { updated_at: Date }).updated_at);
    expect(reset.getMap(MAPS.fields).get(fieldKey(thread, 'status'))).toEqual({ v: 'done', hlc: at(NOW - 10, 0, 'ben') });
    expect(host.serverWrites).toBe(writes + 1);
  });

  it('sets share flags only for records the author can access', async () => {
    const flags = client.getMap(MAPS.shareFlags);
    flags.set(org.lead, { v: true, hlc: at(NOW) });
    flags.set(org.secretLead, { v: true, hlc: at(NOW) });
    flags.set(randomUUID(), { v: true, hlc: at(NOW) });
    flags.set('nope', { v: true, hlc: at(NOW) });
    await sync();
    const rows = await t.db.query('select owner_id, record_id, shared, hlc from email_share_flags where owner_id = $1', [org.ana]);
    expect(rows).toEqual([{ owner_id: org.ana, record_id: org.lead, shared: true, hlc: at(NOW) }]);
    expect(mapJson(client, MAPS.shareFlags)).toEqual({ [org.lead]: { v: true, hlc: at(NOW) } });
    expect(applied).toEqual([{ kind: 'share-flag', ownerId: org.ana, recordId: org.lead }]);
    flags.set(org.lead, { v: false, hlc: at(NOW - 5) });
    await sync();
    expect(flags.get(org.lead)).toEqual({ v: true, hlc: at(NOW) });
  });

  it('converts an other party of a visible message once, and refuses any other address', async () => {
    const conversions = client.getMap(MAPS.conversions);
    conversions.set(org.stranger, { type: 'lead', hlc: at(NOW), status: 'pending', recordId: null, reason: null });
    conversions.set(org.hiddenParty, { type: 'contact', hlc: at(NOW), status: 'pending', recordId: null, reason: null });
    conversions.set('Not An Address', { type: 'lead', hlc: at(NOW), status: 'pending', recordId: null, reason: null });
    await sync();
    const id = recordIdFor(org.orgId, org.stranger);
    expect(conversions.get(org.stranger)).toEqual({ type: 'lead', hlc: at(NOW), status: 'done', recordId: id, reason: null });
    expect(conversions.get(org.hiddenParty)).toMatchObject({ status: 'refused', recordId: null, reason: 'address_not_other_party' });
    expect(conversions.has('Not An Address')).toBe(false);
    expect(await t.db.query('select owner_id, type, source from records where id = $1', [id])).toEqual([{ owner_id: org.ana, type: 'lead', source: 'conversion' }]);
    expect(applied).toEqual([{ kind: 'record-created', recordId: id }]);
    // A forged answer goes back to the server's; a second request finds the record.
    conversions.set(org.stranger, { type: 'lead', hlc: at(NOW), status: 'done', recordId: org.secretLead, reason: null });
    await sync();
    expect(conversions.get(org.stranger)).toMatchObject({ status: 'done', recordId: id });
    conversions.set(org.stranger, { type: 'contact', hlc: at(NOW, 1), status: 'pending', recordId: null, reason: null });
    await sync();
    expect(conversions.get(org.stranger)).toEqual({ type: 'lead', hlc: at(NOW, 1), status: 'done', recordId: id, reason: null });
    expect((await t.db.query<{ n: number }>('select count(*)::int as n from records where org_id = $1', [org.orgId]))[0]?.n).toBe(3);
  });
});

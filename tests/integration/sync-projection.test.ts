/**
 * The projection: what each person's document holds, built from Postgres
 * (visible messages only, canonical fields, own share flags, accessible
 * records, directory, notifications, mailboxes), the working-set window and
 * cap, diffs that write nothing when nothing changed, canonical values for
 * the edit policy, and fan-out of committed field edits. Every driver.
 */
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listVisibleThreads } from '../../db/queries/mail-views';
import type { Db } from '../../db/types';
import { createLogger } from '../../server/logger';
import { BackgroundPacer } from '../../server/sync/host/background';
import { ChangeFeed } from '../../server/sync/projection/change-feed';
import { createLocalChangeBus } from '../../server/sync/projection/changes';
import { Projection } from '../../server/sync/projection/writer';
import type { HostedDoc } from '../../server/sync/types';
import { readThread } from '../../sync/client/read';
import { DOC_SCHEMA_VERSION, fieldKey, MAPS } from '../../sync/doc/schema';
import { readSummaries } from '../../sync/doc/thread-codec';
import { driverCases, type TestDb } from '../helpers/db';
import { insertTestMailbox, insertTestMessage } from '../helpers/mail-rows';
import { projectedJson, TestDocs, threadIdsOf } from '../helpers/sync-projection';

const DAY = 86_400_000;
const silent = createLogger('silent');
const stamp = (n: number) => `${String(1_800_000_000_000 + n).padStart(15, '0')}:0000:test`;

async function insertOrg(db: Db, recordAccess: 'public' | 'private' = 'public'): Promise<string> {
  const id = crypto.randomUUID();
  await db.query('insert into organizations (id, name, record_access) values ($1, $2, $3)', [id, 'Org', recordAccess]);
  return id;
}

async function insertUser(db: Db, orgId: string, name: string, p: { managerId?: string; active?: boolean } = {}): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(
    `insert into users (id, org_id, email, name, password_hash, role, manager_id, active) values ($1, $2, $3, $4, 'x', 'rep', $5, $6)`,
    [id, orgId, `${name.toLowerCase()}.${id.slice(0, 8)}@people.test`, name, p.managerId ?? null, p.active ?? true],
  );
  return id;
}

async function insertRecord(db: Db, orgId: string, ownerId: string, type: 'lead' | 'contact', name: string, address: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.query('insert into records (id, org_id, type, owner_id, name) values ($1, $2, $3, $4, $5)', [id, orgId, type, ownerId, name]);
  await db.query('insert into record_emails (org_id, address, record_type, record_id, is_primary) values ($1, $2, $3, $4, true)', [orgId, address, type, id]);
  return id;
}

/** A message in an existing thread, at a given time. */
async function insertReply(db: Db, m: { orgId: string; accountId: string; threadId: string; from: string; to: string; subject: string; text: string; at: Date }): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(
    `insert into messages (id, org_id, account_id, thread_id, message_key, subject, from_address, received_at, snippet, text_body, raw_sha256)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)`,
    [id, m.orgId, m.accountId, m.threadId, `k:${id}`, m.subject, m.from, m.at, m.text, new Uint8Array(32)],
  );
  await db.query(`insert into message_participants (message_id, address, role) values ($1, $2, 'from'), ($1, $3, 'to')`, [id, m.from, m.to]);
  return id;
}

async function setReceived(db: Db, messageId: string, at: Date): Promise<void> {
  await db.query('update messages set received_at = $2 where id = $1', [messageId, at]);
}

async function setField(db: Db, threadId: string, field: string, value: unknown, hlc: string): Promise<void> {
  await db.query(
    `insert into thread_fields (thread_id, field, value, hlc) values ($1, $2, $3::text::jsonb, $4)
     on conflict (thread_id, field) do update set value = excluded.value, hlc = excluded.hlc`,
    [threadId, field, JSON.stringify(value), hlc],
  );
}

const contains = (doc: Y.Doc, text: string) => Buffer.from(Y.encodeStateAsUpdate(doc)).includes(Buffer.from(text));

describe.each(driverCases())('sync projection on $name', ({ create }) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t.drop();
  });

  describe('a small team', () => {
    const docs = new TestDocs();
    let projection: Projection;
    const ids = {} as Record<'org' | 'anna' | 'ben' | 'cleo' | 'dan' | 'benBox' | 'cleoBox' | 'kim' | 'lee' | 'other' | 't1' | 't3' | 't4' | 'm2' | 'm3', string>;

    beforeAll(async () => {
      const db = t.db;
      projection = new Projection(db, { windowDays: 90, maxThreads: 5000 });
      ids.org = await insertOrg(db);
      ids.anna = await insertUser(db, ids.org, 'Anna');
      ids.ben = await insertUser(db, ids.org, 'Ben', { managerId: ids.anna });
      ids.cleo = await insertUser(db, ids.org, 'Cleo');
      ids.dan = await insertUser(db, ids.org, 'Dan', { active: false });
      ids.benBox = await insertTestMailbox(db, { orgId: ids.org, ownerId: ids.ben, address: 'ben@corp.test' });
      ids.cleoBox = await insertTestMailbox(db, { orgId: ids.org, ownerId: ids.cleo, address: 'cleo@corp.test' });
      ids.kim = await insertRecord(db, ids.org, ids.ben, 'contact', 'Kim Customer', 'kim@customer.test');
      ids.lee = await insertRecord(db, ids.org, ids.cleo, 'lead', 'Lee Lead', 'lee@other.test');
      ids.other = await insertRecord(db, ids.org, ids.anna, 'lead', 'Nobody Linked', 'nobody@else.test');
      await db.query(`insert into email_share_flags (owner_id, record_id, shared, hlc) values ($1, $2, true, $3)`, [ids.ben, ids.kim, stamp(1)]);
      const now = Date.now();
      const m1 = await insertTestMessage(db, { orgId: ids.org, accountId: ids.benBox, from: 'kim@customer.test', to: ['ben@corp.test'], subject: 'Quote for spring', text: 'first-snippet-visible' });
      await setReceived(db, m1.messageId, new Date(now - 2 * DAY));
      ids.t1 = m1.threadId;
      ids.m2 = await insertReply(db, { orgId: ids.org, accountId: ids.benBox, threadId: ids.t1, from: 'ben@corp.test', to: 'secret@nowhere.test', subject: 'Internal-note-xyz', text: 'hidden-snippet-xyz', at: new Date(now - DAY) });
      const m3 = await insertTestMessage(db, { orgId: ids.org, accountId: ids.benBox, from: 'pal@friends.test', to: ['ben@corp.test'], subject: 'Private lunch', text: 'lunch-snippet' });
      ids.t3 = m3.threadId;
      ids.m3 = m3.messageId;
      ids.t4 = (await insertTestMessage(db, { orgId: ids.org, accountId: ids.cleoBox, from: 'lee@other.test', to: ['cleo@corp.test'], subject: 'Lead hello', text: 'lead-snippet' })).threadId;
      await setField(db, ids.t1, 'status', 'pending', stamp(2));
      await setField(db, ids.t1, 'assignee', ids.cleo, stamp(3));
      await db.query(`insert into thread_user_fields (thread_id, user_id, field, value, hlc) values ($1, $2, 'read', 'true'::jsonb, $3)`, [ids.t1, ids.cleo, stamp(4)]);
      await db.query(`insert into notifications (id, user_id, kind, payload) values ($1, $2, 'mention', $3::text::jsonb), ($4, $5, 'mention', $3::text::jsonb)`, [
        crypto.randomUUID(), ids.ben, JSON.stringify({ messageId: ids.m3 }), crypto.randomUUID(), ids.cleo,
      ]);
      for (const id of [ids.anna, ids.ben, ids.cleo, ids.dan]) {
        await projection.buildDocument(id, docs.open(id));
      }
    });
    afterAll(() => docs.destroy());

    const doc = (id: string) => docs.open(id).doc;
    const thread = (id: string, threadId: string) => readThread(doc(id), threadId) ?? undefined;

    it('holds exactly the threads each person may see', () => {
      expect(threadIdsOf(doc(ids.ben))).toEqual(new Set([ids.t1, ids.t3]));
      expect(threadIdsOf(doc(ids.anna))).toEqual(new Set([ids.t1]));
      expect(threadIdsOf(doc(ids.cleo))).toEqual(new Set([ids.t1, ids.t4]));
      expect(threadIdsOf(doc(ids.dan))).toEqual(new Set());
    });

    it('summarizes a thread from the messages its reader may see, and nothing else', () => {
      expect(thread(ids.ben, ids.t1)).toMatchObject({ subject: 'Quote for spring', snippet: 'hidden-snippet-xyz', messageCount: 2, recordIds: [ids.kim] });
      expect(thread(ids.cleo, ids.t1)).toMatchObject({ subject: 'Quote for spring', snippet: 'first-snippet-visible', messageCount: 1, unreadCount: 0 });
      expect(thread(ids.cleo, ids.t1)?.mailboxOwnerIds).toEqual([ids.ben]);
      expect(thread(ids.ben, ids.t1)?.participants.map((p) => p.address)).toEqual(['ben@corp.test', 'kim@customer.test', 'secret@nowhere.test']);
      expect(thread(ids.cleo, ids.t1)?.participants.map((p) => p.address)).toEqual(['ben@corp.test', 'kim@customer.test']);
      expect(thread(ids.ben, ids.t3)?.unreadCount).toBe(1);
      for (const text of ['Internal-note-xyz', 'hidden-snippet-xyz', 'secret@nowhere.test', 'lunch-snippet']) {
        expect(contains(doc(ids.cleo), text)).toBe(false);
        expect(contains(doc(ids.anna), text)).toBe(false);
      }
    });

    it('holds canonical fields as {v, hlc}, the personal ones only for their person, defaults omitted', () => {
      const fields = (id: string) => Object.fromEntries(doc(id).getMap(MAPS.fields).entries());
      expect(fields(ids.cleo)).toEqual({
        [fieldKey(ids.t1, 'status')]: { v: 'pending', hlc: stamp(2) },
        [fieldKey(ids.t1, 'assignee')]: { v: ids.cleo, hlc: stamp(3) },
        [fieldKey(ids.t1, 'read')]: { v: true, hlc: stamp(4) },
      });
      expect(fields(ids.ben)).toEqual({
        [fieldKey(ids.t1, 'status')]: { v: 'pending', hlc: stamp(2) },
        [fieldKey(ids.t1, 'assignee')]: { v: ids.cleo, hlc: stamp(3) },
      });
    });

    it('holds own share flags, linked and owned records, the directory, notifications and mailboxes', () => {
      const map = (id: string, name: (typeof MAPS)[keyof typeof MAPS]) => Object.fromEntries(doc(id).getMap(name).entries());
      expect(map(ids.ben, MAPS.shareFlags)).toEqual({ [ids.kim]: { v: true, hlc: stamp(1) } });
      expect(map(ids.cleo, MAPS.shareFlags)).toEqual({});
      expect(Object.keys(map(ids.cleo, MAPS.records)).sort()).toEqual([ids.kim, ids.lee].sort());
      expect(map(ids.cleo, MAPS.records)[ids.kim]).toEqual({ ref: expect.any(Number), type: 'contact', name: 'Kim Customer', company: '', ownerId: ids.ben, primaryEmail: 'kim@customer.test' });
      expect(Object.keys(map(ids.anna, MAPS.records)).sort()).toEqual([ids.kim, ids.other].sort());
      expect(map(ids.cleo, MAPS.people)[ids.dan]).toMatchObject({ name: 'Dan', active: false, managerId: null });
      expect(map(ids.cleo, MAPS.people)[ids.ben]).toMatchObject({ managerId: ids.anna, role: 'rep' });
      expect(Object.values(map(ids.ben, MAPS.notifications))).toHaveLength(1);
      expect(Object.values(map(ids.cleo, MAPS.notifications))).toHaveLength(0);
      expect(map(ids.ben, MAPS.accounts)).toEqual({ [ids.benBox]: { email: 'ben@corp.test', status: 'pending', done: 0, total: 0 } });
      expect(map(ids.ben, MAPS.meta)).toMatchObject({ schema: DOC_SCHEMA_VERSION, userId: ids.ben });
      expect(map(ids.dan, MAPS.people)).toEqual({});
    });

    it('writes nothing when a refresh finds nothing changed', async () => {
      for (const id of [ids.anna, ids.ben, ids.cleo, ids.dan]) {
        expect(await projection.refresh(id, { all: true }, docs.open(id))).toEqual({ bytes: 0 });
        expect(await projection.refresh(id, { threadIds: [ids.t1, ids.t3, ids.t4] }, docs.open(id))).toEqual({ bytes: 0 });
        expect(await projection.refresh(id, { fieldThreadIds: [ids.t1], recordIds: [ids.kim, ids.lee] }, docs.open(id))).toEqual({ bytes: 0 });
      }
    });

    it('equals a fresh build after scoped refreshes', async () => {
      const fresh = new TestDocs();
      for (const id of [ids.anna, ids.ben, ids.cleo, ids.dan]) {
        await projection.buildDocument(id, fresh.open(id));
        expect(projectedJson(fresh.open(id).doc)).toEqual(projectedJson(doc(id)));
      }
      fresh.destroy();
    });

    it('answers the canonical value of any key for the edit policy', async () => {
      const value = (id: string, map: (typeof MAPS)[keyof typeof MAPS], key: string) => projection.canonicalValue(id, map, key, doc(id));
      // Exactly what the document holds, refs included: the policy writes it back over a forged value.
      expect(await value(ids.cleo, MAPS.threads, ids.t1)).toEqual(doc(ids.cleo).getMap(MAPS.threads).get(ids.t1));
      expect(await value(ids.cleo, MAPS.people, ids.ben)).toEqual(doc(ids.cleo).getMap(MAPS.people).get(ids.ben));
      expect(await value(ids.cleo, MAPS.threads, ids.t3)).toBeUndefined();
      expect(await value(ids.cleo, MAPS.threads, crypto.randomUUID())).toBeUndefined();
      expect(await value(ids.cleo, MAPS.threads, 'not-a-thread')).toBeUndefined();
      expect(await value(ids.cleo, MAPS.fields, fieldKey(ids.t1, 'read'))).toEqual({ v: true, hlc: stamp(4) });
      expect(await value(ids.ben, MAPS.fields, fieldKey(ids.t1, 'read'))).toBeUndefined();
      expect(await value(ids.cleo, MAPS.fields, fieldKey(ids.t3, 'status'))).toBeUndefined();
      expect(await value(ids.cleo, MAPS.fields, 'junk')).toBeUndefined();
      expect(await value(ids.cleo, MAPS.records, ids.kim)).toEqual(doc(ids.cleo).getMap(MAPS.records).get(ids.kim));
      expect(await value(ids.cleo, MAPS.records, ids.other)).toBeUndefined();
      expect(await value(ids.anna, MAPS.records, ids.other)).toMatchObject({ name: 'Nobody Linked' });
      expect(await value(ids.ben, MAPS.shareFlags, ids.kim)).toEqual({ v: true, hlc: stamp(1) });
      expect(await value(ids.cleo, MAPS.shareFlags, ids.kim)).toBeUndefined();
      expect(await value(ids.cleo, MAPS.people, ids.dan)).toMatchObject({ active: false });
      expect(await value(ids.ben, MAPS.accounts, ids.benBox)).toMatchObject({ email: 'ben@corp.test' });
      expect(await value(ids.ben, MAPS.accounts, ids.cleoBox)).toBeUndefined();
      expect(await value(ids.ben, MAPS.meta, 'schema')).toBe(DOC_SCHEMA_VERSION);
      expect(await value(ids.ben, MAPS.meta, 'userId')).toBe(ids.ben);
      expect(await value(ids.ben, MAPS.conversions, 'kim@customer.test')).toBeUndefined();
      expect(await value(ids.dan, MAPS.threads, ids.t1)).toBeUndefined();
    });

    it('keeps the refs records and people had before an update that rewrote or deleted them', async () => {
      const original = doc(ids.cleo);
      const forged = new Y.Doc();
      Y.applyUpdate(forged, Y.encodeStateAsUpdate(original));
      const kim = original.getMap(MAPS.records).get(ids.kim) as { ref: number };
      const ben = original.getMap(MAPS.people).get(ids.ben) as { ref: number };
      forged.getMap(MAPS.records).set(ids.kim, { ...kim, ref: 99 });
      forged.getMap(MAPS.people).delete(ids.ben);
      const previous = new Map([
        [MAPS.records, new Map<string, unknown>([[ids.kim, kim]])],
        [MAPS.people, new Map<string, unknown>([[ids.ben, ben]])],
      ]);
      const value = (map: (typeof MAPS)[keyof typeof MAPS], key: string) => projection.canonicalValue(ids.cleo, map, key, forged, previous);
      expect(await value(MAPS.records, ids.kim)).toEqual(kim);
      expect(await value(MAPS.people, ids.ben)).toEqual(ben);
      expect(await value(MAPS.threads, ids.t1)).toEqual(original.getMap(MAPS.threads).get(ids.t1));
      forged.destroy();
    });

    it('fans a committed field edit out to every document holding the thread, and only the field', async () => {
      const feed = new ChangeFeed({ db: t.db, projection, docs, bus: createLocalChangeBus(), log: silent });
      const before = new Map([ids.anna, ids.ben, ids.cleo].map((id) => [id, docs.written.get(id)?.length ?? 0]));
      await setField(t.db, ids.t1, 'status', 'done', stamp(10));
      feed.accept({ kind: 'thread-fields', threadIds: [ids.t1] });
      await feed.idle();
      for (const id of [ids.anna, ids.ben, ids.cleo]) {
        expect(doc(id).getMap(MAPS.fields).get(fieldKey(ids.t1, 'status'))).toEqual({ v: 'done', hlc: stamp(10) });
        const writes = docs.written.get(id) ?? [];
        expect(writes.length).toBe((before.get(id) ?? 0) + 1);
        expect(writes.at(-1)).toBeLessThan(100);
      }
      expect(feed.stats.refreshes).toBe(3);
      await feed.close();
    });

    it('writes the values a committed edit carries without reading them, and never over a newer value', async () => {
      const statements: string[] = [];
      const counting = { query: (text: string, params?: readonly unknown[]) => (statements.push(text), t.db.query(text, params)) } as typeof t.db;
      const feed = new ChangeFeed({ db: counting, projection, docs, bus: createLocalChangeBus(), log: silent });
      const status = fieldKey(ids.t1, 'status');
      const assignee = fieldKey(ids.t1, 'assignee');
      await docs.open(ids.cleo).write((d) => d.getMap(MAPS.fields).set(assignee, { v: null, hlc: stamp(40) }));
      feed.accept({ kind: 'thread-fields', threadIds: [ids.t1], values: { [status]: { v: 'pending', hlc: stamp(20) }, [assignee]: { v: ids.ben, hlc: stamp(20) } } });
      await feed.idle();
      for (const id of [ids.anna, ids.ben, ids.cleo]) {
        expect(doc(id).getMap(MAPS.fields).get(status)).toEqual({ v: 'pending', hlc: stamp(20) });
      }
      expect(doc(ids.anna).getMap(MAPS.fields).get(assignee)).toEqual({ v: ids.ben, hlc: stamp(20) });
      expect(doc(ids.cleo).getMap(MAPS.fields).get(assignee)).toEqual({ v: null, hlc: stamp(40) });
      expect(doc(ids.dan).getMap(MAPS.fields).has(status)).toBe(false);
      // Only the check for threads older than the window; no field, viewer or audience read.
      expect(statements).toHaveLength(1);
      expect(feed.stats.failures).toBe(0);
      await feed.close();
    });
  });

  it('puts each thread in the lane the mail API puts it in', async () => {
    const db = t.db;
    const orgId = await insertOrg(db);
    const me = await insertUser(db, orgId, 'Lana');
    const mate = await insertUser(db, orgId, 'Mate');
    const box = await insertTestMailbox(db, { orgId, ownerId: me, address: 'lana@corp.test' });
    await insertTestMailbox(db, { orgId, ownerId: mate, address: 'mate@corp.test' });
    const record = async (type: 'lead' | 'contact' | 'account' | 'deal', address: string | null, extra: { accountId?: string; stage?: string } = {}) => {
      const id = crypto.randomUUID();
      await db.query('insert into records (id, org_id, type, owner_id, name, account_id, stage) values ($1, $2, $3, $4, $5, $6, $7)', [
        id, orgId, type, me, `${type} ${address ?? ''}`, extra.accountId ?? null, type === 'deal' ? (extra.stage ?? 'open') : null,
      ]);
      if (address) {
        await db.query('insert into record_emails (org_id, address, record_type, record_id, is_primary) values ($1, $2, $3, $4, true)', [orgId, address, type, id]);
      }
      return id;
    };
    await record('deal', 'deal@buyer.test');
    const contact = await record('contact', 'inner@buyer.test');
    const openDeal = await record('deal', null);
    await db.query('insert into deal_contacts (deal_id, contact_id) values ($1, $2)', [openDeal, contact]);
    const account = await record('account', 'hq@corp-buyer.test');
    await record('deal', null, { accountId: account });
    const wonAccount = await record('account', 'hq@old-buyer.test');
    await record('deal', null, { accountId: wonAccount, stage: 'won' });
    await record('lead', 'lead@prospect.test');
    for (const from of ['deal@buyer.test', 'inner@buyer.test', 'hq@corp-buyer.test', 'hq@old-buyer.test', 'lead@prospect.test', 'mate@corp.test', 'stranger@nowhere.test']) {
      await insertTestMessage(db, { orgId, accountId: box, from, to: ['lana@corp.test'], subject: `from ${from}`, text: 'x' });
    }
    const projection = new Projection(db, { windowDays: 90, maxThreads: 5000 });
    const docs = new TestDocs();
    await projection.buildDocument(me, docs.open(me));
    const threads = [...readSummaries(docs.open(me).doc)];
    expect(threads).toHaveLength(7);
    for (const lane of ['deals', 'contacts_leads', 'not_in_crm', 'colleagues'] as const) {
      const api = await listVisibleThreads(db, { viewerId: me, orgId, lane, limit: 100, after: null });
      expect(new Set(threads.filter(([, doc]) => doc.lane === lane).map(([id]) => id))).toEqual(new Set(api.map((r) => r.id)));
    }
    expect(threads.filter(([, doc]) => doc.lane === 'deals')).toHaveLength(3);
    docs.destroy();
  });

  describe('the working set', () => {
    const docs = new TestDocs();
    let orgId: string;
    let me: string;
    let box: string;
    const threads: string[] = [];

    beforeAll(async () => {
      const db = t.db;
      orgId = await insertOrg(db);
      me = await insertUser(db, orgId, 'Mia');
      const other = await insertUser(db, orgId, 'Olaf');
      box = await insertTestMailbox(db, { orgId, ownerId: me, address: 'mia@corp.test' });
      const now = Date.now();
      // t0…t9, a week apart; all done but t7 (never touched: open) and t9 (done, assigned to Mia).
      for (let k = 0; k < 10; k++) {
        const m = await insertTestMessage(db, { orgId, accountId: box, from: `c${k}@customer.test`, to: ['mia@corp.test'], subject: `Thread ${k}`, text: `text ${k}` });
        await setReceived(db, m.messageId, new Date(now - k * 7 * DAY - 3_600_000));
        threads.push(m.threadId);
        if (k !== 7) {
          await setField(db, m.threadId, 'status', 'done', stamp(k));
        }
      }
      await setField(db, threads[9] as string, 'assignee', me, stamp(20));
      await setField(db, threads[6] as string, 'assignee', other, stamp(21));
    });
    afterAll(() => docs.destroy());

    it('holds recent, open and assigned threads, newest first up to the cap', async () => {
      const wide = new Projection(t.db, { windowDays: 30, maxThreads: 100 });
      await wide.buildDocument(me, docs.open('wide'));
      const expected = [0, 1, 2, 3, 4, 7, 9].map((k) => threads[k] as string);
      expect(threadIdsOf(docs.open('wide').doc)).toEqual(new Set(expected));
      const capped = new Projection(t.db, { windowDays: 30, maxThreads: 5 });
      await capped.buildDocument(me, docs.open('capped'));
      expect(threadIdsOf(docs.open('capped').doc)).toEqual(new Set(threads.slice(0, 5)));
    });

    it('keeps the cap on scoped refreshes and refills when a thread leaves a full document', async () => {
      const capped = new Projection(t.db, { windowDays: 30, maxThreads: 5 });
      const hosted = docs.open('capped');
      const fresh = await insertTestMessage(t.db, { orgId, accountId: box, from: 'new@customer.test', to: ['mia@corp.test'], subject: 'Brand new', text: 'new' });
      expect((await capped.refresh(me, { threadIds: [fresh.threadId] }, hosted)).bytes).toBeGreaterThan(0);
      expect(threadIdsOf(hosted.doc)).toEqual(new Set([fresh.threadId, ...threads.slice(0, 4)]));
      expect(hosted.doc.getMap(MAPS.fields).has(fieldKey(threads[4] as string, 'status'))).toBe(false);
      await t.db.query('update messages set orphaned_at = now() where id = $1', [fresh.messageId]);
      await capped.refresh(me, { threadIds: [fresh.threadId] }, hosted);
      expect(threadIdsOf(hosted.doc)).toEqual(new Set(threads.slice(0, 5)));
      expect(await capped.refresh(me, { all: true }, hosted)).toEqual({ bytes: 0 });
    });

    it('moves an old thread in when it is reopened, and out when it is closed again', async () => {
      const wide = new Projection(t.db, { windowDays: 30, maxThreads: 100 });
      const feed = new ChangeFeed({ db: t.db, projection: wide, docs: { hostedUserIds: () => [me], hosted: () => docs.open('wide') }, bus: createLocalChangeBus(), log: silent });
      const old = threads[8] as string;
      await setField(t.db, old, 'status', 'open', stamp(30));
      feed.accept({ kind: 'thread-fields', threadIds: [old] });
      await feed.idle();
      expect(threadIdsOf(docs.open('wide').doc).has(old)).toBe(true);
      expect(docs.open('wide').doc.getMap(MAPS.fields).get(fieldKey(old, 'status'))).toEqual({ v: 'open', hlc: stamp(30) });
      await setField(t.db, old, 'status', 'done', stamp(31));
      feed.accept({ kind: 'thread-fields', threadIds: [old] });
      await feed.idle();
      expect(threadIdsOf(docs.open('wide').doc).has(old)).toBe(false);
      expect(docs.open('wide').doc.getMap(MAPS.fields).has(fieldKey(old, 'status'))).toBe(false);
      await feed.close();
    });

    it('moves an old thread in and out when the reopening edit carries its values', async () => {
      const wide = new Projection(t.db, { windowDays: 30, maxThreads: 100 });
      const hosted = docs.open('carried');
      await wide.buildDocument(me, hosted);
      const feed = new ChangeFeed({ db: t.db, projection: wide, docs: { hostedUserIds: () => [me], hosted: () => hosted }, bus: createLocalChangeBus(), log: silent });
      const old = threads[8] as string;
      const carry = async (status: 'open' | 'done', n: number) => {
        await setField(t.db, old, 'status', status, stamp(n));
        feed.accept({ kind: 'thread-fields', threadIds: [old], values: { [fieldKey(old, 'status')]: { v: status, hlc: stamp(n) } } });
        await feed.idle();
      };
      await carry('open', 40);
      expect(threadIdsOf(hosted.doc).has(old)).toBe(true);
      expect(hosted.doc.getMap(MAPS.fields).get(fieldKey(old, 'status'))).toEqual({ v: 'open', hlc: stamp(40) });
      await carry('done', 41);
      expect(threadIdsOf(hosted.doc).has(old)).toBe(false);
      expect(hosted.doc.getMap(MAPS.fields).has(fieldKey(old, 'status'))).toBe(false);
      await feed.close();
    });

    it('writes an edit’s carried values ahead of the host’s background work', async () => {
      const wide = new Projection(t.db, { windowDays: 30, maxThreads: 100 });
      const hosted = docs.open('ahead');
      await wide.buildDocument(me, hosted);
      const pacer = new BackgroundPacer({ concurrency: 1, maxWaitMs: 60_000, storing: () => false });
      const order: string[] = [];
      const write = hosted.write.bind(hosted);
      // A fold comes due just as the fan-out writes: it must wait for it (it would hold the document's queue).
      const racing: HostedDoc = {
        ...hosted,
        write: async (fn) => {
          pacer.enqueue('fold', async () => void order.push('fold'));
          order.push('fan-out');
          return write(fn);
        },
      };
      const feed = new ChangeFeed({
        db: t.db,
        projection: wide,
        docs: { hostedUserIds: () => [me], hosted: () => racing, inForeground: (work) => pacer.inForeground(work) },
        bus: createLocalChangeBus(),
        log: silent,
      });
      const thread = threads[0] as string;
      await setField(t.db, thread, 'status', 'pending', stamp(50));
      feed.accept({ kind: 'thread-fields', threadIds: [thread], values: { [fieldKey(thread, 'status')]: { v: 'pending', hlc: stamp(50) } } });
      await feed.idle();
      expect(hosted.doc.getMap(MAPS.fields).get(fieldKey(thread, 'status'))).toEqual({ v: 'pending', hlc: stamp(50) });
      expect(order).toEqual(['fan-out', 'fold']);
      await feed.close();
      pacer.close();
    });

    it('lets threads leave the window with time alone, on the feed’s sweep', async () => {
      let now = Date.now();
      const projection = new Projection(t.db, { windowDays: 30, maxThreads: 100, now: () => new Date(now) });
      const hosted = docs.open('sweep');
      await projection.buildDocument(me, hosted);
      expect(threadIdsOf(hosted.doc)).toEqual(new Set([0, 1, 2, 3, 4, 7, 9].map((k) => threads[k] as string)));
      const feed = new ChangeFeed({ db: t.db, projection, docs: { hostedUserIds: () => [me], hosted: () => hosted }, bus: createLocalChangeBus(), log: silent, sweepMs: 0 });
      now += 15 * DAY;
      feed.requestSweep();
      await feed.idle();
      expect(threadIdsOf(hosted.doc)).toEqual(new Set([0, 1, 2, 7, 9].map((k) => threads[k] as string)));
      await feed.close();
    });
  });
});

/**
 * The batched append of server updates (db/queries/sync-docs-batch) on every
 * driver: one statement stores the next seq of each document, leaves out a
 * document whose writer was replaced, and continues after a compaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimSyncDoc, compactSyncDoc, insertSyncDoc, readSyncDoc } from '../../db/queries/sync-docs';
import { appendSyncDocUpdates } from '../../db/queries/sync-docs-batch';
import { driverCases, type TestDb } from '../helpers/db';
import { insertPeople } from '../helpers/sync-host';

const bytes = (...values: number[]) => new Uint8Array(values);

describe.each(driverCases())('batched sync document appends on $name', ({ create }) => {
  let t: TestDb;
  let people: string[];

  beforeAll(async () => {
    t = await create();
    people = await insertPeople(t.db, 3);
    for (const userId of people) {
      await insertSyncDoc(t.db, { userId, epoch: 'e1', snapshot: bytes(0), writer: `w-${userId}` });
    }
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('stores the next seq of each document in one statement, and only under its writer', async () => {
    const [a, b, c] = people as [string, string, string];
    const first = await appendSyncDocUpdates(t.db, [
      { userId: a, writer: `w-${a}`, update: bytes(1) },
      { userId: b, writer: `w-${b}`, update: bytes(2) },
    ]);
    expect(first).toEqual(new Map([[a, 1], [b, 1]]));

    await claimSyncDoc(t.db, c, 'new-writer');
    const second = await appendSyncDocUpdates(t.db, [
      { userId: a, writer: `w-${a}`, update: bytes(3) },
      { userId: c, writer: `w-${c}`, update: bytes(4) },
    ]);
    expect(second).toEqual(new Map([[a, 2]]));
    const tail = (await readSyncDoc(t.db, a))?.tail ?? [];
    expect(tail.map((r) => ({ seq: r.seq, update: [...r.update] }))).toEqual([{ seq: 1, update: [1] }, { seq: 2, update: [3] }]);
    expect((await readSyncDoc(t.db, c))?.tail).toEqual([]);

    expect(await compactSyncDoc(t.db, { userId: b, writer: `w-${b}`, snapshot: bytes(9), seq: 1 })).toBe(true);
    expect(await appendSyncDocUpdates(t.db, [{ userId: b, writer: `w-${b}`, update: bytes(5) }])).toEqual(new Map([[b, 2]]));
  });

  it('deletes a document\'s updates with the document, and with its person', async () => {
    const [x, y] = await insertPeople(t.db, 2) as [string, string];
    for (const userId of [x, y]) {
      await insertSyncDoc(t.db, { userId, epoch: 'e1', snapshot: bytes(0), writer: `w-${userId}` });
      await appendSyncDocUpdates(t.db, [{ userId, writer: `w-${userId}`, update: bytes(1) }]);
    }
    const count = async (userId: string) => (await t.db.query<{ n: number }>('select count(*)::int as n from sync_doc_updates where user_id = $1', [userId]))[0]?.n;
    expect([await count(x), await count(y)]).toEqual([1, 1]);
    await t.db.query('delete from sync_docs where user_id = $1', [x]);
    await t.db.query('delete from users where id = $1', [y]);
    expect([await count(x), await count(y)]).toEqual([0, 0]);
  });

  it('stores updates of any size byte for byte, the empty one included', async () => {
    const [x, y, z] = (await insertPeople(t.db, 3)) as [string, string, string];
    const large = new Uint8Array(300_000).map((_, i) => (i * 7919) % 256);
    const sizes = new Map([[x, new Uint8Array(0)], [y, large], [z, bytes(255, 0, 44, 61)]]);
    for (const userId of sizes.keys()) {
      await insertSyncDoc(t.db, { userId, epoch: 'e1', snapshot: bytes(0), writer: `w-${userId}` });
    }
    const seqs = await appendSyncDocUpdates(t.db, [...sizes].map(([userId, update]) => ({ userId, writer: `w-${userId}`, update })));
    expect(seqs).toEqual(new Map([[x, 1], [y, 1], [z, 1]]));
    for (const [userId, update] of sizes) {
      const stored = (await readSyncDoc(t.db, userId))?.tail[0]?.update;
      expect(Buffer.from(stored as Uint8Array).equals(Buffer.from(update))).toBe(true);
    }
    // Alone, too: an empty text would split into no element at all.
    expect(await appendSyncDocUpdates(t.db, [{ userId: x, writer: `w-${x}`, update: new Uint8Array(0) }])).toEqual(new Map([[x, 2]]));
    expect((await readSyncDoc(t.db, x))?.tail.map((r) => r.update.length)).toEqual([0, 0]);
  });

  it('refuses two updates of one document in one statement (they would take the same seq)', async () => {
    const [a] = people as [string];
    const twice = [bytes(6), bytes(7)].map((update) => ({ userId: a, writer: `w-${a}`, update }));
    await expect(appendSyncDocUpdates(t.db, twice)).rejects.toThrow(/at most one update per document/);
    expect(await appendSyncDocUpdates(t.db, [])).toEqual(new Map());
  });
});

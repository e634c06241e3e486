/**
 * The host's group commit of server updates (server/sync/host/append-batcher)
 * over a fake database that records each statement: appends waiting at the
 * same moment share one statement, a document's second update waits for the
 * next one, the size cap splits a burst, a document left out (another writer
 * holds it) gets null, and a failed statement fails each of its appends.
 */
import { describe, expect, it } from 'vitest';
import { splitUpdates } from '../../db/queries/sync-docs-batch';
import type { Queryable } from '../../db/types';
import { AppendBatcher } from '../../server/sync/host/append-batcher';

interface Statement {
  users: string[];
  updates: number[][];
}

function fakeDb(options: { refuse?: Set<string>; failNext?: boolean } = {}) {
  const statements: Statement[] = [];
  const seqs = new Map<string, number>();
  let fail = options.failNext ?? false;
  const db: Queryable = {
    async query<Row extends object>(_text: string, params: readonly unknown[] = []): Promise<Row[]> {
      await Promise.resolve();
      const [users, , joined] = params as [string[], string[], string];
      const statement: Statement = { users: [...users], updates: splitUpdates(joined).map((bytes) => [...bytes]) };
      statements.push(statement);
      if (fail) {
        fail = false;
        throw new Error('connection lost (injected)');
      }
      const rows = statement.users
        .filter((user) => !options.refuse?.has(user))
        .map((user) => {
          const seq = (seqs.get(user) ?? 0) + 1;
          seqs.set(user, seq);
          return { user_id: user, seq };
        });
      return rows as Row[];
    },
  };
  return { db, statements };
}

const update = (...bytes: number[]) => new Uint8Array(bytes);
const append = (userId: string, ...bytes: number[]) => ({ userId, writer: `w-${userId}`, update: update(...bytes) });

describe('AppendBatcher', () => {
  it('stores the updates of documents that wait at the same moment in one statement', async () => {
    const { db, statements } = fakeDb();
    const batcher = new AppendBatcher(db);
    const seqs = await Promise.all([batcher.append(append('a', 1)), batcher.append(append('b', 2)), batcher.append(append('c', 3))]);
    expect(seqs).toEqual([1, 1, 1]);
    expect(statements).toEqual([{ users: ['a', 'b', 'c'], updates: [[1], [2], [3]] }]);
    expect(batcher.busy).toBe(false);
  });

  it('keeps a document’s second update for the next statement, in order', async () => {
    const { db, statements } = fakeDb();
    const batcher = new AppendBatcher(db);
    const seqs = await Promise.all([batcher.append(append('a', 1)), batcher.append(append('a', 2)), batcher.append(append('b', 3))]);
    expect(seqs).toEqual([1, 2, 1]);
    expect(statements.map((s) => s.users)).toEqual([['a', 'b'], ['a']]);
    expect(statements[1]?.updates).toEqual([[2]]);
  });

  it('splits a burst at the row and byte caps, the first row always going', async () => {
    const { db, statements } = fakeDb();
    const byRows = new AppendBatcher(db, 2, 1_000);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((user) => byRows.append(append(user, 0))));
    expect(statements.map((s) => s.users)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);

    statements.length = 0;
    const byBytes = new AppendBatcher(db, 100, 3);
    await Promise.all([byBytes.append(append('f', 1, 2, 3, 4)), byBytes.append(append('g', 5)), byBytes.append(append('h', 6, 7))]);
    expect(statements.map((s) => s.users)).toEqual([['f'], ['g', 'h']]);
  });

  it('answers null for a document another writer holds, and fails every append of a failed statement', async () => {
    const refused = fakeDb({ refuse: new Set(['b']) });
    const batcher = new AppendBatcher(refused.db);
    expect(await Promise.all([batcher.append(append('a', 1)), batcher.append(append('b', 2))])).toEqual([1, null]);

    const failing = fakeDb({ failNext: true });
    const once = new AppendBatcher(failing.db);
    const results = await Promise.allSettled([once.append(append('a', 1)), once.append(append('b', 2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await once.append(append('a', 3))).toBe(1);
  });

  it('counts a fan-out stored a few documents at a time as crowded, until it is over', async () => {
    const { db } = fakeDb();
    const batcher = new AppendBatcher(db);
    for (let i = 0; i < 20; i++) {
      await batcher.append(append(`d${i}`, i));
    }
    expect(batcher.busy).toBe(false);
    expect(batcher.crowded).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(batcher.crowded).toBe(false);
  });
});

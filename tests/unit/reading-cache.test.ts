/**
 * The reading cache: conversations saved for reading offline, in memory and
 * in IndexedDB (fake-indexeddb), bounded by dropping the oldest saves.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openThreadCache } from '../../app/src/lib/reading/idb-thread-cache';
import { memoryThreadCache, overflow, type ThreadCache } from '../../app/src/lib/reading/thread-cache';
import type { ThreadDto } from '../../sync/mail-api';

const thread = (id: string, subject = `Subject ${id}`): ThreadDto => ({ id, subject, messages: [] });

describe('overflow', () => {
  it('drops nothing within the bound, and the oldest saves beyond it', () => {
    expect(overflow(new Map([['a', 1]]), 1)).toEqual([]);
    expect(overflow(new Map([['a', 3], ['b', 1], ['c', 2]]), 1)).toEqual(['b', 'c']);
    // Equal times fall back to the id, so the choice is the same on every device.
    expect(overflow(new Map([['b', 1], ['a', 1]]), 1)).toEqual(['a']);
  });
});

async function behavesAsACache(cache: ThreadCache): Promise<void> {
  expect(await cache.get('t1')).toBeUndefined();
  await cache.put(thread('t1'), 10);
  await cache.put(thread('t2'), 20);
  await cache.put(thread('t3'), 30);
  // Bound 2: the oldest save went.
  expect(await cache.get('t1')).toBeUndefined();
  expect(await cache.get('t3')).toEqual({ thread: thread('t3'), savedAt: 30 });
  // Saving again makes a thread the newest, and replaces its copy.
  await cache.put(thread('t2', 'Renamed'), 40);
  await cache.put(thread('t4'), 50);
  expect(await cache.get('t3')).toBeUndefined();
  expect((await cache.get('t2'))?.thread.subject).toBe('Renamed');
  await cache.remove('t2');
  expect(await cache.get('t2')).toBeUndefined();
  expect(await cache.get('t4')).toEqual({ thread: thread('t4'), savedAt: 50 });
}

describe('thread cache', () => {
  it('in memory: keeps the newest saves, replaces and removes', async () => {
    await behavesAsACache(memoryThreadCache(2));
  });

  it('in IndexedDB: the same, and a reopened database still holds what was saved', async () => {
    const cache = await openThreadCache('user-1', 2);
    await behavesAsACache(cache);
    cache.close();
    const again = await openThreadCache('user-1', 2);
    expect((await again.get('t4'))?.savedAt).toBe(50);
    expect(await (await openThreadCache('user-2', 2)).get('t4')).toBeUndefined();
    again.close();
  });
});

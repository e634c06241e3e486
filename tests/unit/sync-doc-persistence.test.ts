/**
 * The document's IndexedDB copy (y-indexeddb without its re-encode on load),
 * against an in-memory IndexedDB: it reads and writes y-indexeddb's own
 * format, keeps every write made before, during and after the load, and its
 * load makes Yjs encode nothing.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { DocPersistence } from '../../app/src/lib/sync/doc-persistence';

type Opener = new (name: string, doc: Y.Doc) => IndexeddbPersistence;

const opened: IndexeddbPersistence[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.destroy()));
});

let nextName = 1;
const freshName = (): string => `shoal-doc-test-${nextName++}`;

async function load(Persistence: Opener, name: string): Promise<{ doc: Y.Doc; persistence: IndexeddbPersistence }> {
  const doc = new Y.Doc();
  const persistence = new Persistence(name, doc);
  opened.push(persistence);
  await persistence.whenSynced;
  return { doc, persistence };
}

/** Closes the database once its pending writes are done (IndexedDB closes after running transactions). */
async function release(persistence: IndexeddbPersistence): Promise<void> {
  opened.splice(opened.indexOf(persistence), 1);
  await persistence.destroy();
}

async function write(Persistence: Opener, name: string, entries: Record<string, string>): Promise<void> {
  const { doc, persistence } = await load(Persistence, name);
  for (const [key, value] of Object.entries(entries)) {
    doc.getMap('threads').set(key, value);
  }
  await release(persistence);
}

const threads = (doc: Y.Doc): Record<string, unknown> => doc.getMap('threads').toJSON();

describe('the document persistence', () => {
  it('loads what y-indexeddb stored, and y-indexeddb loads what it stores', async () => {
    const name = freshName();
    await write(IndexeddbPersistence, name, { t1: 'Quote' });
    await write(DocPersistence, name, { t2: 'Renewal' });
    const mine = await load(DocPersistence, name);
    const theirs = await load(IndexeddbPersistence, name);
    expect(threads(mine.doc)).toEqual({ t1: 'Quote', t2: 'Renewal' });
    expect(threads(theirs.doc)).toEqual({ t1: 'Quote', t2: 'Renewal' });
  });

  it('makes Yjs encode no update while the stored copy is applied (y-indexeddb alone does)', async () => {
    const name = freshName();
    await write(DocPersistence, name, { t1: 'Quote', t2: 'Renewal' });
    const updatesDuringLoad = async (Persistence: Opener): Promise<number> => {
      const doc = new Y.Doc();
      const emit = vi.spyOn(doc, 'emit');
      const persistence = new Persistence(name, doc);
      opened.push(persistence);
      await persistence.whenSynced;
      expect(threads(doc)).toEqual({ t1: 'Quote', t2: 'Renewal' });
      return emit.mock.calls.filter(([event]) => event === 'update').length;
    };
    expect(await updatesDuringLoad(IndexeddbPersistence)).toBe(1);
    expect(await updatesDuringLoad(DocPersistence)).toBe(0);
  });

  it('stores the writes made after the load, each as it is made', async () => {
    const name = freshName();
    const { doc, persistence } = await load(DocPersistence, name);
    doc.getMap('threads').set('t1', 'Quote');
    doc.getMap('threads').set('t1', 'Quote, revised');
    doc.getMap('threads').set('t2', 'Renewal');
    await release(persistence);
    expect(threads((await load(DocPersistence, name)).doc)).toEqual({ t1: 'Quote, revised', t2: 'Renewal' });
  });

  it('keeps what a live document held before it was opened and got while it was loading', async () => {
    // The first epoch learned: the persistence starts under a document already filled from the server.
    const name = freshName();
    await write(DocPersistence, name, { stored: 'from before' });
    const doc = new Y.Doc();
    doc.getMap('threads').set('t1', 'before opening');
    const persistence = new DocPersistence(name, doc);
    opened.push(persistence);
    doc.getMap('threads').set('t2', 'while loading');
    await persistence.whenSynced;
    doc.getMap('threads').set('t3', 'after loading');
    await release(persistence);
    expect(threads((await load(DocPersistence, name)).doc)).toEqual({
      stored: 'from before',
      t1: 'before opening',
      t2: 'while loading',
      t3: 'after loading',
    });
  });

  it('stores nothing once destroyed, even when destroyed before its load ended', async () => {
    const name = freshName();
    await write(DocPersistence, name, { t1: 'Quote' });
    const doc = new Y.Doc();
    const persistence = new DocPersistence(name, doc);
    await persistence.destroy();
    doc.getMap('threads').set('t2', 'after destroy');
    // Give a load that was under way the time to finish (it must not re-attach the listener).
    await new Promise((resolve) => setTimeout(resolve, 50));
    doc.getMap('threads').set('t3', 'later still');
    expect(persistence.synced).toBe(false);
    expect(threads((await load(DocPersistence, name)).doc)).toEqual({ t1: 'Quote' });
  });
});

/**
 * @module server/sync/projection/linked
 * Threads, records and people are written together: a stored thread names
 * its records and mailbox owners by the refs those entries hold in the same
 * document (sync/doc/thread-codec.ts). What was read from Postgres is
 * encoded inside the write, against the document as it is then, so refs are
 * given once and a thread never names a ref another write gave meanwhile.
 */
import type * as Y from 'yjs';
import type { DirectoryRow, ProjectionRecordRow } from '../../../db/queries/projection';
import { MAPS, type MapName, type ThreadSummary } from '../../../sync/doc/schema';
import { encodeThread, heldRefs } from '../../../sync/doc/thread-codec';
import { personEntries, recordEntries } from './content';
import { refsAfter } from './refs';

/** One map made equal to `desired` over the keys `inScope` selects. */
export interface Patch {
  map: MapName;
  desired: ReadonlyMap<string, unknown>;
  inScope: (key: string) => boolean;
}

/** What a refresh read of the linked maps; null parts are left as they are. */
export interface LinkedRead {
  threads: { desired: ReadonlyMap<string, ThreadSummary>; inScope: (key: string) => boolean } | null;
  records: { rows: readonly ProjectionRecordRow[]; inScope: (key: string) => boolean } | null;
  /** The whole directory. */
  people: readonly DirectoryRow[] | null;
}

/** The ids a map holds once `patch`'s scope is made equal to `desired`. */
function idsAfter(doc: Y.Doc, map: MapName, desired: Iterable<string>, inScope: (key: string) => boolean): string[] {
  return [...[...doc.getMap<unknown>(map).keys()].filter((key) => !inScope(key)), ...desired];
}

/** Whether every owner of the threads to write has a ref in the document (else the directory must be read). */
export function ownersHaveRefs(doc: Y.Doc, threads: Iterable<ThreadSummary>): boolean {
  const people = heldRefs(doc.getMap<unknown>(MAPS.people));
  for (const t of threads) {
    if (t.mailboxOwnerIds.some((id) => !people.has(id))) {
      return false;
    }
  }
  return true;
}

/** The patches of the linked maps, refs given and threads encoded. Call inside the write. */
export function linkedPatches(doc: Y.Doc, read: LinkedRead): Patch[] {
  const out: Patch[] = [];
  const everyKey = () => true;
  let people: ReadonlyMap<string, number> = heldRefs(doc.getMap<unknown>(MAPS.people));
  if (read.people) {
    people = refsAfter(doc, MAPS.people, read.people.map((p) => p.id));
    out.push({ map: MAPS.people, desired: personEntries(read.people, people), inScope: everyKey });
  }
  let records: ReadonlyMap<string, number> = heldRefs(doc.getMap<unknown>(MAPS.records));
  if (read.records) {
    const { rows, inScope } = read.records;
    records = refsAfter(doc, MAPS.records, idsAfter(doc, MAPS.records, rows.map((r) => r.id), inScope));
    out.push({ map: MAPS.records, desired: recordEntries(rows, records), inScope });
  }
  if (read.threads) {
    const tables = { people, records };
    const desired = new Map([...read.threads.desired].map(([id, summary]) => [id, encodeThread(summary, tables)]));
    out.push({ map: MAPS.threads, desired, inScope: read.threads.inScope });
  }
  return out;
}

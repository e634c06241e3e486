/**
 * @module server/sync/projection/canonical
 * The value one key of a person's document should hold, read from Postgres
 * by the same queries and conversions as a refresh: what the edit policy
 * writes back when someone touched a server-written key. Undefined means
 * the key should not exist (not visible, outside the working set, unknown).
 */
import { listVisibleNotifications } from '../../../db/queries/notifications';
import {
  findDocEpoch,
  findViewers,
  listDirectory,
  listFieldValues,
  listOwnAccountProgress,
  listOwnShareFlags,
  listProjectionRecords,
  listThreadsLinkedTo,
  listWorkingSetIds,
  listWorkingSetThreads,
  type ViewerRow,
  type WorkingSetQuery,
} from '../../../db/queries/projection';
import type * as Y from 'yjs';
import type { Queryable } from '../../../db/types';
import { MAPS, parseFieldKey, type MapName } from '../../../sync/doc/schema';
import { encodeThread, heldRefs, type RefTables } from '../../../sync/doc/thread-codec';
import {
  accountEntries,
  fieldEntries,
  metaEntries,
  notificationEntries,
  personEntries,
  shareFlagEntries,
  toRecordDoc,
  toThreadSummary,
} from './content';
import { refsAfter } from './refs';

export type WorkingSetQueryFor = (viewer: ViewerRow, threadIds: readonly string[] | null) => WorkingSetQuery;

export interface CanonicalRequest {
  userId: string;
  map: MapName;
  key: string;
  maxNotifications: number;
  /**
   * The person's document: threads name records and people by the refs it
   * holds. Without it a thread names none and an entry gets the ref a new
   * document would give.
   */
  doc?: Y.Doc | undefined;
  /**
   * Per map, what the update under review found in each key it changed:
   * records and people keep the refs they had before it, so a client that
   * rewrote or deleted an entry cannot move a ref.
   */
  previous?: ReadonlyMap<string, ReadonlyMap<string, unknown>> | undefined;
}

type RefMap = typeof MAPS.records | typeof MAPS.people;

/** A map's entries as the server last wrote them: the document, with the keys the update changed put back. */
function entriesBefore(req: CanonicalRequest, map: RefMap): Map<string, unknown> {
  const out = new Map<string, unknown>(req.doc ? req.doc.getMap<unknown>(map).entries() : []);
  for (const [key, value] of req.previous?.get(map) ?? []) {
    if (value === undefined) {
      out.delete(key);
    } else {
      out.set(key, value);
    }
  }
  return out;
}

function tablesBefore(req: CanonicalRequest): RefTables {
  return { people: heldRefs(entriesBefore(req, MAPS.people)), records: heldRefs(entriesBefore(req, MAPS.records)) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function inWorkingSet(db: Queryable, queryFor: WorkingSetQueryFor, viewer: ViewerRow, threadIds: readonly string[]): Promise<string[]> {
  const ids = new Set(await listWorkingSetIds(db, queryFor(viewer, null)));
  return threadIds.filter((id) => ids.has(id));
}

async function threadValue(db: Queryable, queryFor: WorkingSetQueryFor, viewer: ViewerRow, req: CanonicalRequest): Promise<unknown> {
  if ((await inWorkingSet(db, queryFor, viewer, [req.key])).length === 0) {
    return undefined;
  }
  const [row] = await listWorkingSetThreads(db, queryFor(viewer, [req.key]));
  return row ? encodeThread(toThreadSummary(row), tablesBefore(req)) : undefined;
}

/** The ref an entry held before the update, or the one it would be given in the document. */
function refIn(req: CanonicalRequest, map: RefMap, id: string): number {
  const before = entriesBefore(req, map);
  const held = heldRefs(before).get(id);
  if (held !== undefined) {
    return held;
  }
  return (req.doc ? refsAfter(req.doc, map, [...before.keys(), id], before) : new Map([[id, 1]])).get(id) ?? 1;
}

async function fieldValue(db: Queryable, queryFor: WorkingSetQueryFor, viewer: ViewerRow, key: string): Promise<unknown> {
  const parsed = parseFieldKey(key);
  if (!parsed || !UUID.test(parsed.threadId) || (await inWorkingSet(db, queryFor, viewer, [parsed.threadId])).length === 0) {
    return undefined;
  }
  return fieldEntries(await listFieldValues(db, viewer.id, [parsed.threadId])).get(key);
}

/** A record belongs when the person can access it and owns it or a working-set thread refers to it. */
async function recordValue(db: Queryable, queryFor: WorkingSetQueryFor, viewer: ViewerRow, req: CanonicalRequest): Promise<unknown> {
  const recordId = req.key;
  const [row] = await listProjectionRecords(db, viewer.id, [recordId], false);
  if (!row) {
    return undefined;
  }
  if (row.ownerId === viewer.id) {
    return toRecordDoc(row, refIn(req, MAPS.records, recordId));
  }
  const linked = await inWorkingSet(db, queryFor, viewer, await listThreadsLinkedTo(db, recordId));
  if (linked.length === 0) {
    return undefined;
  }
  const threads = await listWorkingSetThreads(db, queryFor(viewer, linked));
  return threads.some((t) => t.recordIds.includes(recordId)) ? toRecordDoc(row, refIn(req, MAPS.records, recordId)) : undefined;
}

async function metaValue(db: Queryable, userId: string, key: string): Promise<unknown> {
  if (key === 'epoch') {
    return (await findDocEpoch(db, userId)) ?? undefined;
  }
  return metaEntries(userId).get(key);
}

export async function canonicalValue(db: Queryable, queryFor: WorkingSetQueryFor, req: CanonicalRequest): Promise<unknown> {
  if (req.map === MAPS.meta) {
    return metaValue(db, req.userId, req.key);
  }
  const [viewer] = await findViewers(db, [req.userId]);
  if (!viewer?.active) {
    return undefined;
  }
  if (req.map === MAPS.fields) {
    return fieldValue(db, queryFor, viewer, req.key);
  }
  // Every other key is an id; anything else cannot exist (and must not reach a uuid cast).
  if (!UUID.test(req.key)) {
    return undefined;
  }
  switch (req.map) {
    case MAPS.threads:
      return threadValue(db, queryFor, viewer, req);
    case MAPS.records:
      return recordValue(db, queryFor, viewer, req);
    case MAPS.shareFlags:
      return shareFlagEntries(await listOwnShareFlags(db, viewer.id, [req.key])).get(req.key);
    case MAPS.people:
      return personEntries(await listDirectory(db, viewer.orgId), new Map([[req.key, refIn(req, MAPS.people, req.key)]])).get(req.key);
    case MAPS.notifications:
      return notificationEntries((await listVisibleNotifications(db, viewer.id, req.maxNotifications)).rows).get(req.key);
    case MAPS.accounts:
      return accountEntries(await listOwnAccountProgress(db, viewer.id)).get(req.key);
    default:
      // conversions are the person's requests, answered by the policy; nothing canonical to restore here.
      return undefined;
  }
}

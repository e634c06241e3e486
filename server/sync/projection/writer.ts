/**
 * @module server/sync/projection/writer
 * Writes what a person may see into their hosted document, as a diff
 * (sync/doc/projection.ts): `buildDocument` for a new or rebuilt document,
 * `refresh` for part of it after a change, `canonicalValue` for the edit
 * policy. Everything is read first, then written in one `hosted.write`, so a
 * refresh is one update (or none: an unchanged projection writes 0 bytes).
 *
 * A deactivated (or deleted) person's document is emptied: their sockets are
 * closed, and nothing of the organization should stay in their snapshot.
 */
import {
  findViewers,
  listDirectory,
  listFieldValues,
  listOwnAccountProgress,
  listOwnedRecordIds,
  listOwnShareFlags,
  listPersonalFieldValues,
  listProjectionRecords,
  listSharedFieldValues,
  listWorkingSetThreads,
  type ViewerRow,
} from '../../../db/queries/projection';
import { listVisibleNotifications } from '../../../db/queries/notifications';
import type { Queryable } from '../../../db/types';
import { MAPS, parseFieldKey, type MapName, type Stamped, type ThreadSummary } from '../../../sync/doc/schema';
import { docMap, fieldKeysOf, fieldScope, keepNewerField, keepNewerStamp, reconcileMap, writeEntries, type KeepCurrent } from '../../../sync/doc/projection';
import { readSummaries } from '../../../sync/doc/thread-codec';
import type { HostedDoc } from '../types';
import { canonicalValue, type CanonicalRequest } from './canonical';
import {
  accountEntries,
  fieldEntries,
  metaEntries,
  notificationEntries,
  referencedRecordIds,
  shareFlagEntries,
  threadEntries,
} from './content';
import { linkedPatches, ownersHaveRefs, type LinkedRead, type Patch } from './linked';
import { planThreadScope } from './plan';
import { writeInTurns } from './write-turns';
import { coversMap, FULL_SCOPE, type ProjectedMap, type RefreshScope } from './scope';

export interface ProjectionOptions {
  /** Threads with visible activity in this many days belong to the working set. */
  windowDays: number;
  /** At most this many threads per document, newest first. */
  maxThreads: number;
  /** Newest notifications kept in the document. */
  maxNotifications?: number;
  now?: () => Date;
}

export interface RefreshResult {
  /** Size of the update written (0: nothing changed). */
  bytes: number;
}

/** What a refresh writes: plain patches, and the linked maps encoded inside the write. */
interface Patches {
  plain: Patch[];
  linked: LinkedRead | null;
}

const everyKey = () => true;
const keysIn = (keys: ReadonlySet<string>) => (key: string) => keys.has(key);
const DAY_MS = 86_400_000;
const DEFAULT_MAX_NOTIFICATIONS = 100;

/**
 * What a refresh leaves alone in a stamped map: its read may predate an edit
 * that was decided (and acknowledged) before this write, never older.
 */
function keepFor(doc: HostedDoc['doc'], map: MapName): KeepCurrent | undefined {
  if (map === MAPS.fields) {
    return keepNewerField(doc);
  }
  return map === MAPS.shareFlags ? keepNewerStamp : undefined;
}

/** A planned write of `fields` entries that never replaces a newer stamp (for `writeInTurns`). */
function fieldWrite(hosted: HostedDoc, entries: readonly (readonly [string, unknown])[]) {
  return { entries: entries.length, write: () => hosted.write((doc) => void writeEntries(doc, MAPS.fields, entries, keepNewerField(doc))) };
}

/** The thread summaries a document holds now (a value of another layout counts as absent: a full refresh replaces it). */
function heldThreads(doc: HostedDoc['doc']): Map<string, ThreadSummary> {
  return readSummaries(doc);
}

export class Projection {
  readonly maxThreads: number;
  private readonly windowMs: number;
  private readonly maxNotifications: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: Queryable,
    options: ProjectionOptions,
  ) {
    this.maxThreads = options.maxThreads;
    this.windowMs = options.windowDays * DAY_MS;
    this.maxNotifications = options.maxNotifications ?? DEFAULT_MAX_NOTIFICATIONS;
    this.now = options.now ?? (() => new Date());
  }

  /** Fills (or, on an existing document, catches up) a person's whole document. The document host's `build`. */
  async buildDocument(userId: string, hosted: HostedDoc): Promise<void> {
    await this.refresh(userId, FULL_SCOPE, hosted);
  }

  /** Re-reads `scope` from Postgres and writes only what differs. */
  async refresh(userId: string, scope: RefreshScope, hosted: HostedDoc): Promise<RefreshResult> {
    const [viewer] = await findViewers(this.db, [userId]);
    const patches = viewer?.active ? await this.patches(viewer, scope, hosted.doc) : { plain: this.emptied(userId), linked: null };
    const { linked } = patches;
    if (patches.plain.length === 0 && linked === null) {
      return { bytes: 0 };
    }
    const update = await hosted.write((doc) => {
      // Threads first: whether a thread's stamped fields stay depends on whether the document still holds it.
      for (const p of [...(linked ? linkedPatches(doc, linked) : []), ...patches.plain]) {
        reconcileMap(doc, p.map, p.desired, p.inScope, keepFor(doc, p.map));
      }
    });
    return { bytes: update?.length ?? 0 };
  }

  /**
   * The fan-out of committed field edits: one read of the threads' canonical
   * fields for everyone, then each document gets the fields of the threads it
   * holds (membership and summaries do not move; the feed re-reads those
   * threads separately when they might). @returns bytes written per target.
   */
  async refreshFields(targets: readonly { userId: string; hosted: HostedDoc }[], threadIds: readonly string[]): Promise<number[]> {
    const [shared, personal] = await Promise.all([
      listSharedFieldValues(this.db, threadIds),
      listPersonalFieldValues(this.db, targets.map((t) => t.userId), threadIds),
    ]);
    return writeInTurns(targets, ({ userId, hosted }) => {
      const threads = docMap(hosted.doc, MAPS.threads);
      const held = threadIds.filter((id) => threads.has(id));
      if (held.length === 0) {
        return null;
      }
      const heldSet = new Set(held);
      const desired = fieldEntries([...shared, ...personal.filter((r) => r.userId === userId)].filter((r) => heldSet.has(r.threadId)));
      // The held threads' possible keys, not a scan of every key the map holds: a fan-out writes hundreds of documents.
      const absent = held.flatMap(fieldKeysOf).filter((key) => !desired.has(key));
      return fieldWrite(hosted, [...desired, ...absent.map((key) => [key, undefined] as const)]);
    });
  }

  /**
   * The fan-out of committed shared-field values the change carries (the edit
   * policy read them in its transaction): no read at all. Each document
   * holding a thread takes the values newer than its own. @returns bytes
   * written per target.
   */
  async writeFieldValues(targets: readonly HostedDoc[], values: ReadonlyMap<string, Stamped<unknown>>): Promise<number[]> {
    const byThread = new Map<string, [string, Stamped<unknown>][]>();
    for (const [key, value] of values) {
      const parsed = parseFieldKey(key);
      if (parsed) {
        byThread.set(parsed.threadId, (byThread.get(parsed.threadId) ?? []).concat([[key, value]]));
      }
    }
    return writeInTurns(targets, (hosted) => {
      const threads = docMap(hosted.doc, MAPS.threads);
      const entries = [...byThread].filter(([threadId]) => threads.has(threadId)).flatMap(([, held]) => held);
      return entries.length === 0 ? null : fieldWrite(hosted, entries);
    });
  }

  /** The value a server-map or `fields` key should hold for the person, or undefined when it should not exist. */
  canonicalValue(userId: string, map: MapName, key: string, doc?: HostedDoc['doc'], previous?: CanonicalRequest['previous']): Promise<unknown> {
    return canonicalValue(this.db, this.workingSetQuery.bind(this), { userId, map, key, maxNotifications: this.maxNotifications, doc, previous });
  }

  /** The start of the activity window: threads quiet since then stay only while open or assigned. */
  windowStart(): Date {
    return new Date(this.now().getTime() - this.windowMs);
  }

  private workingSetQuery(viewer: ViewerRow, threadIds: readonly string[] | null) {
    return { viewerId: viewer.id, orgId: viewer.orgId, since: this.windowStart(), limit: this.maxThreads, threadIds };
  }

  private emptied(userId: string): Patch[] {
    const maps: MapName[] = [MAPS.threads, MAPS.fields, MAPS.shareFlags, MAPS.records, MAPS.people, MAPS.notifications, MAPS.accounts];
    return [{ map: MAPS.meta, desired: metaEntries(userId), inScope: (k) => k !== 'epoch' }, ...maps.map((map) => ({ map, desired: new Map(), inScope: everyKey }))];
  }

  /** Reads what the scope needs (independent reads in parallel: Postgres has a pool) and turns it into patches. */
  private async patches(viewer: ViewerRow, scope: RefreshScope, doc: HostedDoc['doc']): Promise<Patches> {
    const whole = (map: MapName, read: () => Promise<ReadonlyMap<string, unknown>>) =>
      coversMap(scope, map as ProjectedMap) ? read().then((desired): Patch[] => [{ map, desired, inScope: everyKey }]) : Promise.resolve([]);
    const [linked, ...parts] = await Promise.all([
      this.linkedRead(viewer, scope, doc),
      coversMap(scope, MAPS.meta) ? [{ map: MAPS.meta, desired: metaEntries(viewer.id), inScope: (k: string) => k !== 'epoch' }] : [],
      whole(MAPS.notifications, async () => notificationEntries((await listVisibleNotifications(this.db, viewer.id, this.maxNotifications)).rows)),
      whole(MAPS.accounts, async () => accountEntries(await listOwnAccountProgress(this.db, viewer.id))),
      this.shareFlagPatches(viewer, scope),
    ]);
    const plain = parts.flat();
    return { plain: [...plain, ...linked.fields], linked: linked.read };
  }

  private async shareFlagPatches(viewer: ViewerRow, scope: RefreshScope): Promise<Patch[]> {
    if (coversMap(scope, MAPS.shareFlags)) {
      return [{ map: MAPS.shareFlags, desired: shareFlagEntries(await listOwnShareFlags(this.db, viewer.id, null)), inScope: everyKey }];
    }
    if (!scope.recordIds?.length) {
      return [];
    }
    const ids = new Set(scope.recordIds);
    return [{ map: MAPS.shareFlags, desired: shareFlagEntries(await listOwnShareFlags(this.db, viewer.id, [...ids])), inScope: keysIn(ids) }];
  }

  /** Threads, records and people (encoded in the write), and the fields of the threads read. */
  private async linkedRead(viewer: ViewerRow, scope: RefreshScope, doc: HostedDoc['doc']): Promise<{ read: LinkedRead | null; fields: Patch[] }> {
    const fields: Patch[] = [];
    let threads: LinkedRead['threads'] = null;
    let next: ReadonlyMap<string, ThreadSummary> | null = null;
    let full = coversMap(scope, MAPS.threads);
    if (!full && scope.threadIds?.length) {
      const scoped = new Set(scope.threadIds);
      const found = threadEntries(await listWorkingSetThreads(this.db, this.workingSetQuery(viewer, [...scoped])));
      const plan = planThreadScope(heldThreads(doc), scoped, found, this.maxThreads);
      if (plan.needsFull) {
        full = true;
      } else {
        const touched = new Set([...scoped, ...plan.remove]);
        fields.push({ map: MAPS.fields, desired: fieldEntries(await listFieldValues(this.db, viewer.id, [...plan.upsert.keys()])), inScope: fieldScope(touched) });
        threads = { desired: plan.upsert, inScope: keysIn(touched) };
        next = plan.next;
      }
    }
    if (full) {
      next = threadEntries(await listWorkingSetThreads(this.db, this.workingSetQuery(viewer, null)));
      fields.push({ map: MAPS.fields, desired: fieldEntries(await listFieldValues(this.db, viewer.id, [...next.keys()])), inScope: everyKey });
      threads = { desired: next, inScope: everyKey };
    } else if (scope.fieldThreadIds?.length) {
      fields.push(await this.fieldPatch(viewer, scope.fieldThreadIds, doc, next));
    }
    const records = await this.recordRead(viewer, scope, doc, next, full);
    const needsPeople = coversMap(scope, MAPS.people) || (threads !== null && !ownersHaveRefs(doc, threads.desired.values()));
    const people = needsPeople ? await listDirectory(this.db, viewer.orgId) : null;
    const read = threads || records || people ? { threads, records, people } : null;
    return { read, fields };
  }

  /** Fields of threads the document holds (or will hold after this refresh). */
  private async fieldPatch(viewer: ViewerRow, threadIds: readonly string[], doc: HostedDoc['doc'], next: ReadonlyMap<string, ThreadSummary> | null): Promise<Patch> {
    const threads = docMap(doc, MAPS.threads);
    const held = new Set(threadIds.filter((id) => (next ? next.has(id) : threads.has(id))));
    return { map: MAPS.fields, desired: fieldEntries(await listFieldValues(this.db, viewer.id, [...held])), inScope: fieldScope(held) };
  }

  /**
   * Records: those the working set's threads refer to, plus the person's own.
   * A full pass re-reads them all; otherwise only the missing ones and the
   * scoped ones are read, and the ones nothing refers to any more deleted.
   */
  private async recordRead(
    viewer: ViewerRow,
    scope: RefreshScope,
    doc: HostedDoc['doc'],
    next: ReadonlyMap<string, ThreadSummary> | null,
    threadsFull: boolean,
  ): Promise<LinkedRead['records']> {
    const threads = next ?? heldThreads(doc);
    if (threadsFull || coversMap(scope, MAPS.records)) {
      const rows = await listProjectionRecords(this.db, viewer.id, [...referencedRecordIds(threads.values())], true);
      return { rows, inScope: everyKey };
    }
    if (next === null && !scope.recordIds?.length) {
      return null;
    }
    const wanted = referencedRecordIds(threads.values());
    (await listOwnedRecordIds(this.db, viewer.id)).forEach((id) => wanted.add(id));
    const present = new Set(docMap(doc, MAPS.records).keys());
    const touched = new Set<string>([...present].filter((id) => !wanted.has(id)));
    const fetch = [...wanted].filter((id) => !present.has(id) || scope.recordIds?.includes(id));
    fetch.forEach((id) => touched.add(id));
    scope.recordIds?.forEach((id) => touched.add(id));
    const rows = fetch.length > 0 ? await listProjectionRecords(this.db, viewer.id, fetch, false) : [];
    return touched.size > 0 ? { rows, inScope: keysIn(touched) } : null;
  }
}

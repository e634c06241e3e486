/**
 * @module server/sync/projection
 * The projection's wiring: a `Projection` from configuration (its
 * `buildDocument` is the document host's `build` and `refresh`), and the
 * change feed over the host's bus, so every process refreshes the documents
 * it holds the lease of:
 *
 *   const projection = createProjection(db, config);
 *   const host = await createDocHost({ …, build: projection.build, refresh: projection.build });
 *   const { changes, feed } = startChangeFeed({ db, log, projection, host });
 *   // Deps.changes = changes (commands), SyncManagerDeps.changes = changes (ingest)
 */
import type { Logger } from 'pino';
import type { Queryable } from '../../../db/types';
import type { Config } from '../../env';
import { publishChanges, subscribeChanges, type Bus } from '../host/bus';
import type { HostedDoc } from '../types';
import { ChangeFeed } from './change-feed';
import type { ChangeBus, ChangeSink, DomainChange } from './changes';
import { Projection } from './writer';

export { ChangeFeed, type HostedDocs } from './change-feed';
export { createLocalChangeBus, publishing, storedBatchChange, type ChangeBus, type ChangeSink, type DomainChange } from './changes';
export { FULL_SCOPE, type RefreshScope } from './scope';
export { Projection, type ProjectionOptions } from './writer';

/** A projection with the configured window and cap; `build` is bound, ready to hand to the document host. */
export function createProjection(db: Queryable, config: Pick<Config, 'syncWindowDays' | 'syncMaxThreads'>): Projection & { build: Projection['buildDocument'] } {
  const projection = new Projection(db, { windowDays: config.syncWindowDays, maxThreads: config.syncMaxThreads });
  return Object.assign(projection, { build: projection.buildDocument.bind(projection) });
}

const KINDS: ReadonlySet<string> = new Set<DomainChange['kind']>([
  'messages',
  'thread-fields',
  'share-flag',
  'sharing',
  'record-created',
  'record-changed',
  'record-deleted',
  'record-access',
  'people',
  'account',
  'notifications',
]);

/** A payload from another process that looks like a change (the bus carries JSON; shapes are ours). */
export function isDomainChange(payload: unknown): payload is DomainChange {
  return typeof payload === 'object' && payload !== null && KINDS.has(String((payload as { kind?: unknown }).kind));
}

/** Changes over the host's bus: every process, this one included, receives each one. */
export function changeBusOver(bus: Pick<Bus, 'publish' | 'subscribe'>, log: Logger): ChangeBus {
  return {
    publish(change) {
      // Pub/sub is at-most-once: a lost change leaves documents stale until their next refresh or open, never wrong in Postgres.
      publishChanges(bus as Bus, change).catch((err: unknown) => log.warn({ err, kind: change.kind }, 'sync change not published'));
    },
    subscribe(listener) {
      return subscribeChanges(bus as Bus, (payload) => {
        if (isDomainChange(payload)) {
          listener(payload);
        }
      });
    },
  };
}

/** What the feed needs of the document host: the documents this process writes. */
export interface WritableDocs {
  readonly bus: Bus;
  writableUserIds(): string[];
  findWritable(userId: string): HostedDoc | null;
  /** Runs work ahead of the host's background work (folds). */
  inForeground<T>(work: () => Promise<T>): Promise<T>;
}

/** Starts refreshing this process's documents on every change; `changes` is what commands and ingest publish to. */
export function startChangeFeed(input: { db: Queryable; log: Logger; projection: Projection; host: WritableDocs }): { changes: ChangeSink; feed: ChangeFeed } {
  const bus = changeBusOver(input.host.bus, input.log);
  const feed = new ChangeFeed({
    db: input.db,
    log: input.log,
    projection: input.projection,
    bus,
    docs: {
      hostedUserIds: () => input.host.writableUserIds(),
      hosted: (userId) => input.host.findWritable(userId) ?? undefined,
      inForeground: (work) => input.host.inForeground(work),
    },
    onReconnect: (handler) => input.host.bus.onReconnect(handler),
  });
  return { changes: bus, feed };
}

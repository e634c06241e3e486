/**
 * @module server/sync/engine
 * The sync engine as one process runs it: the projection builds and
 * refreshes each person's document, the edit policy decides their edits, the
 * document host stores and serves them (alone, or with Redis across
 * processes), and the change feed turns every committed change into
 * refreshes of the documents this process writes.
 */
import type { Logger } from 'pino';
import type { Db } from '../../db/types';
import type { Config } from '../env';
import { createDocHost, type SyncDocHost } from './host';
import { createEditPolicy } from './policy/edit-policy';
import type { AppliedChange } from './policy/types';
import { createProjection, startChangeFeed } from './projection';
import type { ChangeSink } from './projection/changes';
import type { MapName } from '../../sync/doc/schema';

export interface SyncEngine {
  host: SyncDocHost;
  /** Where commands and ingest publish domain changes, after commit. */
  changes: ChangeSink;
  close(): Promise<void>;
}

/** Builds the engine over the database; `config.redisUrl` shares leases and fan-out between processes. */
export async function createSyncEngine(db: Db, config: Pick<Config, 'redisUrl' | 'syncWindowDays' | 'syncMaxThreads'>, log: Logger): Promise<SyncEngine> {
  const projection = createProjection(db, config);
  // The policy's fan-out needs the feed, which needs the host, which needs the policy: bound once the feed exists.
  let sink: ChangeSink | null = null;
  const policy = createEditPolicy({
    db,
    log,
    now: () => Date.now(),
    canonicalValue: (hosted, map, key, previous) => projection.canonicalValue(hosted.userId, map as MapName, key, hosted.doc, previous),
    onApplied: (changes: AppliedChange[]) => changes.forEach((change) => sink?.publish(change)),
  });
  const host = await createDocHost({ db, log, redisUrl: config.redisUrl ?? undefined, policy, build: projection.build, refresh: projection.build });
  const { changes, feed } = startChangeFeed({ db, log, projection, host });
  sink = changes;
  return {
    host,
    changes,
    async close() {
      await feed.close();
      await host.close();
    },
  };
}

/**
 * @module server/sync/host
 * Creates the document host for this process: alone, an in-process bus and
 * every lease; with `REDIS_URL`, leases and the bus in Redis, shared with the
 * other Shoal processes.
 */
import { randomUUID } from 'node:crypto';
import { createLocalBus, createRedisBus } from './bus';
import { SyncDocHost, type DocHostDeps } from './doc-host';
import { createLocalLeases, createRedisLeases } from './leases';
import { DOC_HOST_DEFAULTS } from './options';

export { SyncDocHost, type DocHostDeps } from './doc-host';
export { publishChanges, subscribeChanges, type Bus, type BusMessage } from './bus';
export { DOC_HOST_ERRORS, DocHostError } from './errors';
export type { DocHostOptions } from './options';

export interface CreateDocHostInput extends Omit<DocHostDeps, 'bus' | 'leases'> {
  redisUrl?: string | undefined;
  /** Prefix of the Redis keys and channel (`shoal`); tests isolate themselves with their own. */
  namespace?: string;
}

export async function createDocHost(input: CreateDocHostInput): Promise<SyncDocHost> {
  const { redisUrl, namespace = 'shoal', ...deps } = input;
  const processId = randomUUID();
  if (!redisUrl) {
    return new SyncDocHost({ ...deps, bus: createLocalBus(processId), leases: createLocalLeases(processId) });
  }
  const onError = (error: unknown) => deps.log.warn({ err: error }, 'sync redis connection error');
  const timing = { ...DOC_HOST_DEFAULTS, ...deps.options }.lease;
  const leases = await createRedisLeases({ url: redisUrl, processId, prefix: namespace, timing, onError });
  try {
    const bus = await createRedisBus({ url: redisUrl, processId, channel: `${namespace}:sync:bus`, onError });
    return new SyncDocHost({ ...deps, bus, leases });
  } catch (error) {
    await leases.close();
    throw error;
  }
}

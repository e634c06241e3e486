/**
 * `/sync` as `npm start` runs it: boot builds the document host, injects the
 * WebSocket into its HTTP server, and on stop closes every socket (1001)
 * before the server, so shutdown does not hang on open connections.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { start } from '../../server/boot';
import { loadConfig } from '../../server/env';
import { createLogger } from '../../server/logger';
import { MAPS } from '../../sync/doc/schema';
import { waitFor } from '../helpers/mail-account';
import { MemoryDocHost, RecordingDocHost } from '../helpers/memory-doc-host';
import { connectSyncClient } from '../helpers/sync-client';

const ORIGIN = 'http://shoal.test';

describe('sync transport through boot', () => {
  it('serves /sync on the booted server and closes its sockets with 1001 on stop', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-sync-boot-'));
    const host = new RecordingDocHost(new MemoryDocHost());
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, APP_DIR: '/nonexistent', ORIGIN });
    const running = await start(config, createLogger('silent'), { createDocHost: () => host });
    try {
      const base = `http://127.0.0.1:${running.port}`;
      const signup = await fetch(`${base}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ orgName: 'Booted', name: 'Bo', email: 'bo@booted.test', password: 'correct horse battery' }),
      });
      const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const { user } = (await signup.json()) as { user: { id: string } };
      await host.seed(user.id, (doc) => doc.getMap(MAPS.meta).set('epoch', 'e1'));

      const client = connectSyncClient(`ws://127.0.0.1:${running.port}/sync`, { cookie });
      await client.synced();
      expect(client.doc.getMap(MAPS.meta).get('epoch')).toBe('e1');
      const t0 = performance.now();
      await running.stop();
      expect(performance.now() - t0).toBeLessThan(5_000);
      await waitFor('close 1001', () => client.closeCodes, (codes) => codes.includes(1001), 5_000);
      client.destroy();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * @module server/routes/health
 * `/healthz`: the process answers. `/readyz`: it can serve (database
 * reachable, every migration applied), for load balancers and orchestrators.
 */
import { Hono } from 'hono';
import { pendingMigrations } from '../../db/migrate';
import type { AppEnv } from '../context';

export const healthRoutes = new Hono<AppEnv>()
  .get('/healthz', (c) => c.json({ status: 'ok' }))
  .get('/readyz', async (c) => {
    const { db } = c.var.deps;
    try {
      await db.query('select 1');
      const pending = await pendingMigrations(db);
      if (pending.length > 0) {
        return c.json({ status: 'migrating', driver: db.driver, pendingMigrations: pending }, 503);
      }
      return c.json({ status: 'ready', driver: db.driver });
    } catch (error) {
      c.var.log.warn({ err: error }, 'readiness check failed');
      return c.json({ status: 'unavailable', driver: db.driver }, 503);
    }
  });

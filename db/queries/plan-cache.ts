/**
 * @module db/queries/plan-cache
 * How the rest of a transaction plans its prepared statements.
 */
import type { Queryable } from '../types';

/**
 * Until the transaction ends, prepared statements run one generic plan,
 * made once per connection, instead of a plan for each execution's values.
 * Connections otherwise plan every execution (`force_custom_plan`,
 * db/drivers/postgres.ts). For an edit's review that cost more than the
 * work: its visibility statement took 3.4 ms to plan for 0.4 ms of work,
 * planned again for each assignee in the same pipeline; its generic plan
 * runs in about 0.65 ms. Call it inside a transaction (outside one it does
 * nothing; PGlite takes it too).
 */
export async function reuseGenericPlans(tx: Queryable): Promise<void> {
  await tx.query('set local plan_cache_mode = force_generic_plan');
}

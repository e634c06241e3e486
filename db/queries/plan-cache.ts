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

/**
 * From here to the end of the transaction, prepared statements are planned
 * for each execution's values again (the connections' default). A generic
 * plan cannot see how long an array parameter is, so it plans for a few
 * rows: for the review's set-shaped visibility statement over 500
 * (viewer, thread) pairs it ran 6–12 ms, its custom plan 2.6–4 ms, and
 * both cost about as much to make (bench (c), Postgres log).
 */
export async function planForValues(tx: Queryable): Promise<void> {
  await tx.query('set local plan_cache_mode = force_custom_plan');
}

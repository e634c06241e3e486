/**
 * The SQL twin of the visibility rules (db/queries/visibility.ts), compared
 * with the pure module and the independent oracle on random organizations
 * written into a real database, on every driver: the per-viewer form every
 * API uses, and the set-shaped form over (person, thread) pairs that the
 * edit policy asks about assignees.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewerThreadKey, visiblePairs } from '../../db/queries/thread-fields';
import { visibleMessageIdsSql } from '../../db/queries/visibility';
import type { Db } from '../../db/types';
import { Visibility } from '../../sync/visibility';
import { driverCases, type TestDb } from '../helpers/db';
import { storeModelOrgs, type StoredOrg } from '../helpers/visibility-db';
import { orgArb, personId, toVisibilityMessage, toVisibilityOrg, type ModelOrg } from '../helpers/visibility-model';
import { oracleAudience } from '../helpers/visibility-oracle';

const BATCH = 100;

/**
 * Organizations on Postgres; CI runs the full 10,000 there (about
 * 3.5 minutes on two busy cores). The filter is the same SQL on both
 * drivers, so PGlite, which runs it single-threaded, checks a tenth of them
 * (at least one batch): the full count on both cost CI another 1.5 minutes.
 */
const ORGS = Number(process.env.VISIBILITY_ORGS ?? 300);
const orgsOn = (driver: string) => (driver === 'postgres' ? ORGS : Math.max(BATCH, Math.ceil(ORGS / 10)));

/**
 * The set-shaped pair form is asked about every (person, thread) pair of the
 * first batch and of every fifth after it: on every batch it made this suite
 * 60 % longer (another minute of CI) for statements the per-viewer form
 * already checks message by message.
 */
const PAIRS_EVERY = 5;

/**
 * Replayed before every run: the organizations of a batch that differed, as
 * fast-check printed its counterexample (with its seed), and why.
 */
const PINNED: { orgs: ModelOrg[]; why: string }[] = [];

/** "viewer|message" pairs the database says are visible. */
async function sqlPairs(db: Db, stored: readonly StoredOrg[]): Promise<Set<string>> {
  const rows = await db.query<{ viewer: string; message: string }>(
    `select v.id as viewer, x.id as message from users v
     cross join lateral ${visibleMessageIdsSql('v.id', 'v.org_id')} x
     where v.org_id = any($1::uuid[])`,
    [stored.map((s) => s.orgId)],
  );
  return new Set(rows.map((r) => `${r.viewer}|${r.message}`));
}

/** Every (person, thread) pair of each organization, asked in one statement per organization. */
async function sqlThreadPairs(db: Db, stored: readonly StoredOrg[]): Promise<Set<string>> {
  const answers = await Promise.all(
    stored.map((s) => {
      const threads = [...new Set(s.threadOf)];
      return visiblePairs(db, s.orgId, s.people.flatMap((viewerId) => threads.map((threadId) => ({ viewerId, threadId }))));
    }),
  );
  return new Set(answers.flat().map((p) => viewerThreadKey(p.viewerId, p.threadId)));
}

/** A thread is visible to a person when one of its messages is, by the module. */
function pairDifferences(model: ModelOrg, stored: StoredOrg, sql: ReadonlySet<string>): string[] {
  const visibility = new Visibility(toVisibilityOrg(model));
  const out: string[] = [];
  for (const thread of new Set(stored.threadOf)) {
    const messages = model.messages.filter((_, m) => stored.threadOf[m] === thread);
    model.people.forEach((_, p) => {
      const inModule = messages.some((message) => visibility.canSee(personId(p), toVisibilityMessage(model, message)));
      const inSql = sql.has(viewerThreadKey(stored.people[p] as string, thread));
      if (inModule !== inSql) {
        out.push(`thread ${stored.threadOf.indexOf(thread)}, person ${p}: module ${inModule}, pairs ${inSql}`);
      }
    });
  }
  return out;
}

function differences(model: ModelOrg, stored: StoredOrg, sql: ReadonlySet<string>): string[] {
  const visibility = new Visibility(toVisibilityOrg(model));
  const out: string[] = [];
  model.messages.forEach((message, m) => {
    const oracle = oracleAudience(model, message);
    const vm = toVisibilityMessage(model, message);
    model.people.forEach((_, p) => {
      const inModule = visibility.canSee(personId(p), vm);
      const inSql = sql.has(`${stored.people[p]}|${stored.messages[m]}`);
      if (inModule !== inSql || inModule !== oracle.has(p)) {
        out.push(`message ${m}, person ${p}: module ${inModule}, sql ${inSql}, oracle ${oracle.has(p)}`);
      }
    });
  });
  return out;
}

describe.each(driverCases())('visibility SQL on $name', ({ name, create }) => {
  const orgs = Math.max(BATCH, orgsOn(name));
  let t: TestDb;
  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t.drop();
  });

  let checked = 0;
  const check = async (batch: ModelOrg[]) => {
    const withPairs = checked++ % PAIRS_EVERY === 0;
    const stored = await t.db.transaction((tx) => storeModelOrgs(tx, batch));
    const [sql, threadPairs] = await Promise.all([sqlPairs(t.db, stored), withPairs ? sqlThreadPairs(t.db, stored) : null]);
    // The database is this suite's own: emptying it keeps every batch as cheap as the first.
    await t.db.query('truncate organizations cascade');
    const diffs = batch.flatMap((model, i) => {
      const one = stored[i] as StoredOrg;
      return [...differences(model, one, sql), ...(threadPairs ? pairDifferences(model, one, threadPairs) : [])].map((d) => `org ${i}: ${d}`);
    });
    expect(diffs).toEqual([]);
  };
  const batches = fc.array(orgArb(), { minLength: BATCH, maxLength: BATCH });

  it(`agrees with the module and the oracle on ${orgs} random organizations`, async () => {
    let seen = 0;
    await fc.assert(
      fc.asyncProperty(batches, async (batch) => {
        seen += batch.length;
        await check(batch);
      }),
      { numRuns: Math.max(1, Math.ceil(orgs / BATCH)), examples: PINNED.map((p): [ModelOrg[]] => [p.orgs]) },
    );
    expect(seen).toBeGreaterThanOrEqual(orgs);
  }, 1_800_000);
});

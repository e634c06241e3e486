/**
 * @module server/sync/policy/edit-policy
 * The server's answer to a person's edits (issue 5, inbound edits). The
 * update is already applied to the server's copy and persisted (a dropped
 * Yjs update would wedge the client), so the policy inspects the changed
 * keys and then:
 *
 *   server maps (and unknown ones) → put the canonical value back
 *   fields / shareFlags / conversions → authorize, then ONE Postgres
 *     transaction: last writer wins by HLC + the write log
 *   every touched key → the author's document gets the canonical value
 *     (refused, losing, clamped or replayed alike), in one server write
 *   committed changes → `onApplied`, for other people's documents
 *
 * Reviews of one document run one at a time, so a slower review never
 * writes an older canonical value over a newer one.
 */
import * as Y from 'yjs';
import { reuseGenericPlans } from '../../../db/queries/plan-cache';
import { findUserById } from '../../../db/queries/users';
import type { Queryable } from '../../../db/types';
import { isPlainJson, sameJson } from '../../../sync/doc/json';
import { EDITABLE_MAPS, MAPS } from '../../../sync/doc/schema';
import type { Author, EditPolicy, HostedDoc, ReviewContext } from '../types';
import { decideConversions } from './conversions';
import { decideFields } from './fields';
import { decideShareFlags } from './share-flags';
import type { AppliedChange, MapDecision, PolicyDeps, ReviewScope, Verdict } from './types';

type Decide = (q: Queryable, scope: ReviewScope, writes: ReadonlyMap<string, readonly unknown[]>, touched: ReadonlySet<string>) => Promise<MapDecision>;

const DECIDERS: ReadonlyMap<string, Decide> = new Map<string, Decide>([
  [MAPS.fields, decideFields],
  [MAPS.shareFlags, decideShareFlags],
  [MAPS.conversions, decideConversions],
]);

type PerMap<V> = Map<string, Map<string, V>>;

/** SQLSTATEs worth running the review's transaction again: serialization, deadlock, a row that vanished or appeared meanwhile. */
const RETRYABLE = new Set(['40001', '40P01', '23503', '23505']);
const ATTEMPTS = 3;

const isEditable = (map: string): boolean => (EDITABLE_MAPS as readonly string[]).includes(map);

/** A value a document may hold again: JSON, never forged content (a nested Yjs type, bigint, binary…). */
const plain = (value: unknown): unknown => (isPlainJson(value) ? value : undefined);

/** The values a changed key was written with: from the captured update, else what the document shows. */
function writtenValues(doc: Y.Doc, map: string, keys: ReadonlySet<string>, context: ReviewContext | undefined): Map<string, unknown[]> {
  const captured = context?.written?.get(map);
  const current = doc.getMap<unknown>(map);
  return new Map(
    [...keys].map((key) => {
      if (context?.written) {
        return [key, [...(captured?.get(key) ?? [])]];
      }
      return [key, current.has(key) ? [current.get(key)] : []];
    }),
  );
}

async function scopeOf(deps: PolicyDeps, hosted: HostedDoc, author: Author): Promise<ReviewScope> {
  const user = await findUserById(deps.db, hosted.userId);
  return {
    userId: hosted.userId,
    orgId: user?.orgId ?? null,
    allowed: user !== null && user.active && author.userId === hosted.userId,
    nowMs: Math.floor(deps.now()),
  };
}

function isRetryable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE.has(code);
}

async function decideEditable(deps: PolicyDeps, scope: ReviewScope, doc: Y.Doc, changed: ReadonlyMap<string, ReadonlySet<string>>, context: ReviewContext | undefined) {
  const maps = [...DECIDERS.keys()].filter((m) => (changed.get(m)?.size ?? 0) > 0);
  const writes = new Map(maps.map((m) => [m, writtenValues(doc, m, changed.get(m) as ReadonlySet<string>, context)]));
  for (let attempt = 1; ; attempt++) {
    try {
      const decide = async (tx: Queryable) => {
        await reuseGenericPlans(tx);
        const decisions = new Map<string, MapDecision>();
        for (const map of maps) {
          const decider = DECIDERS.get(map) as Decide;
          decisions.set(map, await decider(tx, scope, writes.get(map) as Map<string, unknown[]>, changed.get(map) as ReadonlySet<string>));
        }
        return decisions;
      };
      return await deps.db.transaction(decide);
    } catch (error) {
      if (attempt >= ATTEMPTS || !isRetryable(error)) {
        throw error;
      }
    }
  }
}

async function serverCanonical(deps: PolicyDeps, hosted: HostedDoc, changed: ReadonlyMap<string, ReadonlySet<string>>, context: ReviewContext | undefined): Promise<PerMap<unknown>> {
  const out: PerMap<unknown> = new Map();
  for (const [map, keys] of changed) {
    if (isEditable(map) || keys.size === 0) {
      continue;
    }
    const values = new Map<string, unknown>();
    for (const key of keys) {
      const before = context?.previous?.get(map);
      const fallback = before?.has(key) ? plain(before.get(key)) : undefined;
      values.set(key, deps.canonicalValue ? await deps.canonicalValue(hosted, map, key, context?.previous) : fallback);
    }
    out.set(map, values);
  }
  return out;
}

/** Writes the canonical values, skipping any key someone changed since the review began (its own writer answers for it). */
function compensate(doc: Y.Doc, seen: PerMap<unknown>, canonical: PerMap<unknown>): void {
  for (const [map, values] of canonical) {
    const target = doc.getMap<unknown>(map);
    for (const [key, value] of values) {
      // Absent and a forged `undefined` both read as undefined: either way the canonical value goes in.
      const now = target.get(key);
      if (!sameJson(now, seen.get(map)?.get(key))) {
        continue;
      }
      if (value === undefined) {
        if (target.has(key)) {
          target.delete(key);
        }
        continue;
      }
      if (!target.has(key) || !sameJson(now, value)) {
        target.set(key, value);
      }
    }
  }
}

/** What each changed key holds as the review begins (values, compared later without a copy: a document's values are never mutated). */
function snapshot(doc: Y.Doc, changed: ReadonlyMap<string, ReadonlySet<string>>): PerMap<unknown> {
  const out: PerMap<unknown> = new Map();
  for (const [map, keys] of changed) {
    const source = doc.getMap<unknown>(map);
    out.set(map, new Map([...keys].map((key) => [key, source.get(key)])));
  }
  return out;
}

async function reviewOnce(deps: PolicyDeps, hosted: HostedDoc, author: Author, changed: ReadonlyMap<string, ReadonlySet<string>>, context?: ReviewContext): Promise<void> {
  const seen = snapshot(hosted.doc, changed);
  const scope = await scopeOf(deps, hosted, author);
  const decisions = await decideEditable(deps, scope, hosted.doc, changed, context);
  const canonical = await serverCanonical(deps, hosted, changed, context);
  for (const [map, decision] of decisions) {
    canonical.set(map, decision.canonical);
  }
  await hosted.write((doc) => compensate(doc, seen, canonical));
  const verdicts: Verdict[] = [...decisions.values()].flatMap((d) => d.verdicts);
  const applied: AppliedChange[] = [...decisions.values()].flatMap((d) => d.applied);
  const count = (outcome: Verdict['outcome']) => verdicts.filter((v) => v.outcome === outcome).length;
  const forged = [...changed].filter(([map]) => !isEditable(map)).reduce((n, [, keys]) => n + keys.size, 0);
  // Counts only: values and keys are the person's data.
  deps.log?.debug({ userId: hosted.userId, applied: count('applied'), lost: count('lost'), refused: count('refused'), serverKeysReverted: forged }, 'sync edits reviewed');
  if (applied.length > 0 && deps.onApplied) {
    await deps.onApplied(applied);
  }
}

/** The edit policy; inject `canonicalValue` (the projection) and `onApplied` (the fan-out). */
export function createEditPolicy(deps: PolicyDeps): EditPolicy {
  const queues = new Map<string, Promise<void>>();
  return {
    review(hosted, author, changed, context) {
      const before = queues.get(hosted.userId) ?? Promise.resolve();
      const run = before.then(() => reviewOnce(deps, hosted, author, changed, context));
      const settled = run.catch(() => undefined);
      queues.set(hosted.userId, settled);
      void settled.then(() => {
        if (queues.get(hosted.userId) === settled) {
          queues.delete(hosted.userId);
        }
      });
      return run;
    },
  };
}


/**
 * @module server/sync/policy/types
 * The vocabulary shared by the policy's parts: what a person's write became,
 * why, and what the rest of the engine hears about it.
 */
import type { Logger } from 'pino';
import type { Db } from '../../../db/types';
import type { Stamped } from '../../../sync/doc/schema';
import type { HostedDoc, ReviewContext } from '../types';

export const OUTCOMES = { applied: 'applied', lost: 'lost', refused: 'refused' } as const;
export type Outcome = (typeof OUTCOMES)[keyof typeof OUTCOMES];

/** Stable reasons in the write log (`sync_writes.reason`). */
export const REASONS = {
  clamped: 'hlc_clamped',
  hlcMalformed: 'hlc_malformed',
  hlcAbsurd: 'hlc_absurd',
  notStamped: 'not_stamped',
  unknownField: 'unknown_field',
  invalidValue: 'invalid_value',
  authorInactive: 'author_inactive',
  threadNotVisible: 'thread_not_visible',
  assigneeCannotSee: 'assignee_cannot_see_thread',
  recordNotAccessible: 'record_not_accessible',
  olderThanStored: 'older_than_stored',
  supersededInUpdate: 'superseded_in_update',
  notARequest: 'not_a_request',
  invalidAddress: 'invalid_address',
  notAnOtherParty: 'address_not_other_party',
  alreadyConverted: 'already_converted',
  existed: 'record_existed',
} as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];

/** One row of the write log. */
export interface Verdict {
  /** `map:key` (db/queries/sync-writes.ts syncWriteKey). */
  key: string;
  hlc: string;
  value: unknown;
  outcome: Outcome;
  reason: Reason | null;
}

/** A committed change other people's documents must reflect (the projection's fan-out consumes it). */
export type AppliedChange =
  | { kind: 'thread-fields'; threadIds: string[]; values?: Record<string, Stamped<unknown>> }
  | { kind: 'share-flag'; ownerId: string; recordId: string }
  | { kind: 'record-created'; recordId: string };

/** The author as the database knows them; `allowed` is false for someone inactive or writing another's document. */
export interface ReviewScope {
  userId: string;
  orgId: string | null;
  allowed: boolean;
  nowMs: number;
}

/**
 * What one editable map's review decided: log rows, the canonical value of
 * every touched key (`undefined`: the key must not exist), and changes to fan out.
 */
export interface MapDecision {
  verdicts: Verdict[];
  canonical: Map<string, unknown>;
  applied: AppliedChange[];
}

/**
 * The value a server-written key should hold in a person's document, or
 * `undefined` when it should not exist. The projection's builder provides it.
 */
/**
 * The value a server-written key should hold. `previous` is what the update
 * found in each changed key: refs are read from it, not from what the
 * update (perhaps forged) left in the document.
 */
export type CanonicalValue = (hosted: HostedDoc, map: string, key: string, previous?: ReviewContext['previous']) => Promise<unknown>;

export interface PolicyDeps {
  db: Db;
  /** Wall clock in ms, for clamping stamps. */
  now: () => number;
  /** Canonical server-map values; without it a forged key is put back to its value before the update, or deleted. */
  canonicalValue?: CanonicalValue;
  /** Hears every committed change after the author's document was corrected. */
  onApplied?: (changes: AppliedChange[]) => void | Promise<void>;
  log?: Logger;
}

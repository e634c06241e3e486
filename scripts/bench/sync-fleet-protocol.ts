/**
 * @module scripts/bench/sync-fleet-protocol
 * The commands the benchmark sends its client process (sync-fleet.ts) and
 * the replies it gets, one reply per command.
 */
import type { ThreadField } from '../../sync/doc/schema';

export interface FleetEdit {
  threadId: string;
  field: ThreadField;
  value: unknown;
}

export interface OverwriteCommand {
  op: 'overwrite';
  editor: number;
  orgId: string;
  threadIds: string[];
  /** Assignees to cycle through (people who can see the threads). */
  people: string[];
  total: number;
  /** Edits per transaction (one frame each). */
  batch: number;
  pauseMs: number;
}

/**
 * Members as the app runs them (its SyncSession: handshake, outbox,
 * acknowledgements, and the reset to a new epoch that keeps unsent writes),
 * one per cookie, for the runs where the server may rebuild documents.
 */
export interface AppMembers {
  orgId: string;
  /** The person of each cookie. */
  userIds: string[];
}

export type FleetCommand =
  | { op: 'connect'; url: string; cookies: (string | null)[]; origin: string; app?: AppMembers }
  | { op: 'fields' }
  | { op: 'fan-out'; editor: number; orgId: string; threadIds: string[]; rounds: number; gapMs: number }
  | { op: 'offline'; editor: number; orgId: string; edits: FleetEdit[] }
  | { op: 'settle'; expected: Record<string, unknown>[]; since: number }
  | OverwriteCommand
  | { op: 'disconnect' };

export type FleetReply =
  | { op: 'connect'; firstSyncMs: number[]; totalMs: number; /** Bare providers: bytes read off each socket by its first sync. */ firstSyncWireBytes?: number[] }
  | { op: 'fields'; fields: Record<string, unknown>[] }
  | { op: 'fan-out'; latencies: number[][] }
  | { op: 'offline'; reconnectedAt: number; writeMs: number }
  | { op: 'settle'; convergedMs: number; mismatched: number }
  | { op: 'overwrite'; transactions: number; edits: number; resets: number }
  | { op: 'disconnect' }
  | { op: 'error'; message: string };

/** The reply type of a command. */
export type ReplyTo<C extends FleetCommand> = Extract<FleetReply, { op: C['op'] }>;

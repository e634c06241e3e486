/**
 * @module server/sync/host/review-journal
 * What a client's update changed, as JSON stored beside the update until the
 * edit policy decided it (`sync_doc_reviews`). The changes must be captured
 * while the update is applied (gc purges overwritten values), so a process
 * that dies before deciding leaves them for the next holder of the lease.
 *
 * Values are JSON already, except content a client forged: a nested Yjs
 * type, binary, a bigint, NaN, `undefined`. A written one becomes a marker
 * the policy refuses like the type itself (it is no stamped value); a
 * previous one is left out, which the policy reads like a key that was
 * absent.
 */
import { isPlainJson } from '../../../sync/doc/json';
import type { Author } from '../types';
import type { CapturedChanges } from './changed-keys';

/** Stands for forged, non-JSON content in a stored `written` value. */
export const FORGED_CONTENT = { forged: 'non-json content' } as const;

interface StoredChanges {
  changed: Record<string, string[]>;
  previous?: Record<string, Record<string, unknown>>;
  written?: Record<string, Record<string, unknown[]>>;
}


function objectOf<V, W>(map: ReadonlyMap<string, ReadonlyMap<string, V>>, convert: (inner: ReadonlyMap<string, V>) => W): Record<string, W> {
  return Object.fromEntries([...map].map(([name, inner]) => [name, convert(inner)]));
}

/** The captured changes as JSON text. */
export function encodeChanges(changes: CapturedChanges): string {
  const stored: StoredChanges = { changed: Object.fromEntries([...changes.changed].map(([name, keys]) => [name, [...keys]])) };
  if (changes.previous) {
    stored.previous = objectOf(changes.previous, (inner) => Object.fromEntries([...inner].filter(([, v]) => v !== undefined && isPlainJson(v))));
  }
  if (changes.written) {
    stored.written = objectOf(changes.written, (inner) =>
      Object.fromEntries([...inner].map(([key, values]) => [key, values.map((v) => (isPlainJson(v) ? v : FORGED_CONTENT))])),
    );
  }
  return JSON.stringify(stored);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function mapOf<V>(value: unknown, convert: (inner: Record<string, unknown>) => Map<string, V>): Map<string, Map<string, V>> {
  const out = new Map<string, Map<string, V>>();
  if (isRecord(value)) {
    for (const [name, inner] of Object.entries(value)) {
      out.set(name, convert(isRecord(inner) ? inner : {}));
    }
  }
  return out;
}

/** Reads stored changes back (`changes` as the database returns the jsonb). */
export function decodeChanges(stored: unknown): CapturedChanges {
  const parsed: unknown = typeof stored === 'string' ? JSON.parse(stored) : stored;
  const record = isRecord(parsed) ? parsed : {};
  const changed = new Map<string, Set<string>>();
  if (isRecord(record.changed)) {
    for (const [name, keys] of Object.entries(record.changed)) {
      changed.set(name, new Set(Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : []));
    }
  }
  const out: CapturedChanges = { changed };
  if ('previous' in record) {
    out.previous = mapOf(record.previous, (inner) => new Map(Object.entries(inner)));
  }
  if ('written' in record) {
    out.written = mapOf(record.written, (inner) => new Map(Object.entries(inner).map(([key, values]) => [key, Array.isArray(values) ? values : []])));
  }
  return out;
}

/** The author of a stored update, reviewed later: no socket of theirs is waiting for it. */
export function recoveredAuthor(row: { seq: number; authorId: string; sessionId: string }): Author {
  return { userId: row.authorId, sessionId: row.sessionId, connectionId: `recovered:${row.seq}` };
}

/**
 * @module app/lib/sync/notices
 * The sentence a person reads when one of their changes did not stick.
 */
import type { SettledWrite } from '$sync/client/outbox';
import { parseFieldKey, type ThreadField } from '$sync/doc/schema';

/** A write that did not stick, for the person to see. */
export interface WriteNotice {
  id: number;
  outcome: 'lost' | 'refused';
  map: string;
  key: string;
  /** For a thread field: which thread and field. */
  threadId: string | null;
  field: ThreadField | null;
  message: string;
}

const FIELD_LABELS: Record<ThreadField, string> = {
  assignee: 'assignee',
  status: 'status',
  snoozeUntil: 'snooze',
  labels: 'labels',
  read: 'read state',
};

/** How a lost or refused write reads in a notice. */
export function describeNotice(write: SettledWrite): Omit<WriteNotice, 'id'> | null {
  if (write.outcome === 'applied') {
    return null;
  }
  const { map, key } = write.entry;
  const parsed = map === 'fields' ? parseFieldKey(key) : null;
  const what =
    parsed !== null ? `Your change to the ${FIELD_LABELS[parsed.field]}` : map === 'shareFlags' ? 'Your change to email sharing' : `Your conversion of ${key}`;
  const message = write.outcome === 'lost' ? `${what} lost to a later one.` : `${what} was not accepted.`;
  return { outcome: write.outcome, map, key, threadId: parsed?.threadId ?? null, field: parsed?.field ?? null, message };
}

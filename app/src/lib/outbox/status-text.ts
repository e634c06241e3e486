/**
 * @module app/lib/outbox/status-text
 * The words an outbox entry shows, in the thread and in the indicator.
 */
import { formatRecipient } from './addresses';
import type { OutboxEntry } from './types';

export type EntryTone = 'neutral' | 'success' | 'danger' | 'warning';

export interface EntryStatusText {
  label: string;
  tone: EntryTone;
}

/** "Sending…", "Queued (offline)", "Sent", "Failed: <the server's reason>" … */
export function entryStatus(entry: Pick<OutboxEntry, 'status' | 'error'>, online: boolean): EntryStatusText {
  switch (entry.status) {
    case 'queued':
      if (!online) {
        return { label: 'Queued (offline)', tone: 'warning' };
      }
      return entry.error ? { label: `Queued: will retry (${entry.error})`, tone: 'warning' } : { label: 'Sending…', tone: 'neutral' };
    case 'sending':
      return { label: 'Sending…', tone: 'neutral' };
    case 'sent':
      return { label: 'Sent', tone: 'success' };
    case 'failed':
      return { label: `Failed: ${entry.error ?? 'the server refused it'}`, tone: 'danger' };
    case 'unconfirmed':
      return { label: `Not confirmed: ${entry.error ?? ''}`.trim(), tone: 'warning' };
  }
}

/** "To Carol <carol@…>, dave@… · Re: Pricing", for a one-line summary. */
export function entrySummary(entry: Pick<OutboxEntry, 'draft'>): string {
  const { draft } = entry;
  const people = [...draft.to, ...draft.cc, ...draft.bcc].map(formatRecipient);
  const shown = people.length > 2 ? `${people.slice(0, 2).join(', ')} +${people.length - 2}` : people.join(', ');
  const subject = draft.subject.trim();
  return subject && draft.mode !== 'reply' && draft.mode !== 'replyAll' ? `To ${shown} · ${subject}` : `To ${shown}`;
}

/** How many entries still need the person's attention or the network. */
export function outboxCounts(entries: readonly Pick<OutboxEntry, 'status'>[]): { waiting: number; failed: number } {
  let waiting = 0;
  let failed = 0;
  for (const e of entries) {
    if (e.status === 'queued' || e.status === 'sending') {
      waiting += 1;
    } else if (e.status === 'failed' || e.status === 'unconfirmed') {
      failed += 1;
    }
  }
  return { waiting, failed };
}

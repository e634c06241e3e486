/**
 * @module app/lib/stores/triage
 * Triage actions on a thread of the local document: assign, status, snooze,
 * labels, read/unread. Each is one stamped local write, so it shows at once
 * and waits in the outbox while offline. The last action can be undone: the
 * previous value goes back as a new write with a newer stamp, so undo wins
 * over the action everywhere, the server included.
 */
import { createContext } from 'svelte';
import type { SyncStore } from '$lib/sync/sync.svelte';
import { SyncWriteError } from '$sync/client/write';
import type { FieldValues, ThreadField, ThreadStatus } from '$sync/doc/schema';
import { toasts } from './toasts.svelte';

const UNDO_MS = 8_000;

const STATUS_WORDS: Record<ThreadStatus, string> = { open: 'Reopened', pending: 'Marked pending', done: 'Marked done' };

export interface UndoEntry {
  id: number;
  message: string;
  threadId: string;
  field: ThreadField;
  previous: FieldValues[ThreadField];
}

export type TriageDialog = 'assign' | 'snooze' | 'labels';

export class Triage {
  readonly sync: SyncStore;
  readonly viewerId: string;
  /** The action the Undo toast offers, until it times out or another replaces it. */
  last = $state<UndoEntry | null>(null);
  /** The picker open for a thread (one at a time, shown by the inbox layout). */
  dialog = $state<{ kind: TriageDialog; threadId: string } | null>(null);

  #nextId = 1;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(sync: SyncStore, viewerId: string) {
    this.sync = sync;
    this.viewerId = viewerId;
  }

  personName(userId: string | null): string {
    if (userId === null) {
      return 'nobody';
    }
    return userId === this.viewerId ? 'you' : (this.sync.people.get(userId)?.name ?? 'a teammate');
  }

  assign(threadId: string, userId: string | null): boolean {
    const message = userId === null ? 'Unassigned' : `Assigned to ${this.personName(userId)}`;
    return this.#write(threadId, 'assignee', userId, message);
  }

  setStatus(threadId: string, status: ThreadStatus): boolean {
    return this.#write(threadId, 'status', status, STATUS_WORDS[status]);
  }

  snooze(threadId: string, until: string | null): boolean {
    const message = until === null ? 'Unsnoozed' : `Snoozed until ${new Date(until).toLocaleString(undefined, { weekday: 'short', hour: 'numeric', minute: '2-digit' })}`;
    return this.#write(threadId, 'snoozeUntil', until, message);
  }

  setLabels(threadId: string, labels: string[]): boolean {
    return this.#write(threadId, 'labels', labels, 'Labels changed');
  }

  setRead(threadId: string, read: boolean): boolean {
    return this.#write(threadId, 'read', read, read ? 'Marked read' : 'Marked unread');
  }

  openDialog(kind: TriageDialog, threadId: string): void {
    this.dialog = { kind, threadId };
  }

  /** Puts back the value the last action replaced. */
  undo(): boolean {
    const entry = this.last;
    if (entry === null) {
      return false;
    }
    this.#dismiss();
    try {
      this.sync.setField(entry.threadId, entry.field, entry.previous);
      toasts.show('Undone.');
      return true;
    } catch (error) {
      this.#fail(error);
      return false;
    }
  }

  dismiss(): void {
    this.#dismiss();
  }

  #write<F extends ThreadField>(threadId: string, field: F, value: FieldValues[F], message: string): boolean {
    // The field's value before (null is a value here: no assignee, no snooze).
    const previous = this.sync.field(threadId, field) as FieldValues[F];
    try {
      if (!this.sync.setField(threadId, field, value)) {
        return false;
      }
    } catch (error) {
      this.#fail(error);
      return false;
    }
    this.#offer({ id: this.#nextId++, message, threadId, field, previous });
    return true;
  }

  #offer(entry: UndoEntry): void {
    clearTimeout(this.#timer);
    this.last = entry;
    this.#timer = setTimeout(() => this.#dismiss(), UNDO_MS);
  }

  #dismiss(): void {
    clearTimeout(this.#timer);
    this.last = null;
  }

  #fail(error: unknown): void {
    toasts.error(error instanceof SyncWriteError ? error.message : 'That change could not be made.');
  }
}

const [getTriage, setTriage] = createContext<Triage>();
export const useTriage = getTriage;
export const provideTriage = setTriage;

/**
 * @module app/lib/outbox/runner
 * Takes queued messages out of the outbox, one at a time and one tab at a
 * time (the `lock`, a Web Lock in the browser), re-reading each entry under
 * the lock so a message another tab just sent is skipped. Every attempt
 * posts the entry's own id, so a retry after a lost answer reports the
 * first send instead of sending again. No Svelte and no browser globals:
 * everything it touches comes in through {@link RunnerDeps}.
 */
import type { SendMailInput } from '$sync/api';
import { retryDelayMs, type SendOutcome } from './send-outcome';
import type { ComposeStorage } from './storage';
import type { Draft, OutboxEntry } from './types';

export interface RunnerDeps {
  storage: ComposeStorage;
  send(input: SendMailInput): Promise<SendOutcome>;
  /** Runs `fn` while no other tab runs its outbox. */
  lock<T>(fn: () => Promise<T>): Promise<T>;
  online(): boolean;
  now(): number;
  /** Something in the outbox changed (for the UI, and other tabs). */
  changed(): void;
  /** Calls `fn` after `ms`; @returns a cancel function. */
  timer(fn: () => void, ms: number): () => void;
}

/** After the device's storage failed (quota, a closing database), the next pass waits this long. */
export const STORAGE_RETRY_MS = 5_000;

/** Sent entries stay visible this long ("Sent"), then are dropped on the next start. */
export const KEEP_SENT_MS = 60 * 60 * 1000;

/** The entry after one attempt ended with `outcome`. */
export function applyOutcome(entry: OutboxEntry, outcome: SendOutcome, now: number): OutboxEntry {
  const base = { ...entry, updatedAt: now };
  const later = now + retryDelayMs(entry.attempts);
  switch (outcome.kind) {
    case 'sent':
      return { ...base, status: 'sent', result: outcome.result, error: null, nextAttemptAt: null };
    case 'pending':
      return { ...base, status: 'sending', result: outcome.result, error: null, nextAttemptAt: later };
    case 'unconfirmed':
      return { ...base, status: 'unconfirmed', result: outcome.result, error: outcome.message, nextAttemptAt: null };
    case 'offline':
      return { ...base, status: 'queued', error: null, nextAttemptAt: later };
    case 'retry':
      return { ...base, status: 'queued', error: outcome.message, nextAttemptAt: later };
    case 'rejected':
      return { ...base, status: 'failed', error: outcome.message, nextAttemptAt: null };
    case 'signedOut':
      return { ...base, status: 'queued', error: 'Log in again to send it.', nextAttemptAt: null };
  }
}

/** Whether the runner should try the entry now (`force`: the network just came back, ignore back-off). */
export function isDue(entry: OutboxEntry, now: number, force = false): boolean {
  if (entry.status !== 'queued' && entry.status !== 'sending') {
    return false;
  }
  return force || entry.nextAttemptAt === null || entry.nextAttemptAt <= now;
}

export class OutboxRunner {
  readonly #deps: RunnerDeps;
  #running: Promise<void> | null = null;
  #again = false;
  #force = false;
  #cancelTimer: () => void = () => {};
  #stopped = false;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  /** Send: the entry is stored (and its draft removed) before any request goes out. */
  async enqueue(entry: OutboxEntry): Promise<void> {
    await this.#deps.storage.queue(entry);
    this.#deps.changed();
    void this.kick();
  }

  /** Runs a pass now (again after the current one, if one is running). `force` skips the back-off. */
  kick(force = false): Promise<void> {
    this.#force ||= force;
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop()
      .catch(() => {
        // Storage failed mid-pass; nothing was lost (entries are re-read), so try again shortly.
        this.#cancelTimer();
        this.#cancelTimer = this.#deps.timer(() => void this.kick(), STORAGE_RETRY_MS);
      })
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }

  /** Retry by hand (a failure the person fixed outside Shoal, e.g. an SMTP password): same id. */
  async retry(id: string): Promise<void> {
    await this.#deps.lock(async () => {
      const entry = await this.#deps.storage.getEntry(id);
      if (entry?.status === 'failed') {
        await this.#deps.storage.putEntry({ ...entry, status: 'queued', error: null, nextAttemptAt: null, updatedAt: this.#deps.now() });
      }
    });
    this.#deps.changed();
    await this.kick(true);
  }

  /**
   * Edit after a failure: the draft comes back and the entry goes. Only a
   * failed entry (the server refused it, nothing went out) can be edited.
   * @returns the draft, or null when the entry is no longer failed.
   */
  async reopen(id: string): Promise<Draft | null> {
    const draft = await this.#deps.lock(async () => {
      const entry = await this.#deps.storage.getEntry(id);
      if (entry?.status !== 'failed') {
        return null;
      }
      const back = { ...entry.draft, updatedAt: this.#deps.now() };
      await this.#deps.storage.reopen(entry, back);
      return back;
    });
    this.#deps.changed();
    return draft;
  }

  /** Removes an entry that is not in flight (a queued one is then never sent). @returns whether it was removed. */
  async discard(id: string): Promise<boolean> {
    const removed = await this.#deps.lock(async () => {
      const entry = await this.#deps.storage.getEntry(id);
      if (entry === undefined || entry.status === 'sending') {
        return false;
      }
      await this.#deps.storage.deleteEntry(id);
      return true;
    });
    this.#deps.changed();
    return removed;
  }

  /** Drops "Sent" entries older than {@link KEEP_SENT_MS}. */
  async prune(): Promise<void> {
    const now = this.#deps.now();
    for (const entry of await this.#deps.storage.listEntries()) {
      if (entry.status === 'sent' && now - entry.updatedAt > KEEP_SENT_MS) {
        await this.#deps.storage.deleteEntry(entry.id);
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTimer();
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      const force = this.#force;
      this.#force = false;
      await this.#deps.lock(() => this.#pass(force));
    } while (this.#again && !this.#stopped);
    await this.#schedule();
  }

  async #pass(force: boolean): Promise<void> {
    if (this.#stopped || !this.#deps.online()) {
      return;
    }
    const entries = (await this.#deps.storage.listEntries()).sort((a, b) => a.createdAt - b.createdAt);
    for (const listed of entries) {
      // Another tab may have sent or discarded it since the list was read.
      const entry = await this.#deps.storage.getEntry(listed.id);
      if (this.#stopped || entry === undefined || !isDue(entry, this.#deps.now(), force)) {
        continue;
      }
      const outcome = await this.#attempt(entry);
      if (outcome.kind === 'offline' || outcome.kind === 'signedOut') {
        // The next ones would fail the same way.
        return;
      }
    }
  }

  async #attempt(entry: OutboxEntry): Promise<SendOutcome> {
    const sending: OutboxEntry = { ...entry, status: 'sending', attempts: entry.attempts + 1, nextAttemptAt: null, updatedAt: this.#deps.now() };
    await this.#deps.storage.putEntry(sending);
    this.#deps.changed();
    const outcome = await this.#deps.send(sending.input);
    await this.#deps.storage.putEntry(applyOutcome(sending, outcome, this.#deps.now()));
    this.#deps.changed();
    return outcome;
  }

  /** Wakes up for the earliest back-off that is still ahead. */
  async #schedule(): Promise<void> {
    this.#cancelTimer();
    if (this.#stopped) {
      return;
    }
    const waiting = (await this.#deps.storage.listEntries())
      .filter((e) => (e.status === 'queued' || e.status === 'sending') && e.nextAttemptAt !== null)
      .map((e) => e.nextAttemptAt as number);
    if (waiting.length === 0) {
      return;
    }
    const delay = Math.max(0, Math.min(...waiting) - this.#deps.now());
    this.#cancelTimer = this.#deps.timer(() => void this.kick(), delay);
  }
}

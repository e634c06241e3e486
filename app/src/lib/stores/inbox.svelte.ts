/**
 * @module app/lib/stores/inbox
 * The Inbox over the person's local document: the list is filtered on the
 * device (view, status, lane, label, search), so it is instant and works
 * offline. The server is asked only for what the document does not hold:
 * one thread's messages, "why can I see this?", search and pages of history
 * older than the working set (`./inbox-history`).
 */
import { createContext } from 'svelte';
import { api, ApiError } from '$lib/api';
import { readingCache, unreachable } from '$lib/reading/app-reading';
import type { ThreadCache } from '$lib/reading/thread-cache';
import type { SyncStore } from '$lib/sync/sync.svelte';
import { ERROR_CODES } from '$sync/api';
import type { ThreadView as DocThread } from '$sync/client/read';
import type { MessageDto, ThreadDto, ThreadLane, VisibilityExplanationDto } from '$sync/mail-api';
import {
  countViews,
  DEFAULT_FILTER,
  filterThreads,
  labelsIn,
  peopleViews,
  SearchIndex,
  type InboxView,
  type StatusTab,
  type ViewCount,
} from './inbox-filter';
import { InboxHistory } from './inbox-history.svelte';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

const MINUTE_MS = 60_000;

function messageOf(error: unknown, fallback: string): string {
  return error instanceof Error && error.message ? error.message : fallback;
}

export class Inbox {
  readonly history: InboxHistory;

  view = $state<InboxView>(DEFAULT_FILTER.view);
  /** The mailbox owner of the `person` view. */
  person = $state<string | null>(null);
  status = $state<StatusTab>(DEFAULT_FILTER.status);
  lane = $state<ThreadLane>(DEFAULT_FILTER.lane);
  label = $state<string | null>(null);
  /** The search the list shows (already debounced by the caller). */
  query = $state('');
  /** The row the keyboard is on, and the thread to return focus to after reading. */
  activeId = $state<string | null>(null);
  /** Minutes tick, so snoozed threads come back without a reload. */
  now = $state(Date.now());

  /** How many mailboxes the viewer connected; null until known (the server is asked once). */
  mailboxCount = $state<number | null>(null);

  thread = $state<ThreadDto | null>(null);
  threadStatus = $state<LoadStatus>('idle');
  threadError = $state<string | null>(null);
  /** The open thread does not exist or holds nothing the viewer may see. */
  threadMissing = $state(false);
  /** When the shown thread is this device's saved copy (the server was out of reach): the time of that copy. */
  threadSavedAt = $state<number | null>(null);

  /** A new index only when names can have changed; typing a search reuses its cached texts. */
  readonly index = $derived.by(() => new SearchIndex({ people: this.sync.people, records: this.sync.records }));
  readonly byId = $derived.by((): ReadonlyMap<string, DocThread> => {
    // Rebuilt after every change of any thread: a plain loop, without a pair array per thread.
    const map = new Map<string, DocThread>();
    for (const t of this.sync.threads) {
      map.set(t.id, t);
    }
    return map;
  });
  readonly threads = $derived.by((): DocThread[] =>
    filterThreads(
      this.sync.threads,
      { view: this.view, person: this.person, status: this.status, lane: this.lane, label: this.label, query: this.query },
      { me: this.viewerId, now: this.now, index: this.index },
    ),
  );
  readonly counts = $derived.by((): Map<string, ViewCount> => countViews(this.sync.threads, this.viewerId, this.now));
  readonly labels = $derived.by((): string[] => labelsIn(this.sync.threads));
  readonly people = $derived.by((): string[] => peopleViews(this.sync.threads, this.sync.people, this.viewerId));
  readonly filtered = $derived(this.lane !== 'all' || this.query.trim() !== '' || this.label !== null);
  readonly personName = $derived.by(() => (this.person === null ? null : (this.sync.people.get(this.person)?.name ?? null)));
  readonly ready = $derived.by(() => this.sync.ready);

  #threadRequest = 0;
  #explanations = new Map<string, Promise<VisibilityExplanationDto>>();

  constructor(
    readonly viewerId: string,
    readonly sync: SyncStore,
  ) {
    this.history = new InboxHistory(() => ({ lane: this.lane, known: (id) => this.docThread(id) !== undefined }));
  }

  /** Starts the minute clock; @returns a function that stops it. */
  tick(): () => void {
    const timer = setInterval(() => (this.now = Date.now()), MINUTE_MS);
    return () => clearInterval(timer);
  }

  /** Whether the viewer has a mailbox, for the empty list's advice. Errors propagate (offline: unknown). */
  async loadMailboxCount(): Promise<void> {
    this.mailboxCount = (await api.listMailAccounts()).accounts.length;
  }

  count(key: string): ViewCount {
    return this.counts.get(key) ?? { active: 0, unread: 0 };
  }

  /** The thread as the document holds it (summary and fields), if it is in the working set. */
  docThread(id: string): DocThread | undefined {
    return this.byId.get(id);
  }

  show(view: InboxView, person: string | null = null): void {
    this.view = view;
    this.person = view === 'person' ? person : null;
    this.activeId = null;
    this.history.reset();
  }

  setStatus(status: StatusTab): void {
    this.status = status;
    this.activeId = null;
  }

  setLane(lane: ThreadLane): void {
    this.lane = lane;
    this.activeId = null;
    this.history.reset();
  }

  setLabel(label: string | null): void {
    this.label = label;
    this.activeId = null;
  }

  search(query: string): void {
    this.query = query;
    this.activeId = null;
  }

  /** The thread before (-1) or after (+1) `id` in the list, for j/k while reading. */
  neighbour(id: string, step: 1 | -1): DocThread | null {
    const index = this.threads.findIndex((t) => t.id === id);
    return index < 0 ? null : (this.threads[index + step] ?? null);
  }

  /** Loads one thread's messages from the server. A 404 sets `threadMissing` instead of failing. */
  async openThread(id: string): Promise<void> {
    const request = ++this.#threadRequest;
    this.activeId = id;
    this.threadStatus = 'loading';
    this.threadError = null;
    this.threadMissing = false;
    if (this.thread?.id !== id) {
      this.thread = null;
    }
    const cache = readingCache(this.viewerId);
    try {
      const thread = await api.getThread(id);
      if (request !== this.#threadRequest) {
        return;
      }
      this.thread = thread;
      this.threadSavedAt = null;
      this.threadStatus = 'ready';
      void cache.then((c) => c.put(thread, Date.now())).catch(() => undefined);
    } catch (error) {
      if (request !== this.#threadRequest) {
        return;
      }
      if (await this.#openSaved(id, error, cache, request)) {
        return;
      }
      this.threadStatus = 'error';
      this.threadMissing = error instanceof ApiError && error.code === ERROR_CODES.notFound;
      if (this.threadMissing) {
        void cache.then((c) => c.remove(id)).catch(() => undefined);
      }
      this.threadError = messageOf(error, 'Could not load this conversation.');
      if (!this.threadMissing) {
        throw error;
      }
    }
  }

  /** With the server out of reach, shows the copy saved when the thread was last opened. @returns whether it did. */
  async #openSaved(id: string, error: unknown, cache: Promise<ThreadCache>, request: number): Promise<boolean> {
    if (!(error instanceof ApiError) || !unreachable(error.status)) {
      return false;
    }
    const saved = await cache.then((c) => c.get(id)).catch(() => undefined);
    if (!saved || request !== this.#threadRequest) {
      return false;
    }
    this.thread = saved.thread;
    this.threadSavedAt = saved.savedAt;
    this.threadStatus = 'ready';
    return true;
  }

  /** "Why can I see this?" for one message, asked once per message per visit. */
  explain(messageId: string): Promise<VisibilityExplanationDto> {
    let pending = this.#explanations.get(messageId);
    if (!pending) {
      pending = api.explainVisibility(messageId);
      // A failed answer is not kept, so opening the disclosure again retries.
      pending.catch(() => this.#explanations.delete(messageId));
      this.#explanations.set(messageId, pending);
    }
    return pending;
  }

  /** Whether a message is in one of the viewer's own mailboxes (only those have a read state to change). */
  isOwn(message: MessageDto): boolean {
    return message.mailboxOwner.id === this.viewerId;
  }

  /**
   * Opening a thread reads it: the document's read flag at once (offline
   * too), then the viewer's own unread messages on the mail server.
   * @throws the first failure of the server part, after applying every success.
   */
  async markThreadRead(): Promise<void> {
    const thread = this.thread;
    if (!thread) {
      return;
    }
    if (this.docThread(thread.id)) {
      this.sync.setField(thread.id, 'read', true);
    }
    const unread = thread.messages.filter((m) => this.isOwn(m) && !m.seen);
    if (unread.length === 0) {
      return;
    }
    const results = await Promise.allSettled(unread.map((m) => api.markMessageSeen(m.id, true)));
    const marked = new Set(unread.filter((_, i) => results[i]?.status === 'fulfilled').map((m) => m.id));
    if (marked.size > 0 && this.thread?.id === thread.id) {
      this.thread = { ...this.thread, messages: this.thread.messages.map((m) => (marked.has(m.id) ? { ...m, seen: true } : m)) };
    }
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) {
      throw failure.reason;
    }
  }
}

const [getInbox, setInbox] = createContext<Inbox>();

/** The Inbox of the current inbox layout. */
export const useInbox = getInbox;
/** Makes an Inbox available to the inbox pages below the caller. */
export const provideInbox = setInbox;

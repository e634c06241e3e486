/**
 * @module app/lib/stores/inbox
 * Everything the Inbox reads and changes: the thread list (view, lane,
 * search, pages), the counts per mailbox owner, one open thread, "why can I
 * see this?" and read state. It is the only inbox module that talks to the
 * server, so the later local Yjs document can replace it behind the same
 * shape. Only the latest request's answer is applied, so fast typing or
 * clicking never shows an older list last.
 */
import { createContext } from 'svelte';
import { api, ApiError } from '$lib/api';
import { ERROR_CODES } from '$sync/api';
import type {
  MailCountsDto,
  MessageDto,
  PersonRefDto,
  ThreadDto,
  ThreadLane,
  ThreadSummaryDto,
  ThreadView,
  VisibilityExplanationDto,
} from '$sync/mail-api';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

const PAGE_SIZE = 50;

export interface OwnerEntry {
  owner: PersonRefDto;
  total: number;
  unread: number;
}

function messageOf(error: unknown, fallback: string): string {
  return error instanceof Error && error.message ? error.message : fallback;
}

export class Inbox {
  readonly viewerId: string;

  view = $state<ThreadView>('team');
  /** The mailbox owner of the `person` view. */
  owner = $state<string | null>(null);
  lane = $state<ThreadLane>('all');
  /** The search the list shows (already debounced by the caller). */
  query = $state('');

  threads = $state<ThreadSummaryDto[]>([]);
  nextCursor = $state<string | null>(null);
  status = $state<LoadStatus>('idle');
  loadError = $state<string | null>(null);
  loadingMore = $state(false);
  /** The row the keyboard is on, and the thread to return focus to after reading. */
  activeId = $state<string | null>(null);

  counts = $state<MailCountsDto | null>(null);
  /** How many mailboxes the viewer connected; null until known. */
  mailboxCount = $state<number | null>(null);

  thread = $state<ThreadDto | null>(null);
  threadStatus = $state<LoadStatus>('idle');
  threadError = $state<string | null>(null);
  /** The open thread does not exist or holds nothing the viewer may see. */
  threadMissing = $state(false);

  /** Everyone else whose mail the viewer may see, by name. */
  readonly others = $derived<OwnerEntry[]>(this.counts?.byOwner.filter((o) => o.owner.id !== this.viewerId) ?? []);
  readonly mine = $derived<OwnerEntry | null>(this.counts?.byOwner.find((o) => o.owner.id === this.viewerId) ?? null);
  readonly filtered = $derived(this.lane !== 'all' || this.query.trim() !== '');
  readonly ownerName = $derived(this.others.find((o) => o.owner.id === this.owner)?.owner.name ?? null);

  #listRequest = 0;
  #threadRequest = 0;
  #explanations = new Map<string, Promise<VisibilityExplanationDto>>();

  constructor(viewerId: string) {
    this.viewerId = viewerId;
  }

  #params(cursor?: string) {
    return {
      view: this.view,
      owner: this.view === 'person' ? (this.owner ?? undefined) : undefined,
      lane: this.lane,
      q: this.query.trim() || undefined,
      cursor,
      limit: PAGE_SIZE,
    };
  }

  /** Counts per mailbox owner and whether the viewer has a mailbox. Errors propagate. */
  async loadOverview(): Promise<void> {
    const [counts, accounts] = await Promise.all([api.mailCounts(), api.listMailAccounts()]);
    this.counts = counts;
    this.mailboxCount = accounts.accounts.length;
  }

  /** The first page for the current view, lane and search. Errors are recorded in `loadError`, then propagate. */
  async load(): Promise<void> {
    const request = ++this.#listRequest;
    this.status = 'loading';
    this.loadError = null;
    try {
      const page = await api.listThreads(this.#params());
      if (request !== this.#listRequest) {
        return;
      }
      this.threads = page.threads;
      this.nextCursor = page.nextCursor;
      this.status = 'ready';
      if (!this.threads.some((t) => t.id === this.activeId)) {
        this.activeId = this.threads[0]?.id ?? null;
      }
    } catch (error) {
      if (request !== this.#listRequest) {
        return;
      }
      this.status = 'error';
      this.loadError = messageOf(error, 'Could not load your conversations.');
      throw error;
    }
  }

  /** Appends the next page. */
  async loadMore(): Promise<void> {
    const cursor = this.nextCursor;
    if (!cursor || this.loadingMore) {
      return;
    }
    const request = this.#listRequest;
    this.loadingMore = true;
    try {
      const page = await api.listThreads(this.#params(cursor));
      if (request !== this.#listRequest) {
        return;
      }
      const known = new Set(this.threads.map((t) => t.id));
      this.threads = [...this.threads, ...page.threads.filter((t) => !known.has(t.id))];
      this.nextCursor = page.nextCursor;
    } finally {
      this.loadingMore = false;
    }
  }

  /** Switches to Team, Mine or one person's mail, keeping the lane and search. */
  show(view: ThreadView, owner: string | null = null): Promise<void> {
    this.view = view;
    this.owner = view === 'person' ? owner : null;
    this.activeId = null;
    return this.load();
  }

  setLane(lane: ThreadLane): Promise<void> {
    this.lane = lane;
    this.activeId = null;
    return this.load();
  }

  search(query: string): Promise<void> {
    this.query = query;
    this.activeId = null;
    return this.load();
  }

  /** The thread before (-1) or after (+1) `id` in the list, for j/k while reading. */
  neighbour(id: string, step: 1 | -1): ThreadSummaryDto | null {
    const index = this.threads.findIndex((t) => t.id === id);
    return index < 0 ? null : (this.threads[index + step] ?? null);
  }

  /** Loads one thread. A 404 sets `threadMissing` instead of failing. */
  async openThread(id: string): Promise<void> {
    const request = ++this.#threadRequest;
    this.activeId = id;
    this.threadStatus = 'loading';
    this.threadError = null;
    this.threadMissing = false;
    if (this.thread?.id !== id) {
      this.thread = null;
    }
    try {
      const thread = await api.getThread(id);
      if (request !== this.#threadRequest) {
        return;
      }
      this.thread = thread;
      this.threadStatus = 'ready';
    } catch (error) {
      if (request !== this.#threadRequest) {
        return;
      }
      this.threadStatus = 'error';
      this.threadMissing = error instanceof ApiError && error.code === ERROR_CODES.notFound;
      this.threadError = messageOf(error, 'Could not load this conversation.');
      if (!this.threadMissing) {
        throw error;
      }
    }
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
   * Marks the open thread's unread messages of the viewer's own mailboxes
   * read (on the mail server first, then here), and updates the list and
   * counts to match. Messages the server could not mark stay unread.
   * @throws the first failure, after applying every success.
   */
  async markThreadRead(): Promise<void> {
    const thread = this.thread;
    const unread = thread?.messages.filter((m) => this.isOwn(m) && !m.seen) ?? [];
    if (!thread || unread.length === 0) {
      return;
    }
    const results = await Promise.allSettled(unread.map((m) => api.markMessageSeen(m.id, true)));
    const marked = new Set(unread.filter((_, i) => results[i]?.status === 'fulfilled').map((m) => m.id));
    if (marked.size > 0) {
      this.#applyRead(thread.id, marked);
    }
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) {
      throw failure.reason;
    }
  }

  #applyRead(threadId: string, marked: ReadonlySet<string>): void {
    if (this.thread?.id === threadId) {
      this.thread = { ...this.thread, messages: this.thread.messages.map((m) => (marked.has(m.id) ? { ...m, seen: true } : m)) };
    }
    this.threads = this.threads.map((t) => (t.id === threadId ? { ...t, unreadCount: Math.max(0, t.unreadCount - marked.size) } : t));
    const counts = this.counts;
    if (counts) {
      this.counts = {
        ...counts,
        unread: Math.max(0, counts.unread - marked.size),
        byOwner: counts.byOwner.map((o) => (o.owner.id === this.viewerId ? { ...o, unread: Math.max(0, o.unread - marked.size) } : o)),
      };
    }
  }
}

const [getInbox, setInbox] = createContext<Inbox>();

/** The Inbox of the current inbox layout. */
export const useInbox = getInbox;
/** Makes an Inbox available to the inbox pages below the caller. */
export const provideInbox = setInbox;

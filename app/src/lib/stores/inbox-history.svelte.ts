/**
 * @module app/lib/stores/inbox-history
 * What the local document does not hold, asked of the server on request:
 * conversations older than the working set (the REST thread list, paged,
 * minus the threads the document already has) and a search of all the mail
 * the person may see. Only the latest request's answer is applied.
 */
import { api } from '$lib/api';
import type { MessageSummaryDto, ThreadLane, ThreadSummaryDto } from '$sync/mail-api';

/** Pages of 200 are skimmed per click at most, so a click never walks the whole history. */
const PAGE_SIZE = 200;
const MAX_PAGES_PER_LOAD = 5;

export interface HistoryScope {
  lane: ThreadLane;
  /** Whether the local document holds a thread (then it is listed above already). */
  known: (threadId: string) => boolean;
}

export class InboxHistory {
  /** Older threads, newest first. */
  threads = $state<ThreadSummaryDto[]>([]);
  /** Where the next page starts; null before the first load and at the end. */
  cursor = $state<string | null>(null);
  /** The server has no more pages. */
  done = $state(false);
  loading = $state(false);

  /** The server search's results for `searchedFor`. */
  results = $state<MessageSummaryDto[] | null>(null);
  searchedFor = $state('');
  searching = $state(false);

  readonly #scope: () => HistoryScope;
  #pageRequest = 0;
  #searchRequest = 0;

  constructor(scope: () => HistoryScope) {
    this.#scope = scope;
  }

  /** The list's view or lane changed: older pages start again from the top. */
  reset(): void {
    this.#pageRequest++;
    this.threads = [];
    this.cursor = null;
    this.done = false;
    this.loading = false;
  }

  /** Loads older threads until some are new to the list, a few pages at most. Errors propagate. */
  async loadOlder(): Promise<void> {
    if (this.loading || this.done) {
      return;
    }
    const request = ++this.#pageRequest;
    const scope = this.#scope();
    this.loading = true;
    try {
      const seen = new Set(this.threads.map((t) => t.id));
      const found: ThreadSummaryDto[] = [];
      let cursor = this.cursor;
      for (let page = 0; page < MAX_PAGES_PER_LOAD && found.length === 0; page++) {
        const result = await api.listThreads({ view: 'team', lane: scope.lane, cursor: cursor ?? undefined, limit: PAGE_SIZE });
        if (request !== this.#pageRequest) {
          return;
        }
        found.push(...result.threads.filter((t) => !scope.known(t.id) && !seen.has(t.id)));
        cursor = result.nextCursor;
        if (cursor === null) {
          this.done = true;
          break;
        }
      }
      this.threads = [...this.threads, ...found];
      this.cursor = cursor;
    } finally {
      if (request === this.#pageRequest) {
        this.loading = false;
      }
    }
  }

  /** Searches all the mail the person may see on the server (older than the document, too). Errors propagate. */
  async searchServer(query: string): Promise<void> {
    const q = query.trim();
    if (q === '') {
      this.results = null;
      return;
    }
    const request = ++this.#searchRequest;
    this.searching = true;
    try {
      const page = await api.searchMail({ q, limit: 50 });
      if (request === this.#searchRequest) {
        this.results = page.messages;
        this.searchedFor = q;
      }
    } finally {
      if (request === this.#searchRequest) {
        this.searching = false;
      }
    }
  }

  clearSearch(): void {
    this.results = null;
    this.searchedFor = '';
  }
}

/**
 * @module app/lib/stores/records
 * The state of one records list: its filters, sort and pages. Only the
 * latest request's answer is applied, so typing fast in the search box never
 * shows an older result last.
 */
import { api } from '$lib/api';
import type { RecordSort, RecordSummaryDto, SortDirection } from '$sync/records-api';
import { DEAL_STAGES, type RecordType } from '$sync/sharing';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

const PAGE_SIZE = 50;

/** Newest first makes sense for dates; everything else reads best A→Z. */
function defaultDirection(sort: RecordSort): SortDirection {
  return sort === 'created' || sort === 'updated' ? 'desc' : 'asc';
}

export class RecordList {
  readonly type: RecordType;
  records = $state<RecordSummaryDto[]>([]);
  total = $state(0);
  nextCursor = $state<string | null>(null);
  status = $state<LoadStatus>('idle');
  loadError = $state<string | null>(null);
  loadingMore = $state(false);

  sort = $state<RecordSort>('name');
  dir = $state<SortDirection>('asc');
  q = $state('');
  owner = $state('');
  country = $state('');
  stage = $state('');

  readonly filtered = $derived(this.q.trim() !== '' || this.owner !== '' || this.country !== '' || this.stage !== '');

  #request = 0;

  constructor(type: RecordType) {
    this.type = type;
  }

  #params(cursor?: string) {
    return {
      type: this.type,
      sort: this.sort,
      dir: this.dir,
      q: this.q.trim() || undefined,
      owner: this.owner || undefined,
      country: this.country || undefined,
      stage: DEAL_STAGES.find((s) => s === this.stage),
      cursor,
      limit: PAGE_SIZE,
    };
  }

  /** Loads the first page for the current filters. Errors propagate after being recorded in `loadError`. */
  async load(): Promise<void> {
    const request = ++this.#request;
    this.status = this.status === 'ready' ? 'ready' : 'loading';
    this.loadError = null;
    try {
      const page = await api.listRecords(this.#params());
      if (request !== this.#request) {
        return;
      }
      this.records = page.records;
      this.total = page.total;
      this.nextCursor = page.nextCursor;
      this.status = 'ready';
    } catch (error) {
      if (request !== this.#request) {
        return;
      }
      this.status = 'error';
      this.loadError = error instanceof Error && error.message ? error.message : 'Could not load records.';
      throw error;
    }
  }

  async loadMore(): Promise<void> {
    if (!this.nextCursor || this.loadingMore) {
      return;
    }
    const request = this.#request;
    this.loadingMore = true;
    try {
      const page = await api.listRecords(this.#params(this.nextCursor));
      if (request === this.#request) {
        this.records = [...this.records, ...page.records];
        this.total = page.total;
        this.nextCursor = page.nextCursor;
      }
    } finally {
      this.loadingMore = false;
    }
  }

  /** Sorts by a column; the same column again flips the direction. */
  sortBy(sort: RecordSort): Promise<void> {
    if (this.sort === sort) {
      this.dir = this.dir === 'asc' ? 'desc' : 'asc';
    } else {
      this.sort = sort;
      this.dir = defaultDirection(sort);
    }
    return this.load();
  }

  clearFilters(): Promise<void> {
    this.q = '';
    this.owner = '';
    this.country = '';
    this.stage = '';
    return this.load();
  }
}

/**
 * @module app/lib/stores/inbox-filter
 * Which threads of the person's document a list shows: the view (whose
 * responsibility), the status tab, the CRM lane, a label and a search. Pure
 * and synchronous, so a 5,000-thread document filters on every keystroke
 * and works offline; the inbox store only holds the choices.
 */
import { tryParseStamp } from '$sync/hlc';
import type { ThreadView } from '$sync/client/read';
import type { PersonDoc, RecordDoc } from '$sync/doc/schema';
import type { ThreadLane } from '$sync/mail-api';

export const INBOX_VIEWS = {
  mine: 'mine',
  unassigned: 'unassigned',
  team: 'team',
  teammates: 'teammates',
  person: 'person',
} as const;
export type InboxView = (typeof INBOX_VIEWS)[keyof typeof INBOX_VIEWS];

export const STATUS_TABS = ['open', 'pending', 'done', 'snoozed'] as const;
export type StatusTab = (typeof STATUS_TABS)[number];

export interface InboxFilter {
  view: InboxView;
  /** The mailbox owner of the `person` view. */
  person: string | null;
  status: StatusTab;
  lane: ThreadLane;
  label: string | null;
  query: string;
}

export const DEFAULT_FILTER: InboxFilter = { view: 'team', person: null, status: 'open', lane: 'all', label: null, query: '' };

export function isSnoozed(thread: ThreadView, now: number): boolean {
  const until = thread.fields.snoozeUntil;
  return until !== null && Date.parse(until) > now;
}

/**
 * Whether the person has something unread here: their own read/unread choice
 * wins until newer mail arrives after it; without one, unread mail decides.
 */
export function isUnread(thread: ThreadView): boolean {
  if (thread.readHlc === null) {
    return thread.unreadCount > 0;
  }
  if (!thread.fields.read) {
    return true;
  }
  const markedAt = tryParseStamp(thread.readHlc)?.wallMs ?? 0;
  return thread.unreadCount > 0 && Date.parse(thread.lastMessageAt) > markedAt;
}

export function matchesView(thread: ThreadView, view: InboxView, person: string | null, me: string): boolean {
  const assignee = thread.fields.assignee;
  switch (view) {
    case 'mine':
      // Assigned to me, or my own mail nobody took.
      return assignee === me || (assignee === null && thread.mailboxOwnerIds.includes(me));
    case 'unassigned':
      return assignee === null;
    case 'team':
      return true;
    case 'teammates':
      return assignee !== null && assignee !== me;
    case 'person':
      return person !== null && thread.mailboxOwnerIds.includes(person);
  }
}

export function matchesStatus(thread: ThreadView, tab: StatusTab, now: number): boolean {
  const snoozed = isSnoozed(thread, now);
  return tab === 'snoozed' ? snoozed : !snoozed && thread.fields.status === tab;
}

export function matchesLane(thread: ThreadView, lane: ThreadLane): boolean {
  return lane === 'all' || thread.lane === lane;
}

export function matchesLabel(thread: ThreadView, label: string | null): boolean {
  return label === null || thread.fields.labels.includes(label);
}

/** Lower-case words of a search; every one must occur in a thread's text. */
export function searchTerms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter((t) => t !== '');
}

export interface Directory {
  people: ReadonlyMap<string, PersonDoc>;
  records: ReadonlyMap<string, RecordDoc>;
}

/** Everything a search may match in a thread: subject, preview, people, records, labels, assignee. */
export function threadText(thread: ThreadView, directory: Directory): string {
  const parts = [thread.subject, thread.snippet, thread.from?.name ?? '', thread.from?.address ?? ''];
  for (const p of thread.participants) {
    parts.push(p.name ?? '', p.address);
  }
  for (const id of thread.recordIds) {
    const record = directory.records.get(id);
    if (record) {
      parts.push(record.name, record.company);
    }
  }
  parts.push(...thread.fields.labels);
  const assignee = thread.fields.assignee === null ? undefined : directory.people.get(thread.fields.assignee);
  if (assignee) {
    parts.push(assignee.name);
  }
  return parts.join('\n').toLowerCase();
}

/**
 * Thread texts cached per thread object: the document watcher keeps an
 * untouched thread's object, so typing a search re-joins nothing.
 */
export class SearchIndex {
  readonly #cache = new WeakMap<ThreadView, string>();
  readonly #directory: Directory;

  /** @param directory names for the texts; when people or records change, make a new index. */
  constructor(directory: Directory) {
    this.#directory = directory;
  }

  text(thread: ThreadView): string {
    let text = this.#cache.get(thread);
    if (text === undefined) {
      text = threadText(thread, this.#directory);
      this.#cache.set(thread, text);
    }
    return text;
  }

  matches(thread: ThreadView, terms: readonly string[]): boolean {
    if (terms.length === 0) {
      return true;
    }
    const text = this.text(thread);
    return terms.every((t) => text.includes(t));
  }
}

/** The threads a list shows, in the document's order (newest activity first). */
export function filterThreads(
  threads: readonly ThreadView[],
  filter: InboxFilter,
  context: { me: string; now: number; index: SearchIndex },
): ThreadView[] {
  const terms = searchTerms(filter.query);
  return threads.filter(
    (t) =>
      matchesView(t, filter.view, filter.person, context.me) &&
      matchesStatus(t, filter.status, context.now) &&
      matchesLane(t, filter.lane) &&
      matchesLabel(t, filter.label) &&
      context.index.matches(t, terms),
  );
}

export interface ViewCount {
  /** Threads still to handle: open or pending, not snoozed. */
  active: number;
  unread: number;
}

const COUNTED_VIEWS = [INBOX_VIEWS.mine, INBOX_VIEWS.unassigned, INBOX_VIEWS.team, INBOX_VIEWS.teammates] as const;

/** Per view (and `person:<id>` per mailbox owner), how many threads wait and how many are unread. */
export function countViews(threads: readonly ThreadView[], me: string, now: number): Map<string, ViewCount> {
  // Counters are mutated in place: this runs over every thread after every change, so it allocates per key, not per thread.
  const counts = new Map<string, ViewCount>();
  const add = (key: string, unread: boolean): void => {
    let count = counts.get(key);
    if (count === undefined) {
      count = { active: 0, unread: 0 };
      counts.set(key, count);
    }
    count.active++;
    count.unread += unread ? 1 : 0;
  };
  for (const t of threads) {
    if (t.fields.status === 'done' || isSnoozed(t, now)) {
      continue;
    }
    const unread = isUnread(t);
    for (const view of COUNTED_VIEWS) {
      if (matchesView(t, view, null, me)) {
        add(view, unread);
      }
    }
    for (const owner of t.mailboxOwnerIds) {
      add(`person:${owner}`, unread);
    }
  }
  return counts;
}

/** Every label on some thread, sorted, for the label filter and the label picker. */
export function labelsIn(threads: readonly ThreadView[]): string[] {
  const labels = new Set<string>();
  for (const t of threads) {
    t.fields.labels.forEach((l) => labels.add(l));
  }
  return [...labels].sort((a, b) => a.localeCompare(b));
}

/** Everyone below `me` in the reporting line (direct and indirect), by name. */
export function subordinatesOf(people: ReadonlyMap<string, PersonDoc>, me: string): string[] {
  const below = new Set<string>();
  let frontier = [me];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const [id, person] of people) {
      if (person.managerId !== null && frontier.includes(person.managerId) && !below.has(id) && id !== me) {
        below.add(id);
        next.push(id);
      }
    }
    frontier = next;
  }
  return [...below].sort((a, b) => (people.get(a)?.name ?? '').localeCompare(people.get(b)?.name ?? ''));
}

/**
 * The people with a view of their own in the nav: for a manager everyone
 * below them, plus any other mailbox owner whose mail is in the document
 * (shared with the person).
 */
export function peopleViews(threads: readonly ThreadView[], people: ReadonlyMap<string, PersonDoc>, me: string): string[] {
  const ids = new Set(subordinatesOf(people, me));
  for (const t of threads) {
    t.mailboxOwnerIds.forEach((id) => id !== me && ids.add(id));
  }
  return [...ids].sort((a, b) => (people.get(a)?.name ?? '').localeCompare(people.get(b)?.name ?? ''));
}

/** Snooze presets, computed from `now` in the browser's time zone. */
export function snoozePresets(now: Date): { id: string; label: string; until: Date }[] {
  const at = (days: number, hour: number): Date => new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, hour, 0, 0, 0);
  const laterToday = new Date(now.getTime() + 3 * 3_600_000);
  const daysToMonday = ((8 - now.getDay()) % 7) || 7;
  const presets = [
    { id: 'later', label: 'Later today', until: laterToday },
    { id: 'tomorrow', label: 'Tomorrow', until: at(1, 8) },
    { id: 'next-week', label: 'Next week', until: at(daysToMonday, 8) },
  ];
  // Late in the evening "later today" would be tomorrow already.
  return laterToday.getDate() === now.getDate() ? presets : presets.slice(1);
}

/** An ISO time the document accepts (whole milliseconds, Z). */
export function snoozeValue(until: Date): string {
  return until.toISOString();
}

/**
 * The inbox's list logic over the local document, without a browser:
 * views (Mine, Unassigned, Team, Assigned to teammates, a person), status
 * tabs with snooze, lanes, labels, the local search, counts, subordinates,
 * unread, the snooze presets, the command palette's matching and the
 * virtual list's windowing.
 */
import { describe, expect, it } from 'vitest';
import type { ThreadView } from '../../sync/client/read';
import { FIELD_DEFAULTS, type FieldValues, type PersonDoc, type RecordDoc } from '../../sync/doc/schema';
import { formatStamp } from '../../sync/hlc';
import {
  countViews,
  DEFAULT_FILTER,
  filterThreads,
  isUnread,
  labelsIn,
  matchesStatus,
  matchesView,
  peopleViews,
  SearchIndex,
  searchTerms,
  snoozePresets,
  subordinatesOf,
  type InboxFilter,
} from '../../app/src/lib/stores/inbox-filter';
import { matchCommands, type Command } from '../../app/src/lib/stores/command-match';
import { scrollToShow, visibleRange } from '../../app/src/lib/components/inbox/virtual-window';

const ME = '00000000-0000-4000-8000-000000000001';
const RITA = '00000000-0000-4000-8000-000000000002';
const BOB = '00000000-0000-4000-8000-000000000003';
const CLEO = '00000000-0000-4000-8000-000000000004';
const NOW = Date.parse('2026-03-04T12:00:00.000Z');

function thread(id: string, patch: Partial<Omit<ThreadView, 'fields'>> = {}, fields: Partial<FieldValues> = {}): ThreadView {
  return {
    id,
    subject: `Subject ${id}`,
    snippet: '',
    lastMessageAt: '2026-03-03T10:00:00.000Z',
    messageCount: 1,
    unreadCount: 0,
    from: { address: `${id}@client.test`, name: null },
    participants: [],
    mailboxOwnerIds: [ME],
    recordIds: [],
    lane: 'not_in_crm',
    readHlc: null,
    ...patch,
    fields: { ...FIELD_DEFAULTS, ...fields },
  };
}

const person = (name: string, managerId: string | null, role: PersonDoc['role'] = 'rep'): PersonDoc => ({ ref: 1, name, email: `${name.toLowerCase()}@acme.test`, role, managerId, active: true });
const PEOPLE = new Map<string, PersonDoc>([
  [ME, person('Mia Manager', null, 'manager')],
  [RITA, person('Rita Rep', ME)],
  [BOB, person('Bob Rep', RITA)],
  [CLEO, person('Cleo Other', null)],
]);
const RECORDS = new Map<string, RecordDoc>([['r1', { ref: 1, type: 'deal', name: 'Globex 40 seats', company: 'Globex', ownerId: RITA, primaryEmail: null }]]);
const index = () => new SearchIndex({ people: PEOPLE, records: RECORDS });
const run = (threads: ThreadView[], filter: Partial<InboxFilter>) =>
  filterThreads(threads, { ...DEFAULT_FILTER, ...filter }, { me: ME, now: NOW, index: index() }).map((t) => t.id);

describe('views', () => {
  const mine = thread('a', {}, { assignee: ME });
  const ownFree = thread('b');
  const ritasFree = thread('c', { mailboxOwnerIds: [RITA] });
  const taken = thread('d', {}, { assignee: RITA });

  it('Mine holds what is assigned to me and my own mail nobody took', () => {
    expect([mine, ownFree, ritasFree, taken].filter((t) => matchesView(t, 'mine', null, ME)).map((t) => t.id)).toEqual(['a', 'b']);
  });

  it('Unassigned, Team and Assigned to teammates', () => {
    const all = [mine, ownFree, ritasFree, taken];
    expect(all.filter((t) => matchesView(t, 'unassigned', null, ME)).map((t) => t.id)).toEqual(['b', 'c']);
    expect(all.filter((t) => matchesView(t, 'team', null, ME))).toHaveLength(4);
    expect(all.filter((t) => matchesView(t, 'teammates', null, ME)).map((t) => t.id)).toEqual(['d']);
  });

  it('a person view holds the threads in that person’s mailbox', () => {
    expect(run([mine, ritasFree, taken], { view: 'person', person: RITA })).toEqual(['c']);
    expect(run([mine], { view: 'person', person: null })).toEqual([]);
  });
});

describe('status tabs and snooze', () => {
  it('a snoozed thread leaves its status tab until the time passes', () => {
    const later = thread('s', {}, { snoozeUntil: '2026-03-05T08:00:00.000Z' });
    const past = thread('p', {}, { snoozeUntil: '2026-03-01T08:00:00.000Z' });
    expect(matchesStatus(later, 'open', NOW)).toBe(false);
    expect(matchesStatus(later, 'snoozed', NOW)).toBe(true);
    expect(matchesStatus(past, 'open', NOW)).toBe(true);
    expect(matchesStatus(later, 'open', Date.parse('2026-03-05T09:00:00.000Z'))).toBe(true);
  });

  it('open, pending and done are separate tabs', () => {
    const list = [thread('o'), thread('p', {}, { status: 'pending' }), thread('d', {}, { status: 'done' })];
    expect(run(list, { status: 'open' })).toEqual(['o']);
    expect(run(list, { status: 'pending' })).toEqual(['p']);
    expect(run(list, { status: 'done' })).toEqual(['d']);
  });
});

describe('lanes, labels and search', () => {
  const deal = thread('deal', { lane: 'deals', recordIds: ['r1'], participants: [{ address: 'bob@globex.example', name: 'Bob Buyer' }] }, { labels: ['eu'], assignee: RITA });
  const colleague = thread('col', { lane: 'colleagues', subject: 'Weekly pipeline review', snippet: 'sheet updated' });

  it('filters by lane and label', () => {
    expect(run([deal, colleague], { lane: 'deals' })).toEqual(['deal']);
    expect(run([deal, colleague], { lane: 'colleagues' })).toEqual(['col']);
    expect(run([deal, colleague], { label: 'eu' })).toEqual(['deal']);
  });

  it('searches subject, preview, participants, record names, labels and assignee, every word, any case', () => {
    expect(run([deal, colleague], { query: 'PIPELINE' })).toEqual(['col']);
    expect(run([deal, colleague], { query: 'sheet' })).toEqual(['col']);
    expect(run([deal, colleague], { query: 'bob buyer' })).toEqual(['deal']);
    expect(run([deal, colleague], { query: 'globex seats' })).toEqual(['deal']);
    expect(run([deal, colleague], { query: 'eu rita' })).toEqual(['deal']);
    expect(run([deal, colleague], { query: 'pipeline globex' })).toEqual([]);
    expect(searchTerms('  a   B ')).toEqual(['a', 'b']);
  });

  it('the index reuses a thread’s text until the thread object changes', () => {
    const idx = index();
    const text = idx.text(deal);
    expect(idx.text(deal)).toBe(text);
    expect(idx.text({ ...deal, subject: 'Renewal' })).toContain('renewal');
  });

  it('labelsIn lists every label once, sorted', () => {
    expect(labelsIn([thread('x', {}, { labels: ['vip', 'eu'] }), thread('y', {}, { labels: ['eu'] })])).toEqual(['eu', 'vip']);
  });

  it('keeps 5,000 threads fast: one filter pass stays well under a frame budget', () => {
    const many = Array.from({ length: 5000 }, (_, i) => thread(`t${i}`, { subject: `Order ${i}`, lane: i % 2 ? 'deals' : 'not_in_crm' }, { assignee: i % 3 ? null : ME }));
    const idx = index();
    filterThreads(many, { ...DEFAULT_FILTER, query: 'order' }, { me: ME, now: NOW, index: idx });
    const started = performance.now();
    const hits = filterThreads(many, { ...DEFAULT_FILTER, view: 'mine', lane: 'deals', query: 'order 4' }, { me: ME, now: NOW, index: idx });
    const elapsed = performance.now() - started;
    console.log(`filter 5,000 threads: ${elapsed.toFixed(2)} ms`);
    expect(hits.length).toBeGreaterThan(0);
    // Loose on a shared CI box; it catches a quadratic pass, not a slow machine.
    expect(elapsed).toBeLessThan(250);
  });
});

describe('unread', () => {
  const stamp = (iso: string) => formatStamp({ wallMs: Date.parse(iso), counter: 0, node: 'abcdef0123456789' });

  it('follows the mail until the person says otherwise', () => {
    expect(isUnread(thread('u', { unreadCount: 2 }))).toBe(true);
    expect(isUnread(thread('r', { unreadCount: 0 }))).toBe(false);
  });

  it('marked read stays read until newer mail arrives; marked unread stays unread', () => {
    const read = thread('m', { unreadCount: 1, readHlc: stamp('2026-03-03T11:00:00.000Z') }, { read: true });
    expect(isUnread(read)).toBe(false);
    expect(isUnread({ ...read, lastMessageAt: '2026-03-03T12:00:00.000Z' })).toBe(true);
    expect(isUnread(thread('n', { unreadCount: 0, readHlc: stamp('2026-03-03T11:00:00.000Z') }, { read: false }))).toBe(true);
  });
});

describe('counts and people', () => {
  it('counts what waits per view and per mailbox owner, skipping done and snoozed', () => {
    const counts = countViews(
      [
        thread('a', { unreadCount: 1 }, { assignee: ME }),
        thread('b', { mailboxOwnerIds: [RITA] }),
        thread('c', {}, { status: 'done' }),
        thread('d', {}, { snoozeUntil: '2026-03-05T08:00:00.000Z' }),
      ],
      ME,
      NOW,
    );
    expect(counts.get('mine')).toEqual({ active: 1, unread: 1 });
    expect(counts.get('team')).toEqual({ active: 2, unread: 1 });
    expect(counts.get('unassigned')).toEqual({ active: 1, unread: 0 });
    expect(counts.get(`person:${RITA}`)).toEqual({ active: 1, unread: 0 });
    expect(counts.get('teammates')).toBeUndefined();
  });

  it('a manager’s subordinates include indirect reports; others appear when their mail is shared', () => {
    expect(subordinatesOf(PEOPLE, ME)).toEqual([BOB, RITA]);
    expect(subordinatesOf(PEOPLE, RITA)).toEqual([BOB]);
    expect(subordinatesOf(PEOPLE, CLEO)).toEqual([]);
    expect(peopleViews([thread('x', { mailboxOwnerIds: [CLEO, ME] })], PEOPLE, ME)).toEqual([BOB, CLEO, RITA]);
  });

  it('survives a reporting loop in the data', () => {
    const loop = new Map<string, PersonDoc>([
      [RITA, person('Rita', BOB)],
      [BOB, person('Bob', RITA)],
    ]);
    expect(subordinatesOf(loop, RITA)).toEqual([BOB]);
  });
});

describe('snooze presets', () => {
  it('offers later today, tomorrow 8:00 and next Monday 8:00', () => {
    const wednesdayMorning = new Date(2026, 2, 4, 9, 0);
    const presets = snoozePresets(wednesdayMorning);
    expect(presets.map((p) => p.id)).toEqual(['later', 'tomorrow', 'next-week']);
    expect(presets[1]?.until).toEqual(new Date(2026, 2, 5, 8, 0));
    expect(presets[2]?.until).toEqual(new Date(2026, 2, 9, 8, 0));
  });

  it('drops "later today" late in the evening, and next week from a Monday is a week on', () => {
    expect(snoozePresets(new Date(2026, 2, 4, 22, 30)).map((p) => p.id)).toEqual(['tomorrow', 'next-week']);
    expect(snoozePresets(new Date(2026, 2, 9, 9, 0))[2]?.until).toEqual(new Date(2026, 2, 16, 8, 0));
  });
});

describe('command palette matching', () => {
  const cmd = (label: string, group: string): Command => ({ id: label, label, group, run: () => {} });
  const list = [cmd('Go to Records', 'Navigation'), cmd('Mark done / reopen', 'Conversation'), cmd('Assign to me', 'Conversation')];

  it('matches every word over label and group, labels starting with the query first', () => {
    expect(matchCommands(list, 'conv').map((c) => c.label)).toEqual(['Mark done / reopen', 'Assign to me']);
    expect(matchCommands(list, 'assign').map((c) => c.label)).toEqual(['Assign to me']);
    expect(matchCommands(list, 'go rec').map((c) => c.label)).toEqual(['Go to Records']);
    expect(matchCommands(list, '')).toHaveLength(3);
  });
});

describe('virtual list window', () => {
  it('renders the rows in view plus the overscan, clamped', () => {
    expect(visibleRange(0, 800, 80, 5000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(80 * 1000, 800, 80, 5000, 5)).toEqual({ start: 995, end: 1015 });
    expect(visibleRange(80 * 4995, 800, 80, 5000, 5)).toEqual({ start: 4990, end: 5000 });
    expect(visibleRange(0, 800, 80, 0, 5)).toEqual({ start: 0, end: 0 });
  });

  it('scrolls the least to show a row', () => {
    expect(scrollToShow(5, 0, 800, 80)).toBe(0);
    expect(scrollToShow(10, 0, 800, 80)).toBe(80);
    expect(scrollToShow(2, 400, 800, 80)).toBe(160);
  });
});

/**
 * Every API that returns mail, checked against the independent oracle for
 * random organizations: thread lists in every view and lane (with counts,
 * unread counts, previews, participants, owners and linked records), a
 * thread, search, counts per mailbox owner, a record's Emails list for "All"
 * and for each mailbox owner, "why can I see this?" (its verdict and rule as
 * the pure module decides), attachment downloads and notifications with
 * their unread count.
 * Nothing the oracle hides may show up in any of them, and nothing it allows
 * may be missing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertNotification } from '../../db/queries/sync-progress';
import type {
  MailCountsDto,
  MessageListDto,
  NotificationListDto,
  RecordEmailsDto,
  ThreadDto,
  ThreadListDto,
  VisibilityExplanationDto,
} from '../../sync/mail-api';
import { THREAD_LANES } from '../../sync/mail-api';
import { Visibility } from '../../sync/visibility';
import { createSession } from '../../server/auth/session';
import { client, createHarness, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { storeModelOrgs, type StoredOrg } from '../helpers/visibility-db';
import { emailsScope, expectedFor, matching, type Expected } from '../helpers/visibility-expected';
import { orgArb, personId, toVisibilityMessage, toVisibilityOrg, type ModelOrg } from '../helpers/visibility-model';

/** Random organizations per driver; each is checked through every endpoint for every person. */
const ORGS = Math.min(12, Math.max(3, Math.ceil(Number(process.env.VISIBILITY_ORGS ?? 300) / 500)));
const SEED = Number(process.env.VISIBILITY_API_SEED ?? Date.now() % 2 ** 31);

interface World extends Expected {
  model: ModelOrg;
  stored: StoredOrg;
  cookies: string[];
  visibility: Visibility;
}

async function buildWorld(h: Harness, model: ModelOrg): Promise<World> {
  const [stored] = (await h.deps.db.transaction((tx) => storeModelOrgs(tx, [model], { withContent: true }))) as [StoredOrg];
  const cookies: string[] = [];
  for (const userId of stored.people) {
    const { token } = await createSession(h.deps.db, userId, h.deps.now());
    cookies.push(`shoal_session=${token}`);
  }
  return { model, stored, cookies, visibility: new Visibility(toVisibilityOrg(model)), ...expectedFor(model) };
}

async function allThreads(api: Client, cookie: string, query: string, limit = 200): Promise<ThreadListDto['threads']> {
  const out: ThreadListDto['threads'] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page: { status: number; body: ThreadListDto } = await api.get<ThreadListDto>(`/api/threads?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { cookie });
    expect(page.status, query).toBe(200);
    out.push(...page.body.threads);
    cursor = page.body.nextCursor;
  }
  return out;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

/** The person's view of the world: what they may see, as ids. */
function lens(w: World, p: number) {
  const mine = w.visible[p] as Set<number>;
  const idOf = (i: number) => w.stored.messages[i] as string;
  const ownerOf = (i: number) => w.model.messages[i]?.owner as number;
  const threadOf = (i: number) => w.stored.threadOf[i] as string;
  /** Records (ids) linked to these messages that the person can access. */
  const recordsOf = (messages: number[]) =>
    sorted(new Set(messages.flatMap((i) => (w.linked[i] ?? []).filter((r) => w.access[r]?.has(p)).map((r) => w.stored.records[r] as string))));
  return { mine, idOf, ownerOf, threadOf, recordsOf };
}

/** A thread list shows exactly the threads of `shown` messages, each summarized from those messages only. */
function checkThreadList(w: World, p: number, threads: ThreadListDto['threads'], shown: number[], label: string): void {
  const { ownerOf, threadOf, recordsOf } = lens(w, p);
  expect(sorted(threads.map((t) => t.id)), `person ${p}: ${label} threads`).toEqual(sorted(new Set(shown.map(threadOf))));
  for (const t of threads) {
    const inThread = shown.filter((i) => threadOf(i) === t.id);
    const text = `person ${p}: ${label} thread ${t.id}`;
    expect(t.messageCount, `${text} count`).toBe(inThread.length);
    const unread = inThread.filter((i) => ownerOf(i) === p && !w.model.messages[i]?.seen);
    expect(t.unreadCount, `${text} unread`).toBe(unread.length);
    // Message i was stored i minutes into the day: the subject is the first visible one's, the preview the last's.
    expect([t.subject, t.snippet], `${text} subject and preview`).toEqual([`Subject m${Math.min(...inThread)}`, `snippet m${Math.max(...inThread)}`]);
    expect(sorted(t.mailboxOwners.map((o) => o.id)), `${text} owners`).toEqual(sorted(new Set(inThread.map((i) => w.stored.people[ownerOf(i)] as string))));
    const addresses = new Set(inThread.flatMap((i) => w.model.messages[i]?.participants ?? []));
    expect(t.participants.filter((a) => !addresses.has(a.address)), `${text} participants`).toEqual([]);
    expect(sorted(t.records.map((r) => r.id)), `${text} records`).toEqual(recordsOf(inThread));
  }
}

async function checkThreads(api: Client, w: World, p: number): Promise<void> {
  const cookie = w.cookies[p] as string;
  const { mine, idOf, ownerOf, threadOf, recordsOf } = lens(w, p);
  const all = [...mine];
  // Small pages, so paging is covered too.
  checkThreadList(w, p, await allThreads(api, cookie, 'view=team', 2), all, 'team');
  checkThreadList(w, p, await allThreads(api, cookie, 'view=mine'), all.filter((i) => ownerOf(i) === p), 'mine');
  for (const [o, ownerId] of w.stored.people.entries()) {
    checkThreadList(w, p, await allThreads(api, cookie, `view=person&owner=${ownerId}`), all.filter((i) => ownerOf(i) === o), `person ${o}'s`);
  }
  // Lanes split the visible threads: each one in exactly one lane, summarized the same way.
  const inLanes: string[] = [];
  for (const lane of THREAD_LANES.filter((l) => l !== 'all')) {
    const threads = await allThreads(api, cookie, `lane=${lane}`);
    checkThreadList(w, p, threads, all.filter((i) => threads.some((t) => t.id === threadOf(i))), `lane ${lane}`);
    inLanes.push(...threads.map((t) => t.id));
  }
  expect(sorted(inLanes), `person ${p}: lanes`).toEqual(sorted(new Set(all.map(threadOf))));
  const q = `m${all[0] ?? 0}`;
  checkThreadList(w, p, await allThreads(api, cookie, `q=${q}`), matching(w.model, all, q), `q=${q}`);

  for (const threadId of new Set(w.stored.threadOf)) {
    const res = await api.get<ThreadDto>(`/api/threads/${threadId}`, { cookie });
    const expected = all.filter((i) => threadOf(i) === threadId);
    expect(res.status, `person ${p}: thread status`).toBe(expected.length > 0 ? 200 : 404);
    if (res.status !== 200) {
      continue;
    }
    expect(sorted(res.body.messages.map((m) => m.id)), `person ${p}: thread messages`).toEqual(sorted(expected.map(idOf)));
    expect(res.body.subject, `person ${p}: thread subject`).toBe(`Subject m${Math.min(...expected)}`);
    for (const m of res.body.messages) {
      const i = w.stored.messages.indexOf(m.id);
      expect(sorted(m.records.map((r) => r.id)), `person ${p}: records of message ${i}`).toEqual(recordsOf([i]));
    }
  }
}

async function checkSearchAndCounts(api: Client, w: World, p: number): Promise<void> {
  const cookie = w.cookies[p] as string;
  const { mine, idOf, ownerOf } = lens(w, p);
  const all = [...mine];
  for (const q of ['token', `m${w.model.messages.length - 1}`, 'corp.test']) {
    const search = await api.get<MessageListDto>(`/api/mail/search?q=${encodeURIComponent(q)}&limit=200`, { cookie });
    expect(sorted(search.body.messages.map((m) => m.id)), `person ${p}: search ${q}`).toEqual(sorted(matching(w.model, all, q).map(idOf)));
  }

  const counts = await api.get<MailCountsDto>('/api/mail/counts', { cookie });
  const unread = (xs: number[]) => xs.filter((i) => ownerOf(i) === p && !w.model.messages[i]?.seen).length;
  expect(counts.body.total, `person ${p}: counts`).toBe(all.length);
  expect(counts.body.unread, `person ${p}: unread`).toBe(unread(all));
  const byOwner = w.stored.people.flatMap((id, o) => {
    const theirs = all.filter((i) => ownerOf(i) === o);
    return theirs.length > 0 ? [[id, theirs.length, unread(theirs)]] : [];
  });
  expect(sorted(counts.body.byOwner.map((b) => [b.owner.id, b.total, b.unread].join())), `person ${p}: counts by owner`).toEqual(sorted(byOwner.map((b) => b.join())));
}

async function checkRecordEmails(api: Client, w: World, p: number): Promise<void> {
  const cookie = w.cookies[p] as string;
  const { mine, idOf, ownerOf } = lens(w, p);
  for (const r of w.model.records.keys()) {
    const url = `/api/records/${w.stored.records[r]}/emails?limit=200`;
    const res = await api.get<RecordEmailsDto>(url, { cookie });
    if (!w.access[r]?.has(p)) {
      expect(res.status, `person ${p}: record ${r} is not theirs to read`).toBe(404);
      continue;
    }
    const scope = emailsScope(w.model, r);
    const about = [...mine].filter((i) => (w.linked[i] ?? []).some((x) => scope.has(x)));
    expect(sorted(res.body.messages.map((m) => m.id)), `person ${p}: record ${r} emails`).toEqual(sorted(about.map(idOf)));
    const owners = [...new Set(about.map(ownerOf))];
    expect(sorted(res.body.owners.map((o) => o.id)), `person ${p}: record ${r} owners`).toEqual(sorted(owners.map((o) => w.stored.people[o] as string)));
    for (const [o, ownerId] of w.stored.people.entries()) {
      const one = await api.get<RecordEmailsDto>(`${url}&owner=${ownerId}`, { cookie });
      expect(sorted(one.body.messages.map((m) => m.id)), `person ${p}: record ${r} emails of owner ${o}`).toEqual(sorted(about.filter((i) => ownerOf(i) === o).map(idOf)));
    }
  }
}

/** A download: its status and body as text (not JSON). */
type Download = (path: string, cookie: string) => Promise<{ status: number; text: string }>;

async function checkWhyAttachmentsAndNotifications(api: Client, download: Download, w: World, p: number): Promise<void> {
  const cookie = w.cookies[p] as string;
  const { mine, idOf } = lens(w, p);
  for (const [i, message] of w.model.messages.entries()) {
    const file = await download(`/api/messages/${idOf(i)}/attachments/0`, cookie);
    expect(file, `person ${p}: attachment of message ${i}`).toMatchObject(mine.has(i) ? { status: 200, text: `attachment of m${i}` } : { status: 404 });
    const res = await api.get<VisibilityExplanationDto>(`/api/messages/${idOf(i)}/visibility`, { cookie });
    expect(res.status, `person ${p}: why-can-I-see message ${i}`).toBe(mine.has(i) ? 200 : 404);
    if (res.status === 200) {
      // The explanation comes from facts loaded for one message; it must name the rule the module decides by.
      const decision = w.visibility.decide(personId(p), toVisibilityMessage(w.model, message));
      expect({ visible: res.body.visible, rule: res.body.rule }, `person ${p}: why message ${i}`).toEqual({ visible: true, rule: decision.rule });
      expect(res.body.steps.length).toBeGreaterThan(0);
    }
  }
  const notes = await api.get<NotificationListDto>('/api/notifications', { cookie });
  expect(sorted(notes.body.notifications.map((n) => String(n.payload.messageId))), `person ${p}: notifications`).toEqual(sorted([...mine].map(idOf)));
  expect(notes.body.unread, `person ${p}: unread notifications`).toBe(mine.size);
}

describe.each(driverCases())('mail APIs against the oracle on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let download: Download;
  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db);
    api = client(h.app);
    download = async (path, cookie) => {
      const res = await h.app.request(path, { headers: { cookie } });
      return { status: res.status, text: await res.text() };
    };
  });
  afterAll(async () => {
    await t.drop();
  });

  it(`shows each person exactly what the oracle allows (${ORGS} organizations, seed ${SEED})`, async () => {
    const models = fc.sample(
      orgArb(8).filter((o) => o.messages.length > 0),
      { numRuns: ORGS, seed: SEED },
    );
    let shown = 0;
    let hidden = 0;
    for (const model of models) {
      const w = await buildWorld(h, model);
      shown += w.visible.reduce((n, v) => n + v.size, 0);
      hidden += w.visible.reduce((n, v) => n + model.messages.length - v.size, 0);
      for (const [p, userId] of w.stored.people.entries()) {
        for (const messageId of w.stored.messages) {
          await insertNotification(h.deps.db, { userId, kind: 'mail', payload: { messageId } });
        }
        await checkThreads(api, w, p);
        await checkSearchAndCounts(api, w, p);
        await checkRecordEmails(api, w, p);
        await checkWhyAttachmentsAndNotifications(api, download, w, p);
      }
    }
    // Both sides of the rules were exercised, so a filter that hid or showed everything would have failed.
    expect(shown).toBeGreaterThan(0);
    expect(hidden).toBeGreaterThan(0);
  }, 900_000);
});

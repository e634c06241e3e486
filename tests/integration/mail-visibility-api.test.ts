/**
 * Every API that returns mail, checked against the independent oracle for
 * random organizations: thread lists (with counts and previews), a thread,
 * search, counts, a record's emails, "why can I see this?" and
 * notifications. Nothing the oracle hides may show up in any of them.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertNotification } from '../../db/queries/sync-progress';
import type { MailCountsDto, MessageListDto, NotificationListDto, RecordEmailsDto, ThreadDto, ThreadListDto } from '../../sync/mail-api';
import { createSession } from '../../server/auth/session';
import { client, createHarness, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { storeModelOrgs, type StoredOrg } from '../helpers/visibility-db';
import { orgArb, ownAddress, type ModelOrg } from '../helpers/visibility-model';
import { accessors, oracleAudience } from '../helpers/visibility-oracle';

/** Random organizations per driver; each is checked through every endpoint for every person. */
const ORGS = Math.min(12, Math.max(3, Math.ceil(Number(process.env.VISIBILITY_ORGS ?? 300) / 500)));
const SEED = Number(process.env.VISIBILITY_API_SEED ?? Date.now() % 2 ** 31);

interface World {
  model: ModelOrg;
  stored: StoredOrg;
  cookies: string[];
  /** Message indexes each person may see, per the oracle. */
  visible: Set<number>[];
}

async function buildWorld(h: Harness, model: ModelOrg): Promise<World> {
  const [stored] = (await h.deps.db.transaction((tx) => storeModelOrgs(tx, [model]))) as [StoredOrg];
  const cookies: string[] = [];
  for (const userId of stored.people) {
    const { token } = await createSession(h.deps.db, userId, h.deps.now());
    cookies.push(`shoal_session=${token}`);
  }
  const audiences = model.messages.map((m) => oracleAudience(model, m));
  const visible = model.people.map((_, p) => new Set(audiences.flatMap((a, i) => (a.has(p) ? [i] : []))));
  return { model, stored, cookies, visible };
}

async function allThreads(api: Client, cookie: string): Promise<ThreadListDto['threads']> {
  const out: ThreadListDto['threads'] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page: { status: number; body: ThreadListDto } = await api.get<ThreadListDto>(`/api/threads?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { cookie });
    expect(page.status).toBe(200);
    out.push(...page.body.threads);
    cursor = page.body.nextCursor;
  }
  return out;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

async function checkPerson(api: Client, w: World, p: number): Promise<void> {
  const cookie = w.cookies[p] as string;
  const mine = w.visible[p] as Set<number>;
  const idOf = (i: number) => w.stored.messages[i] as string;
  const visibleIds = new Set([...mine].map(idOf));
  const inThread = (t: string) => [...mine].filter((i) => w.stored.threadOf[i] === t);

  const threads = await allThreads(api, cookie);
  expect(sorted(threads.map((t) => t.id)), `person ${p}: threads`).toEqual(sorted(new Set([...mine].map((i) => w.stored.threadOf[i] as string))));
  for (const t of threads) {
    const shown = inThread(t.id);
    expect(t.messageCount, `person ${p}: count of thread`).toBe(shown.length);
    expect(shown.map((i) => `snippet m${i}`), `person ${p}: preview`).toContain(t.snippet);
    expect(shown.map((i) => `Subject m${i}`), `person ${p}: subject`).toContain(t.subject);
    expect(shown.map((i) => w.stored.people[w.model.messages[i]?.owner as number]), 'mailbox owners').toEqual(expect.arrayContaining(t.mailboxOwners.map((o) => o.id)));
    expect(shown.map((i) => ownAddress(w.model.messages[i]?.owner as number))).toEqual(expect.arrayContaining(t.participants.map((a) => a.address)));
  }

  for (const threadId of new Set(w.stored.threadOf)) {
    const res = await api.get<ThreadDto>(`/api/threads/${threadId}`, { cookie });
    const expected = inThread(threadId).map(idOf);
    expect(res.status, `person ${p}: thread status`).toBe(expected.length > 0 ? 200 : 404);
    if (res.status === 200) {
      expect(sorted(res.body.messages.map((m) => m.id))).toEqual(sorted(expected));
    }
  }

  const search = await api.get<MessageListDto>('/api/mail/search?q=token&limit=200', { cookie });
  expect(sorted(search.body.messages.map((m) => m.id)), `person ${p}: search`).toEqual(sorted(visibleIds));

  const counts = await api.get<MailCountsDto>('/api/mail/counts', { cookie });
  expect(counts.body.total, `person ${p}: counts`).toBe(mine.size);

  for (const [r, record] of w.model.records.entries()) {
    const res = await api.get<RecordEmailsDto>(`/api/records/${w.stored.records[r]}/emails?limit=200`, { cookie });
    if (!accessors(w.model, record).has(p)) {
      expect(res.status, `person ${p}: record ${r} is not theirs to read`).toBe(404);
      continue;
    }
    const linked = [...mine].filter((i) => w.model.messages[i]?.participants.some((a) => a !== ownAddress(w.model.messages[i]?.owner as number) && record.addresses.includes(a)));
    expect(sorted(res.body.messages.map((m) => m.id)), `person ${p}: record ${r} emails`).toEqual(sorted(linked.map(idOf)));
  }

  for (const [i, id] of w.stored.messages.entries()) {
    const res = await api.get(`/api/messages/${id}/visibility`, { cookie });
    expect(res.status, `person ${p}: why-can-I-see message ${i}`).toBe(mine.has(i) ? 200 : 404);
  }

  const notes = await api.get<NotificationListDto>('/api/notifications', { cookie });
  expect(sorted(notes.body.notifications.map((n) => String(n.payload.messageId))), `person ${p}: notifications`).toEqual(sorted(visibleIds));
}

describe.each(driverCases())('mail APIs against the oracle on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db);
    api = client(h.app);
  });
  afterAll(async () => {
    await t.drop();
  });

  it(`shows each person exactly what the oracle allows (${ORGS} organizations, seed ${SEED})`, async () => {
    const models = fc.sample(orgArb(8).filter((o) => o.messages.length > 0), { numRuns: ORGS, seed: SEED });
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
        await checkPerson(api, w, p);
      }
    }
    // Both sides of the rules were exercised, so a filter that hid or showed everything would have failed.
    expect(shown).toBeGreaterThan(0);
    expect(hidden).toBeGreaterThan(0);
  }, 600_000);
});

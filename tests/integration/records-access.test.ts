/**
 * Record access over HTTP on every driver. Private: the owner, everyone
 * above the owner, and explicit shares (people or groups) — and the list,
 * the detail and every related list hide the rest, with 404s that do not
 * reveal existence. Public: everyone. Plus who may delete and share, and
 * the "share emails" flag, last writer wins by HLC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStamp, parseStamp } from '../../sync/hlc';
import type { RecordDto, RecordListDto, ShareFlagDto } from '../../sync/records-api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string; details?: Record<string, string> } };

describe.each(driverCases())('record access on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open' });
    api = client(h.app);
  });
  afterAll(async () => {
    await t?.drop();
  });

  async function team() {
    const admin = await signUpAdmin(api);
    const boss = await addPerson(api, admin.cookie, 'manager', 'Karl Boss');
    const mgr = await addPerson(api, admin.cookie, 'manager', 'Mia Manager');
    const rep1 = await addPerson(api, admin.cookie, 'rep', 'Mark Rep');
    const rep2 = await addPerson(api, admin.cookie, 'rep', 'Adam Peer');
    await api.patch(`/api/people/${mgr.userId}`, { managerId: boss.userId }, { cookie: admin.cookie });
    await api.patch(`/api/people/${rep1.userId}`, { managerId: mgr.userId }, { cookie: admin.cookie });
    await t.db.query(`update organizations set record_access = 'private' where id = $1`, [admin.orgId]);
    return { admin, boss, mgr, rep1, rep2 };
  }

  const post = (cookie: string, body: unknown) => api.post<RecordDto>('/api/records', body, { cookie });
  const names = async (cookie: string) =>
    (await api.get<RecordListDto>('/api/records?sort=name', { cookie })).body.records.map((r) => r.name);

  it('Private: owner and everyone above see a record; a peer and an admin outside the line get 404s', async () => {
    const { admin, boss, mgr, rep1, rep2 } = await team();
    const lead = await post(rep1.cookie, { type: 'lead', name: 'Lead of Mark', primaryEmail: 'secret@lead.test' });
    await post(rep2.cookie, { type: 'lead', name: 'Lead of Adam' });
    expect(await names(rep1.cookie)).toEqual(['Lead of Mark']);
    expect(await names(mgr.cookie)).toEqual(['Lead of Mark']);
    expect(await names(boss.cookie)).toEqual(['Lead of Mark']);
    expect(await names(rep2.cookie)).toEqual(['Lead of Adam']);
    expect(await names(admin.cookie)).toEqual([]);
    expect((await api.get<RecordListDto>('/api/records?q=secret', { cookie: rep2.cookie })).body.total).toBe(0);

    const id = lead.body.id;
    for (const cookie of [rep2.cookie, admin.cookie]) {
      expect((await api.get<ErrorBody>(`/api/records/${id}`, { cookie })).status).toBe(404);
      expect((await api.patch(`/api/records/${id}`, { name: 'x' }, { cookie })).status).toBe(404);
      expect((await api.delete(`/api/records/${id}`, { cookie })).status).toBe(404);
      expect((await api.put(`/api/records/${id}/shares`, { userIds: [], groupIds: [] }, { cookie })).status).toBe(404);
      expect((await api.put(`/api/records/${id}/share-flag`, { shared: true }, { cookie })).status).toBe(404);
    }
    expect((await api.get(`/api/records/${crypto.randomUUID()}`, { cookie: rep2.cookie })).status).toBe(404);

    // The address is still taken, but the peer does not learn the record's name.
    const taken = await post(rep2.cookie, { type: 'contact', name: 'Copy', primaryEmail: 'secret@lead.test' });
    const error = (taken.body as unknown as ErrorBody).error;
    expect(error).toMatchObject({ code: 'address_taken', field: 'primaryEmail', details: { recordType: 'lead' } });
    expect(error.details?.recordName).toBeUndefined();
    expect(error.message).not.toContain('Lead of Mark');

    // A manager above the owner may edit and delete.
    expect((await api.patch(`/api/records/${id}`, { company: 'Acme' }, { cookie: boss.cookie })).status).toBe(200);
    const detail = await api.get<RecordDto>(`/api/records/${id}`, { cookie: mgr.cookie });
    expect(detail.body).toMatchObject({ company: 'Acme', canDelete: true, canShare: true });

    // Public: everyone sees everything.
    await t.db.query(`update organizations set record_access = 'public' where id = $1`, [admin.orgId]);
    expect(await names(rep2.cookie)).toEqual(['Lead of Adam', 'Lead of Mark']);
    const asPeer = await api.get<RecordDto>(`/api/records/${id}`, { cookie: rep2.cookie });
    expect(asPeer.body).toMatchObject({ canDelete: false, canShare: false });
    expect((await api.delete(`/api/records/${id}`, { cookie: rep2.cookie })).status).toBe(403);
    expect((await api.put(`/api/records/${id}/shares`, { userIds: [], groupIds: [] }, { cookie: rep2.cookie })).status).toBe(403);
    expect((await api.delete(`/api/records/${id}`, { cookie: admin.cookie })).status).toBe(204);
  });

  it('Private: user and group shares grant access, and related lists show only accessible records', async () => {
    const { admin, mgr, rep1, rep2 } = await team();
    const account = await post(rep1.cookie, { type: 'account', name: 'Acme' });
    const c1 = await post(rep1.cookie, { type: 'contact', name: 'Cleo of Mark', accountId: account.body.id });
    const c2 = await post(rep2.cookie, { type: 'contact', name: 'Carl of Adam' });
    // Mark cannot link Adam's contact until Adam shares it.
    const early = await post(rep1.cookie, { type: 'deal', name: 'Early', contactIds: [c2.body.id] });
    expect((early.body as unknown as ErrorBody).error.field).toBe('contactIds.0');
    const shared = await api.put(`/api/records/${c2.body.id}/shares`, { userIds: [rep1.userId, rep1.userId], groupIds: [] }, { cookie: rep2.cookie });
    expect(shared.body).toEqual({ userIds: [rep1.userId], groupIds: [] });
    const deal = await post(rep1.cookie, { type: 'deal', name: 'Deal', accountId: account.body.id, contactIds: [c1.body.id, c2.body.id] });
    expect(deal.status).toBe(201);

    // The account goes to Adam by a group share.
    const group = await api.post<{ id: string }>('/api/groups', { name: 'Partners' }, { cookie: admin.cookie });
    await api.put(`/api/groups/${group.body.id}/members`, { userIds: [rep2.userId] }, { cookie: admin.cookie });
    const byGroup = await api.put(`/api/records/${account.body.id}/shares`, { userIds: [], groupIds: [group.body.id] }, { cookie: mgr.cookie });
    expect(byGroup.status).toBe(200);
    const c3 = await post(rep2.cookie, { type: 'contact', name: 'Cora of Adam', accountId: account.body.id });
    expect(c3.status).toBe(201);

    const acct = await api.get<RecordDto>(`/api/records/${account.body.id}`, { cookie: rep2.cookie });
    expect(acct.status).toBe(200);
    expect(acct.body.shares).toEqual({ userIds: [], groupIds: [group.body.id] });
    expect(acct.body.contacts.map((c) => c.name)).toEqual(['Cora of Adam']);
    expect(acct.body.deals).toEqual([]);
    expect((await api.get<RecordDto>(`/api/records/${account.body.id}`, { cookie: rep1.cookie })).body.contacts.map((c) => c.name)).toEqual([
      'Cleo of Mark',
    ]);
    // Adam's contact shows its deal only to people who can access the deal.
    expect((await api.get<RecordDto>(`/api/records/${c2.body.id}`, { cookie: rep2.cookie })).body.deals).toEqual([]);
    expect((await api.get<RecordDto>(`/api/records/${c2.body.id}`, { cookie: rep1.cookie })).body.deals.map((d) => d.name)).toEqual(['Deal']);
    expect(await names(rep2.cookie)).toEqual(['Acme', 'Carl of Adam', 'Cora of Adam']);

    // A deal shared with Adam lists only the contacts Adam can open; his edit keeps the ones he cannot see.
    await api.put(`/api/records/${deal.body.id}/shares`, { userIds: [rep2.userId], groupIds: [] }, { cookie: rep1.cookie });
    const asAdam = await api.get<RecordDto>(`/api/records/${deal.body.id}`, { cookie: rep2.cookie });
    expect(asAdam.body.contacts.map((c) => c.name)).toEqual(['Carl of Adam']);
    await api.patch(`/api/records/${deal.body.id}`, { contactIds: [c3.body.id] }, { cookie: rep2.cookie });
    const asMark = await api.get<RecordDto>(`/api/records/${deal.body.id}`, { cookie: rep1.cookie });
    expect(asMark.body.contacts.map((c) => c.name)).toEqual(['Cleo of Mark']);
    expect((await api.get<RecordDto>(`/api/records/${deal.body.id}`, { cookie: rep2.cookie })).body.contacts.map((c) => c.name)).toEqual([
      'Cora of Adam',
    ]);

    // Removing the share removes access.
    await api.put(`/api/records/${account.body.id}/shares`, { userIds: [], groupIds: [] }, { cookie: rep1.cookie });
    expect((await api.get(`/api/records/${account.body.id}`, { cookie: rep2.cookie })).status).toBe(404);
  });

  it('Private: handing a record to someone one is not above is saved and says it is out of reach, not a 404', async () => {
    const { mgr, rep1, rep2 } = await team();
    const lead = await post(rep1.cookie, { type: 'lead', name: 'Lead of Mark', company: 'Acme' });
    expect(lead.body.accessible).toBe(true);
    const handed = await api.patch<RecordDto>(`/api/records/${lead.body.id}`, { ownerId: rep2.userId, company: 'Acme AG' }, { cookie: rep1.cookie });
    expect(handed.status).toBe(200);
    expect(handed.body).toMatchObject({ accessible: false, company: 'Acme AG', owner: { id: rep2.userId }, canDelete: false, canShare: false });
    expect((await api.get(`/api/records/${lead.body.id}`, { cookie: rep1.cookie })).status).toBe(404);
    expect(await names(rep2.cookie)).toEqual(['Lead of Mark']);
    // Mia, above Mark but not Adam, loses it with him.
    expect((await api.get(`/api/records/${lead.body.id}`, { cookie: mgr.cookie })).status).toBe(404);

    // Creating a record for someone outside one's line: 201, made, and out of reach.
    const made = await post(rep1.cookie, { type: 'contact', name: 'For Adam', ownerId: rep2.userId });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ accessible: false, owner: { id: rep2.userId } });
    expect(await names(rep2.cookie)).toEqual(['For Adam', 'Lead of Mark']);
    // Edits that keep the record in reach answer as before.
    const mine = await post(rep1.cookie, { type: 'lead', name: 'Still mine' });
    expect((await api.patch<RecordDto>(`/api/records/${mine.body.id}`, { ownerId: rep1.userId, name: 'Still mine!' }, { cookie: mgr.cookie })).body).toMatchObject({
      accessible: true,
      name: 'Still mine!',
    });
  });

  it('share ids must belong to the organization', async () => {
    const { rep1 } = await team();
    const other = await signUpAdmin(api);
    const otherGroup = await api.post<{ id: string }>('/api/groups', { name: 'Elsewhere' }, { cookie: other.cookie });
    const lead = await post(rep1.cookie, { type: 'lead', name: 'L' });
    const url = `/api/records/${lead.body.id}/shares`;
    const badUser = await api.put<ErrorBody>(url, { userIds: [rep1.userId, other.userId], groupIds: [] }, { cookie: rep1.cookie });
    expect(badUser.body.error).toMatchObject({ code: 'validation_failed', field: 'userIds.1' });
    const badGroup = await api.put<ErrorBody>(url, { userIds: [], groupIds: [otherGroup.body.id] }, { cookie: rep1.cookie });
    expect(badGroup.body.error).toMatchObject({ code: 'validation_failed', field: 'groupIds.0' });
    const notId = await api.put<ErrorBody>(url, { userIds: ['x'], groupIds: [] }, { cookie: rep1.cookie });
    expect(notId.body.error.field).toBe('userIds.0');
    const missing = await api.put<ErrorBody>(url, { userIds: [] }, { cookie: rep1.cookie });
    expect(missing.body.error.field).toBe('groupIds');
  });

  it('share flag: last writer wins by HLC; older stamps lose, future stamps are clamped', async () => {
    const { rep1, mgr } = await team();
    const lead = await post(rep1.cookie, { type: 'lead', name: 'Flagged' });
    const url = `/api/records/${lead.body.id}/share-flag`;
    const now = h.clock.now().getTime();

    const first = await api.put<ShareFlagDto>(url, { shared: true, hlc: formatStamp({ wallMs: now, counter: 0, node: 'laptop' }) }, { cookie: rep1.cookie });
    expect(first.body).toMatchObject({ shared: true, applied: true });
    const older = await api.put<ShareFlagDto>(url, { shared: false, hlc: formatStamp({ wallMs: now - 1000, counter: 9, node: 'phone' }) }, { cookie: rep1.cookie });
    expect(older.body).toMatchObject({ shared: true, applied: false, hlc: first.body.hlc });
    const tie = await api.put<ShareFlagDto>(url, { shared: false, hlc: first.body.hlc }, { cookie: rep1.cookie });
    expect(tie.body).toMatchObject({ shared: true, applied: false });

    const future = await api.put<ShareFlagDto>(
      url,
      { shared: false, hlc: formatStamp({ wallMs: now + 3_600_000, counter: 0, node: 'bad-clock' }) },
      { cookie: rep1.cookie },
    );
    expect(future.body).toMatchObject({ shared: false, applied: true });
    expect(parseStamp(future.body.hlc)).toEqual({ wallMs: now + 5 * 60_000, counter: 0, node: 'bad-clock' });
    // Within the drift limit, a later device stamp still beats the clamped one.
    const later = await api.put<ShareFlagDto>(url, { shared: true, hlc: formatStamp({ wallMs: now + 5 * 60_000, counter: 1, node: 'laptop' }) }, { cookie: rep1.cookie });
    expect(later.body).toMatchObject({ shared: true, applied: true });
    // Without a stamp the server stamps after what it holds, so the write wins.
    const server = await api.put<ShareFlagDto>(url, { shared: false }, { cookie: rep1.cookie });
    expect(server.body.applied).toBe(true);
    expect(server.body.hlc > later.body.hlc).toBe(true);
    expect((await api.get<RecordDto>(`/api/records/${lead.body.id}`, { cookie: rep1.cookie })).body.myShareFlag).toBe(false);

    // Each person has their own flag.
    await api.put(url, { shared: true }, { cookie: mgr.cookie });
    expect((await api.get<RecordDto>(`/api/records/${lead.body.id}`, { cookie: mgr.cookie })).body.myShareFlag).toBe(true);
    expect((await api.get<RecordDto>(`/api/records/${lead.body.id}`, { cookie: rep1.cookie })).body.myShareFlag).toBe(false);

    const bad = await api.put<ErrorBody>(url, { shared: true, hlc: 'yesterday' }, { cookie: rep1.cookie });
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', field: 'hlc' });
    const noShared = await api.put<ErrorBody>(url, { hlc: first.body.hlc }, { cookie: rep1.cookie });
    expect(noShared.body.error.field).toBe('shared');
  });
});

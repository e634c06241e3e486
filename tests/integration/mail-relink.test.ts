/**
 * Item 7 of the records milestone: when records (created, converted,
 * re-owned, shared, deleted), their addresses or a sharing setting change,
 * existing mail re-links and visibility follows at once, through the real APIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordDto } from '../../sync/records-api';
import type { MailCountsDto, RecordEmailsDto, ThreadListDto } from '../../sync/mail-api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { insertTestMailbox, insertTestMessage } from '../helpers/mail-rows';

describe.each(driverCases())('re-linking and visibility changes on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open' });
    api = client(h.app);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('follows record addresses, deletion and the owner’s sharing setting', async () => {
    const admin = await signUpAdmin(api);
    const rita = await addPerson(api, admin.cookie, 'rep', 'Rita Rep');
    const tom = await addPerson(api, admin.cookie, 'rep', 'Tom Teammate');
    const account = await insertTestMailbox(t.db, { orgId: admin.orgId, ownerId: rita.userId, address: rita.email });
    const { threadId, messageId } = await insertTestMessage(t.db, {
      orgId: admin.orgId, accountId: account, from: 'buyer@customer.example', to: [rita.email], subject: 'Pricing for 40 seats',
    });
    expect((await api.put('/api/me/email-sharing', { mode: 'public', excludedDomains: [], audience: null }, { cookie: rita.cookie })).status).toBe(200);
    const tomSees = async () => (await api.get<ThreadListDto>('/api/threads', { cookie: tom.cookie })).body.threads.map((x) => x.id);

    // Matched to no record: Rita's alone.
    expect(await tomSees()).toEqual([]);

    const created = await api.post<RecordDto>('/api/records', { type: 'contact', name: 'Bea Buyer', primaryEmail: 'buyer@customer.example' }, { cookie: tom.cookie });
    expect(created.status).toBe(201);
    const contact = created.body.id;
    expect(await tomSees()).toEqual([threadId]);
    const emails = await api.get<RecordEmailsDto>(`/api/records/${contact}/emails`, { cookie: tom.cookie });
    expect(emails.body.messages.map((m) => m.id)).toEqual([messageId]);
    expect(emails.body.owners.map((o) => o.id)).toEqual([rita.userId]);

    // The address moves away: the mail unlinks.
    expect((await api.patch(`/api/records/${contact}`, { primaryEmail: 'other@customer.example' }, { cookie: tom.cookie })).status).toBe(200);
    expect(await tomSees()).toEqual([]);

    // Back as a secondary address: linked again.
    expect((await api.patch(`/api/records/${contact}`, { secondaryEmails: ['buyer@customer.example'] }, { cookie: tom.cookie })).status).toBe(200);
    expect(await tomSees()).toEqual([threadId]);

    // Rita goes Private: gone from Tom's lists, counts and search at once.
    expect((await api.put('/api/me/email-sharing', { mode: 'private', excludedDomains: [], audience: null }, { cookie: rita.cookie })).status).toBe(200);
    expect(await tomSees()).toEqual([]);
    expect((await api.get<MailCountsDto>('/api/mail/counts', { cookie: tom.cookie })).body.total).toBe(0);
    expect((await api.get(`/api/messages/${messageId}/visibility`, { cookie: tom.cookie })).status).toBe(404);

    // Public again, then the record is deleted: unlinked, Rita's alone again.
    await api.put('/api/me/email-sharing', { mode: 'public', excludedDomains: [], audience: null }, { cookie: rita.cookie });
    expect(await tomSees()).toEqual([threadId]);
    expect((await api.delete(`/api/records/${contact}`, { cookie: rita.cookie })).status).toBe(403);
    expect((await api.delete(`/api/records/${contact}`, { cookie: admin.cookie })).status).toBe(204);
    expect(await tomSees()).toEqual([]);
    expect((await api.get<ThreadListDto>('/api/threads', { cookie: rita.cookie })).body.threads.map((x) => x.id)).toEqual([threadId]);
  });

  it('follows conversion of the sender and, under Private record access, the record’s owner and shares', async () => {
    const admin = await signUpAdmin(api);
    const rita = await addPerson(api, admin.cookie, 'rep', 'Rita Rep');
    const tom = await addPerson(api, admin.cookie, 'rep', 'Tom Teammate');
    const account = await insertTestMailbox(t.db, { orgId: admin.orgId, ownerId: rita.userId, address: rita.email });
    const older = await insertTestMessage(t.db, { orgId: admin.orgId, accountId: account, from: 'pat@prospect.example', to: [rita.email], subject: 'First contact' });
    const newer = await insertTestMessage(t.db, { orgId: admin.orgId, accountId: account, from: 'pat@prospect.example', to: [rita.email], subject: 'Follow-up' });
    await api.put('/api/me/email-sharing', { mode: 'public', excludedDomains: [], audience: null }, { cookie: rita.cookie });
    await api.put('/api/admin/organization', { recordAccess: 'private' }, { cookie: admin.cookie });
    const tomSees = async () => (await api.get<ThreadListDto>('/api/threads', { cookie: tom.cookie })).body.threads.map((x) => x.id).sort();
    const both = [older.threadId, newer.threadId].sort();

    // Rita converts the sender from the newer message: both of Pat's messages link to the new contact, which only she can access yet.
    const converted = await api.post<{ record: { id: string } }>(`/api/messages/${newer.messageId}/convert`, { type: 'contact' }, { cookie: rita.cookie });
    expect(converted.status).toBe(201);
    const contact = converted.body.record.id;
    const emails = await api.get<RecordEmailsDto>(`/api/records/${contact}/emails`, { cookie: rita.cookie });
    expect(emails.body.messages.map((m) => m.id).sort()).toEqual([older.messageId, newer.messageId].sort());
    expect(await tomSees()).toEqual([]);

    // Shared with Tom: he can access the contact, so Rita's Public mail about it reaches him.
    expect((await api.put(`/api/records/${contact}/shares`, { userIds: [tom.userId], groupIds: [] }, { cookie: rita.cookie })).status).toBe(200);
    expect(await tomSees()).toEqual(both);
    expect((await api.put(`/api/records/${contact}/shares`, { userIds: [], groupIds: [] }, { cookie: rita.cookie })).status).toBe(200);
    expect(await tomSees()).toEqual([]);

    // Rita hands the contact to Tom: he can access it as its owner, so her mail about it follows; she still sees her own.
    expect((await api.patch(`/api/records/${contact}`, { ownerId: tom.userId }, { cookie: rita.cookie })).status).toBe(200);
    expect(await tomSees()).toEqual(both);
    expect((await api.get<MailCountsDto>('/api/mail/counts', { cookie: tom.cookie })).body.total).toBe(2);
    expect((await api.get<ThreadListDto>('/api/threads', { cookie: rita.cookie })).body.threads).toHaveLength(2);
  });
});

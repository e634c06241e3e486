/**
 * A mailbox whose sealed password cannot be opened (a key-encryption key
 * removed too early, a database restored without its key) is a clear 503
 * the person can act on, never a 500.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiErrorBody } from '../../sync/api';
import { client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { insertTestMailbox, insertTestMessage } from '../helpers/mail-rows';

describe.each(driverCases())('mailbox secrets that cannot be opened on $name', ({ create }) => {
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

  it('answers 503 mailbox_secret_unavailable when marking a message read needs the server', async () => {
    const admin = await signUpAdmin(api);
    const account = await insertTestMailbox(t.db, { orgId: admin.orgId, ownerId: admin.userId, address: admin.email });
    const { messageId } = await insertTestMessage(t.db, { orgId: admin.orgId, accountId: account, from: 'x@customer.example', to: [admin.email], subject: 'Hi' });
    const folder = randomUUID();
    await t.db.query(`insert into mail_folders (id, account_id, path, role) values ($1, $2, 'INBOX', 'inbox')`, [folder, account]);
    await t.db.query('insert into message_locations (folder_id, uidvalidity, uid, message_id) values ($1, 1, 1, $2)', [folder, messageId]);

    const res = await api.post<ApiErrorBody>(`/api/mail/messages/${messageId}/seen`, { seen: true }, { cookie: admin.cookie });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('mailbox_secret_unavailable');
    const [row] = await t.db.query<{ seen: boolean }>('select seen from messages where id = $1', [messageId]);
    expect(row?.seen).toBe(false);
  });
});

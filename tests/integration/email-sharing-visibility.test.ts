/**
 * The sharing setting and record access changed through the API actually
 * change who sees mail: a message stored directly (no mail server) in Mark's
 * mailbox, linked to a contact, checked with the SQL visibility filter that
 * every mail API uses, on every database driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visibleMessageIdsSql } from '../../db/queries/visibility';
import type { Db } from '../../db/types';
import { addPerson, client, createHarness, signUpAdmin, type Client } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

const CUSTOMER = 'ceo@customer.example';

async function insertMailbox(db: Db, orgId: string, ownerId: string, email: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(
    `insert into mail_accounts (id, org_id, owner_id, label, email, provider, imap_host, imap_port, imap_security, imap_user,
       smtp_host, smtp_port, smtp_security, smtp_user, auth_kind, wrapped_dek, imap_secret)
     values ($1, $2, $3, 'Work', $4, 'custom', 'imap.test', 993, 'tls', $4, 'smtp.test', 465, 'tls', $4, 'password', 'x', 'x')`,
    [id, orgId, ownerId, email],
  );
  return id;
}

async function insertContact(db: Db, orgId: string, ownerId: string, address: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.query(`insert into records (id, org_id, type, owner_id, name) values ($1, $2, 'contact', $3, 'Customer CEO')`, [
    id,
    orgId,
    ownerId,
  ]);
  await db.query(
    `insert into record_emails (org_id, address, record_type, record_id, is_primary) values ($1, $2, 'contact', $3, true)`,
    [orgId, address, id],
  );
  return id;
}

/** An inbound message from `from` to the mailbox, with its participants. */
async function insertMessage(db: Db, orgId: string, accountId: string, from: string, to: string): Promise<string> {
  const threadId = crypto.randomUUID();
  const id = crypto.randomUUID();
  await db.query('insert into threads (id, org_id, subject) values ($1, $2, $3)', [threadId, orgId, 'Renewal']);
  await db.query(
    `insert into messages (id, org_id, account_id, thread_id, message_key, subject, from_address, received_at, raw_sha256)
     values ($1, $2, $3, $4, $5, 'Renewal', $6, now(), $7)`,
    [id, orgId, accountId, threadId, `key-${id}`, from, new Uint8Array(32)],
  );
  await db.query(`insert into message_participants (message_id, address, role) values ($1, $2, 'from'), ($1, $3, 'to')`, [
    id,
    from,
    to,
  ]);
  return id;
}

describe.each(driverCases())('email sharing decides visibility on $name', ({ create }) => {
  let t: TestDb;
  let api: Client;
  let admin: Awaited<ReturnType<typeof signUpAdmin>>;
  let mark: Awaited<ReturnType<typeof addPerson>>;
  let claire: Awaited<ReturnType<typeof addPerson>>;
  let messageId: string;
  let contactId: string;

  const setMine = (mode: string, excludedDomains: string[] = [], audience: unknown = null) =>
    api.put('/api/me/email-sharing', { mode, excludedDomains, audience }, { cookie: mark.cookie });

  async function canSee(viewerId: string): Promise<boolean> {
    const rows = await t.db.query(`select 1 from messages m where m.id = $2 and m.id in ${visibleMessageIdsSql('$1::uuid', 'm.org_id')}`, [
      viewerId,
      messageId,
    ]);
    return rows.length === 1;
  }

  beforeAll(async () => {
    t = await create();
    const h = await createHarness(t.db);
    api = client(h.app);
    admin = await signUpAdmin(api);
    mark = await addPerson(api, admin.cookie, 'rep', 'Mark');
    claire = await addPerson(api, admin.cookie, 'rep', 'Claire');
    const accountId = await insertMailbox(t.db, admin.orgId, mark.userId, mark.email);
    contactId = await insertContact(t.db, admin.orgId, admin.userId, CUSTOMER);
    messageId = await insertMessage(t.db, admin.orgId, accountId, CUSTOMER, mark.email);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('a teammate sees Mark’s mail about a record under Public and not under Private', async () => {
    // Default (Custom, nothing flagged): only Mark.
    expect([await canSee(mark.userId), await canSee(claire.userId)]).toEqual([true, false]);
    expect((await setMine('public')).status).toBe(200);
    expect([await canSee(mark.userId), await canSee(claire.userId), await canSee(admin.userId)]).toEqual([true, true, true]);
    expect((await setMine('private')).status).toBe(200);
    expect([await canSee(mark.userId), await canSee(claire.userId), await canSee(admin.userId)]).toEqual([true, false, false]);
  });

  it('an excluded domain keeps the customer’s mail with Mark under Public', async () => {
    await setMine('public', ['@Customer.Example']);
    expect(await canSee(claire.userId)).toBe(false);
    await setMine('public', ['other.example']);
    expect(await canSee(claire.userId)).toBe(true);
  });

  it('a chosen audience limits Public to those people', async () => {
    await setMine('public', [], { userIds: [admin.userId], groupIds: [] });
    expect([await canSee(claire.userId), await canSee(admin.userId)]).toEqual([false, true]);
    await setMine('public', [], { userIds: [claire.userId], groupIds: [] });
    expect([await canSee(claire.userId), await canSee(admin.userId)]).toEqual([true, false]);
  });

  it('under Custom, a flagged record shares with the chosen audience, minus excluded domains', async () => {
    await setMine('custom');
    expect(await canSee(claire.userId)).toBe(false);
    await t.db.query(`insert into email_share_flags (owner_id, record_id, shared, hlc) values ($1, $2, true, 'test')`, [
      mark.userId,
      contactId,
    ]);
    expect(await canSee(claire.userId)).toBe(true);
    await setMine('custom', ['customer.example']);
    expect(await canSee(claire.userId)).toBe(false);
    await setMine('custom', [], { userIds: [admin.userId], groupIds: [] });
    expect([await canSee(claire.userId), await canSee(admin.userId)]).toEqual([false, true]);
    await t.db.query('delete from email_share_flags where owner_id = $1', [mark.userId]);
    expect(await canSee(admin.userId)).toBe(false);
  });

  it('private record access hides it from whoever cannot access the record', async () => {
    await setMine('public');
    expect((await api.put('/api/admin/organization', { recordAccess: 'private' }, { cookie: admin.cookie })).status).toBe(200);
    // The contact is the admin's: Claire (no share, not above the admin) loses it; the owner keeps it.
    expect([await canSee(claire.userId), await canSee(admin.userId), await canSee(mark.userId)]).toEqual([false, true, true]);
    await api.put('/api/admin/organization', { recordAccess: 'public' }, { cookie: admin.cookie });
    expect(await canSee(claire.userId)).toBe(true);
  });

  it('an admin’s change for Mark (locked) decides too', async () => {
    await setMine('public');
    await api.put(
      `/api/admin/email-sharing/${mark.userId}`,
      { mode: 'private', excludedDomains: [], audience: null, locked: true },
      { cookie: admin.cookie },
    );
    expect(await canSee(claire.userId)).toBe(false);
    expect((await setMine('public')).status).toBe(403);
    expect(await canSee(claire.userId)).toBe(false);
  });
});

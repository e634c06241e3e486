/**
 * @module scripts/bench/ui-seed
 * A person with a mailbox of synced mail for the UI benchmark: an
 * organization signed up through the real API (so the browser context holds
 * its session cookie), then threads of one to three messages over the last
 * 80 days (inside the sync window), a third of the senders contacts in the
 * CRM, written straight into the server's database as a finished sync would.
 */
import type { BrowserContext } from 'playwright-core';
import { insertRows } from '../../db/bulk';
import type { Db } from '../../db/types';
import type { MeDto } from '../../sync/api';

const DAY = 86_400_000;
const uuid = () => crypto.randomUUID();

export interface SeededPerson {
  userId: string;
  orgId: string;
  threads: number;
}

/** Signs up a new organization in `context` (which keeps the session cookie). */
async function signUp(context: BrowserContext, origin: string, tag: string): Promise<MeDto> {
  const res = await context.request.fetch('/api/auth/signup', {
    method: 'POST',
    headers: { origin },
    data: { orgName: `Bench ${tag}`, name: `Bench ${tag}`, email: `bench.${tag}@corp.test`, password: 'correct horse battery staple' },
  });
  if (!res.ok()) {
    throw new Error(`sign-up failed: ${res.status()} ${await res.text()}`);
  }
  return (await res.json()) as MeDto;
}

async function insertMailbox(db: Db, orgId: string, ownerId: string, address: string): Promise<string> {
  const id = uuid();
  await insertRows(db, 'mail_accounts', ['id', 'org_id', 'owner_id', 'label', 'email', 'provider', 'imap_host', 'imap_port', 'imap_security', 'imap_user', 'smtp_host', 'smtp_port', 'smtp_security', 'smtp_user', 'auth_kind', 'wrapped_dek', 'imap_secret'],
    [[id, orgId, ownerId, 'Work', address, 'custom', 'imap.test', 993, 'tls', address, 'smtp.test', 465, 'tls', address, 'password', 'k', 's']]);
  await insertRows(db, 'mail_account_addresses', ['account_id', 'address', 'is_default'], [[id, address, true]]);
  return id;
}

/** A contact for every third customer, so rows carry record chips as real inboxes do. */
async function insertContacts(db: Db, orgId: string, ownerId: string, customers: number): Promise<void> {
  const contacts = Array.from({ length: Math.ceil(customers / 3) }, (_, i) => ({ id: uuid(), i: i * 3 }));
  await insertRows(db, 'records', ['id', 'org_id', 'type', 'owner_id', 'name'], contacts.map((c) => [c.id, orgId, 'contact', ownerId, `Customer ${c.i}`]));
  await insertRows(db, 'record_emails', ['org_id', 'address', 'record_type', 'record_id', 'is_primary'], contacts.map((c) => [orgId, `c${c.i}@customer.test`, 'contact', c.id, true]));
}

async function insertThreads(db: Db, orgId: string, accountId: string, address: string, count: number): Promise<void> {
  const threads = Array.from({ length: count }, uuid);
  await insertRows(db, 'threads', ['id', 'org_id', 'subject'], threads.map((id, t) => [id, orgId, `Quote request ${t}`]));
  const messages: unknown[][] = [];
  const parts: unknown[][] = [];
  const now = Date.now();
  const customers = Math.max(1, Math.ceil(count / 2));
  threads.forEach((threadId, t) => {
    const customer = `c${t % customers}@customer.test`;
    for (let k = 0; k < 1 + (t % 3); k++) {
      const id = uuid();
      const receivedAt = new Date(now - (t / count) * 80 * DAY - k * 60_000);
      messages.push([id, orgId, accountId, threadId, `k:${id}`, receivedAt, new Uint8Array(32), `Quote request ${t}`, `Hello, about the quote for order ${t}: could you send the updated figures by Friday?`, customer]);
      parts.push([id, customer, 'from'], [id, address, 'to']);
    }
  });
  await insertRows(db, 'messages', ['id', 'org_id', 'account_id', 'thread_id', 'message_key', 'received_at', 'raw_sha256', 'subject', 'snippet', 'from_address'], messages);
  await insertRows(db, 'message_participants', ['message_id', 'address', 'role'], parts);
}

/** Signs a new person up in `context` and gives their own mailbox `threads` conversations. */
export async function seedPerson(db: Db, context: BrowserContext, origin: string, tag: string, threads: number): Promise<SeededPerson> {
  const me = await signUp(context, origin, tag);
  const address = `bench.${tag}@corp.test`;
  const accountId = await insertMailbox(db, me.org.id, me.user.id, address);
  await insertContacts(db, me.org.id, me.user.id, Math.ceil(threads / 2));
  await insertThreads(db, me.org.id, accountId, address, threads);
  await db.query('analyze');
  return { userId: me.user.id, orgId: me.org.id, threads };
}

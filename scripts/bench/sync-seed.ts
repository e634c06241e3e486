/**
 * @module scripts/bench/sync-seed
 * Organizations for the sync benchmarks, written with multi-row inserts: a
 * manager over everyone, one mailbox per person, contacts on most senders,
 * and threads of a few messages spread over the last 80 days.
 */
import { insertRows } from '../../db/bulk';
import type { Db } from '../../db/types';

const DAY = 86_400_000;
const uuid = () => crypto.randomUUID();

export interface SeedOptions {
  people: number;
  threads: number;
  /** Average messages per thread. */
  perThread: number;
  /** Every mailbox Public (everyone sees every thread), or every other one (the rest Custom). */
  sharing: 'all-public' | 'half-public';
}

export interface SeededOrg {
  orgId: string;
  people: string[];
  accounts: string[];
  records: string[];
  /** Newest activity first. */
  threads: string[];
}

async function insertPeople(db: Db, org: SeededOrg, o: SeedOptions): Promise<void> {
  const { orgId, people, accounts } = org;
  await insertRows(db, 'organizations', ['id', 'name'], [[orgId, 'Bench']]);
  await insertRows(db, 'users', ['id', 'org_id', 'email', 'name', 'password_hash', 'role', 'manager_id'],
    people.map((id, i) => [id, orgId, `p${i}.${orgId.slice(0, 8)}@people.test`, `Person ${i}`, 'x', i === 0 ? 'admin' : 'rep', i === 0 ? null : people[0]]));
  await insertRows(db, 'mail_accounts', ['id', 'org_id', 'owner_id', 'label', 'email', 'provider', 'imap_host', 'imap_port', 'imap_security', 'imap_user', 'smtp_host', 'smtp_port', 'smtp_security', 'smtp_user', 'auth_kind', 'wrapped_dek', 'imap_secret'],
    accounts.map((id, i) => [id, orgId, people[i], 'Box', `rep${i}@corp.test`, 'custom', 'imap.test', 993, 'tls', 'u', 'smtp.test', 465, 'tls', 'u', 'password', 'k', 's']));
  await insertRows(db, 'mail_account_addresses', ['account_id', 'address', 'is_default'], accounts.map((id, i) => [id, `rep${i}@corp.test`, true]));
  const mode = (i: number) => (o.sharing === 'all-public' || i % 2 === 0 ? 'public' : 'custom');
  await insertRows(db, 'email_sharing', ['user_id', 'org_id', 'mode'], people.map((id, i) => [id, orgId, mode(i)]));
}

async function insertRecords(db: Db, org: SeededOrg): Promise<void> {
  const { orgId, people, records } = org;
  await insertRows(db, 'records', ['id', 'org_id', 'type', 'owner_id', 'name'], records.map((id, i) => [id, orgId, 'contact', people[i % people.length], `Contact ${i}`]));
  await insertRows(db, 'record_emails', ['org_id', 'address', 'record_type', 'record_id', 'is_primary'], records.map((id, i) => [orgId, `c${i}.${orgId.slice(0, 8)}@customer.test`, 'contact', id, true]));
  await insertRows(db, 'email_share_flags', ['owner_id', 'record_id', 'shared', 'hlc'], records.filter((_, i) => i % 4 === 1).map((id, k) => [people[(k * 4 + 1) % people.length], id, true, '0']));
}

async function insertThreads(db: Db, org: SeededOrg, o: SeedOptions): Promise<void> {
  const { orgId, accounts, records, threads } = org;
  await insertRows(db, 'threads', ['id', 'org_id', 'subject'], threads.map((id, i) => [id, orgId, `Thread ${i}`]));
  const messages: unknown[][] = [];
  const parts: unknown[][] = [];
  const now = Date.now();
  threads.forEach((threadId, t) => {
    const count = Math.max(1, Math.round(o.perThread + (t % 3) - 1));
    for (let k = 0; k < count; k++) {
      const owner = (t * 7 + k * 3) % accounts.length;
      const id = uuid();
      const customer = t % 5 === 4 ? `stranger${t}@else.test` : `c${t % records.length}.${orgId.slice(0, 8)}@customer.test`;
      const receivedAt = new Date(now - (t / threads.length) * 80 * DAY - k * 60_000);
      messages.push([id, orgId, accounts[owner], threadId, `k:${id}`, receivedAt, new Uint8Array(32), `Subject of thread ${t} message ${k}`, `A snippet of text for message ${k} in thread ${t}, about the quote.`, customer]);
      parts.push([id, customer, 'from'], [id, `rep${owner}@corp.test`, 'to']);
    }
  });
  await insertRows(db, 'messages', ['id', 'org_id', 'account_id', 'thread_id', 'message_key', 'received_at', 'raw_sha256', 'subject', 'snippet', 'from_address'], messages);
  await insertRows(db, 'message_participants', ['message_id', 'address', 'role'], parts);
}

/** Seeds one organization and analyzes, so the projection's queries are planned on real statistics. */
export async function seedOrg(db: Db, o: SeedOptions): Promise<SeededOrg> {
  const org: SeededOrg = {
    orgId: uuid(),
    people: Array.from({ length: o.people }, uuid),
    accounts: Array.from({ length: o.people }, uuid),
    records: Array.from({ length: Math.ceil(o.threads / 3) }, uuid),
    threads: Array.from({ length: o.threads }, uuid),
  };
  await insertPeople(db, org, o);
  await insertRecords(db, org);
  await insertThreads(db, org, o);
  await db.query('analyze');
  return org;
}

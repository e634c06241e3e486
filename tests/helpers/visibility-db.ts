/**
 * @module tests/helpers/visibility-db
 * Writes model organizations (tests/helpers/visibility-model.ts) into a real
 * database, with the smallest valid rows, and maps the ids back to the
 * model's indexes, so the SQL filter can be compared with the module.
 */
import { randomUUID } from 'node:crypto';
import { insertRows } from '../../db/bulk';
import type { Queryable } from '../../db/types';
import { aliasAddress, ownAddress, type ModelOrg } from './visibility-model';

export interface StoredOrg {
  orgId: string;
  people: string[];
  groups: string[];
  records: string[];
  /** Accounts by owner index (one per person). */
  accounts: string[];
  messages: string[];
  /** Thread of each message: messages share threads, so counts and previews can leak if filtered wrongly. */
  threadOf: string[];
}

type Rows = Record<string, unknown[][]>;

const ZERO_HASH = new Uint8Array(32);

function idsFor(n: number): string[] {
  return Array.from({ length: n }, () => randomUUID());
}

/** A raw message with one text attachment, `attachment of m<i>`, for the download endpoint. */
export function rawWithAttachment(i: number): Uint8Array {
  const text = [
    'From: sender@model.test',
    'To: rep@corp.test',
    `Subject: Subject m${i}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `body token m${i}`,
    '--b',
    `Content-Type: text/plain; name="m${i}.txt"`,
    `Content-Disposition: attachment; filename="m${i}.txt"`,
    '',
    `attachment of m${i}`,
    '--b--',
    '',
  ].join('\r\n');
  return new TextEncoder().encode(text);
}

function collect(org: ModelOrg, rows: Rows, withContent: boolean): StoredOrg {
  const s: StoredOrg = {
    orgId: randomUUID(),
    people: idsFor(org.people.length),
    groups: idsFor(org.groupCount),
    records: idsFor(org.records.length),
    accounts: idsFor(org.people.length),
    messages: idsFor(org.messages.length),
    threadOf: [],
  };
  const threads = idsFor(Math.max(1, Math.ceil(org.messages.length / 2)));
  s.threadOf = org.messages.map((_, i) => threads[i % threads.length] as string);
  const push = (table: string, row: unknown[]) => (rows[table] ??= []).push(row);
  push('organizations', [s.orgId, 'Model org', org.recordAccess]);
  org.people.forEach((p, i) => {
    const id = s.people[i] as string;
    push('users', [id, s.orgId, `${id}@people.test`, p.name ?? `Person ${i}`, 'x', p.role ?? 'rep', p.manager === null ? null : s.people[p.manager]]);
    p.groups.forEach((g) => push('group_members', [s.groups[g], id]));
    push('mail_accounts', [s.accounts[i], s.orgId, id, 'Mailbox', ownAddress(i), 'custom', 'imap.test', 993, 'tls', 'u', 'smtp.test', 465, 'tls', 'u', 'password', 'k', 's']);
    push('mail_account_addresses', [s.accounts[i], ownAddress(i), true]);
    if (p.alias) {
      push('mail_account_addresses', [s.accounts[i], aliasAddress(i), false]);
    }
    if (p.sharing) {
      push('email_sharing', [id, s.orgId, p.sharing.mode, p.sharing.excluded, p.sharing.audience !== null]);
      p.sharing.audience?.people.forEach((x) => push('email_sharing_audience', [id, s.people[x], null]));
      p.sharing.audience?.groups.forEach((g) => push('email_sharing_audience', [id, null, s.groups[g]]));
    }
  });
  s.groups.forEach((id, g) => push('groups', [id, s.orgId, `Group ${g}`]));
  org.records.forEach((r, i) => {
    const id = s.records[i] as string;
    const account = r.account === null || r.account === undefined ? null : s.records[r.account];
    push('records', [id, s.orgId, r.type, s.people[r.owner], r.name ?? `Record ${i}`, r.type === 'deal' ? 'open' : null, account]);
    r.contacts?.forEach((c) => push('deal_contacts', [id, s.records[c]]));
    r.addresses.forEach((a, k) => push('record_emails', [s.orgId, a, r.type, id, k === 0]));
    r.sharedPeople.forEach((p) => push('record_shares', [id, s.people[p], null]));
    r.sharedGroups.forEach((g) => push('record_shares', [id, null, s.groups[g]]));
  });
  org.flags.forEach(([p, r, on]) => push('email_share_flags', [s.people[p], s.records[r], on, '0']));
  org.messages.forEach((m, i) => {
    const id = s.messages[i] as string;
    const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000);
    const to = m.participants.slice(1).map((address) => ({ address, name: null }));
    push('messages', [
      id, s.orgId, s.accounts[m.owner], s.threadOf[i], `k:${id}`, at, ZERO_HASH, m.sentFromShoal, `Subject m${i}`, `snippet m${i}`, `body token m${i}`,
      m.participants[0], JSON.stringify(to), m.inbound ? 'inbound' : 'outbound', m.seen ?? false,
      JSON.stringify(withContent ? [{ filename: `m${i}.txt`, contentType: 'text/plain', size: 16, partIndex: 0 }] : []),
    ]);
    m.participants.forEach((a, k) => push('message_participants', [id, a, k === 0 ? 'from' : 'to']));
    if (withContent) {
      push('message_raw', [id, rawWithAttachment(i)]);
    }
  });
  // A thread carries its first message's subject, which the viewer of a later message may not be allowed to read.
  threads.forEach((id, t) => push('threads', [id, s.orgId, `Subject m${t}`]));
  return s;
}

/** Table → columns, in an order that satisfies the foreign keys. */
const TABLES: [string, string[]][] = [
  ['organizations', ['id', 'name', 'record_access']],
  ['users', ['id', 'org_id', 'email', 'name', 'password_hash', 'role', 'manager_id']],
  ['groups', ['id', 'org_id', 'name']],
  ['group_members', ['group_id', 'user_id']],
  ['mail_accounts', ['id', 'org_id', 'owner_id', 'label', 'email', 'provider', 'imap_host', 'imap_port', 'imap_security', 'imap_user', 'smtp_host', 'smtp_port', 'smtp_security', 'smtp_user', 'auth_kind', 'wrapped_dek', 'imap_secret']],
  ['mail_account_addresses', ['account_id', 'address', 'is_default']],
  ['email_sharing', ['user_id', 'org_id', 'mode', 'excluded_domains::text[]', 'restricted']],
  ['email_sharing_audience', ['owner_id', 'user_id', 'group_id']],
  ['records', ['id', 'org_id', 'type', 'owner_id', 'name', 'stage', 'account_id']],
  ['deal_contacts', ['deal_id', 'contact_id']],
  ['record_emails', ['org_id', 'address', 'record_type', 'record_id', 'is_primary']],
  ['record_shares', ['record_id', 'user_id', 'group_id']],
  ['email_share_flags', ['owner_id', 'record_id', 'shared', 'hlc']],
  ['threads', ['id', 'org_id', 'subject']],
  ['messages', ['id', 'org_id', 'account_id', 'thread_id', 'message_key', 'received_at', 'raw_sha256', 'sent_from_shoal', 'subject', 'snippet', 'text_body', 'from_address', 'to_addresses::text::jsonb', 'direction', 'seen', 'attachments::text::jsonb']],
  ['message_participants', ['message_id', 'address', 'role']],
  ['message_raw', ['message_id', 'raw::bytea']],
];

/**
 * Inserts model organizations in one transaction's worth of multi-row inserts.
 * @param options.withContent also store each message's raw bytes with one attachment (for the download endpoint).
 */
export async function storeModelOrgs(q: Queryable, orgs: readonly ModelOrg[], options: { withContent?: boolean } = {}): Promise<StoredOrg[]> {
  const rows: Rows = {};
  const stored = orgs.map((org) => collect(org, rows, options.withContent ?? false));
  for (const [table, columns] of TABLES) {
    await insertRows(q, table, columns, rows[table] ?? []);
  }
  return stored;
}

/**
 * @module db/queries/ingest-batch
 * Set-at-a-time reads and writes for storing a batch of fetched messages.
 */
import { castColumns, copyRows, insertRows, type TypedColumn } from '../bulk';
import type { NewMessage } from './messages';
import type { Queryable, Tx } from '../types';

/** UIDs of a folder already stored or quarantined (a replay skips them). */
export async function storedUids(q: Queryable, folderId: string, uidvalidity: number, uids: readonly number[]): Promise<Set<number>> {
  if (uids.length === 0) {
    return new Set();
  }
  const rows = await q.query<{ uid: number }>(
    `select uid from message_locations where folder_id = $1 and uidvalidity = $2 and uid = any($3::bigint[])
     union select uid from message_quarantine where folder_id = $1 and uidvalidity = $2 and uid = any($3::bigint[])`,
    [folderId, uidvalidity, uids],
  );
  return new Set(rows.map((r) => Number(r.uid)));
}

/** Which of these stable keys already name a message of the account. */
export async function existingMessageKeys(q: Queryable, accountId: string, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) {
    return new Map();
  }
  const rows = await q.query<{ key: string; id: string }>(
    'select message_key as key, id from messages where account_id = $1 and message_key = any($2::text[])',
    [accountId, [...new Set(keys)]],
  );
  return new Map(rows.map((r) => [r.key, r.id]));
}

export async function insertThreadRows(q: Queryable, rows: { id: string; orgId: string; subject: string; normalizedSubject: string }[]) {
  await insertRows(q, 'threads', ['id', 'org_id', 'subject', 'normalized_subject'], rows.map((r) => [r.id, r.orgId, r.subject, r.normalizedSubject]));
}

const MESSAGE_COLUMNS: readonly TypedColumn[] = [
  { name: 'id', type: 'uuid' },
  { name: 'org_id', type: 'uuid' },
  { name: 'account_id', type: 'uuid' },
  { name: 'thread_id', type: 'uuid' },
  { name: 'message_key', type: 'text' },
  { name: 'header_message_id', type: 'text' },
  { name: 'in_reply_to', type: 'text' },
  { name: '"references"', type: 'text[]' },
  { name: 'subject', type: 'text' },
  { name: 'from_address', type: 'text' },
  { name: 'from_name', type: 'text' },
  { name: 'to_addresses', type: 'jsonb' },
  { name: 'cc_addresses', type: 'jsonb' },
  { name: 'bcc_addresses', type: 'jsonb' },
  { name: 'reply_to', type: 'jsonb' },
  { name: 'sent_at', type: 'timestamptz' },
  { name: 'received_at', type: 'timestamptz' },
  { name: 'snippet', type: 'text' },
  { name: 'text_body', type: 'text' },
  { name: 'html_body', type: 'text' },
  { name: 'headers', type: 'jsonb' },
  { name: 'attachments', type: 'jsonb' },
  { name: 'size', type: 'int4' },
  { name: 'raw_sha256', type: 'bytea' },
  { name: 'email_id', type: 'text' },
  { name: 'gm_thread_id', type: 'text' },
  { name: 'seen', type: 'bool' },
  { name: 'flags', type: 'text[]' },
  { name: 'direction', type: 'text' },
];

const RAW_COLUMNS: readonly TypedColumn[] = [
  { name: 'message_id', type: 'uuid' },
  { name: 'raw', type: 'bytea' },
];

/** A `messages` row's values in MESSAGE_COLUMNS order; JSON as text (see db/bulk). */
function messageValues(m: NewMessage): unknown[] {
  return [
    m.id, m.orgId, m.accountId, m.threadId, m.messageKey, m.headerMessageId, m.inReplyTo, m.references, m.subject,
    m.fromAddress, m.fromName, JSON.stringify(m.to), JSON.stringify(m.cc), JSON.stringify(m.bcc), JSON.stringify(m.replyTo),
    m.sentAt, m.receivedAt, m.snippet, m.textBody, m.htmlBody, JSON.stringify(m.headers), JSON.stringify(m.attachments),
    m.size, m.rawSha256, m.emailId, m.gmThreadId, m.seen, m.flags, m.direction,
  ];
}

/** Inserts messages and their raw bytes with INSERT (one message at a time, when sending). */
export async function insertMessageRows(q: Queryable, rows: { message: NewMessage; raw: Uint8Array }[]): Promise<void> {
  await insertRows(q, 'messages', castColumns(MESSAGE_COLUMNS), rows.map((r) => messageValues(r.message)));
  await insertRows(q, 'message_raw', castColumns(RAW_COLUMNS), rows.map((r) => [r.message.id, r.raw]));
}

/**
 * Appends a synced batch of new messages and their raw bytes with binary COPY:
 * the raw bytes and bodies are most of a batch, and COPY sends them as they are.
 */
export async function copyMessageRows(tx: Tx, rows: readonly { message: NewMessage; raw: Uint8Array }[]): Promise<void> {
  await copyRows(tx, 'messages', MESSAGE_COLUMNS, rows.map((r) => messageValues(r.message)));
  await copyRows(tx, 'message_raw', RAW_COLUMNS, rows.map((r) => [r.message.id, r.raw]));
}

export async function insertParticipantRows(q: Queryable, rows: { messageId: string; address: string; role: string }[]) {
  if (rows.length === 0) {
    return;
  }
  await q.query(
    `insert into message_participants (message_id, address, role)
     select * from unnest($1::uuid[], $2::text[], $3::text[]) on conflict do nothing`,
    [rows.map((r) => r.messageId), rows.map((r) => r.address), rows.map((r) => r.role)],
  );
}

/** Own Message-IDs (a phantom becomes real) and phantoms for referenced ids. */
export async function insertMessageIdRows(
  q: Queryable,
  orgId: string,
  own: { headerId: string; threadId: string; messageId: string }[],
  phantoms: { headerId: string; threadId: string }[],
): Promise<void> {
  if (own.length > 0) {
    await q.query(
      `insert into org_message_ids (org_id, header_message_id, thread_id, message_id)
       select $1, * from unnest($2::text[], $3::uuid[], $4::uuid[])
       on conflict (org_id, header_message_id) do update set message_id = excluded.message_id, thread_id = excluded.thread_id
       where org_message_ids.message_id is null`,
      [orgId, own.map((o) => o.headerId), own.map((o) => o.threadId), own.map((o) => o.messageId)],
    );
  }
  if (phantoms.length > 0) {
    await q.query(
      `insert into org_message_ids (org_id, header_message_id, thread_id)
       select $1, * from unnest($2::text[], $3::uuid[]) on conflict do nothing`,
      [orgId, phantoms.map((p) => p.headerId), phantoms.map((p) => p.threadId)],
    );
  }
}

export async function insertDecisionRows(
  q: Queryable,
  rows: { orgId: string; messageId: string; threadId: string; reason: string; detail: Record<string, unknown> }[],
): Promise<void> {
  await insertRows(
    q,
    'thread_decisions',
    ['id', 'org_id', 'message_id', 'thread_id', 'reason', 'detail::text::jsonb'],
    rows.map((r) => [crypto.randomUUID(), r.orgId, r.messageId, r.threadId, r.reason, JSON.stringify(r.detail)]),
  );
}

export async function insertLocationRows(
  q: Queryable,
  rows: { folderId: string; uidvalidity: number; uid: number; messageId: string; flags: string[]; modseq: number | null }[],
): Promise<void> {
  await insertRows(
    q,
    'message_locations',
    ['folder_id', 'uidvalidity', 'uid', 'message_id', 'flags::text[]', 'modseq::bigint'],
    rows.map((r) => [r.folderId, r.uidvalidity, r.uid, r.messageId, r.flags, r.modseq]),
    'on conflict do nothing',
  );
}

/** Adds each thread's new messages to its count and widens its time span. */
export async function touchThreadRows(q: Queryable, rows: { threadId: string; added: number; first: Date; last: Date }[]) {
  if (rows.length === 0) {
    return;
  }
  await q.query(
    `update threads t set message_count = t.message_count + d.n,
       first_message_at = least(coalesce(t.first_message_at, d.f), d.f),
       last_message_at = greatest(coalesce(t.last_message_at, d.l), d.l)
     from unnest($1::uuid[], $2::int[], $3::text[]::timestamptz[], $4::text[]::timestamptz[]) as d(id, n, f, l)
     where t.id = d.id`,
    // ISO strings: postgres.js does not send an array of Dates as timestamptz[].
    [rows.map((r) => r.threadId), rows.map((r) => r.added), rows.map((r) => r.first.toISOString()), rows.map((r) => r.last.toISOString())],
  );
}

/** A message found again (moved, or in a second folder): no longer orphaned, flags as the server has them. */
export async function relinkMessageRows(q: Queryable, rows: { messageId: string; flags: string[] }[]): Promise<void> {
  for (const r of rows) {
    await q.query('update messages set orphaned_at = null, seen = $2, flags = $3 where id = $1', [
      r.messageId,
      r.flags.includes('\\Seen'),
      r.flags,
    ]);
  }
}

export async function insertQuarantineRows(
  q: Queryable,
  rows: { accountId: string; folderId: string; uidvalidity: number; uid: number; reason: string; raw: Uint8Array }[],
): Promise<void> {
  await insertRows(
    q,
    'message_quarantine',
    ['id', 'account_id', 'folder_id', 'uidvalidity', 'uid', 'reason', 'raw::bytea'],
    rows.map((r) => [crypto.randomUUID(), r.accountId, r.folderId, r.uidvalidity, r.uid, r.reason, r.raw]),
    'on conflict do nothing',
  );
}

/**
 * Refreshes the planner's statistics for the joins threading's lookups make.
 * Autovacuum looks about once a minute and PGlite never does; until then a
 * table filled from empty is planned as tiny, and the subject lookup scans
 * every participant row once per candidate thread. Only the join and filter
 * columns are sampled: the bodies would cost more than the rest together.
 */
export async function analyzeIngestTables(q: Queryable): Promise<void> {
  await q.query(
    `analyze threads (id, org_id, normalized_subject, last_message_at, merged_into),
       messages (id, thread_id), message_participants (message_id), org_message_ids (org_id, header_message_id, thread_id)`,
  );
}

/**
 * For the rest of the transaction, compresses large values (raw mail,
 * bodies) with lz4 where the server was built with it, and leaves pglz
 * otherwise (PGlite). On this corpus lz4 stores the same size for about a
 * third of pglz's CPU; values read back the same either way.
 */
export async function preferLz4(tx: Tx): Promise<void> {
  await tx.query(
    `select set_config('default_toast_compression', 'lz4', true) from pg_settings
     where name = 'default_toast_compression' and 'lz4' = any(enumvals)`,
  );
}

/**
 * @module db/queries/threads
 * Conversations and the per-organization Message-ID table (with phantoms),
 * scoped by organization in every lookup.
 */
import { insertDecisionRows, insertMessageIdRows, insertThreadRows, touchThreadRows } from './ingest-batch';
import type { Queryable } from '../types';

export interface ThreadHit {
  threadId: string;
  phantom: boolean;
  messageCount: number;
}

/** Maps Message-IDs to their threads (phantoms included). */
export async function threadsByMessageIds(q: Queryable, orgId: string, ids: readonly string[]): Promise<Map<string, ThreadHit>> {
  if (ids.length === 0) {
    return new Map();
  }
  const rows = await q.query<{ id: string } & ThreadHit>(
    `select o.header_message_id as id, o.thread_id as "threadId", (o.message_id is null) as phantom,
            t.message_count as "messageCount"
     from org_message_ids o join threads t on t.id = o.thread_id
     where o.org_id = $1 and o.header_message_id = any($2::text[])`,
    [orgId, ids],
  );
  return new Map(rows.map((r) => [r.id, { threadId: r.threadId, phantom: r.phantom, messageCount: r.messageCount }]));
}

/** The thread of a Gmail conversation id, if a message of it is stored. */
export async function threadByGmThreadId(q: Queryable, orgId: string, gmThreadId: string): Promise<{ threadId: string; messageCount: number } | null> {
  const rows = await q.query<{ threadId: string; messageCount: number }>(
    `select m.thread_id as "threadId", t.message_count as "messageCount" from messages m join threads t on t.id = m.thread_id
     where m.org_id = $1 and m.gm_thread_id = $2 limit 1`,
    [orgId, gmThreadId],
  );
  return rows[0] ?? null;
}

/** Threads with any of these normalized subjects active in a window, with their participants (one query per batch). */
export async function threadsBySubjects(
  q: Queryable,
  orgId: string,
  subjects: readonly string[],
  since: Date,
  until: Date,
): Promise<{ threadId: string; normalizedSubject: string; participants: string[]; lastMessageAt: number; messageCount: number }[]> {
  if (subjects.length === 0) {
    return [];
  }
  const rows = await q.query<{ threadId: string; normalizedSubject: string; participants: string[]; lastMessageAt: Date; messageCount: number }>(
    `select t.id as "threadId", t.normalized_subject as "normalizedSubject", t.last_message_at as "lastMessageAt",
            t.message_count as "messageCount",
            coalesce((select array_agg(distinct p.address) from message_participants p join messages m on m.id = p.message_id
                      where m.thread_id = t.id), '{}') as participants
     from threads t
     where t.org_id = $1 and t.normalized_subject = any($2::text[]) and t.merged_into is null
       and t.last_message_at between $3 and $4`,
    [orgId, [...new Set(subjects)], since, until],
  );
  return rows.map((r) => ({ ...r, lastMessageAt: r.lastMessageAt.getTime() }));
}

/** Creates an empty thread. */
export async function insertThread(q: Queryable, t: { id: string; orgId: string; subject: string; normalizedSubject: string }): Promise<void> {
  await insertThreadRows(q, [t]);
}

/** Counts one new message into its thread. */
export async function touchThread(q: Queryable, threadId: string, at: Date): Promise<void> {
  await touchThreadRows(q, [{ threadId, added: 1, first: at, last: at }]);
}

/**
 * Merges threads a message bridged into `into`: messages, Message-IDs and
 * counters move; the old rows point at the survivor for undo and audit.
 */
export async function mergeThreads(q: Queryable, into: string, from: readonly string[]): Promise<void> {
  const others = from.filter((id) => id !== into);
  if (others.length === 0) {
    return;
  }
  await q.query('update messages set thread_id = $1 where thread_id = any($2::uuid[])', [into, others]);
  await q.query('update org_message_ids set thread_id = $1 where thread_id = any($2::uuid[])', [into, others]);
  await q.query(
    `update threads t set message_count = (select count(*) from messages m where m.thread_id = t.id),
       first_message_at = (select min(coalesce(m.sent_at, m.received_at)) from messages m where m.thread_id = t.id),
       last_message_at = (select max(coalesce(m.sent_at, m.received_at)) from messages m where m.thread_id = t.id)
     where t.id = $1`,
    [into],
  );
  await q.query('update threads set merged_into = $1, message_count = 0 where id = any($2::uuid[])', [into, others]);
}

/** Records one message's own Message-ID (turning a phantom real) and phantoms for what it references. */
export async function recordMessageIds(
  q: Queryable,
  orgId: string,
  threadId: string,
  messageId: string,
  own: string | null,
  referenced: readonly string[],
): Promise<void> {
  const phantoms = [...new Set(referenced)].filter((r) => r !== own).map((headerId) => ({ headerId, threadId }));
  await insertMessageIdRows(q, orgId, own ? [{ headerId: own, threadId, messageId }] : [], phantoms);
}

/** Why one message is in its thread. */
export async function recordThreadDecision(
  q: Queryable,
  d: { orgId: string; messageId: string; threadId: string; reason: string; detail: Record<string, unknown> },
): Promise<void> {
  await insertDecisionRows(q, [d]);
}

/**
 * @module server/commands/mail-views
 * Reading mail: every list, thread, count and search goes through the
 * visibility-filtered queries of db/queries/mail-views.ts.
 */
import {
  accessibleLinkedRecords,
  countVisibleMail,
  listVisibleMessages,
  listVisibleThreads,
  ownersOfRecordMail,
  recordMailScope,
  visibleMessagesOfThreads,
  visibleThreadMessages,
  type MailFilter,
  type MessageRow,
} from '../../db/queries/mail-views';
import type { MailCountsDto, MessageListDto, RecordEmailsDto, ThreadDto, ThreadLane, ThreadListDto, ThreadView } from '../../sync/mail-api';
import type { Auth, Deps } from '../context';
import { invalid, notFound } from '../errors';
import { decodeCursor, encodeCursor, presentMessage, presentMessageSummary, presentThreadSummary } from '../presenters/mail';

export interface ThreadListQuery {
  view: ThreadView;
  owner?: string | undefined;
  lane: ThreadLane;
  q?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

function position(cursor: string | undefined) {
  if (cursor === undefined) {
    return null;
  }
  const at = decodeCursor(cursor);
  if (!at) {
    throw invalid('cursor', 'cursor: is not a cursor this list gave out');
  }
  return at;
}

function ownerFor(auth: Auth, view: ThreadView, owner: string | undefined): string | null {
  if (view === 'mine') {
    return auth.user.id;
  }
  if (view === 'person') {
    if (!owner) {
      throw invalid('owner', 'owner: is required for the person view');
    }
    return owner;
  }
  return null;
}

/** A page of the threads the viewer may see. */
export async function listThreads(deps: Deps, auth: Auth, query: ThreadListQuery): Promise<ThreadListDto> {
  const filter: MailFilter = { viewerId: auth.user.id, orgId: auth.user.orgId, ownerId: ownerFor(auth, query.view, query.owner), text: query.q ?? null };
  const rows = await listVisibleThreads(deps.db, { ...filter, lane: query.lane, limit: query.limit + 1, after: position(query.cursor) });
  const page = rows.slice(0, query.limit);
  const messages = await visibleMessagesOfThreads(deps.db, filter, page.map((t) => t.id));
  const records = await accessibleLinkedRecords(deps.db, auth.user.id, messages.map((m) => m.id));
  const byThread = new Map<string, MessageRow[]>();
  for (const m of messages) {
    byThread.set(m.threadId, [...(byThread.get(m.threadId) ?? []), m]);
  }
  const last = page.at(-1);
  return {
    threads: page.map((t) => presentThreadSummary(t, byThread.get(t.id) ?? [], records)),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.lastMessageAt, last.id) : null,
  };
}

/** One thread, with the messages the viewer may see; 404 when they may see none. */
export async function getThread(deps: Deps, auth: Auth, threadId: string): Promise<ThreadDto> {
  const filter: MailFilter = { viewerId: auth.user.id, orgId: auth.user.orgId };
  const messages = await visibleThreadMessages(deps.db, filter, threadId);
  const first = messages[0];
  if (!first) {
    throw notFound('Conversation');
  }
  const records = await accessibleLinkedRecords(deps.db, auth.user.id, messages.map((m) => m.id));
  return { id: threadId, subject: first.subject, messages: messages.map((m) => presentMessage(m, records)) };
}

export interface MessagePageInput {
  cursor?: string | undefined;
  limit: number;
}

function messagePage(rows: MessageRow[], limit: number): MessageListDto {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    messages: page.map(presentMessageSummary),
    nextCursor: rows.length > limit && last ? encodeCursor(last.date, last.id) : null,
  };
}

/** The Emails related list of a record: visible mail about it, optionally from one mailbox owner. */
export async function listRecordEmails(
  deps: Deps,
  auth: Auth,
  recordId: string,
  input: MessagePageInput & { owner?: string | undefined },
): Promise<RecordEmailsDto> {
  const recordIds = await recordMailScope(deps.db, auth.user.id, auth.user.orgId, recordId);
  if (!recordIds) {
    throw notFound('Record');
  }
  const filter: MailFilter = { viewerId: auth.user.id, orgId: auth.user.orgId };
  const ownerId = input.owner && input.owner !== 'all' ? input.owner : null;
  const rows = await listVisibleMessages(deps.db, { ...filter, ownerId, recordIds, limit: input.limit + 1, after: position(input.cursor) });
  const owners = await ownersOfRecordMail(deps.db, filter, recordIds);
  return { ...messagePage(rows, input.limit), owners };
}

/** Search over the mail the viewer may see. */
export async function searchMail(deps: Deps, auth: Auth, input: MessagePageInput & { q: string }): Promise<MessageListDto> {
  const rows = await listVisibleMessages(deps.db, {
    viewerId: auth.user.id,
    orgId: auth.user.orgId,
    text: input.q,
    limit: input.limit + 1,
    after: position(input.cursor),
  });
  return messagePage(rows, input.limit);
}

/** How much mail the viewer may see, per mailbox owner. */
export async function mailCounts(deps: Deps, auth: Auth): Promise<MailCountsDto> {
  const rows = await countVisibleMail(deps.db, { viewerId: auth.user.id, orgId: auth.user.orgId });
  return {
    total: rows.reduce((n, r) => n + r.total, 0),
    unread: rows.reduce((n, r) => n + r.unread, 0),
    byOwner: rows.map((r) => ({ owner: { id: r.id, name: r.name }, total: r.total, unread: r.unread })),
  };
}

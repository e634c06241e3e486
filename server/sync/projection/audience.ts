/**
 * @module server/sync/projection/audience
 * Who a domain change concerns and what of their document to re-read. Only
 * documents this process hosts are considered: everyone else is rebuilt
 * from canonical state when their document is next opened.
 *
 * For a thread, the audience is everyone who can see a message of it (SQL
 * over the organization's active people) plus everyone whose document holds
 * it, so a revoked thread is deleted. Changes that can move visibility
 * anywhere in an organization (sharing setting, record access, reporting
 * line) re-read everything for its hosted people.
 */
import type * as Y from 'yjs';
import {
  findAccountOwner,
  findOrgOf,
  listMergedThreads,
  listThreadAudience,
  listThreadsAboutRecord,
  listThreadsFlaggable,
  listThreadsOfOwner,
  listThreadsOfBatch,
  listThreadsOfMessages,
  listThreadsStartedBefore,
} from '../../../db/queries/projection-audience';
import type { ViewerRow } from '../../../db/queries/projection';
import type { Queryable } from '../../../db/types';
import { MAPS } from '../../../sync/doc/schema';
import { readSummaries } from '../../../sync/doc/thread-codec';
import { docMap } from '../../../sync/doc/projection';
import type { DomainChange } from './changes';
import { FULL_SCOPE, mergeScopes, type RefreshScope } from './scope';

export interface HostedPerson {
  viewer: ViewerRow;
  doc: Y.Doc;
}

export interface AudienceContext {
  db: Queryable;
  /** The people whose documents this process writes now. */
  hosted: ReadonlyMap<string, HostedPerson>;
  /** Start of the working-set activity window. */
  windowStart: Date;
}

/** Per person, what to re-read; merged over every change of a burst. */
export type ScopePlan = Map<string, RefreshScope>;

function add(plan: ScopePlan, userIds: Iterable<string>, scope: RefreshScope): void {
  for (const id of userIds) {
    plan.set(id, mergeScopes(plan.get(id) ?? {}, scope));
  }
}

function peopleOf(ctx: AudienceContext, orgId: string | null): string[] {
  return orgId === null ? [] : [...ctx.hosted].filter(([, p]) => p.viewer.orgId === orgId).map(([id]) => id);
}

function holdersOf(ctx: AudienceContext, people: readonly string[], has: (threads: Y.Map<unknown>) => boolean): string[] {
  return people.filter((id) => {
    const doc = ctx.hosted.get(id)?.doc;
    return doc !== undefined && has(docMap(doc, MAPS.threads));
  });
}

const holdsAny = (threadIds: readonly string[]) => (threads: Y.Map<unknown>) => threadIds.some((id) => threads.has(id));

/** Everyone hosted who sees a message of these threads or holds one of them re-reads them. */
async function refreshThreads(ctx: AudienceContext, plan: ScopePlan, orgId: string | null, threadIds: readonly string[]): Promise<string[]> {
  const people = peopleOf(ctx, orgId);
  if (threadIds.length === 0 || people.length === 0 || orgId === null) {
    return [];
  }
  const seeing = await listThreadAudience(ctx.db, orgId, people, threadIds);
  const affected = [...new Set([...seeing, ...holdersOf(ctx, people, holdsAny(threadIds))])];
  add(plan, affected, { threadIds });
  return affected;
}

async function onMessages(ctx: AudienceContext, plan: ScopePlan, c: Extract<DomainChange, { kind: 'messages' }>): Promise<void> {
  const stored = [
    ...(c.threadIds ?? []),
    ...(c.batch ? await listThreadsOfBatch(ctx.db, c.batch) : []),
    ...(c.messageIds?.length ? await listThreadsOfMessages(ctx.db, c.messageIds) : []),
  ];
  const threadIds = [...new Set([...stored, ...(await listMergedThreads(ctx.db, stored))])];
  const orgId = await findOrgOf(ctx.db, { accountId: c.accountId });
  await refreshThreads(ctx, plan, orgId, threadIds);
  const owner = await findAccountOwner(ctx.db, c.accountId);
  if (owner !== null) {
    add(plan, [owner].filter((id) => ctx.hosted.has(id)), { maps: [MAPS.accounts, MAPS.notifications] });
  }
}

/**
 * A committed edit: holders get the fields. For threads older than the
 * window, status and assignee also decide membership, so those are re-read
 * whole for their audience.
 */
async function onThreadFields(ctx: AudienceContext, plan: ScopePlan, c: Extract<DomainChange, { kind: 'thread-fields' }>): Promise<void> {
  // Both reads at once: an edit's fan-out waits for them.
  const [orgId, old] = await Promise.all([findOrgOf(ctx.db, { threadIds: c.threadIds }), listThreadsStartedBefore(ctx.db, c.threadIds, ctx.windowStart)]);
  const people = peopleOf(ctx, orgId);
  add(plan, holdersOf(ctx, people, holdsAny(c.threadIds)), { fieldThreadIds: c.threadIds });
  await refreshThreads(ctx, plan, orgId, people.length > 0 ? old : []);
}

async function onShareFlag(ctx: AudienceContext, plan: ScopePlan, c: Extract<DomainChange, { kind: 'share-flag' }>): Promise<void> {
  add(plan, [c.ownerId].filter((id) => ctx.hosted.has(id)), { recordIds: [c.recordId] });
  const orgId = await findOrgOf(ctx.db, { userId: c.ownerId });
  const affected = await refreshThreads(ctx, plan, orgId, await listThreadsFlaggable(ctx.db, c.ownerId, c.recordId));
  add(plan, affected, { maps: [MAPS.notifications] });
}

/**
 * A record's links, owner or deal relations changed: the threads about it
 * now and the threads it was about before the change (links it just lost,
 * carried by the change: a deleted record or a removed address leaves no
 * trace to find them by, and a document's `recordIds` name only records its
 * person can access, while the lane follows every linked record), plus, per
 * person, the threads their document shows linked to it; its summary for
 * whoever holds it or owns it.
 */
async function onRecord(ctx: AudienceContext, plan: ScopePlan, c: Extract<DomainChange, { kind: 'record-created' | 'record-changed' | 'record-deleted' }>): Promise<void> {
  const orgId = c.orgId ?? (await findOrgOf(ctx.db, { recordId: c.recordId }));
  const people = peopleOf(ctx, orgId);
  if (people.length === 0) {
    return;
  }
  const about = [...new Set([...(c.threadIds ?? []), ...(await listThreadsAboutRecord(ctx.db, c.recordId))])];
  const affected = new Set(await refreshThreads(ctx, plan, orgId, about));
  for (const id of people) {
    const doc = ctx.hosted.get(id)?.doc as Y.Doc;
    const linked = [...readSummaries(doc)].filter(([, t]) => t.recordIds.includes(c.recordId)).map(([tid]) => tid);
    if (linked.length > 0) {
      add(plan, [id], { threadIds: linked });
      affected.add(id);
    }
    if (docMap(doc, MAPS.records).has(c.recordId)) {
      affected.add(id);
    }
  }
  // The owner (new or old) may gain or lose it among their own records; a cheap check for everyone hosted.
  add(plan, people, { recordIds: [c.recordId] });
  add(plan, affected, { maps: [MAPS.notifications] });
}

async function onAccount(ctx: AudienceContext, plan: ScopePlan, c: Extract<DomainChange, { kind: 'account' }>): Promise<void> {
  const ownerId = c.ownerId ?? (await findAccountOwner(ctx.db, c.accountId));
  if (ownerId !== null) {
    add(plan, [ownerId].filter((id) => ctx.hosted.has(id)), { maps: [MAPS.accounts] });
  }
  if (!c.removed || ownerId === null) {
    return;
  }
  // Its messages are gone: every thread a document shows with this owner's mail is re-read.
  const orgId = c.orgId ?? (await findOrgOf(ctx.db, { userId: ownerId }));
  for (const id of peopleOf(ctx, orgId)) {
    const doc = ctx.hosted.get(id)?.doc as Y.Doc;
    const threadIds = [...readSummaries(doc)].filter(([, t]) => t.mailboxOwnerIds.includes(ownerId)).map(([tid]) => tid);
    if (threadIds.length > 0) {
      add(plan, [id], { threadIds });
    }
  }
}

/** Adds to `plan` what `change` asks of each hosted person. */
export async function planChange(ctx: AudienceContext, plan: ScopePlan, change: DomainChange): Promise<void> {
  switch (change.kind) {
    case 'messages':
      return onMessages(ctx, plan, change);
    case 'thread-fields':
      return onThreadFields(ctx, plan, change);
    case 'share-flag':
      return onShareFlag(ctx, plan, change);
    case 'sharing': {
      // The setting decides only who else sees the owner's own mail.
      const orgId = await findOrgOf(ctx.db, { userId: change.ownerId });
      const affected = await refreshThreads(ctx, plan, orgId, await listThreadsOfOwner(ctx.db, change.ownerId));
      add(plan, affected, { maps: [MAPS.notifications] });
      return;
    }
    case 'record-created':
    case 'record-changed':
    case 'record-deleted':
      return onRecord(ctx, plan, change);
    case 'record-access':
      add(plan, peopleOf(ctx, change.orgId), FULL_SCOPE);
      return;
    case 'people': {
      const orgId = change.orgId ?? (await findOrgOf(ctx.db, { userId: change.userIds[0] as string }));
      add(plan, peopleOf(ctx, orgId), change.visibility === false ? { maps: [MAPS.people] } : FULL_SCOPE);
      add(plan, change.userIds.filter((id) => ctx.hosted.has(id)), FULL_SCOPE);
      return;
    }
    case 'account':
      return onAccount(ctx, plan, change);
    case 'notifications':
      add(plan, [change.userId].filter((id) => ctx.hosted.has(id)), { maps: [MAPS.notifications] });
      return;
  }
}

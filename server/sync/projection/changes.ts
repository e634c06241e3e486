/**
 * @module server/sync/projection/changes
 * Domain changes that can alter what someone's sync document should hold,
 * as small JSON messages: commands and ingest publish them after their
 * transaction committed; the change feed of every process turns them into
 * refreshes of the documents that process hosts. JSON only (ids, and no
 * content but a few committed field values), so the host's bus can carry
 * them between processes as they are.
 */
import type { Stamped } from '../../../sync/doc/schema';

/** A stored ingest batch, as sync-folder hands it to the sink. */
export interface StoredBatchRef {
  folderId: string;
  uidvalidity: number;
  uids: number[];
}

export type DomainChange =
  /**
   * Mail stored (ingest batch, sent mail, a test): the threads it landed in; or
   * stored messages changed on the server (`messageIds`: read state, expunged, moved).
   */
  | { kind: 'messages'; accountId: string; threadIds?: string[]; batch?: StoredBatchRef; messageIds?: string[] }
  /**
   * Editable thread fields committed by the edit policy. `values`: the
   * committed shared fields ("threadId|field" → {v, hlc}, read in the
   * decision's transaction), so documents holding the threads take them
   * without a read; absent, holders re-read the threads' fields.
   */
  | { kind: 'thread-fields'; threadIds: string[]; values?: Record<string, Stamped<unknown>> }
  /** A person's own "share emails" flag for a record. */
  | { kind: 'share-flag'; ownerId: string; recordId: string }
  /** A person's email sharing setting (mode, excluded domains, audience), or their mailboxes' own addresses. */
  | { kind: 'sharing'; ownerId: string }
  /**
   * A record created (by hand, import, conversion), edited, deleted, or its addresses changed.
   * `threadIds`: the threads it was about before the change (`listThreadsAboutRecord`), when the
   * change can cut links (deletion, addresses, deal contacts or account): once committed they can no
   * longer be found, and a document shows a thread linked only to records its person can access,
   * while the thread's lane follows every linked record.
   */
  | { kind: 'record-created' | 'record-changed' | 'record-deleted'; recordId: string; orgId?: string; threadIds?: string[] }
  /** Who can access records changed: the organization's record access, a record's shares, group members. */
  | { kind: 'record-access'; orgId: string }
  /**
   * People changed: reporting line, role, name, deactivation, someone joined.
   * `visibility: false` when who-sees-what cannot have moved (a name, a role,
   * deactivation: the rules ignore it), so only the directory and the
   * changed people's own documents are re-read.
   */
  | { kind: 'people'; orgId?: string; userIds: string[]; visibility?: boolean }
  /** A mailbox's status or progress, added or removed. */
  | { kind: 'account'; accountId: string; ownerId?: string; orgId?: string; removed?: boolean }
  /** A person's notifications. */
  | { kind: 'notifications'; userId: string };

export type ChangeKind = DomainChange['kind'];

/** Where commands publish changes (`Deps.changes`); fire and forget, after commit. */
export interface ChangeSink {
  publish(change: DomainChange): void;
}

export type ChangeListener = (change: DomainChange) => void;

/** Carries changes to every process's feed: in-process here, Redis through the host's bus. */
export interface ChangeBus extends ChangeSink {
  subscribe(listener: ChangeListener): () => void;
}

/** One process: publishing calls every subscriber (on a later tick, so a command never waits for fan-out). */
export function createLocalChangeBus(): ChangeBus {
  const listeners = new Set<ChangeListener>();
  return {
    publish(change) {
      queueMicrotask(() => listeners.forEach((listener) => listener(change)));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The change for an ingest batch (the one-line hook in the sync manager). */
export function storedBatchChange(
  accountId: string,
  folder: { id: string },
  uidvalidity: number,
  messages: readonly { uid: number }[],
  _checkpoint?: unknown,
): DomainChange {
  return { kind: 'messages', accountId, batch: { folderId: folder.id, uidvalidity, uids: messages.map((m) => m.uid) } };
}

/** Message ids per change: a change stays a small bus message even after a big expunge. */
const MESSAGE_IDS_PER_CHANGE = 500;

/** The changes for stored messages that changed on the server (ingest's flag and expunge hook). */
export function changedMessagesChanges(accountId: string, messageIds: readonly string[]): DomainChange[] {
  const out: DomainChange[] = [];
  for (let i = 0; i < messageIds.length; i += MESSAGE_IDS_PER_CHANGE) {
    out.push({ kind: 'messages', accountId, messageIds: messageIds.slice(i, i + MESSAGE_IDS_PER_CHANGE) });
  }
  return out;
}

/**
 * For `.then()` on a command's transaction: publishes once it committed (a
 * feed reading Postgres earlier would miss the change), passing the result
 * through. A function of the result may decide the change, or none.
 */
export function publishing<T>(sink: ChangeSink | undefined, change: DomainChange | ((result: T) => DomainChange | null)): (result: T) => T {
  return (result) => {
    const decided = typeof change === 'function' ? change(result) : change;
    if (sink && decided) {
      sink.publish(decided);
    }
    return result;
  };
}

/**
 * @module app/lib/outbox/storage
 * Where drafts and outbox entries live, behind a small interface: IndexedDB
 * in the browser (./idb-storage), a Map in tests. Moving a draft into the
 * outbox (Send) and back (Edit) are single operations, so a crash between
 * the two halves can neither lose the message nor leave it both queued and
 * still a draft that could be sent again.
 */
import type { Draft, OutboxEntry } from './types';

export interface ComposeStorage {
  getDraft(key: string): Promise<Draft | undefined>;
  listDrafts(): Promise<Draft[]>;
  putDraft(draft: Draft): Promise<void>;
  deleteDraft(key: string): Promise<void>;

  getEntry(id: string): Promise<OutboxEntry | undefined>;
  listEntries(): Promise<OutboxEntry[]>;
  putEntry(entry: OutboxEntry): Promise<void>;
  deleteEntry(id: string): Promise<void>;
  /** Send: stores the entry and deletes its draft together. */
  queue(entry: OutboxEntry): Promise<void>;
  /** Edit after a failure: puts the draft back and deletes the entry together. */
  reopen(entry: OutboxEntry, draft: Draft): Promise<void>;

  /** Small cached facts for offline use (From addresses, signature). */
  getMeta<T>(key: string): Promise<T | undefined>;
  putMeta(key: string, value: unknown): Promise<void>;
  close(): void;
}

/** Values go in and come out as copies, like IndexedDB's structured clone. */
const copy = <T>(value: T): T => structuredClone(value);

/** An in-memory ComposeStorage (tests, and browsers without IndexedDB). */
export function memoryStorage(): ComposeStorage {
  const drafts = new Map<string, Draft>();
  const entries = new Map<string, OutboxEntry>();
  const meta = new Map<string, unknown>();
  return {
    getDraft: async (key) => (drafts.has(key) ? copy(drafts.get(key)) : undefined),
    listDrafts: async () => [...drafts.values()].map(copy),
    putDraft: async (draft) => void drafts.set(draft.key, copy(draft)),
    deleteDraft: async (key) => void drafts.delete(key),
    getEntry: async (id) => (entries.has(id) ? copy(entries.get(id)) : undefined),
    listEntries: async () => [...entries.values()].map(copy),
    putEntry: async (entry) => void entries.set(entry.id, copy(entry)),
    deleteEntry: async (id) => void entries.delete(id),
    async queue(entry) {
      entries.set(entry.id, copy(entry));
      drafts.delete(entry.draft.key);
    },
    async reopen(entry, draft) {
      drafts.set(draft.key, copy(draft));
      entries.delete(entry.id);
    },
    getMeta: async <T>(key: string) => copy(meta.get(key)) as T | undefined,
    putMeta: async (key, value) => void meta.set(key, copy(value)),
    close: () => undefined,
  };
}

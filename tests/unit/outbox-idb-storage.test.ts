/**
 * The outbox's IndexedDB storage (fake-indexeddb): drafts and entries
 * survive reopening the database, Send and Edit move a message between
 * draft and outbox in one transaction, the cached From addresses and
 * signature come back, and the runner works over it unchanged.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { sendInput, startNew } from '../../app/src/lib/outbox/compose-rules';
import { newDraftKey } from '../../app/src/lib/outbox/draft-key';
import { composeDatabaseName, openComposeStorage } from '../../app/src/lib/outbox/idb-storage';
import { OutboxRunner } from '../../app/src/lib/outbox/runner';
import type { Draft, OutboxEntry } from '../../app/src/lib/outbox/types';

const OPTIONS = [{ accountId: 'acc', address: 'rita@acme.test', name: 'Rita', isDefault: true, accountEmail: 'rita@acme.test' }];

function draftFor(id: string): Draft {
  return { ...startNew(newDraftKey(id), { options: OPTIONS, signature: 'Rita', now: 1 }), to: [{ address: 'erin@p.test', name: 'Erin' }], text: `Hello ${id}` };
}

function entryFor(id: string, draft: Draft): OutboxEntry {
  return { id, input: sendInput(id, draft), draft, status: 'queued', error: null, attempts: 0, nextAttemptAt: null, createdAt: 1, updatedAt: 1, result: null };
}

describe('IndexedDB compose storage', () => {
  it('names the database per person', () => {
    expect(composeDatabaseName('u-1')).toBe('shoal-compose-u-1');
  });

  it('keeps drafts, entries and cached facts across reopening', async () => {
    const user = crypto.randomUUID();
    const first = await openComposeStorage(user);
    await first.putDraft(draftFor('a'));
    await first.putEntry(entryFor('e', draftFor('e')));
    await first.putMeta('signature', 'Rita\nAcme');
    first.close();
    const again = await openComposeStorage(user);
    expect(await again.getDraft(newDraftKey('a'))).toEqual(draftFor('a'));
    expect((await again.listEntries()).map((e) => e.id)).toEqual(['e']);
    expect(await again.getMeta<string>('signature')).toBe('Rita\nAcme');
    expect(await again.getMeta('missing')).toBeUndefined();
    again.close();
    const other = await openComposeStorage(crypto.randomUUID());
    expect(await other.listDrafts()).toEqual([]);
    other.close();
  });

  it('moves a message from draft to outbox (Send) and back (Edit) in one step each', async () => {
    const storage = await openComposeStorage(crypto.randomUUID());
    const draft = draftFor('b');
    await storage.putDraft(draft);
    await storage.queue(entryFor('b1', draft));
    expect(await storage.getDraft(draft.key)).toBeUndefined();
    expect((await storage.getEntry('b1'))?.draft.text).toBe('Hello b');
    const entry = (await storage.getEntry('b1')) as OutboxEntry;
    await storage.reopen(entry, { ...draft, text: 'Hello again' });
    expect(await storage.getEntry('b1')).toBeUndefined();
    expect((await storage.getDraft(draft.key))?.text).toBe('Hello again');
    await storage.deleteDraft(draft.key);
    expect(await storage.listDrafts()).toEqual([]);
    storage.close();
  });

  it('serves the runner: a queued message is sent once and stored as sent', async () => {
    const storage = await openComposeStorage(crypto.randomUUID());
    const posted: string[] = [];
    const runner = new OutboxRunner({
      storage,
      send: async (input) => {
        posted.push(input.id);
        return {
          kind: 'sent',
          result: { outboundId: input.id, status: 'sent', messageId: 'm@acme.test', threadId: 't', storedMessageId: 's', error: null, sentAt: null, appendedAt: null },
        };
      },
      lock: (fn) => fn(),
      online: () => true,
      now: () => 5,
      changed: () => undefined,
      timer: () => () => undefined,
    });
    await storage.putDraft(draftFor('c'));
    await runner.enqueue(entryFor('c1', draftFor('c')));
    await runner.kick();
    expect(posted).toEqual(['c1']);
    expect(await storage.getEntry('c1')).toMatchObject({ status: 'sent', attempts: 1, result: { storedMessageId: 's' } });
    expect(await storage.listDrafts()).toEqual([]);
    storage.close();
  });
});

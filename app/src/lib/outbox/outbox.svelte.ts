/**
 * @module app/lib/outbox/outbox
 * The person's drafts and outbox as Svelte state, over their own IndexedDB
 * database: Send stores the message (with a fresh uuid) before any request,
 * and the runner takes it out when the network allows, one tab at a time
 * (Web Locks). Other tabs hear about changes on a BroadcastChannel. The
 * From addresses and signature are cached here too, so a person can write
 * and queue mail offline.
 */
import { api } from '$lib/api';
import { fromOptions, sendInput, type FromOption } from './compose-rules';
import { openComposeStorage } from './idb-storage';
import { OutboxRunner } from './runner';
import { isNewDraftKey, newDraftKey } from './draft-key';
import { attemptSend } from './send-outcome';
import { memoryStorage, type ComposeStorage } from './storage';
import type { Draft, OutboxEntry } from './types';

const META_FROM = 'fromOptions';
const META_SIGNATURE = 'signature';

/** The browser's lock for this person's outbox, or a plain call where Web Locks are missing. */
function webLock(name: string) {
  return <T>(fn: () => Promise<T>): Promise<T> =>
    typeof navigator !== 'undefined' && 'locks' in navigator ? (navigator.locks.request(name, fn) as Promise<T>) : fn();
}

export class OutboxStore {
  entries = $state.raw<readonly OutboxEntry[]>([]);
  /** The browser's word on the network (false is reliable). */
  online = $state(true);
  fromOptions = $state.raw<readonly FromOption[]>([]);
  signature = $state('');
  /** The From addresses are known (from the server, or cached on this device). */
  profileLoaded = $state(false);
  ready = $state(false);
  /** The draft key of the open "New message" window, if any. */
  newMessageKey = $state<string | null>(null);
  userId: string | null = null;

  #storage: ComposeStorage | null = null;
  #runner: OutboxRunner | null = null;
  #channel: BroadcastChannel | null = null;
  #cleanup: (() => void)[] = [];

  /** Opens the person's outbox (IndexedDB, else memory) and starts sending what is queued. */
  async open(userId: string): Promise<void> {
    this.userId = userId;
    const storage = await openComposeStorage(userId).catch(() => memoryStorage());
    this.#storage = storage;
    this.online = navigator.onLine;
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`shoal-outbox-${userId}`) : null;
    this.#runner = new OutboxRunner({
      storage,
      send: (input) => attemptSend(api.sendMail, input),
      lock: webLock(`shoal-outbox-${userId}`),
      online: () => navigator.onLine,
      now: () => Date.now(),
      changed: () => {
        void this.#reload();
        this.#channel?.postMessage('changed');
      },
      timer: (fn, ms) => {
        const timer = setTimeout(fn, ms);
        return () => clearTimeout(timer);
      },
    });
    this.#listen();
    this.fromOptions = (await storage.getMeta<FromOption[]>(META_FROM)) ?? [];
    this.signature = (await storage.getMeta<string>(META_SIGNATURE)) ?? '';
    this.profileLoaded = this.fromOptions.length > 0;
    await this.#runner.prune();
    await this.#reload();
    this.ready = true;
    void this.#runner.kick(true);
    this.refreshProfile().catch(() => undefined);
  }

  #listen(): void {
    const online = () => {
      this.online = true;
      void this.#runner?.kick(true);
    };
    const offline = () => {
      this.online = false;
    };
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    const onMessage = () => void this.#reload();
    this.#channel?.addEventListener('message', onMessage);
    this.#cleanup.push(() => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      this.#channel?.removeEventListener('message', onMessage);
    });
  }

  async #reload(): Promise<void> {
    const entries = (await this.#storage?.listEntries()) ?? [];
    this.entries = entries.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** From addresses and signature from the server, kept for offline use. @throws when the server cannot be reached. */
  async refreshProfile(): Promise<void> {
    const [accounts, signature] = await Promise.all([api.listMailAccounts(), api.getMySignature()]);
    this.fromOptions = fromOptions(accounts.accounts);
    this.signature = signature.signature;
    this.profileLoaded = true;
    await this.#storage?.putMeta(META_FROM, this.fromOptions);
    await this.#storage?.putMeta(META_SIGNATURE, this.signature);
  }

  /** The signature was saved on the settings page: new drafts use it at once. */
  async useSignature(signature: string): Promise<void> {
    this.signature = signature;
    await this.#storage?.putMeta(META_SIGNATURE, signature);
  }

  /** Sends (or re-reports) now instead of waiting for the back-off; the network just came back. */
  kick(): void {
    void this.#runner?.kick(true);
  }

  getDraft(key: string): Promise<Draft | undefined> {
    return this.#require().getDraft(key);
  }

  /** The thread's most recently edited draft, whatever its mode. */
  async latestThreadDraft(threadId: string): Promise<Draft | undefined> {
    const drafts = (await this.#require().listDrafts()).filter((d) => d.threadId === threadId);
    return drafts.sort((a, b) => b.updatedAt - a.updatedAt)[0];
  }

  /** Opens the "New message" window on the newest kept new message, else a fresh one. */
  async openNewMessage(): Promise<void> {
    // A mailbox connected since the app opened is offered too.
    this.refreshProfile().catch(() => undefined);
    const kept = (await this.#require().listDrafts()).filter((d) => isNewDraftKey(d.key)).sort((a, b) => b.updatedAt - a.updatedAt)[0];
    this.newMessageKey = kept?.key ?? newDraftKey(crypto.randomUUID());
  }

  /** Stores a copy of the draft (state proxies cannot be cloned into IndexedDB). */
  saveDraft(draft: Draft): Promise<void> {
    return this.#require().putDraft({ ...$state.snapshot(draft), updatedAt: Date.now() });
  }

  discardDraft(key: string): Promise<void> {
    return this.#require().deleteDraft(key);
  }

  /**
   * Send: the entry (with a new uuid, the idempotency key of every attempt)
   * replaces the draft in storage before anything goes over the network.
   * @returns the entry's id.
   */
  async send(draft: Draft): Promise<string> {
    const snapshot = $state.snapshot(draft);
    const id = crypto.randomUUID();
    const now = Date.now();
    await this.#runnerOrThrow().enqueue({
      id,
      input: sendInput(id, snapshot),
      draft: snapshot,
      status: 'queued',
      error: null,
      attempts: 0,
      nextAttemptAt: null,
      createdAt: now,
      updatedAt: now,
      result: null,
    });
    return id;
  }

  retry(id: string): Promise<void> {
    return this.#runnerOrThrow().retry(id);
  }

  /** Edit a failed message: its draft comes back. */
  reopen(id: string): Promise<Draft | null> {
    return this.#runnerOrThrow().reopen(id);
  }

  discard(id: string): Promise<boolean> {
    return this.#runnerOrThrow().discard(id);
  }

  entriesFor(threadId: string): OutboxEntry[] {
    return this.entries.filter((e) => e.draft.threadId === threadId);
  }

  /** Stops sending and closes the database (kept for next time). */
  close(): void {
    this.#runner?.stop();
    for (const undo of this.#cleanup.splice(0)) {
      undo();
    }
    this.#channel?.close();
    this.#storage?.close();
    this.#storage = null;
    this.#runner = null;
    this.#channel = null;
    this.entries = [];
    this.ready = false;
    this.userId = null;
    this.newMessageKey = null;
  }

  #require(): ComposeStorage {
    if (this.#storage === null) {
      throw new Error('The outbox is not open yet.');
    }
    return this.#storage;
  }

  #runnerOrThrow(): OutboxRunner {
    if (this.#runner === null) {
      throw new Error('The outbox is not open yet.');
    }
    return this.#runner;
  }
}

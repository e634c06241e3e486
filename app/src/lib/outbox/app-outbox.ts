/**
 * @module app/lib/outbox/app-outbox
 * The tab's one outbox: opened by the signed-in layout for its person,
 * closed when another person signs in, and deleted with its drafts and
 * queued mail on log-out (from `wipeAppSync`), so the next person on this
 * browser finds nothing.
 */
import { deleteDatabase } from '$lib/sync/local-store';
import { composeDatabaseName } from './idb-storage';
import { OutboxStore } from './outbox.svelte';

export const appOutbox = new OutboxStore();

let current: { userId: string; opening: Promise<void> } | null = null;

/** Opens the person's outbox once; a second call for the same person waits on the first. */
export function openAppOutbox(userId: string): Promise<void> {
  if (current?.userId === userId) {
    return current.opening;
  }
  const previous = current;
  const opening = (async () => {
    await previous?.opening.catch(() => undefined);
    appOutbox.close();
    await appOutbox.open(userId);
  })();
  current = { userId, opening };
  // A failed open (storage unavailable) is tried again by the next call.
  opening.catch(() => {
    if (current?.opening === opening) {
      current = null;
    }
  });
  return opening;
}

/** Log-out: closes the outbox and deletes the person's drafts and unsent mail from this browser. */
export async function wipeAppOutbox(): Promise<void> {
  const opened = current;
  current = null;
  if (opened === null) {
    return;
  }
  await opened.opening.catch(() => undefined);
  appOutbox.close();
  await deleteDatabase(composeDatabaseName(opened.userId));
}

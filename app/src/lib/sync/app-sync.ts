/**
 * @module app/lib/sync/app-sync
 * The one SyncStore of the tab: opened by the signed-in layout for its
 * person, closed when another person signs in, and wiped (document, outbox,
 * device id, and the mail drafts and outbox of `$lib/outbox`) on log-out so
 * the next person on this browser finds nothing.
 */
import { wipeAppOutbox } from '$lib/outbox/app-outbox';
import { SyncStore } from './sync.svelte';
import { closeReadingCache } from '$lib/reading/app-reading';

/** The signed-in person's document, for every page under the app layout. */
export const appSync = new SyncStore();

let current: { userId: string; opening: Promise<void> } | null = null;

/**
 * Opens the person's document once; a second call for the same person waits on the first.
 * @throws what opening the local store throws (IndexedDB unavailable).
 */
export function openAppSync(userId: string, orgId: string): Promise<void> {
  if (current?.userId === userId) {
    return current.opening;
  }
  const previous = current;
  const opening = (async () => {
    if (previous !== null) {
      await previous.opening.catch(() => undefined);
      await appSync.close();
    }
    await appSync.open({ userId, orgId });
  })();
  current = { userId, opening };
  opening.catch(() => {
    if (current?.opening === opening) {
      current = null;
    }
  });
  return opening;
}

/** Log-out: closes the document and deletes everything the person left in this browser. */
export async function wipeAppSync(): Promise<void> {
  // Drafts and unsent mail are the person's too.
  await wipeAppOutbox().catch(() => undefined);
  // An open connection would hold up deleting the reading cache's database.
  await closeReadingCache();
  const opened = current;
  current = null;
  if (opened === null) {
    return;
  }
  await opened.opening.catch(() => undefined);
  await appSync.wipe();
}

/** The signed-in layout went away (not a log-out): close the document, keep it for next time. */
export async function closeAppSync(): Promise<void> {
  const opened = current;
  current = null;
  if (opened === null) {
    return;
  }
  await opened.opening.catch(() => undefined);
  await appSync.close();
}

/**
 * @module app/lib/sync/presence
 * Who else is on which thread, read from the awareness channel of the
 * person's connection. The server stamps every relayed state with the
 * sender's identity and drops threads the recipient cannot see, so this only
 * reads shapes; it never trusts a name a client claimed.
 */
import type { Awareness } from 'y-protocols/awareness';
import { PRESENCE_ACTIVITIES, type PresenceActivity } from '$sync/presence';

/** What this device tells the others: the thread it shows and whether a reply is being written. */
export interface LocalPresence {
  threadId: string;
  activity: PresenceActivity;
}

/** Someone else on a thread. */
export interface PeerPresence {
  userId: string;
  name: string;
  threadId: string;
  activity: PresenceActivity;
}

function isActivity(value: unknown): value is PresenceActivity {
  return (PRESENCE_ACTIVITIES as readonly unknown[]).includes(value);
}

/** One relayed state as a peer on a thread, or null when it names no thread (or is not ours to show). */
export function readPeer(state: unknown, selfUserId: string): PeerPresence | null {
  if (typeof state !== 'object' || state === null) {
    return null;
  }
  const { user, threadId, activity } = state as Record<string, unknown>;
  if (typeof user !== 'object' || user === null || typeof threadId !== 'string') {
    return null;
  }
  const { userId, name } = user as Record<string, unknown>;
  if (typeof userId !== 'string' || typeof name !== 'string' || userId === selfUserId) {
    return null;
  }
  return { userId, name, threadId, activity: isActivity(activity) ? activity : 'viewing' };
}

/** Everyone else on a thread, one entry per person (replying beats viewing when they have several tabs). */
export function readPeers(awareness: Awareness, selfUserId: string): PeerPresence[] {
  const byKey = new Map<string, PeerPresence>();
  for (const [clientId, state] of awareness.getStates()) {
    if (clientId === awareness.clientID) {
      continue;
    }
    const peer = readPeer(state, selfUserId);
    if (peer === null) {
      continue;
    }
    const key = `${peer.userId}|${peer.threadId}`;
    const known = byKey.get(key);
    if (!known || (known.activity === 'viewing' && peer.activity === 'replying')) {
      byKey.set(key, peer);
    }
  }
  return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Sets this device's presence on an awareness channel (null: on no thread). */
export function applyLocalPresence(awareness: Awareness, presence: LocalPresence | null): void {
  awareness.setLocalState(presence === null ? {} : { threadId: presence.threadId, activity: presence.activity });
}

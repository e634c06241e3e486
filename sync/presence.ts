/**
 * @module sync/presence
 * What a person's awareness state looks like once the server has relayed
 * it: the thread they are on and what they do there, under an identity the
 * server stamped from the session. A client may set `threadId` and
 * `activity`; anything else it sends (a `user`, a name) is replaced.
 */

export const PRESENCE_ACTIVITIES = ['viewing', 'replying'] as const;
export type PresenceActivity = (typeof PRESENCE_ACTIVITIES)[number];

/** Longer ids are not ids of ours; refusing them keeps a state small. */
export const MAX_PRESENCE_THREAD_ID_LENGTH = 64;

export interface PresenceIdentity {
  userId: string;
  name: string;
}

/** An awareness state as other people receive it. */
export interface PresenceState {
  user: PresenceIdentity;
  /** Present only when the person's own document holds the thread. */
  threadId?: string;
  activity?: PresenceActivity;
}

/**
 * Builds the state the server relays from what a client claimed: the
 * identity is always `identity`; a thread the claimant cannot see is dropped
 * with its activity, so presence can never be used to probe for threads.
 */
export function stampPresence(claimed: unknown, identity: PresenceIdentity, canSee: (threadId: string) => boolean): PresenceState {
  const fields = typeof claimed === 'object' && claimed !== null ? (claimed as Record<string, unknown>) : {};
  const user = { userId: identity.userId, name: identity.name };
  const threadId = fields.threadId;
  if (typeof threadId !== 'string' || threadId.length > MAX_PRESENCE_THREAD_ID_LENGTH || !canSee(threadId)) {
    return { user };
  }
  const activity = fields.activity;
  return (PRESENCE_ACTIVITIES as readonly unknown[]).includes(activity)
    ? { user, threadId, activity: activity as PresenceActivity }
    : { user, threadId };
}

/** Whether a relayed state may reach someone: thread-less states reach the whole organization. */
export function presenceVisible(state: PresenceState, canSee: (threadId: string) => boolean): boolean {
  return state.threadId === undefined || canSee(state.threadId);
}

/**
 * @module server/sync/transport/presence
 * Awareness (who is viewing or replying to which thread) relayed per
 * organization, with the identity stamped from the session and each state
 * sent only to the sockets whose person's document holds the thread.
 *
 * One y-protocols `Awareness` per organization keeps the stamped states, so
 * clocks and the 30 s timeout behave exactly as in y-websocket; every change
 * is then encoded per recipient. A recipient that was shown a state it may no
 * longer see (the person moved to a thread it cannot see, left, or timed out)
 * is sent a removal, so nothing stale lingers.
 *
 * Client ids are relayed under ids the server allocates per socket (above
 * the uint32 range of Yjs client ids): a socket cannot take over or silence
 * another's state by sending its id, and a reconnecting client is a new entry
 * that watchers apply at once instead of ignoring its unchanged clock. Each
 * watching socket in turn sees every other state under ids allocated for that
 * socket alone: a client that reconnects keeps the clocks of the states it
 * forgot, and would ignore them if they came back under the same ids at the
 * same clocks. Its own socket gets its states back under its own ids
 * (y-websocket counts that echo as the keep-alive). y-websocket re-sends every state it applies, so
 * relay ids coming back from a client are ignored.
 *
 * With several processes, each publishes its own sockets' stamped states on
 * the bus and applies the others' into its organization's Awareness, where
 * they are filtered per recipient like local ones and time out (a dead
 * process's states vanish after 30 s).
 */
import { randomInt } from 'node:crypto';
import { applyAwarenessUpdate, Awareness, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { presenceVisible, stampPresence, type PresenceState } from '../../../sync/presence';
import type { PresenceRelay } from './bus-links';
import { decodeAwarenessUpdate, encodeAwarenessFrame, encodeAwarenessUpdate, type AwarenessEntry } from './frames';

/** A provider uses one awareness client id; a few allow for tabs sharing a socket, no more. */
const MAX_CLIENTS_PER_PEER = 4;
/** Relay ids start past every Yjs client id (uint32), so they never collide with a real one. */
const FIRST_RELAY_ID = 2 ** 32;
/** Each process counts up from a random point of this range, so processes' relay ids do not collide. */
const RELAY_ID_SPREAD = 2 ** 47;
/** Origin of states applied from another process. */
const REMOTE = 'remote';

/** A socket as presence sees it. */
export interface PresencePeer {
  readonly orgId: string;
  readonly userId: string;
  readonly name: string;
  /** Whether this person's document holds the thread. */
  canSee(threadId: string): boolean;
  sendFrame(frame: Uint8Array): void;
}

interface PeerView {
  /** The socket's own client ids and the relay ids they go out under. */
  relayIds: Map<number, number>;
  /**
   * Relay ids whose state this socket was last sent (so a removal reaches it),
   * each with the id it was sent under: a fresh one per socket, so a client
   * reconnecting with the clocks of states it forgot applies them again.
   */
  shown: Map<number, number>;
}

interface Owner {
  peer: PresencePeer;
  clientId: number;
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

class OrgPresence {
  readonly awareness = new Awareness(new Y.Doc());
  readonly peers = new Map<PresencePeer, PeerView>();
  readonly owners = new Map<number, Owner>();

  /**
   * @param publish tells the other processes about changes of this process's own sockets.
   * @param allocateId hands out a relay id never used before.
   */
  constructor(
    publish: (entries: AwarenessEntry[]) => void,
    private readonly allocateId: () => number,
  ) {
    // The server has no presence of its own.
    this.awareness.setLocalState(null);
    this.awareness.on('update', (change: AwarenessChange, origin: unknown) => {
      const ids = [...change.added, ...change.updated, ...change.removed].filter((id) => id !== this.awareness.clientID);
      this.fanOut(ids);
      const own = origin === REMOTE ? [] : ids.filter((id) => this.owners.has(id));
      if (own.length > 0) {
        publish(own.map((id) => ({ clientId: id, clock: this.awareness.meta.get(id)?.clock ?? 0, state: this.awareness.states.get(id) ?? null })));
      }
    });
  }

  /** Sends each peer the entries of `relayIds` it may see, and removals of those it no longer may. */
  fanOut(relayIds: readonly number[], only?: PresencePeer): void {
    for (const [peer, view] of this.peers) {
      if (only && peer !== only) {
        continue;
      }
      const entries = relayIds.map((id) => this.entryFor(peer, view, id)).filter((e): e is AwarenessEntry => e !== null);
      if (entries.length > 0) {
        peer.sendFrame(encodeAwarenessFrame(encodeAwarenessUpdate(entries)));
      }
    }
  }

  destroy(): void {
    const doc = this.awareness.doc;
    this.awareness.destroy();
    doc.destroy();
  }

  private entryFor(peer: PresencePeer, view: PeerView, relayId: number): AwarenessEntry | null {
    const clock = this.awareness.meta.get(relayId)?.clock;
    const owner = this.owners.get(relayId);
    if (clock === undefined) {
      return null;
    }
    const state = this.awareness.states.get(relayId) as PresenceState | undefined;
    const shownAs = view.shown.get(relayId);
    if (state && (owner?.peer === peer || presenceVisible(state, (t) => peer.canSee(t)))) {
      const clientId = owner?.peer === peer ? owner.clientId : (shownAs ?? this.allocateId());
      view.shown.set(relayId, clientId);
      return { clientId, clock, state };
    }
    if (shownAs === undefined) {
      return null;
    }
    view.shown.delete(relayId);
    return { clientId: shownAs, clock, state: null };
  }
}

export class PresenceHub {
  private readonly orgs = new Map<string, OrgPresence>();
  private nextRelayId = FIRST_RELAY_ID + randomInt(RELAY_ID_SPREAD);
  private readonly stopRelay: () => void;

  /** @param relay links this hub with the other processes' (none: this process alone). */
  constructor(private readonly relay?: PresenceRelay) {
    this.stopRelay = relay?.subscribe((orgId, entries) => this.receiveRemote(orgId, entries)) ?? (() => {});
  }

  /** Adds a socket and sends it the states it may see. */
  join(peer: PresencePeer): void {
    let org = this.orgs.get(peer.orgId);
    if (!org) {
      org = new OrgPresence(
        (entries) => this.relay?.publish(peer.orgId, entries),
        () => this.nextRelayId++,
      );
      this.orgs.set(peer.orgId, org);
    }
    org.peers.set(peer, { relayIds: new Map(), shown: new Map() });
    this.query(peer);
  }

  /** Answers a query-awareness message: every state the socket may see. */
  query(peer: PresencePeer): void {
    const org = this.orgs.get(peer.orgId);
    org?.fanOut([...org.awareness.states.keys()].filter((id) => id !== org.awareness.clientID), peer);
  }

  /**
   * Applies a socket's awareness update: states are stamped, then relayed
   * under the socket's relay ids.
   * @throws when the update is malformed.
   */
  receive(peer: PresencePeer, update: Uint8Array): void {
    const org = this.orgs.get(peer.orgId);
    const view = org?.peers.get(peer);
    if (!org || !view) {
      return;
    }
    const accepted: AwarenessEntry[] = [];
    for (const entry of decodeAwarenessUpdate(update)) {
      const relayId = this.relayIdFor(org, view, peer, entry);
      if (relayId === null) {
        continue;
      }
      const state = entry.state === null ? null : stampPresence(entry.state, peer, (t) => peer.canSee(t));
      accepted.push({ clientId: relayId, clock: entry.clock, state });
    }
    if (accepted.length > 0) {
      applyAwarenessUpdate(org.awareness, encodeAwarenessUpdate(accepted), peer);
    }
  }

  /** Removes a closed socket and the states it controlled. */
  leave(peer: PresencePeer): void {
    const org = this.orgs.get(peer.orgId);
    const view = org?.peers.get(peer);
    if (!org || !view) {
      return;
    }
    org.peers.delete(peer);
    const relayIds = [...view.relayIds.values()];
    removeAwarenessStates(org.awareness, relayIds, 'close');
    for (const id of relayIds) {
      org.owners.delete(id);
      // A relay id is never reused, so its clock can go.
      org.awareness.meta.delete(id);
    }
    if (org.peers.size === 0) {
      org.destroy();
      this.orgs.delete(peer.orgId);
    }
  }

  close(): void {
    this.stopRelay();
    this.orgs.forEach((org) => org.destroy());
    this.orgs.clear();
  }

  /**
   * States of another process's sockets, already stamped there. Kept only
   * while this process has sockets of the organization; a socket joining later
   * hears them at their next renewal (at most 15 s).
   */
  private receiveRemote(orgId: string, entries: AwarenessEntry[]): void {
    const org = this.orgs.get(orgId);
    const foreign = entries.filter((e) => e.clientId >= FIRST_RELAY_ID && !org?.owners.has(e.clientId));
    if (org && foreign.length > 0) {
      applyAwarenessUpdate(org.awareness, encodeAwarenessUpdate(foreign), REMOTE);
    }
  }

  private relayIdFor(org: OrgPresence, view: PeerView, peer: PresencePeer, entry: AwarenessEntry): number | null {
    if (entry.clientId >= FIRST_RELAY_ID) {
      // y-websocket re-broadcasts every state it applies; a relayed one coming back is not this socket's.
      return null;
    }
    const known = view.relayIds.get(entry.clientId);
    if (known !== undefined) {
      return known;
    }
    if (entry.state === null || view.relayIds.size >= MAX_CLIENTS_PER_PEER) {
      return null;
    }
    const relayId = this.nextRelayId++;
    view.relayIds.set(entry.clientId, relayId);
    org.owners.set(relayId, { peer, clientId: entry.clientId });
    return relayId;
  }
}

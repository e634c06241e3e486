/**
 * @module server/sync/transport/doc-channels
 * One channel per person with sockets in this process: their hosted
 * document, opened once, and one subscription that forwards each update to
 * their sockets, skipping the socket that authored it (it has the change).
 *
 * When the host replaces the document (rebuilt under a new epoch, or
 * reloaded after a takeover) the channel is retired: its sockets are told to
 * go (they reconnect and sync by state vector against the new document, where
 * a client of the old epoch sees the new one and resets) and the next socket
 * opens a new channel.
 */
import type { DocHost, HostedDoc, UpdateListener } from '../types';
import { encodeUpdateFrame } from './frames';

export interface ChannelMember {
  readonly connectionId: string;
  sendFrame(frame: Uint8Array): void;
  /** The document was replaced: this socket must reconnect. */
  replaced(): void;
}

export interface DocChannel {
  readonly userId: string;
  readonly hosted: HostedDoc;
  /** True once the host replaced the document; a socket must not bind to it any more. */
  readonly replaced: boolean;
  add(member: ChannelMember): void;
  remove(member: ChannelMember): void;
}

interface Channel extends DocChannel {
  unsubscribe(): void;
}

/** Counted synchronously, before the document is open, so a release racing an open cannot close a channel in use. */
interface Slot {
  /** Upgrades in flight plus bound sockets; the channel closes at zero. */
  refs: number;
  ready: Promise<Channel>;
}

export class DocChannels {
  private readonly slots = new Map<string, Slot>();
  private readonly slotOf = new WeakMap<DocChannel, Slot>();

  constructor(private readonly host: DocHost) {}

  /**
   * Opens (or shares) a person's channel; every successful acquire needs one release.
   * @throws when the document cannot be opened.
   */
  async acquire(userId: string): Promise<DocChannel> {
    let slot = this.slots.get(userId);
    if (!slot) {
      slot = this.open(userId);
      this.slots.set(userId, slot);
    }
    slot.refs += 1;
    try {
      return await slot.ready;
    } catch (error) {
      // A failed open is not kept: the next connection tries again.
      this.forget(userId, slot);
      throw error;
    }
  }

  release(channel: DocChannel): void {
    const slot = this.slotOf.get(channel);
    if (!slot) {
      return;
    }
    slot.refs -= 1;
    if (slot.refs > 0) {
      return;
    }
    this.forget(channel.userId, slot);
    void slot.ready.then((c) => c.unsubscribe());
  }

  private forget(userId: string, slot: Slot): void {
    if (this.slots.get(userId) === slot) {
      this.slots.delete(userId);
    }
  }

  private open(userId: string): Slot {
    const members = new Set<ChannelMember>();
    const state = { replaced: false };
    const retire = () => {
      state.replaced = true;
      this.forget(userId, slot);
      [...members].forEach((member) => member.replaced());
    };
    const slot: Slot = {
      refs: 0,
      ready: this.subscribe(userId, members, state, retire).then((channel) => {
        this.slotOf.set(channel, slot);
        return channel;
      }),
    };
    return slot;
  }

  private async subscribe(userId: string, members: Set<ChannelMember>, state: { replaced: boolean }, retire: () => void): Promise<Channel> {
    const hosted = await this.host.open(userId);
    const forward: UpdateListener = (update, origin) => {
      let frame: Uint8Array | null = null;
      for (const member of members) {
        if (origin !== 'server' && origin.connectionId === member.connectionId) {
          continue;
        }
        frame ??= encodeUpdateFrame(update);
        member.sendFrame(frame);
      }
    };
    return {
      userId,
      hosted,
      get replaced() {
        return state.replaced;
      },
      unsubscribe: this.host.subscribe(userId, forward, retire),
      add: (member) => void members.add(member),
      remove: (member) => void members.delete(member),
    };
  }
}

/**
 * @module tests/helpers/fault-proxy
 * A TCP proxy that breaks connections on demand, in the spirit of toxiproxy
 * (whose server is not installable here): RST, RST after N server bytes
 * (mid-literal), a half-open blackhole, latency, and a slow drip. Faults are
 * applied to the newest open connection, or queued for the next one, and
 * stack until the connection ends. Randomness lives in the tests, drawn from
 * the seeded PRNG below so a failing run can be replayed from its seed.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

const HOST = '127.0.0.1';
/** Source reads pause above this many queued chunks, so a slow direction pushes back instead of buffering. */
const HIGH_WATER = 16;
/** Time for the client to read the bytes before a mid-stream RST. */
const RESET_GRACE_MS = 20;

export type Fault =
  | { kind: 'reset' }
  | { kind: 'resetAfterBytes'; bytes: number }
  | { kind: 'blackhole' }
  | { kind: 'latency'; ms: number }
  | { kind: 'slowDrip'; bytesPerChunk: number; intervalMs: number };

export type FaultKind = Fault['kind'];

/** Shorthands: `inject(faults.resetAfterBytes(4096))`. */
export const faults = {
  reset: (): Fault => ({ kind: 'reset' }),
  resetAfterBytes: (bytes: number): Fault => ({ kind: 'resetAfterBytes', bytes }),
  blackhole: (): Fault => ({ kind: 'blackhole' }),
  latency: (ms: number): Fault => ({ kind: 'latency', ms }),
  slowDrip: (bytesPerChunk: number, intervalMs: number): Fault => ({ kind: 'slowDrip', bytesPerChunk, intervalMs }),
};

export interface FaultProxyOptions {
  targetHost: string;
  targetPort: number;
}

export interface FaultProxy {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections currently open (a blackholed one counts until its client gives up). */
  readonly active: number;
  /** Faults applied to a connection so far (a queued one counts once it lands). */
  readonly faultsInjected: number;
  readonly injectedByKind: Readonly<Record<FaultKind, number>>;
  /** Applies to the newest open connection, or to the next one when none is open. */
  inject(fault: Fault): void;
  stop(): Promise<void>;
}

/** mulberry32: tiny, fast and good enough to make fault schedules replayable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The seed from SHOAL_TEST_SEED (to replay a run) or a fresh one; printed either way. */
export function testSeed(label: string): number {
  const given = process.env.SHOAL_TEST_SEED;
  const seed = given ? Number(given) >>> 0 : (Date.now() ^ process.pid) >>> 0;
  console.info(`[${label}] seed ${seed} (replay with SHOAL_TEST_SEED=${seed})`);
  return seed;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One proxied connection: the client's socket, the upstream socket, and the faults on them. */
class Link {
  closed = false;
  /** Nothing is forwarded any more: a blackhole, or the pause before a mid-stream RST. */
  private frozen = false;
  private latencyMs = 0;
  private drip: { bytesPerChunk: number; intervalMs: number } | null = null;
  private resetBudget: number | null = null;
  private closedSockets = 0;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    private readonly onClose: (link: Link) => void,
  ) {
    this.forward(client, upstream, false);
    this.forward(upstream, client, true);
  }

  apply(fault: Fault): void {
    switch (fault.kind) {
      case 'reset':
        this.reset();
        break;
      case 'resetAfterBytes':
        this.resetBudget = Math.min(this.resetBudget ?? Infinity, fault.bytes);
        break;
      case 'blackhole':
        this.frozen = true;
        break;
      case 'latency':
        this.latencyMs += fault.ms;
        break;
      case 'slowDrip':
        this.drip = { bytesPerChunk: Math.max(1, fault.bytesPerChunk), intervalMs: fault.intervalMs };
        break;
    }
  }

  /** RST on both sides: the peer sees ECONNRESET, not a clean close. */
  reset(): void {
    this.finish(() => {
      this.client.resetAndDestroy();
      this.upstream.resetAndDestroy();
    });
  }

  destroy(): void {
    this.finish(() => {
      this.client.destroy();
      this.upstream.destroy();
    });
  }

  private finish(kill: () => void): void {
    if (!this.closed) {
      this.closed = true;
      kill();
      this.onClose(this);
    }
  }

  /** A serial pump per direction keeps byte order while chunks wait on latency or drip. */
  private forward(from: Socket, to: Socket, fromServer: boolean): void {
    const queue: Buffer[] = [];
    let pumping = false;
    let ended = false;
    // A clean end travels on only after the queued bytes, and never out of a blackhole.
    const endPeer = () => {
      if (!this.frozen && !this.closed) {
        to.end();
      }
    };
    const pump = async () => {
      pumping = true;
      while (queue.length > 0 && !this.closed) {
        await this.deliver(queue.shift() as Buffer, to, fromServer);
      }
      pumping = false;
      from.resume();
      if (ended) {
        endPeer();
      }
    };
    from.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      if (queue.length > HIGH_WATER) {
        from.pause();
      }
      if (!pumping) {
        void pump();
      }
    });
    from.on('end', () => {
      ended = true;
      if (!pumping) {
        endPeer();
      }
    });
    // 'close' follows every error and decides; without a listener an RST would throw.
    from.on('error', () => undefined);
    from.on('close', () => this.socketClosed(from, ended));
  }

  /** An abrupt close on either side takes the link down; a clean one waits for the other side. */
  private socketClosed(socket: Socket, cleanly: boolean): void {
    this.closedSockets += 1;
    if (this.frozen) {
      // Half-open: the client keeps its socket whatever the server does, until the client gives up.
      if (socket === this.client) {
        this.destroy();
      }
      return;
    }
    if (!cleanly) {
      this.destroy();
    } else if (this.closedSockets === 2) {
      this.finish(() => undefined);
    }
  }

  /** Forwards one chunk through the link's faults; a frozen link swallows it. */
  private async deliver(chunk: Buffer, to: Socket, fromServer: boolean): Promise<void> {
    if (this.latencyMs > 0) {
      await sleep(this.latencyMs);
    }
    let rest = chunk;
    while (rest.length > 0 && !this.closed && !this.frozen) {
      const size = fromServer && this.drip ? Math.min(this.drip.bytesPerChunk, rest.length) : rest.length;
      const budget = fromServer ? this.resetBudget : null;
      if (budget !== null && budget <= size) {
        // Linux drops unread data when the RST lands, so let the client read the prefix first.
        this.frozen = true;
        await write(to, rest.subarray(0, budget));
        await sleep(RESET_GRACE_MS);
        this.reset();
        return;
      }
      await write(to, rest.subarray(0, size));
      if (budget !== null) {
        this.resetBudget = budget - size;
      }
      rest = rest.subarray(size);
      if (fromServer && this.drip && rest.length > 0) {
        await sleep(this.drip.intervalMs);
      }
    }
  }
}

/** Resolves once the kernel has the bytes (or the socket is gone): a slow reader slows the pump, not memory. */
function write(socket: Socket, data: Buffer): Promise<void> {
  if (socket.destroyed || data.length === 0) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      socket.off('close', done);
      resolve();
    };
    socket.once('close', done);
    socket.write(data, done);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/** Starts a proxy on 127.0.0.1 (a free port) in front of `targetHost:targetPort`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const links = new Set<Link>();
  let newest: Link | null = null;
  let pending: Fault[] = [];
  let connections = 0;
  let faultsInjected = 0;
  const injectedByKind: Record<FaultKind, number> = { reset: 0, resetAfterBytes: 0, blackhole: 0, latency: 0, slowDrip: 0 };
  const land = (link: Link, fault: Fault) => {
    faultsInjected += 1;
    injectedByKind[fault.kind] += 1;
    link.apply(fault);
  };
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    const link = new Link(client, upstream, (gone) => {
      links.delete(gone);
      newest = newest === gone ? null : newest;
    });
    links.add(link);
    newest = link;
    const queued = pending;
    pending = [];
    // Synchronous, so the faults are in place before the first byte is read.
    queued.forEach((fault) => land(link, fault));
  });
  const port = await listen(server);
  return {
    port,
    get connections() {
      return connections;
    },
    get active() {
      return links.size;
    },
    get faultsInjected() {
      return faultsInjected;
    },
    injectedByKind,
    inject(fault) {
      if (newest && !newest.closed) {
        land(newest, fault);
      } else {
        pending.push(fault);
      }
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      links.forEach((link) => link.destroy());
      await closed;
    },
  };
}

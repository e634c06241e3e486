/**
 * @module tests/helpers/sync-wire-client
 * A `/sync` client that speaks y-protocols by hand over `ws`, so a test
 * knows exactly when an edit was acknowledged: after sending an update it
 * sends a SyncStep1, and the server answers SyncStep1s in order, only after
 * every earlier update was stored and reviewed (transport/connection.ts).
 * That SyncStep2 (which also carries the canonical value back) is the
 * acknowledgement.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket, type RawData } from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

const MESSAGE_SYNC = 0;
const REMOTE = 'server';

export class WireClient {
  /** Resolvers of sent SyncStep1s, oldest first: each SyncStep2 settles the oldest. */
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly outgoing: Uint8Array[] = [];
  closedWith: number | null = null;

  private constructor(
    readonly doc: Y.Doc,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (data: RawData) => this.receive(new Uint8Array(data as Buffer)));
    ws.on('close', (code: number) => {
      this.closedWith = code;
      this.waiting.splice(0).forEach((w) => w.reject(new Error(`socket closed with ${code} before the acknowledgement`)));
    });
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) {
        this.outgoing.push(update);
      }
    });
  }

  /** Opens a socket with a browser's cookie and Origin and waits for the first sync. */
  static async connect(url: string, headers: { cookie: string; origin: string }, doc = new Y.Doc()): Promise<WireClient> {
    const ws = new WebSocket(url, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    const client = new WireClient(doc, ws);
    await client.requestSync();
    return client;
  }

  /**
   * Makes a local edit, sends it, then asks for the server's state.
   * @returns once the server acknowledged it (and everything sent before).
   */
  edit(fn: (doc: Y.Doc) => void): Promise<void> {
    this.send(fn);
    return this.requestSync();
  }

  /** Makes a local edit and sends it without waiting for anything. */
  send(fn: (doc: Y.Doc) => void): void {
    this.doc.transact(() => fn(this.doc), 'local');
    for (const update of this.outgoing.splice(0)) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeUpdate(encoder, update);
      this.ws.send(encoding.toUint8Array(encoder));
    }
  }

  /** Sends a SyncStep1. @returns when its SyncStep2 arrived (and was applied). */
  requestSync(): Promise<void> {
    const acked = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(encoder, this.doc);
    this.ws.send(encoding.toUint8Array(encoder));
    return acked;
  }

  close(): void {
    this.ws.terminate();
  }

  private receive(bytes: Uint8Array): void {
    const decoder = decoding.createDecoder(bytes);
    if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) {
      return;
    }
    const reply = encoding.createEncoder();
    encoding.writeVarUint(reply, MESSAGE_SYNC);
    const kind = syncProtocol.readSyncMessage(decoder, reply, this.doc, REMOTE);
    if (kind === syncProtocol.messageYjsSyncStep1) {
      this.ws.send(encoding.toUint8Array(reply));
    }
    if (kind === syncProtocol.messageYjsSyncStep2) {
      this.waiting.shift()?.resolve();
    }
  }
}

/**
 * permessage-deflate on the sync socket (server/sync/transport/deflate.ts),
 * against real `ws` sockets on loopback. It also pins the part of `ws` the
 * transport reaches into: a socket keeps its deflate stream after a
 * deflated frame, and closing it is safe once the frame is out.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { FrameDeflater, releaseDeflateStream, SYNC_DEFLATE } from '../../server/sync/transport/deflate';
import { waitFor } from '../helpers/mail-account';

interface Pair {
  server: WebSocket;
  client: WebSocket;
  /** The client's TCP socket: what travelled. */
  wire: Socket;
  received: Buffer[];
}

const open: (WebSocketServer | WebSocket)[] = [];

async function pair(clientDeflates = true): Promise<Pair> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: SYNC_DEFLATE });
  open.push(wss);
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: clientDeflates });
  open.push(client);
  const wire = new Promise<Socket>((resolve) => client.once('upgrade', (res: IncomingMessage) => resolve(res.socket)));
  const received: Buffer[] = [];
  client.on('message', (data: RawData) => received.push(data as Buffer));
  await new Promise<void>((resolve) => client.once('open', () => resolve()));
  return { server: await accepted, client, wire: await wire, received };
}

/** A frame that deflates well, as a Yjs update of thread summaries does. */
function frame(kb: number, tag: number): Uint8Array {
  const text = Array.from({ length: kb * 16 }, (_, i) => `thread ${i} of ${tag}: a quote for the spring order;`).join('').slice(0, kb * 1024);
  return new TextEncoder().encode(text);
}

const deflateOf = (socket: WebSocket) => (socket as unknown as { _extensions: Record<string, { _deflate: unknown }> })._extensions['permessage-deflate']?._deflate;

afterEach(async () => {
  for (const item of open.splice(0)) {
    item.close();
  }
});

describe('sync socket deflate', () => {
  it('keeps a deflate stream after a deflated frame (ws), which releaseDeflateStream closes; the next frame still deflates', async () => {
    const p = await pair();
    expect(p.client.extensions).toContain('permessage-deflate');
    const first = frame(64, 1);
    await new Promise<void>((resolve, reject) => p.server.send(first, { compress: true }, (err) => (err ? reject(err) : resolve())));
    await waitFor('the first frame', () => p.received.length, (n) => n === 1);
    expect(deflateOf(p.server)).toBeTruthy();
    expect(releaseDeflateStream(p.server)).toBe(true);
    expect(deflateOf(p.server)).toBeNull();
    expect(releaseDeflateStream(p.server)).toBe(false);

    const before = p.wire.bytesRead;
    const second = frame(64, 2);
    p.server.send(second, { compress: true });
    await waitFor('the second frame', () => p.received.length, (n) => n === 2);
    expect(new Uint8Array(p.received[1] as Buffer)).toEqual(second);
    expect(p.wire.bytesRead - before).toBeLessThan(second.length / 4);
  });

  it('sends frames sent back to back intact and in order, and keeps no stream once they are out', async () => {
    const p = await pair();
    const deflater = new FrameDeflater(p.server);
    const frames = [frame(200, 1), frame(9, 2), frame(1, 3), frame(120, 4)];
    frames.forEach((f) => deflater.send(f));
    await waitFor('every frame', () => p.received.length, (n) => n === frames.length);
    expect(p.received.map((b) => new Uint8Array(b))).toEqual(frames);
    await waitFor('the stream closed', () => deflateOf(p.server), (d) => d === null);
    const total = frames.reduce((n, f) => n + f.length, 0);
    expect(p.wire.bytesRead).toBeLessThan(total / 4);
  });

  it('sends frames as they are to a client that did not offer permessage-deflate', async () => {
    const p = await pair(false);
    expect(p.client.extensions).toBe('');
    const big = frame(64, 1);
    new FrameDeflater(p.server).send(big);
    await waitFor('the frame', () => p.received.length, (n) => n === 1);
    expect(new Uint8Array(p.received[0] as Buffer)).toEqual(big);
    expect(p.wire.bytesRead).toBeGreaterThan(big.length);
  });
});

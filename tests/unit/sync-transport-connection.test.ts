/**
 * A `/sync` socket's life without a network: the registry closing it with
 * 4401 even when its session ends mid-upgrade, frames before binding never
 * applied, client updates handed to the DocHost in order, and a SyncStep1
 * answered only once the updates sent before it were received.
 */
import { WSContext } from 'hono/ws';
import * as encoding from 'lib0/encoding';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { SyncConnection } from '../../server/sync/transport/connection';
import { DocChannels } from '../../server/sync/transport/doc-channels';
import { encodeUpdateFrame } from '../../server/sync/transport/frames';
import { PresenceHub } from '../../server/sync/transport/presence';
import { CLOSE_CODES, SocketRegistry } from '../../server/sync/transport/registry';
import { MemoryDocHost, RecordingDocHost } from '../helpers/memory-doc-host';

function fakeSocket() {
  return { readyState: 1, OPEN: 1, bufferedAmount: 0, send: vi.fn(), close: vi.fn(), on: vi.fn(), ping: vi.fn(), terminate: vi.fn() };
}

function anUpdate(): Uint8Array {
  const doc = new Y.Doc();
  doc.getMap('fields').set('t|status', { v: 'done', hlc: 'x' });
  return Y.encodeStateAsUpdate(doc);
}

function syncStep1(): ArrayBuffer {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  syncProtocol.writeSyncStep1(encoder, new Y.Doc());
  return encoding.toUint8Array(encoder).slice().buffer;
}

async function setUp(host = new RecordingDocHost(new MemoryDocHost())) {
  const registry = new SocketRegistry();
  const channels = new DocChannels(host);
  const entry = registry.reserve('session-1');
  registry.identify(entry, 'user-1');
  const channel = await channels.acquire('user-1');
  const connection = new SyncConnection({
    host,
    registry,
    entry,
    channels,
    channel,
    presence: new PresenceHub(),
    user: { id: 'user-1', orgId: 'org-1', name: 'Ada' },
    log: pino({ level: 'silent' }),
    onGone: () => {},
  });
  const socket = fakeSocket();
  const ctx = new WSContext<WebSocket>({ raw: socket as unknown as WebSocket, send: () => {}, close: () => {}, readyState: 1 });
  const events = connection.events();
  const heartbeat = () => connection.heartbeat();
  const push = (bytes: Uint8Array) => connection.sendFrame(bytes);
  const send = (data: ArrayBuffer | string) => events.onMessage?.(new MessageEvent('message', { data }), ctx);
  const open = () => events.onOpen?.(new Event('open'), ctx);
  return { host, registry, socket, send, open, heartbeat, push };
}

const frame = (bytes: Uint8Array) => bytes.slice().buffer;

describe('socket registry', () => {
  it('refuses to bind a socket whose session was revoked while it was being validated', () => {
    const registry = new SocketRegistry();
    const entry = registry.reserve('s1');
    registry.handle({ kind: 'revoked', sessionIds: ['s1'] });
    const socket = { close: vi.fn() };
    expect(registry.bind(entry, socket)).toBe(false);
    expect(socket.close).toHaveBeenCalledWith(CLOSE_CODES.sessionEnded, 'session ended');
  });

  it('closes by session and by person, and only those', () => {
    const registry = new SocketRegistry();
    const sockets = ['s1', 's2', 's3'].map((id, i) => {
      const entry = registry.reserve(id);
      registry.identify(entry, i < 2 ? 'u1' : 'u2');
      const socket = { close: vi.fn() };
      registry.bind(entry, socket);
      return { entry, socket };
    });
    registry.handle({ kind: 'revoked', sessionIds: ['s2'] });
    expect(sockets.map((s) => s.socket.close.mock.calls.length)).toEqual([0, 1, 0]);
    registry.handle({ kind: 'deactivated', userId: 'u1' });
    expect(sockets.map((s) => s.socket.close.mock.calls.length)).toEqual([1, 2, 0]);
    sockets.forEach((s) => registry.release(s.entry));
    expect(registry.countForUser('u1')).toBe(0);
  });
});

describe('sync connection', () => {
  it('drops frames that arrive before the socket is bound, then hands updates to the host', async () => {
    const { host, send, open } = await setUp();
    send(frame(encodeUpdateFrame(anUpdate())));
    expect(host.received).toHaveLength(0);
    open();
    send(frame(encodeUpdateFrame(anUpdate())));
    await vi.waitFor(() => expect(host.received).toHaveLength(1));
    expect(host.received[0]?.author).toMatchObject({ userId: 'user-1', sessionId: 'session-1' });
  });

  it('closes with 4401 when its session ends, and applies nothing after', async () => {
    const { host, registry, socket, send, open } = await setUp();
    open();
    registry.handle({ kind: 'revoked', sessionIds: ['session-1'] });
    expect(socket.close).toHaveBeenCalledWith(4401, 'session ended');
    send(frame(encodeUpdateFrame(anUpdate())));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(host.received).toHaveLength(0);
  });

  it('answers a SyncStep1 only after the updates sent before it were received, and asks for edits once', async () => {
    const host = new RecordingDocHost(new MemoryDocHost());
    let finish: () => void = () => {};
    const slow = new Promise<void>((resolve) => (finish = resolve));
    const receive = host.receive.bind(host);
    host.receive = async (...args) => {
      await slow;
      return receive(...args);
    };
    const { socket, send, open } = await setUp(host);
    open();
    send(frame(encodeUpdateFrame(anUpdate())));
    send(syncStep1());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(socket.send).not.toHaveBeenCalled();
    finish();
    await vi.waitFor(() => expect(socket.send).toHaveBeenCalledTimes(2));
    expect(host.received).toHaveLength(1);
    // A later SyncStep1 (a resync or a probe) gets the diff alone, not another request for edits.
    send(syncStep1());
    await vi.waitFor(() => expect(socket.send).toHaveBeenCalledTimes(3));
    const last = socket.send.mock.calls[2]?.[0] as Uint8Array;
    expect([last[0], last[1]]).toEqual([0, 1]);
  });

  it('closes on a malformed frame (1007) and on text (1003)', async () => {
    const first = await setUp();
    first.open();
    first.send(new Uint8Array([0, 9, 1, 1]).buffer);
    expect(first.socket.close).toHaveBeenCalledWith(CLOSE_CODES.invalidFrame, 'malformed frame');
    const second = await setUp();
    second.open();
    second.send('hello');
    expect(second.socket.close).toHaveBeenCalledWith(CLOSE_CODES.unsupportedData, 'binary frames only');
  });

  it('cuts a socket that missed a ping, and one too far behind to keep up', async () => {
    const silent = await setUp();
    silent.open();
    silent.heartbeat();
    expect(silent.socket.ping).toHaveBeenCalledOnce();
    silent.heartbeat();
    expect(silent.socket.terminate).toHaveBeenCalledOnce();

    const slow = await setUp();
    slow.open();
    slow.push(new Uint8Array([0, 2, 0]));
    expect(slow.socket.send).toHaveBeenCalledOnce();
    slow.socket.bufferedAmount = 17 * 1024 * 1024;
    slow.push(new Uint8Array([0, 2, 0]));
    expect(slow.socket.send).toHaveBeenCalledOnce();
    expect(slow.socket.close).toHaveBeenCalledWith(CLOSE_CODES.tryAgainLater, 'too far behind');
  });

  it('sends its sockets away with 4000 when the host replaces the document, also one that binds afterwards', async () => {
    const host = new RecordingDocHost(new MemoryDocHost());
    const bound = await setUp(host);
    bound.open();
    const late = await setUp(host);
    await host.rebuild('user-1');
    expect(bound.socket.close).toHaveBeenCalledWith(CLOSE_CODES.documentReplaced, 'document replaced');
    late.open();
    expect(late.socket.close).toHaveBeenCalledWith(CLOSE_CODES.documentReplaced, 'document replaced');
    await vi.waitFor(() => expect(host.subscriptions('user-1')).toBe(0));
  });
});

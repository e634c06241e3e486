/**
 * @module server/sync/transport/deflate
 * permessage-deflate on the sync socket, for the one frame that needs it.
 * `ws` leaves the extension off; we turn it on and deflate only a socket's
 * answers to a state vector (connection.ts): a cold first sync of a
 * 5,000-thread document is 1.7 MB of Yjs update and travels as about
 * 265 KB, while live frames are tens of bytes and would only cost CPU.
 *
 * `ws` keeps a socket's deflate stream from its first deflated frame until
 * the socket closes: about 90 KB resident each (measured over 200 sockets),
 * more than the rest of a socket. So once a socket's deflated frames are
 * all out, its stream is closed; the next deflated frame opens a new one
 * (no context is carried between frames anyway: server_no_context_takeover).
 */
import type { PerMessageDeflateOptions, WebSocket } from 'ws';

/**
 * From 8 KB, with a 4 KB window and memLevel 4: a Yjs update deflates as
 * well with it as with zlib's defaults (187.8 against 188.8 KB for 4,800
 * threads). The client's window is not capped: a client that did not offer
 * to cap it (the offer is the client's) would get no compression at all. A
 * client that deflates what it sends (browsers may) makes `ws` keep an
 * inflate stream for its socket: by zlib's formula about 39 KB with a
 * 32 KB window, within a socket's 100 KB.
 */
export const SYNC_DEFLATE: PerMessageDeflateOptions = {
  threshold: 8 * 1024,
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 12,
  zlibDeflateOptions: { level: 6, memLevel: 4 },
};

/** `ws` 8's per-socket extension state (not part of its API; the sync-deflate test pins it). */
interface DeflateExtension {
  _deflate: { close(): void } | null;
}

function deflateExtension(socket: WebSocket): DeflateExtension | null {
  const extensions = (socket as unknown as { _extensions?: Record<string, unknown> })._extensions;
  const extension = extensions?.['permessage-deflate'];
  return typeof extension === 'object' && extension !== null && '_deflate' in extension ? (extension as DeflateExtension) : null;
}

/**
 * Closes the socket's deflate stream, if it has one. Only when none of its
 * frames is being deflated: `ws` would wait forever for that frame.
 * @returns whether a stream was closed.
 */
export function releaseDeflateStream(socket: WebSocket): boolean {
  const extension = deflateExtension(socket);
  if (!extension?._deflate) {
    return false;
  }
  extension._deflate.close();
  extension._deflate = null;
  return true;
}

/** Sends a socket's frames that are worth deflating, and closes its deflate stream once the last of them is out. */
export class FrameDeflater {
  private inFlight = 0;

  constructor(private readonly socket: WebSocket) {}

  send(frame: Uint8Array): void {
    this.inFlight += 1;
    // The callback runs once the frame was deflated and written (or failed): deflated frames go out in order, so
    // at zero none is being deflated.
    this.socket.send(frame, { compress: true }, () => {
      this.inFlight -= 1;
      if (this.inFlight === 0) {
        releaseDeflateStream(this.socket);
      }
    });
  }
}

/**
 * @module server/sync/host/doc-handle
 * What `open` hands out: a person's document that stays valid while the
 * loaded copy behind it changes (dropped and reloaded, taken over, rebuilt),
 * so a socket channel can keep one handle for its whole life.
 */
import * as Y from 'yjs';
import type { HostedDoc } from '../types';
import { DOC_HOST_ERRORS, DocHostError } from './errors';
import type { ResidentDoc } from './resident';

export interface HandleHost {
  readonly residents: ReadonlyMap<string, ResidentDoc>;
  writable(userId: string): Promise<ResidentDoc | null>;
}

export class DocHandle implements HostedDoc {
  private last: ResidentDoc | null = null;
  private placeholder: Y.Doc | null = null;

  constructor(
    readonly userId: string,
    private readonly host: HandleHost,
  ) {}

  /** The loaded document now; between a drop and the reload, the last one (it receives nothing until then). */
  get doc(): Y.Doc {
    return this.current()?.doc ?? (this.placeholder ??= new Y.Doc({ gc: true }));
  }

  get epoch(): string | undefined {
    return this.current()?.epoch;
  }

  /** Writes as the server: here when this process holds (or can take) the lease. */
  async write(fn: (doc: Y.Doc) => void): Promise<Uint8Array | null> {
    const writer = await this.host.writable(this.userId);
    if (!writer) {
      throw new DocHostError(DOC_HOST_ERRORS.notHolder, 'another process holds this document');
    }
    return writer.write(fn);
  }

  private current(): ResidentDoc | null {
    this.last = this.host.residents.get(this.userId) ?? this.last;
    return this.last;
  }
}

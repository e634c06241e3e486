/**
 * @module server/sync/host/residency
 * Which documents this process has in memory, and in which role: loads a
 * document as its writer when its lease is free (else as a replica), turns a
 * replica into the writer when the lease frees up, and keeps the set bounded
 * (least recently used first; a document with subscribers or work in flight
 * stays).
 */
import * as Y from 'yjs';
import type { Db } from '../../../db/types';
import type { Bus } from './bus';
import { readReplica, takeDoc, type BuildDoc, type LoadedDoc } from './doc-store';
import type { DocLeases } from './leases';
import { ResidentDoc, type ResidentDeps } from './resident';

export interface ResidencyDeps {
  db: Db;
  bus: Bus;
  leases: DocLeases;
  build: BuildDoc;
  refresh?: BuildDoc | undefined;
  /** Decides the client updates a previous writer stored but never decided. */
  recover?: (writer: ResidentDoc) => Promise<void>;
  residentDeps: ResidentDeps;
  maxResident: number;
  hasSubscribers(userId: string): boolean;
  warn(message: string): (error: unknown) => void;
  info(userId: string, message: string): void;
}

/** A replica of a document that does not exist yet: any epoch the writer announces replaces it. */
const emptyReplica = (): LoadedDoc => ({ doc: new Y.Doc({ gc: true }), epoch: '', seq: -1, tail: { count: 0, bytes: 0 } });

export class Residency {
  /** In least-recently-used order. */
  readonly residents = new Map<string, ResidentDoc>();
  private readonly opening = new Map<string, Promise<ResidentDoc>>();

  constructor(private readonly deps: ResidencyDeps) {}

  isLoading(userId: string): boolean {
    return this.opening.has(userId);
  }

  byMode(mode: ResidentDoc['mode']): ResidentDoc[] {
    return [...this.residents.values()].filter((r) => r.mode === mode);
  }

  /** The resident of a person, loading it if needed; marks it recently used. */
  ensure(userId: string): Promise<ResidentDoc> {
    const existing = this.residents.get(userId);
    if (existing) {
      this.residents.delete(userId);
      this.residents.set(userId, existing);
      existing.touch();
      return Promise.resolve(existing);
    }
    let opening = this.opening.get(userId);
    if (!opening) {
      opening = this.load(userId).finally(() => this.opening.delete(userId));
      this.opening.set(userId, opening);
    }
    return opening;
  }

  /** Makes a replica the writer when its lease is free. @returns whether `r` writes now. */
  async promote(r: ResidentDoc): Promise<boolean> {
    if (!r.isReplica()) {
      return r.isWriter();
    }
    const taken = await r.exclusive(async () => {
      const lease = r.isReplica() ? await this.deps.leases.acquire(r.userId) : null;
      if (!lease) {
        return null;
      }
      try {
        const loaded = await takeDoc(this.deps.db, r.userId, lease.token, this.deps.build, { doc: r.doc, epoch: r.epoch });
        r.becomeWriter(lease, loaded);
        return loaded;
      } catch (error) {
        await this.deps.leases.release(lease).catch(() => {});
        throw error;
      }
    });
    if (taken) {
      this.deps.info(r.userId, 'sync document taken over');
      // Outside the document's queue: the refresh writes, and its writes queue there.
      await this.afterTaken(r, taken.created);
    }
    return r.isWriter();
  }

  /** Forgets a resident that left service. */
  forget(r: ResidentDoc): void {
    if (this.residents.get(r.userId) === r) {
      this.residents.delete(r.userId);
    }
  }

  evict(r: ResidentDoc): void {
    r.drop('evicted');
    r.doc.destroy();
  }

  private async load(userId: string): Promise<ResidentDoc> {
    const lease = await this.deps.leases.acquire(userId);
    if (!lease) {
      const replica = new ResidentDoc(userId, (await readReplica(this.deps.db, userId)) ?? emptyReplica(), null, this.deps.residentDeps);
      this.admit(replica);
      // Whatever the writer published while this was loading: read it back from Postgres.
      replica.catchUp().catch(this.deps.warn('sync catch-up failed'));
      return replica;
    }
    let taken: LoadedDoc & { created: boolean };
    try {
      taken = await takeDoc(this.deps.db, userId, lease.token, this.deps.build);
    } catch (error) {
      await this.deps.leases.release(lease).catch(() => {});
      throw error;
    }
    const writer = new ResidentDoc(userId, taken, lease, this.deps.residentDeps);
    this.admit(writer);
    await this.afterTaken(writer, taken.created);
    return writer;
  }

  private async afterTaken(writer: ResidentDoc, created: boolean): Promise<void> {
    if (created) {
      // Replicas that found no document yet load it now.
      this.deps.bus.publish({ kind: 'reset', userId: writer.userId, epoch: writer.epoch, seq: writer.lastSeq }).catch(this.deps.warn('sync bus publish failed'));
      return;
    }
    // First what the previous writer stored but never decided (it died, or its review failed), then what changed meanwhile.
    await this.deps.recover?.(writer).catch(this.deps.warn('sync review of undecided updates failed; retried on the sweep'));
    await this.deps.refresh?.(writer.userId, writer).catch(this.deps.warn('sync document refresh after takeover failed'));
  }

  /** Adds a resident, evicting the least recently used idle ones beyond the limit. */
  private admit(r: ResidentDoc): void {
    this.residents.set(r.userId, r);
    for (const [userId, other] of this.residents) {
      if (this.residents.size <= this.deps.maxResident) {
        break;
      }
      if (other !== r && !other.busy && !this.deps.hasSubscribers(userId)) {
        this.evict(other);
      }
    }
  }
}

/**
 * @module tests/helpers/sync-projection
 * Hosted documents for projection tests, without the real document host:
 * one gc'd Y.Doc per person, written under one stable client id, with every
 * server update recorded (so a test can count bytes).
 */
import * as Y from 'yjs';
import type { HostedDocs } from '../../server/sync/projection/change-feed';
import type { HostedDoc } from '../../server/sync/types';
import { MAPS } from '../../sync/doc/schema';

const SERVER = 'server';

export class TestDocs implements HostedDocs {
  private readonly docs = new Map<string, HostedDoc>();
  /** Bytes of every server write, per person. */
  readonly written = new Map<string, number[]>();

  /** The person's hosted document, created empty on first use. */
  open(userId: string): HostedDoc {
    const existing = this.docs.get(userId);
    if (existing) {
      return existing;
    }
    const doc = new Y.Doc({ gc: true });
    const written = this.written;
    const hosted: HostedDoc = {
      userId,
      doc,
      async write(fn) {
        const updates: Uint8Array[] = [];
        const collect = (update: Uint8Array, origin: unknown) => {
          if (origin === SERVER) {
            updates.push(update);
          }
        };
        doc.on('update', collect);
        try {
          doc.transact(() => fn(doc), SERVER);
        } finally {
          doc.off('update', collect);
        }
        const update = updates.length === 0 ? null : updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates);
        if (update) {
          written.set(userId, [...(written.get(userId) ?? []), update.length]);
        }
        return update;
      },
    };
    this.docs.set(userId, hosted);
    return hosted;
  }

  /** Unloads a document (the person went offline; the next open starts empty). */
  drop(userId: string): void {
    this.docs.get(userId)?.doc.destroy();
    this.docs.delete(userId);
  }

  hostedUserIds(): Iterable<string> {
    return this.docs.keys();
  }

  hosted(userId: string): HostedDoc | undefined {
    return this.docs.get(userId);
  }

  destroy(): void {
    [...this.docs.keys()].forEach((id) => this.drop(id));
  }
}

/** The thread ids a document holds. */
export function threadIdsOf(doc: Y.Doc): Set<string> {
  return new Set(doc.getMap(MAPS.threads).keys());
}

/** Every root map of the projection as plain JSON, for comparing two documents. */
export function projectedJson(doc: Y.Doc): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of [MAPS.meta, MAPS.threads, MAPS.fields, MAPS.shareFlags, MAPS.records, MAPS.people, MAPS.notifications, MAPS.accounts]) {
    const entries = [...doc.getMap<unknown>(name).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    out[name] = Object.fromEntries(name === MAPS.meta ? entries.filter(([k]) => k !== 'epoch') : entries);
  }
  return out;
}

/**
 * @module tests/helpers/hosted-doc
 * A tiny stand-in for the document host: a person's server document over a
 * plain Y.Doc (gc on), server writes in one transaction with a fixed origin,
 * and a client's update applied the way the host does it, with the changes
 * captured in `afterTransaction` (collectChanges). `syncClient` runs one
 * round trip: client → server diff, apply, review, server → client diff.
 */
import * as Y from 'yjs';
import { collectChanges, emptyChangeSet, type ChangeSet } from '../../server/sync/policy/changed-keys';
import type { Author, EditPolicy, HostedDoc } from '../../server/sync/types';

export const SERVER_ORIGIN = 'server';

export interface TestHost {
  hosted: HostedDoc;
  /** Applies a client's update as the host would and returns what it changed. */
  apply(update: Uint8Array, author: Author): ChangeSet;
  /** Server writes so far (each one persisted and broadcast by a real host). */
  serverWrites: number;
}

export function createTestHost(userId: string): TestHost {
  const doc = new Y.Doc({ gc: true });
  const host: TestHost = {
    serverWrites: 0,
    hosted: {
      userId,
      doc,
      async write(fn) {
        let update: Uint8Array | null = null;
        const capture = (u: Uint8Array, origin: unknown) => {
          if (origin === SERVER_ORIGIN) {
            update = u;
          }
        };
        doc.on('update', capture);
        try {
          doc.transact(() => fn(doc), SERVER_ORIGIN);
        } finally {
          doc.off('update', capture);
        }
        if (update !== null) {
          host.serverWrites += 1;
        }
        return update;
      },
    },
    apply(update, author) {
      let changes = emptyChangeSet();
      const capture = (tr: Y.Transaction) => {
        if (tr.origin === author) {
          changes = collectChanges(tr);
        }
      };
      doc.on('afterTransaction', capture);
      try {
        Y.applyUpdate(doc, update, author);
      } finally {
        doc.off('afterTransaction', capture);
      }
      return changes;
    },
  };
  return host;
}

export function authorOf(userId: string, connection = 'c1'): Author {
  return { userId, sessionId: `s-${userId}`, connectionId: connection };
}

/** Brings a client up to date with the server document (the server's sync step 2 / updates). */
export function pull(client: Y.Doc, host: TestHost): void {
  Y.applyUpdate(client, Y.encodeStateAsUpdate(host.hosted.doc, Y.encodeStateVector(client)), SERVER_ORIGIN);
}

/**
 * One reconnect of a client: its missing updates go to the server, are
 * applied and reviewed, and the server's answer comes back.
 * @param reviewTwice reviews the same captured changes again (a host retry), which must change nothing.
 * @returns the captured changes.
 */
export async function syncClient(
  client: Y.Doc,
  host: TestHost,
  policy: EditPolicy,
  author: Author,
  options: { reviewTwice?: boolean } = {},
): Promise<ChangeSet> {
  const update = Y.encodeStateAsUpdate(client, Y.encodeStateVector(host.hosted.doc));
  const changes = host.apply(update, author);
  await policy.review(host.hosted, author, changes.changed, { previous: changes.previous, written: changes.written });
  if (options.reviewTwice) {
    await policy.review(host.hosted, author, changes.changed, { previous: changes.previous, written: changes.written });
  }
  pull(client, host);
  return changes;
}

/** A fresh client document holding the server's current state. */
export function connectClient(host: TestHost): Y.Doc {
  const client = new Y.Doc({ gc: true });
  pull(client, host);
  return client;
}

/** A root map as plain JSON, keys sorted. */
export function mapJson(doc: Y.Doc, name: string): Record<string, unknown> {
  const json = doc.getMap<unknown>(name).toJSON() as Record<string, unknown>;
  return Object.fromEntries(Object.entries(json).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * @module server/sync/projection/write-turns
 * A fan-out writes hundreds of documents. Done in one go, the offline
 * batch's 750 keys × 200 documents held the event loop for over half a
 * second: the author's acknowledgement and every socket's traffic waited.
 */

/** Keys written between two turns of the event loop: a big fan-out must not hold sockets and acknowledgements for long. */
const KEYS_PER_TURN = 4_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Writes many documents, each as soon as its turn comes (its update is then
 * stored and sent without waiting for the others'), yielding to the event
 * loop first and after every KEYS_PER_TURN keys. @returns bytes per target.
 */
export async function writeInTurns<T>(targets: readonly T[], plan: (target: T) => { entries: number; write: () => Promise<Uint8Array | null> } | null): Promise<number[]> {
  const writes: Promise<Uint8Array | null>[] = [];
  let budget = 0;
  for (const target of targets) {
    if (budget <= 0) {
      await nextTurn();
      budget = KEYS_PER_TURN;
    }
    // Planned after the turn: what a document holds may have changed meanwhile.
    const planned = plan(target);
    if (!planned) {
      writes.push(Promise.resolve(null));
      continue;
    }
    budget -= planned.entries;
    writes.push(planned.write());
  }
  return (await Promise.all(writes)).map((update) => update?.length ?? 0);
}

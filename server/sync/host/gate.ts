/**
 * @module server/sync/host/gate
 * Holds a document's writes while it is being replaced (a rebuild under a
 * new epoch): whatever arrives meanwhile waits and then goes to the new
 * document, never the old one.
 */
export class Gate {
  private closed: Promise<void> | null = null;

  get isClosed(): boolean {
    return this.closed !== null;
  }

  /** Waits until the gate is open (it may close again behind a waiter that was not first: loop). */
  async pass(): Promise<void> {
    while (this.closed) {
      await this.closed;
    }
  }

  /** Runs `fn` with the gate closed; it opens again however `fn` ends. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    await this.pass();
    let open = () => {};
    this.closed = new Promise<void>((resolve) => (open = resolve));
    try {
      return await fn();
    } finally {
      this.closed = null;
      open();
    }
  }
}

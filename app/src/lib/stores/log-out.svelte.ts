/**
 * @module app/lib/stores/log-out
 * Log-out as the person asks for it: straight away, unless mail is still
 * waiting in the outbox, which log-out would delete with everything else of
 * theirs in this browser; then `LogOutConfirm` asks first.
 */
import { appOutbox } from '$lib/outbox/app-outbox';
import { logOut } from '$lib/services/session-service';

class LogOutRequest {
  /** The log-out waiting for the person's answer, or null. */
  pending = $state<{ everywhere: boolean } | null>(null);
  busy = $state<'one' | 'all' | null>(null);
  readonly unsent = $derived(appOutbox.entries.filter((e) => e.status !== 'sent').length);

  /** @returns whether the person is now logged out (false also while the question is open). */
  async request(everywhere: boolean): Promise<boolean> {
    if (this.unsent > 0) {
      this.pending = { everywhere };
      return false;
    }
    return this.run(everywhere);
  }

  /** The person confirmed: log out and delete the unsent mail. */
  async confirm(): Promise<void> {
    try {
      await this.run(this.pending?.everywhere ?? false);
    } finally {
      this.pending = null;
    }
  }

  cancel(): void {
    this.pending = null;
  }

  private async run(everywhere: boolean): Promise<boolean> {
    this.busy = everywhere ? 'all' : 'one';
    try {
      return await logOut(everywhere);
    } finally {
      this.busy = null;
    }
  }
}

export const logOutRequest = new LogOutRequest();

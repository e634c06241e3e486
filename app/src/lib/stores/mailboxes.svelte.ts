/**
 * @module app/lib/stores/mailboxes
 * State for the Mailboxes settings page: my connected accounts and, for
 * admins, every account of the organization with its owner. While any
 * account is pending or syncing, the lists are re-fetched every two seconds
 * so the health line and progress bar move; polling stops once all settle.
 */
import { ApiError, api } from '$lib/api';
import type { MailAccountDto, MailAccountStatus, PersonDto } from '$sync/api';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/** How often to re-fetch while something is syncing. */
export const POLL_MS = 2_000;

const ACTIVE: readonly MailAccountStatus[] = ['pending', 'syncing'];

/** Whether an account is still working towards "up to date". */
export function isActive(account: MailAccountDto): boolean {
  return ACTIVE.includes(account.status);
}

function byEmail(a: MailAccountDto, b: MailAccountDto): number {
  return a.email.localeCompare(b.email);
}

export interface MailboxesOptions {
  /** Admins also load `GET /api/mail/accounts/all` and the people list for owner names. */
  isAdmin: boolean;
  /** Called when a background refresh fails (the page decides what to show). */
  onPollError?: (error: unknown) => void;
}

/** One page visit's worth of mailbox state; call {@link dispose} when leaving. */
export class MailboxList {
  accounts = $state<MailAccountDto[]>([]);
  orgAccounts = $state<MailAccountDto[]>([]);
  people = $state<PersonDto[]>([]);
  status = $state<LoadStatus>('idle');
  loadError = $state<string | null>(null);
  /** The latest status change worth announcing (e.g. "… is up to date"), for a polite live region. */
  announcement = $state('');
  /** Whether the page is re-fetching in the background. */
  polling = $state(false);
  /** Why the last background refresh failed, until one succeeds again. */
  pollError = $state<string | null>(null);

  readonly peopleById = $derived(new Map(this.people.map((p) => [p.id, p])));
  readonly anyActive = $derived(this.accounts.some(isActive) || this.orgAccounts.some(isActive));

  readonly #options: MailboxesOptions;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #disposed = false;

  constructor(options: MailboxesOptions) {
    this.#options = options;
  }

  /**
   * First load: my accounts, and for admins the org's accounts and people.
   * @throws the API error after recording it in `loadError`.
   */
  async load(fallbackMessage = 'Could not load your mailboxes.'): Promise<void> {
    this.status = 'loading';
    this.loadError = null;
    try {
      await this.#fetch(true);
      this.status = 'ready';
      this.#schedule();
    } catch (error) {
      this.status = 'error';
      this.loadError = error instanceof Error && error.message ? error.message : fallbackMessage;
      throw error;
    }
  }

  /** Re-fetches the lists now (e.g. after connecting) and resumes polling if needed. */
  async refresh(): Promise<void> {
    await this.#fetch(false);
    this.pollError = null;
    this.#schedule();
  }

  /** Disconnects one of my mailboxes (or, for an admin, any in the org). */
  async disconnect(id: string): Promise<void> {
    await api.disconnectMailAccount(id);
    this.accounts = this.accounts.filter((a) => a.id !== id);
    this.orgAccounts = this.orgAccounts.filter((a) => a.id !== id);
  }

  /** Stops polling for good. */
  dispose(): void {
    this.#disposed = true;
    this.#clearTimer();
  }

  async #fetch(withPeople: boolean): Promise<void> {
    const admin = this.#options.isAdmin;
    const [mine, all, people] = await Promise.all([
      api.listMailAccounts(),
      admin ? api.listAllMailAccounts() : Promise.resolve(null),
      admin && withPeople ? api.listPeople() : Promise.resolve(null),
    ]);
    if (this.#disposed) {
      return;
    }
    this.#announceChanges(this.accounts, mine.accounts);
    this.accounts = [...mine.accounts].sort(byEmail);
    if (all) {
      this.orgAccounts = [...all.accounts].sort(byEmail);
    }
    if (people) {
      this.people = people.people;
    }
  }

  #announceChanges(before: MailAccountDto[], after: MailAccountDto[]): void {
    const previous = new Map(before.map((a) => [a.id, a.status]));
    for (const account of after) {
      const was = previous.get(account.id);
      if (was === undefined || was === account.status) {
        continue;
      }
      if (account.status === 'idle') {
        this.announcement = `${account.email} is up to date: ${account.progress.done} of ${account.progress.total} messages synchronized.`;
      } else if (account.status === 'error') {
        this.announcement = `${account.email} has a sync problem. ${account.health.message ?? ''}`.trim();
      }
    }
  }

  #schedule(delay = POLL_MS): void {
    this.#clearTimer();
    this.polling = !this.#disposed && this.anyActive;
    if (!this.polling) {
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.refresh().catch((error: unknown) => {
        this.pollError = error instanceof Error && error.message ? error.message : 'Could not refresh.';
        this.#options.onPollError?.(error);
        // A network blip or a busy server: keep going, more slowly. Anything else stops polling.
        if (error instanceof ApiError && (error.status === 0 || error.status >= 500)) {
          this.#schedule(POLL_MS * 3);
        } else {
          this.polling = false;
        }
      });
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}

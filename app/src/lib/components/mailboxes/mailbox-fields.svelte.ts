/**
 * @module app/lib/components/mailboxes/mailbox-fields
 * What "Connect a mailbox" and a mailbox's settings page share: the fields
 * (credentials, both servers, From addresses, store-sent), the client-side
 * checks, and where each server answer goes (inline field errors, every
 * refusing server under its own section with its hint apart, or one
 * message for the form).
 */
import { ApiError } from '$lib/api';
import { ERROR_CODES, type ConnectionTestDto, type ProviderPresetDto } from '$sync/api';
import { ServerSettings } from './server-settings.svelte';

export const CUSTOM_PROVIDER = 'custom';

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const FIELDS = new Set([
  'label',
  'email',
  'imap.password',
  'imap.host',
  'imap.port',
  'imap.security',
  'imap.user',
  'smtp.host',
  'smtp.port',
  'smtp.security',
  'smtp.user',
  'smtp.password',
]);

export interface FromRow {
  key: number;
  address: string;
  name: string;
}

/** Why a server refused during Connect or Save; the hint is shown apart from the message. */
export interface ServerProblem {
  message: string;
  hint: string | null;
}

/** "imap.port: must be 1–65535" → "Must be 1–65535."; other messages keep their wording. */
function fieldMessage(field: string, message: string): string {
  const prefixed = message.startsWith(`${field}: `);
  const text = prefixed ? message.slice(field.length + 2) : message;
  const sentence = prefixed ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  return /[.!?)]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** Every refusing server of a 422 `connection_failed`, from its details (or its field alone). */
function serverProblems(error: ApiError): { imap?: ServerProblem; smtp?: ServerProblem } {
  const out: { imap?: ServerProblem; smtp?: ServerProblem } = {};
  for (const server of ['imap', 'smtp'] as const) {
    const message = error.details?.[`${server}.message`];
    if (message) {
      out[server] = { message, hint: error.details?.[`${server}.hint`] ?? null };
    }
  }
  if (!out.imap && !out.smtp && (error.field === 'imap' || error.field === 'smtp')) {
    out[error.field] = { message: error.message, hint: null };
  }
  return out;
}

export abstract class MailboxFields {
  presets = $state<ProviderPresetDto[]>([]);
  provider = $state<string | null>(null);
  label = $state('');
  email = $state('');
  password = $state('');
  readonly imap = new ServerSettings('imap', 'tls');
  readonly smtp = new ServerSettings('smtp', 'tls');
  protected imapUserValue = $state('');
  protected imapUserTouched = $state(false);
  smtpSame = $state(true);
  smtpUser = $state('');
  smtpPassword = $state('');
  storeSent = $state(true);
  senderName = $state('');
  extraFrom = $state<FromRow[]>([]);
  advancedOpen = $state(false);

  errors = $state<Record<string, string>>({});
  formError = $state<string | null>(null);
  /** The servers that refused during Connect or Save (422), each shown under its section. */
  serverProblem = $state<{ imap?: ServerProblem; smtp?: ServerProblem }>({});
  /** The last test and the settings it was run with, to flag a result that no longer applies. */
  lastTest = $state<{ result: ConnectionTestDto; key: string } | null>(null);
  busy = $state<'test' | 'save' | null>(null);

  protected nextKey = 1;

  readonly preset = $derived(this.presets.find((p) => p.id === this.provider) ?? null);
  readonly isCustom = $derived(this.provider === CUSTOM_PROVIDER);
  /** The user name the provider expects for the typed address. */
  readonly derivedUser = $derived(
    this.preset?.username === 'local-part' ? (this.email.trim().split('@')[0] ?? '') : this.email.trim(),
  );
  readonly testIsCurrent = $derived(this.lastTest !== null && this.lastTest.key === this.settingsKey());

  get imapUser(): string {
    return this.imapUserTouched ? this.imapUserValue : this.derivedUser;
  }

  set imapUser(value: string) {
    this.imapUserValue = value;
    this.imapUserTouched = true;
  }

  /** What to call the incoming secret. */
  get secretLabel(): string {
    return this.preset?.appPasswordUrl ? 'App password' : 'Password';
  }

  /** Shown under the incoming password. */
  get passwordHint(): string | undefined {
    return this.preset?.passwordHint ?? undefined;
  }

  /** Shown under the outgoing password (the settings form says a blank one keeps the saved password). */
  get smtpPasswordHint(): string | undefined {
    return undefined;
  }

  /** The settings a connection test depends on, to tell whether the last result still applies. */
  protected abstract settingsKey(): string;

  /** Probes both servers without saving. @returns the result, or null when checks failed first. */
  abstract test(): Promise<ConnectionTestDto | null>;

  addFrom(): void {
    this.extraFrom = [...this.extraFrom, { key: this.nextKey++, address: '', name: '' }];
  }

  removeFrom(key: number): void {
    this.extraFrom = this.extraFrom.filter((row) => row.key !== key);
    this.errors = {};
  }

  /** The From addresses as sent; row 0 is always the account's own address. */
  protected fromAddresses(): { address: string; name: string | null }[] {
    return [
      { address: this.email.trim().toLowerCase(), name: this.senderName.trim() || null },
      ...this.extraFrom.map((row) => ({ address: row.address.trim().toLowerCase(), name: row.name.trim() || null })),
    ];
  }

  /** Clears earlier answers and runs the client-side checks. @returns whether to go on. */
  protected begin(): boolean {
    this.formError = null;
    this.serverProblem = {};
    this.errors = this.validate();
    if (Object.keys(this.errors).some((f) => /^(imap|smtp)\.(?!password$)|^smtp\./.test(f))) {
      this.advancedOpen = true;
    }
    return Object.keys(this.errors).length === 0;
  }

  /**
   * Runs one server call of the form after the client-side checks: marks the
   * form busy, places a refusal next to its field. @returns its answer, or null.
   */
  protected async submit<T>(busy: 'test' | 'save', call: () => Promise<T>): Promise<T | null> {
    if (!this.begin()) {
      return null;
    }
    this.busy = busy;
    try {
      return await call();
    } catch (error) {
      this.place(error);
      return null;
    } finally {
      this.busy = null;
    }
  }

  /** A connection test through `probe`, remembered with the settings it ran with. */
  protected async runTest(probe: () => Promise<ConnectionTestDto>): Promise<ConnectionTestDto | null> {
    const key = this.settingsKey();
    const result = await this.submit('test', probe);
    if (result) {
      this.lastTest = { result, key };
    }
    return result;
  }

  /** Checks both forms share; subclasses add their own. */
  protected validate(): Record<string, string> {
    const errors: Record<string, string> = {};
    for (const server of [this.imap, this.smtp]) {
      const name = server.protocol === 'imap' ? 'incoming' : 'outgoing';
      if (!server.host.trim()) {
        errors[`${server.protocol}.host`] = `Enter the ${name} server, like ${server.protocol}.example.com.`;
      }
      if (server.portNumber === null) {
        errors[`${server.protocol}.port`] = 'Enter a port from 1 to 65535.';
      }
    }
    if (!this.imapUser.trim()) {
      errors['imap.user'] = 'Enter the user name for the incoming server.';
    }
    if (!this.smtpSame && !this.smtpUser.trim()) {
      errors['smtp.user'] = 'Enter the user name for the outgoing server.';
    }
    this.extraFrom.forEach((row, i) => {
      if (!EMAIL.test(row.address.trim())) {
        errors[`fromAddresses.${i + 1}.address`] = 'Enter an address, or remove this row.';
      }
    });
    return errors;
  }

  /** Puts a server refusal next to what caused it. */
  protected place(error: unknown): void {
    if (!(error instanceof ApiError)) {
      console.error(error);
      this.formError = 'Something went wrong. Please try again.';
      return;
    }
    const field = error.field;
    if (error.code === ERROR_CODES.connectionFailed) {
      this.serverProblem = serverProblems(error);
      this.advancedOpen = true;
      if (this.serverProblem.imap || this.serverProblem.smtp) {
        return;
      }
    }
    if (field && (FIELDS.has(field) || this.isFromField(field))) {
      this.errors = { [field]: fieldMessage(field, error.message) };
      if (/^(imap|smtp)\./.test(field) && field !== 'imap.password') {
        this.advancedOpen = true;
      }
      return;
    }
    this.formError = error.message || 'Something went wrong. Please try again.';
  }

  private isFromField(field: string): boolean {
    const match = /^fromAddresses\.(\d+)\.(address|name)$/.exec(field);
    return match !== null && Number(match[1]) <= this.extraFrom.length;
  }
}

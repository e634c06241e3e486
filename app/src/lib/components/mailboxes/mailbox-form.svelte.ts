/**
 * @module app/lib/components/mailboxes/mailbox-form
 * The state behind "Connect a mailbox": provider, credentials, both servers,
 * From addresses, client-side checks, and where each server answer goes
 * (inline field errors, a problem under the incoming or outgoing section,
 * or one message for the form).
 */
import { ApiError, api } from '$lib/api';
import {
  ERROR_CODES,
  type ConnectionTestDto,
  type MailAccountDto,
  type MailAccountInput,
  type ProviderPresetDto,
} from '$sync/api';
import { ServerSettings } from './server-settings.svelte';

export const CUSTOM_PROVIDER = 'custom';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
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

/** "imap.port: must be 1–65535" → "Must be 1–65535."; other messages keep their wording. */
function fieldMessage(field: string, message: string): string {
  const prefixed = message.startsWith(`${field}: `);
  const text = prefixed ? message.slice(field.length + 2) : message;
  const sentence = prefixed ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  return /[.!?)]$/.test(sentence) ? sentence : `${sentence}.`;
}

export class MailboxForm {
  presets = $state<ProviderPresetDto[]>([]);
  provider = $state<string | null>(null);
  label = $state('');
  email = $state('');
  password = $state('');
  readonly imap = new ServerSettings('imap', 'tls');
  readonly smtp = new ServerSettings('smtp', 'tls');
  #imapUser = $state('');
  #imapUserTouched = $state(false);
  smtpSame = $state(true);
  smtpUser = $state('');
  smtpPassword = $state('');
  storeSent = $state(true);
  senderName = $state('');
  extraFrom = $state<FromRow[]>([]);
  advancedOpen = $state(false);

  errors = $state<Record<string, string>>({});
  formError = $state<string | null>(null);
  /** A failed probe during Connect (422), shown under that server's section. */
  serverProblem = $state<{ imap?: string; smtp?: string }>({});
  /** The last test and the settings it was run with, to flag a result that no longer applies. */
  lastTest = $state<{ result: ConnectionTestDto; key: string } | null>(null);
  busy = $state<'test' | 'connect' | null>(null);

  #nextKey = 1;

  readonly preset = $derived(this.presets.find((p) => p.id === this.provider) ?? null);
  readonly isCustom = $derived(this.provider === CUSTOM_PROVIDER);
  /** The user name the provider expects for the typed address. */
  readonly derivedUser = $derived(
    this.preset?.username === 'local-part' ? (this.email.trim().split('@')[0] ?? '') : this.email.trim(),
  );
  readonly testIsCurrent = $derived(this.lastTest !== null && this.lastTest.key === this.#key());

  get imapUser(): string {
    return this.#imapUserTouched ? this.#imapUser : this.derivedUser;
  }

  set imapUser(value: string) {
    this.#imapUser = value;
    this.#imapUserTouched = true;
  }

  /** Picks a provider and fills in its servers (blank ones for a custom server). */
  choose(id: string): void {
    if (id === this.provider) {
      return;
    }
    this.provider = id;
    const preset = this.presets.find((p) => p.id === id);
    this.imap.apply(preset?.imap ?? { host: '', port: 993, security: 'tls' });
    this.smtp.apply(preset?.smtp ?? { host: '', port: 465, security: 'tls' });
    this.#imapUserTouched = false;
    this.advancedOpen = id === CUSTOM_PROVIDER;
    this.errors = {};
    this.serverProblem = {};
    this.formError = null;
    this.lastTest = null;
  }

  addFrom(): void {
    this.extraFrom = [...this.extraFrom, { key: this.#nextKey++, address: '', name: '' }];
  }

  removeFrom(key: number): void {
    this.extraFrom = this.extraFrom.filter((row) => row.key !== key);
    this.errors = {};
  }

  /** The request body; row 0 of `fromAddresses` is always the account's own address. */
  toInput(): MailAccountInput {
    const email = this.email.trim().toLowerCase();
    return {
      ...(this.label.trim() ? { label: this.label.trim() } : {}),
      email,
      provider: this.provider ?? CUSTOM_PROVIDER,
      imap: { ...this.imap.toDto(), user: this.imapUser.trim(), password: this.password },
      smtp: {
        ...this.smtp.toDto(),
        ...(this.smtpSame ? {} : { user: this.smtpUser.trim(), password: this.smtpPassword }),
      },
      smtpSameCredentials: this.smtpSame,
      storeSent: this.storeSent,
      fromAddresses: [
        { address: email, name: this.senderName.trim() || null },
        ...this.extraFrom.map((row) => ({ address: row.address.trim().toLowerCase(), name: row.name.trim() || null })),
      ],
    };
  }

  /** Probes both servers without saving. @returns the result, or null when checks failed first. */
  async test(): Promise<ConnectionTestDto | null> {
    if (!this.#begin()) {
      return null;
    }
    const key = this.#key();
    this.busy = 'test';
    try {
      const result = await api.testMailConnection(this.toInput());
      this.lastTest = { result, key };
      return result;
    } catch (error) {
      this.#place(error);
      return null;
    } finally {
      this.busy = null;
    }
  }

  /** Saves the mailbox after the server's own checks. @returns the account, or null when refused. */
  async connect(): Promise<MailAccountDto | null> {
    if (!this.#begin()) {
      return null;
    }
    this.busy = 'connect';
    try {
      return await api.connectMailAccount(this.toInput());
    } catch (error) {
      this.#place(error);
      return null;
    } finally {
      this.busy = null;
    }
  }

  #key(): string {
    const input = this.toInput();
    return JSON.stringify({ ...input, label: undefined, fromAddresses: undefined });
  }

  #begin(): boolean {
    this.formError = null;
    this.serverProblem = {};
    this.errors = this.#validate();
    if (Object.keys(this.errors).some((f) => /^(imap|smtp)\.(?!password$)|^smtp\./.test(f))) {
      this.advancedOpen = true;
    }
    return Object.keys(this.errors).length === 0;
  }

  #validate(): Record<string, string> {
    const errors: Record<string, string> = {};
    if (!EMAIL.test(this.email.trim())) {
      errors.email = 'Enter the mailbox address, like name@company.com.';
    }
    if (!this.password) {
      errors['imap.password'] = this.preset?.appPasswordUrl ? 'Enter the app password.' : 'Enter the password.';
    }
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
    if (!this.smtpSame && !this.smtpPassword) {
      errors['smtp.password'] = 'Enter the password for the outgoing server.';
    }
    this.extraFrom.forEach((row, i) => {
      if (!EMAIL.test(row.address.trim())) {
        errors[`fromAddresses.${i + 1}.address`] = 'Enter an address, or remove this row.';
      }
    });
    return errors;
  }

  /** Puts a server refusal next to what caused it. */
  #place(error: unknown): void {
    if (!(error instanceof ApiError)) {
      console.error(error);
      this.formError = 'Something went wrong. Please try again.';
      return;
    }
    const field = error.field;
    if (error.code === ERROR_CODES.connectionFailed && (field === 'imap' || field === 'smtp')) {
      this.serverProblem = { [field]: error.message };
      this.advancedOpen = true;
      return;
    }
    if (field && (FIELDS.has(field) || this.#isFromField(field))) {
      this.errors = { [field]: fieldMessage(field, error.message) };
      if (/^(imap|smtp)\./.test(field) && field !== 'imap.password') {
        this.advancedOpen = true;
      }
      return;
    }
    this.formError = error.message || 'Something went wrong. Please try again.';
  }

  #isFromField(field: string): boolean {
    const match = /^fromAddresses\.(\d+)\.(address|name)$/.exec(field);
    return match !== null && Number(match[1]) <= this.extraFrom.length;
  }
}

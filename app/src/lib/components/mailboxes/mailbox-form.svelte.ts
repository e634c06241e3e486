/**
 * @module app/lib/components/mailboxes/mailbox-form
 * The state behind "Connect a mailbox": the provider (which fills in both
 * servers), the shared fields, "Test connection" and "Connect".
 */
import { api } from '$lib/api';
import type { ConnectionTestDto, MailAccountDto, MailAccountInput } from '$sync/api';
import { CUSTOM_PROVIDER, EMAIL, MailboxFields } from './mailbox-fields.svelte';

export { CUSTOM_PROVIDER, type FromRow } from './mailbox-fields.svelte';

export class MailboxForm extends MailboxFields {
  /** Picks a provider and fills in its servers (blank ones for a custom server). */
  choose(id: string): void {
    if (id === this.provider) {
      return;
    }
    this.provider = id;
    const preset = this.presets.find((p) => p.id === id);
    this.imap.apply(preset?.imap ?? { host: '', port: 993, security: 'tls' });
    this.smtp.apply(preset?.smtp ?? { host: '', port: 465, security: 'tls' });
    this.imapUserTouched = false;
    this.advancedOpen = id === CUSTOM_PROVIDER;
    this.errors = {};
    this.serverProblem = {};
    this.formError = null;
    this.lastTest = null;
  }

  /** The request body; row 0 of `fromAddresses` is always the account's own address. */
  toInput(): MailAccountInput {
    return {
      ...(this.label.trim() ? { label: this.label.trim() } : {}),
      email: this.email.trim().toLowerCase(),
      provider: this.provider ?? CUSTOM_PROVIDER,
      imap: { ...this.imap.toDto(), user: this.imapUser.trim(), password: this.password },
      smtp: {
        ...this.smtp.toDto(),
        ...(this.smtpSame ? {} : { user: this.smtpUser.trim(), password: this.smtpPassword }),
      },
      smtpSameCredentials: this.smtpSame,
      storeSent: this.storeSent,
      fromAddresses: this.fromAddresses(),
    };
  }

  /** Probes both servers without saving. @returns the result, or null when checks failed first. */
  async test(): Promise<ConnectionTestDto | null> {
    return this.runTest(() => api.testMailConnection(this.toInput()));
  }

  /** Saves the mailbox after the server's own checks. @returns the account, or null when refused. */
  async connect(): Promise<MailAccountDto | null> {
    return this.submit('save', () => api.connectMailAccount(this.toInput()));
  }

  protected settingsKey(): string {
    return JSON.stringify({ ...this.toInput(), label: undefined, fromAddresses: undefined });
  }

  protected override validate(): Record<string, string> {
    const errors: Record<string, string> = {};
    if (!EMAIL.test(this.email.trim())) {
      errors.email = 'Enter the mailbox address, like name@company.com.';
    }
    if (!this.password) {
      errors['imap.password'] = this.preset?.appPasswordUrl ? 'Enter the app password.' : 'Enter the password.';
    }
    if (!this.smtpSame && !this.smtpPassword) {
      errors['smtp.password'] = 'Enter the password for the outgoing server.';
    }
    return { ...errors, ...super.validate() };
  }
}

/**
 * @module app/lib/components/mailboxes/mailbox-edit-form
 * The state behind a mailbox's settings page: the shared fields filled in
 * from the account, a blank password meaning "keep the saved one", and only
 * what changed sent to the server, which probes changed servers before
 * saving and asks for a password again where it must.
 */
import { api } from '$lib/api';
import type { ConnectionTestDto, MailAccountDto, MailAccountUpdateInput, ProviderPresetDto } from '$sync/api';
import { CUSTOM_PROVIDER, MailboxFields } from './mailbox-fields.svelte';

type Server = NonNullable<MailAccountUpdateInput['imap']>;

function sameFrom(a: MailAccountDto['fromAddresses'], b: { address: string; name: string | null }[]): boolean {
  return a.length === b.length && a.every((row, i) => row.address === b[i]?.address && (row.name ?? null) === (b[i]?.name ?? null));
}

export class MailboxEditForm extends MailboxFields {
  readonly account: MailAccountDto;

  constructor(account: MailAccountDto, presets: ProviderPresetDto[]) {
    super();
    this.account = account;
    this.presets = presets;
    this.provider = presets.some((p) => p.id === account.provider) ? account.provider : CUSTOM_PROVIDER;
    this.label = account.label === account.email ? '' : account.label;
    this.email = account.email;
    this.imap.apply(account.imap);
    this.smtp.apply(account.smtp);
    this.imapUser = account.imap.user;
    this.smtpSame = account.smtpSameCredentials;
    this.smtpUser = account.smtpSameCredentials ? '' : account.smtp.user;
    this.storeSent = account.storeSent;
    const [own, ...more] = account.fromAddresses;
    this.senderName = own?.name ?? '';
    this.extraFrom = more.map((row) => ({ key: this.nextKey++, address: row.address, name: row.name ?? '' }));
    this.advancedOpen = this.provider === CUSTOM_PROVIDER;
  }

  /** What to call the incoming secret: an OAuth account holds an access token. */
  override get secretLabel(): string {
    if (this.account.authKind === 'oauth2') {
      return 'New access token';
    }
    return this.preset?.appPasswordUrl ? 'New app password' : 'New password';
  }

  override get passwordHint(): string | undefined {
    return [this.preset?.passwordHint, 'Leave empty to keep the saved one; a new server needs it again.'].filter(Boolean).join(' ');
  }

  override get smtpPasswordHint(): string | undefined {
    return this.account.smtpSameCredentials ? undefined : 'Leave empty to keep the saved password.';
  }

  /** Only what changed; a blank password keeps the saved one. */
  toUpdateInput(): MailAccountUpdateInput {
    const a = this.account;
    const input: MailAccountUpdateInput = {};
    const label = this.label.trim() || a.email;
    if (label !== a.label) {
      input.label = this.label.trim();
    }
    const imap = this.serverChanges(this.imap.toDto(), a.imap, this.imapUser.trim(), this.password);
    if (imap) {
      input.imap = imap;
    }
    const smtp = this.smtpSame
      ? this.serverChanges(this.smtp.toDto(), a.smtp, a.smtp.user, '')
      : this.serverChanges(this.smtp.toDto(), a.smtp, this.smtpUser.trim(), this.smtpPassword);
    if (smtp) {
      input.smtp = smtp;
    }
    if (this.smtpSame !== a.smtpSameCredentials) {
      input.smtpSameCredentials = this.smtpSame;
    }
    if (this.storeSent !== a.storeSent) {
      input.storeSent = this.storeSent;
    }
    const from = this.fromAddresses();
    if (!sameFrom(a.fromAddresses, from)) {
      input.fromAddresses = from;
    }
    return input;
  }

  /** Probes both servers as they would be after the change, without saving. */
  async test(): Promise<ConnectionTestDto | null> {
    return this.runTest(() => api.testMailAccountUpdate(this.account.id, this.toUpdateInput()));
  }

  /** Saves the change after the server's checks. @returns the account, or null when refused. */
  async save(): Promise<MailAccountDto | null> {
    return this.submit('save', () => api.updateMailAccount(this.account.id, this.toUpdateInput()));
  }

  protected settingsKey(): string {
    const input = this.toUpdateInput();
    return JSON.stringify({ ...input, label: undefined, storeSent: undefined, fromAddresses: undefined });
  }

  private serverChanges(dto: { host: string; port: number; security: Server['security'] }, was: MailAccountDto['imap'], user: string, secret: string): Server | null {
    const out: Server = {};
    if (dto.host !== was.host) {
      out.host = dto.host;
    }
    if (dto.port !== was.port) {
      out.port = dto.port;
    }
    if (dto.security !== was.security) {
      out.security = dto.security;
    }
    if (user && user !== was.user) {
      out.user = user;
    }
    if (secret) {
      out.password = secret;
    }
    return Object.keys(out).length > 0 ? out : null;
  }
}

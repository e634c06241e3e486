/**
 * @module app/lib/components/mailboxes/server-settings
 * One server's host, port and security in the connect form. Choosing a
 * security setting moves the port to the usual one, unless the person typed
 * a port themselves.
 */
import { MAIL_SECURITY, type MailSecurity, type ServerSettingsDto } from '$sync/api';
import { USUAL_PORTS } from './mailbox-format';

function isSecurity(value: string): value is MailSecurity {
  return (MAIL_SECURITY as readonly string[]).includes(value);
}

export class ServerSettings {
  host = $state('');
  #port = $state('');
  #security = $state<MailSecurity>('tls');
  /** Set once the person typed a port; from then on security changes leave it alone. */
  #portTouched = false;

  constructor(
    readonly protocol: 'imap' | 'smtp',
    security: MailSecurity,
  ) {
    this.#security = security;
    this.#port = String(USUAL_PORTS[protocol][security]);
  }

  get port(): string {
    return this.#port;
  }

  set port(value: string) {
    this.#port = value;
    this.#portTouched = true;
  }

  get security(): MailSecurity {
    return this.#security;
  }

  /** Accepts the select's string value; ignores anything that isn't a security setting. */
  set security(value: string) {
    if (!isSecurity(value)) {
      return;
    }
    this.#security = value;
    if (!this.#portTouched) {
      this.#port = String(USUAL_PORTS[this.protocol][value]);
    }
  }

  /** The port as a number, or null when it isn't a valid one. */
  get portNumber(): number | null {
    const text = this.#port.trim();
    const n = Number(text);
    return /^\d+$/.test(text) && n >= 1 && n <= 65535 ? n : null;
  }

  /** Fills in a preset's (or a blank custom) server; the port counts as untouched again. */
  apply(settings: ServerSettingsDto): void {
    this.host = settings.host;
    this.#security = settings.security;
    this.#port = String(settings.port);
    this.#portTouched = false;
  }

  toDto(): ServerSettingsDto {
    return { host: this.host.trim(), port: this.portNumber ?? 0, security: this.#security };
  }
}

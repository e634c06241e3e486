/**
 * @module tests/helpers/mail-account
 * What every mail suite does first: connect a mailbox on the throwaway
 * Dovecot (or a proxy in front of it) through the real API, and poll until
 * the mirror reaches a state.
 */
import type { MailAccountInput } from '../../sync/api';
import type { Client } from './app';

/**
 * Polls `probe` until `ok` holds.
 * @throws with the last value seen when `timeoutMs` passes first.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  ok: (value: T) => boolean,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    last = await probe();
  }
  return last;
}

export interface LoopbackAccount {
  imapPort: number;
  smtpPort: number;
  storeSent?: boolean;
  user?: string;
  password?: string;
  email?: string;
}

/** Settings for a mailbox on loopback servers without TLS (the test Dovecot and SMTP sink). */
export function loopbackAccountInput(a: LoopbackAccount): MailAccountInput {
  return {
    email: a.email ?? 'alice@acme.test',
    provider: 'custom',
    imap: { host: '127.0.0.1', port: a.imapPort, security: 'none', user: a.user ?? 'alice', password: a.password ?? 'alice-pw' },
    smtp: { host: '127.0.0.1', port: a.smtpPort, security: 'none' },
    smtpSameCredentials: true,
    storeSent: a.storeSent ?? false,
  };
}

/**
 * Connects the mailbox through `POST /api/mail/accounts`.
 * @returns the account id.
 * @throws when the API does not answer 201.
 */
export async function connectLoopbackAccount(api: Client, cookie: string, a: LoopbackAccount): Promise<string> {
  const res = await api.post<{ id: string }>('/api/mail/accounts', loopbackAccountInput(a), { cookie });
  if (res.status !== 201) {
    throw new Error(`connecting the test mailbox failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body.id;
}

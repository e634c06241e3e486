/**
 * @module server/mail/connection
 * One place that turns an account's settings into imapflow and nodemailer
 * options, for passwords and OAuth2 access tokens alike, and the "test
 * connection" probe built on them.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { checkHost } from '../net/address-policy';
import { classifyConnectionError, type ConnectionProblem, type ConnectionTarget } from './connection-errors';
import type { Security } from './presets';

/** A password, or an OAuth2 access token (so an OAuth sign-in can plug in later). */
export type Credential = { kind: 'password'; password: string } | { kind: 'oauth2'; accessToken: string };

export interface EndpointSettings {
  host: string;
  port: number;
  security: Security;
  user: string;
  credential: Credential;
}

export interface Timeouts {
  connectMs: number;
  greetingMs: number;
  socketMs: number;
}

export const PROBE_TIMEOUTS: Timeouts = { connectMs: 10_000, greetingMs: 10_000, socketMs: 20_000 };

/** imapflow options for an endpoint; logging off (it would print credentials at debug). */
export function imapOptions(settings: EndpointSettings, timeouts: Timeouts = PROBE_TIMEOUTS): ImapFlowOptions {
  const auth =
    settings.credential.kind === 'password'
      ? { user: settings.user, pass: settings.credential.password }
      : { user: settings.user, accessToken: settings.credential.accessToken };
  return {
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    doSTARTTLS: settings.security === 'starttls' ? true : settings.security === 'none' ? false : undefined,
    auth,
    logger: false,
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    clientInfo: { name: 'Shoal' },
  };
}

/** nodemailer SMTP options for an endpoint. */
export function smtpOptions(settings: EndpointSettings, timeouts: Timeouts = PROBE_TIMEOUTS): SMTPTransport.Options {
  const auth =
    settings.credential.kind === 'password'
      ? { user: settings.user, pass: settings.credential.password }
      : { type: 'OAuth2' as const, user: settings.user, accessToken: settings.credential.accessToken };
  return {
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    auth,
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    logger: false,
  };
}

export type ProbeResult = { ok: true } | { ok: false; problem: ConnectionProblem };

export interface ProbeOptions {
  hint: string | null;
  allowPrivateHosts: boolean;
  timeouts?: Timeouts;
}

/** A connection Shoal refused to open itself (see `hostProblem`), with the problem to show. */
export class HostNotAllowedError extends Error {
  constructor(readonly problem: ConnectionProblem) {
    super(problem.message);
    this.name = 'HostNotAllowedError';
  }
}

/**
 * Refuses servers on private, loopback or link-local addresses unless allowed:
 * otherwise "test connection" would let anyone scan the server's own network.
 */
export async function hostProblem(target: ConnectionTarget, allowPrivate: boolean): Promise<ConnectionProblem | null> {
  const check = await checkHost(target.host, allowPrivate);
  if (check.ok) {
    return null;
  }
  if (check.reason === 'unresolvable') {
    return classifyConnectionError({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND' }, target);
  }
  return {
    code: 'address_not_allowed',
    message: `${target.host} points to a private or local network address, which Shoal does not connect to.`,
    hint: 'Use the mail server’s public name. An administrator can allow private addresses with MAIL_ALLOW_PRIVATE_HOSTS.',
  };
}

/** Connects, authenticates and logs out of the IMAP server. */
export async function probeImap(settings: EndpointSettings, options: ProbeOptions): Promise<ProbeResult> {
  const refused = await hostProblem({ protocol: 'imap', ...settings }, options.allowPrivateHosts);
  if (refused) {
    return { ok: false, problem: refused };
  }
  const hint = options.hint;
  const timeouts = options.timeouts ?? PROBE_TIMEOUTS;
  const client = new ImapFlow(imapOptions(settings, timeouts));
  // imapflow also emits 'error' after a failed connect; without a listener Node would crash.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.logout();
    return { ok: true };
  } catch (error) {
    client.close();
    return { ok: false, problem: classifyConnectionError(error, { protocol: 'imap', ...settings }, hint) };
  }
}

/** Connects to the SMTP server and authenticates without sending anything. */
export async function probeSmtp(settings: EndpointSettings, options: ProbeOptions): Promise<ProbeResult> {
  const refused = await hostProblem({ protocol: 'smtp', ...settings }, options.allowPrivateHosts);
  if (refused) {
    return { ok: false, problem: refused };
  }
  const hint = options.hint;
  const timeouts = options.timeouts ?? PROBE_TIMEOUTS;
  const transport = nodemailer.createTransport(smtpOptions(settings, timeouts));
  try {
    await transport.verify();
    return { ok: true };
  } catch (error) {
    return { ok: false, problem: classifyConnectionError(error, { protocol: 'smtp', ...settings }, hint) };
  } finally {
    transport.close();
  }
}

/** Probes both servers at once. */
export async function testConnection(
  imap: EndpointSettings,
  smtp: EndpointSettings,
  options: ProbeOptions,
): Promise<{ imap: ProbeResult; smtp: ProbeResult }> {
  const [imapResult, smtpResult] = await Promise.all([probeImap(imap, options), probeSmtp(smtp, options)]);
  return { imap: imapResult, smtp: smtpResult };
}

/**
 * @module server/mail/connection
 * One place that turns an account's settings into imapflow and nodemailer
 * options, for passwords and OAuth2 access tokens alike, and the "test
 * connection" probe built on them. Every connection first goes through
 * `pinEndpoint`: the server's name is resolved once, checked against the
 * address policy, and the connection dials that checked address (the
 * certificate is still verified against the name), so a DNS answer that
 * changes between the check and the connect (rebinding) cannot move it.
 */
import { isIP } from 'node:net';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { Logger } from 'pino';
import { checkHost, type HostResolver } from '../net/address-policy';
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

/**
 * An endpoint ready to dial: `address` is what the socket connects to (the
 * address `pinEndpoint` checked, or the name itself when private hosts are
 * allowed), `host` the name the certificate must be issued for.
 */
export interface DialableEndpoint extends EndpointSettings {
  address: string;
}

/** The TLS server name (SNI and certificate check) when the socket dials a checked address instead of the name. */
function servernameFor(endpoint: DialableEndpoint): { servername?: string } {
  const name = endpoint.host.endsWith('.') ? endpoint.host.slice(0, -1) : endpoint.host;
  return endpoint.address === endpoint.host || isIP(name) !== 0 ? {} : { servername: endpoint.host };
}

/** imapflow options for an endpoint; logging off (it would print credentials at debug). */
export function imapOptions(settings: DialableEndpoint, timeouts: Timeouts = PROBE_TIMEOUTS): ImapFlowOptions {
  const auth =
    settings.credential.kind === 'password'
      ? { user: settings.user, pass: settings.credential.password }
      : { user: settings.user, accessToken: settings.credential.accessToken };
  return {
    host: settings.address,
    ...servernameFor(settings),
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

/** nodemailer SMTP options for an endpoint; the EHLO name stays nodemailer's default (this machine's name). */
export function smtpOptions(settings: DialableEndpoint, timeouts: Timeouts = PROBE_TIMEOUTS): SMTPTransport.Options {
  const auth =
    settings.credential.kind === 'password'
      ? { user: settings.user, pass: settings.credential.password }
      : { type: 'OAuth2' as const, user: settings.user, accessToken: settings.credential.accessToken };
  return {
    host: settings.address,
    ...servernameFor(settings),
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

/** Which addresses a connection may dial, and the DNS and log to use on the way. */
export interface HostPolicy {
  /** MAIL_ALLOW_PRIVATE_HOSTS: private and loopback servers may be dialled (self-hosted mail, tests). */
  allowPrivateHosts: boolean;
  /** The DNS to ask; the system's by default, scripted in tests. */
  resolve?: HostResolver;
  /** Where the dialled address is noted, at debug level. */
  log?: Pick<Logger, 'debug'>;
}

export interface ProbeOptions extends HostPolicy {
  hint: string | null;
  timeouts?: Timeouts;
}

/** A connection Shoal refused to open itself (see `pinEndpoint`), with the problem to show. */
export class HostNotAllowedError extends Error {
  constructor(readonly problem: ConnectionProblem) {
    super(problem.message);
    this.name = 'HostNotAllowedError';
  }
}

/** What `pinEndpoint` decided: the endpoint to dial, or why Shoal will not connect. */
export type PinnedEndpoint = { ok: true; endpoint: DialableEndpoint } | { ok: false; problem: ConnectionProblem };

function refusal(target: ConnectionTarget, reason: 'unresolvable' | 'private'): ConnectionProblem {
  if (reason === 'unresolvable') {
    return classifyConnectionError({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND' }, target);
  }
  return {
    code: 'address_not_allowed',
    message: `${target.host} points to a private or local network address, which Shoal does not connect to.`,
    hint: 'Use the mail server’s public name. An administrator can allow private addresses with MAIL_ALLOW_PRIVATE_HOSTS.',
  };
}

/**
 * Resolves the server's name once and decides what the connection dials.
 * Every address the name maps to must be public (one private answer among
 * public ones is how a rebinding attack hides, so the name is refused), and
 * the connection then goes to exactly the first of them, the system
 * resolver's preferred one, as the image proxy does: the libraries never
 * resolve the name again. With private hosts allowed any address is
 * acceptable, so the name is dialled as before and the system may still
 * try each of its addresses in turn. Refusing private servers keeps "test
 * connection" from scanning the server's own network.
 */
export async function pinEndpoint(protocol: ConnectionTarget['protocol'], settings: EndpointSettings, policy: HostPolicy): Promise<PinnedEndpoint> {
  const target = { protocol, host: settings.host, port: settings.port, security: settings.security };
  const check = await checkHost(settings.host, policy.allowPrivateHosts, policy.resolve);
  if (!check.ok) {
    return { ok: false, problem: refusal(target, check.reason) };
  }
  const address = policy.allowPrivateHosts ? settings.host : (check.addresses[0] as string);
  policy.log?.debug({ protocol, host: settings.host, port: settings.port, address }, 'mail server address chosen');
  return { ok: true, endpoint: { ...settings, address } };
}

/**
 * `pinEndpoint` for callers that fail by throwing.
 * @throws HostNotAllowedError when the name does not resolve or points to a private or local address that is not allowed.
 */
export async function dialableEndpoint(protocol: ConnectionTarget['protocol'], settings: EndpointSettings, policy: HostPolicy): Promise<DialableEndpoint> {
  const pinned = await pinEndpoint(protocol, settings, policy);
  if (!pinned.ok) {
    throw new HostNotAllowedError(pinned.problem);
  }
  return pinned.endpoint;
}

/** Connects, authenticates and logs out of the IMAP server. */
export async function probeImap(settings: EndpointSettings, options: ProbeOptions): Promise<ProbeResult> {
  const pinned = await pinEndpoint('imap', settings, options);
  if (!pinned.ok) {
    return pinned;
  }
  const hint = options.hint;
  const timeouts = options.timeouts ?? PROBE_TIMEOUTS;
  const client = new ImapFlow(imapOptions(pinned.endpoint, timeouts));
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
  const pinned = await pinEndpoint('smtp', settings, options);
  if (!pinned.ok) {
    return pinned;
  }
  const hint = options.hint;
  const timeouts = options.timeouts ?? PROBE_TIMEOUTS;
  const transport = nodemailer.createTransport(smtpOptions(pinned.endpoint, timeouts));
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

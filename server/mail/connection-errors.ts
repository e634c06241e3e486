/**
 * @module server/mail/connection-errors
 * Turns whatever imapflow, nodemailer or the socket threw into one specific,
 * human explanation with a hint. Never a raw stack, never a credential.
 */
import { USUAL_PORTS, type Security } from './presets';

export const CONNECTION_ERRORS = {
  dnsFailed: 'dns_failed',
  connectionRefused: 'connection_refused',
  tlsMismatch: 'tls_mismatch',
  certificateInvalid: 'certificate_invalid',
  authFailed: 'auth_failed',
  timeout: 'timeout',
  throttled: 'throttled',
  starttlsUnavailable: 'starttls_unavailable',
  addressNotAllowed: 'address_not_allowed',
  unknown: 'unknown',
} as const;
export type ConnectionErrorCode = (typeof CONNECTION_ERRORS)[keyof typeof CONNECTION_ERRORS];

export interface ConnectionTarget {
  protocol: 'imap' | 'smtp';
  host: string;
  port: number;
  security: Security;
}

export interface ConnectionProblem {
  code: ConnectionErrorCode;
  message: string;
  hint: string | null;
}

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  responseCode?: unknown;
  authenticationFailed?: unknown;
  serverResponseCode?: unknown;
  responseText?: unknown;
}

const TLS_MISMATCH = /wrong version number|unknown protocol|packet length too long|ssl3_get_record|EPROTO|http request/i;
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ETIMEOUT', 'GREETING_TIMEOUT', 'CONNECT_TIMEOUT', 'SOCKET_TIMEOUT', 'ECONNRESET']);

function label(target: ConnectionTarget): string {
  return `${target.protocol === 'imap' ? 'Incoming (IMAP)' : 'Outgoing (SMTP)'} server ${target.host}:${target.port}`;
}

function portHint(target: ConnectionTarget): string {
  const ports = USUAL_PORTS[target.protocol];
  return target.protocol === 'imap'
    ? `IMAP usually listens on ${ports.tls} (SSL/TLS) or ${ports.starttls} (STARTTLS).`
    : `SMTP usually listens on ${ports.tls} (SSL/TLS), ${ports.starttls} (STARTTLS) or ${ports.none}.`;
}

function securityHint(target: ConnectionTarget): string {
  const ports = USUAL_PORTS[target.protocol];
  if (target.security === 'tls') {
    return `This port does not speak SSL/TLS. Try STARTTLS or "none" on this port, or SSL/TLS on ${ports.tls}.`;
  }
  return `This port expects SSL/TLS from the first byte. Choose SSL/TLS, or use port ${ports.starttls} with STARTTLS.`;
}

function isAuthFailure(e: ErrorShape): boolean {
  if (e.authenticationFailed === true || e.serverResponseCode === 'AUTHENTICATIONFAILED' || e.code === 'EAUTH') {
    return true;
  }
  return e.responseCode === 535 || e.responseCode === 534;
}

function isThrottle(e: ErrorShape, text: string): boolean {
  return e.code === 'ETHROTTLE' || (e.responseCode === 421 && /too many|rate|throttl/i.test(text)) || /throttl/i.test(text);
}

/**
 * Explains a connection failure.
 * @param error what the client library threw.
 * @param target which server, port and security were tried (for the hint).
 * @param appPasswordHint provider-specific advice for authentication failures.
 */
export function classifyConnectionError(
  error: unknown,
  target: ConnectionTarget,
  appPasswordHint: string | null = null,
): ConnectionProblem {
  const e: ErrorShape = typeof error === 'object' && error !== null ? (error as ErrorShape) : {};
  const code = typeof e.code === 'string' ? e.code : '';
  const text = `${typeof e.message === 'string' ? e.message : ''} ${typeof e.responseText === 'string' ? e.responseText : ''}`;
  const where = label(target);
  if (code === 'ENOTFOUND' || code === 'EDNS' || code === 'EAI_AGAIN' || /getaddrinfo/.test(text)) {
    return { code: 'dns_failed', message: `${where}: the name ${target.host} could not be found.`, hint: 'Check the server name for typos.' };
  }
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(text)) {
    return { code: 'connection_refused', message: `${where} refused the connection.`, hint: portHint(target) };
  }
  if (CERT_CODES.has(code) || /certificate/i.test(text)) {
    return {
      code: 'certificate_invalid',
      message: `${where} presented a certificate that cannot be trusted (${text.trim().slice(0, 80)}).`,
      hint: 'Check the server name matches the certificate; ask the mail provider about their certificate.',
    };
  }
  if (TLS_MISMATCH.test(text) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return { code: 'tls_mismatch', message: `${where}: the security setting does not match the port.`, hint: securityHint(target) };
  }
  if (/does not support STARTTLS|STARTTLS/i.test(text) && !isAuthFailure(e)) {
    return {
      code: 'starttls_unavailable',
      message: `${where} does not offer STARTTLS.`,
      hint: 'Choose SSL/TLS on the SSL port, or ask the provider whether encryption is available.',
    };
  }
  if (isAuthFailure(e)) {
    return {
      code: 'auth_failed',
      message: `${where} rejected the user name or password.`,
      hint: appPasswordHint ?? 'Check the user name and password. Providers with two-step sign-in need an app password.',
    };
  }
  if (isThrottle(e, text)) {
    return {
      code: 'throttled',
      message: `${where} is limiting connections right now.`,
      hint: 'Wait a few minutes and try again; Shoal backs off automatically once the account is saved.',
    };
  }
  if (TIMEOUT_CODES.has(code) || /timed? ?out|greeting/i.test(text)) {
    const tlsGuess = target.security !== 'tls' && target.port === USUAL_PORTS[target.protocol].tls;
    return {
      code: 'timeout',
      message: `${where} did not answer in time.`,
      hint: tlsGuess
        ? securityHint(target)
        : 'The server may be down, a firewall may drop the connection, or the port expects SSL/TLS.',
    };
  }
  return { code: 'unknown', message: `${where}: the connection failed.`, hint: code ? `Error code ${code}.` : null };
}

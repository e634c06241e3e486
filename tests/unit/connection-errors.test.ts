/**
 * The error shapes below were recorded from imapflow 2.10 and nodemailer 10
 * against a throwaway Dovecot, a refused port, a silent socket and a
 * self-signed TLS listener on loopback.
 */
import { describe, expect, it } from 'vitest';
import { classifyConnectionError, type ConnectionTarget } from '../../server/mail/connection-errors';

const imapTls: ConnectionTarget = { protocol: 'imap', host: 'imap.acme.test', port: 993, security: 'tls' };
const imapNone993: ConnectionTarget = { protocol: 'imap', host: 'imap.acme.test', port: 993, security: 'none' };
const imapPlain: ConnectionTarget = { protocol: 'imap', host: 'imap.acme.test', port: 143, security: 'none' };
const smtpTls: ConnectionTarget = { protocol: 'smtp', host: 'smtp.acme.test', port: 465, security: 'tls' };

const recorded = {
  imapDns: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND no-such-host.invalid' },
  imapRefused: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' },
  imapTlsToPlain: {
    code: 'ERR_SSL_WRONG_VERSION_NUMBER',
    message: '80FC6279DD7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
  },
  imapGreetingTimeout: {
    code: 'GREETING_TIMEOUT',
    message: 'Failed to receive greeting from server in required time. Maybe should use TLS?',
  },
  imapSelfSigned: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' },
  imapNoStarttls: { message: 'Server does not support STARTTLS' },
  imapBadPassword: {
    message: 'Command failed',
    authenticationFailed: true,
    serverResponseCode: 'AUTHENTICATIONFAILED',
    responseText: 'Authentication failed.',
  },
  imapThrottled: { code: 'ETHROTTLE', message: 'Request is throttled. Suggested Backoff Time: 1000 milliseconds' },
  smtpDns: { code: 'EDNS', message: 'getaddrinfo ENOTFOUND no-such-host.invalid', command: 'CONN' },
  smtpRefused: { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:1', command: 'CONN' },
  smtpTlsToPlain: { code: 'ESOCKET', message: 'error:0A00010B:SSL routines:ssl3_get_record:wrong version number', command: 'CONN' },
  smtpBlackhole: { code: 'ETIMEDOUT', message: 'Greeting never received', command: 'CONN' },
  smtpSelfSigned: { code: 'ESOCKET', message: 'self-signed certificate', command: 'CONN' },
  smtpBadPassword: { code: 'EAUTH', responseCode: 535, message: 'Invalid login: 535 Authentication credentials invalid' },
  smtpThrottled: { code: 'EENVELOPE', responseCode: 421, message: '421 Too many connections, try again later' },
};

describe('connection error classification', () => {
  it.each([
    ['imapDns', imapTls, 'dns_failed'],
    ['imapRefused', imapTls, 'connection_refused'],
    ['imapTlsToPlain', imapTls, 'tls_mismatch'],
    ['imapGreetingTimeout', imapPlain, 'timeout'],
    ['imapSelfSigned', imapTls, 'certificate_invalid'],
    ['imapNoStarttls', imapPlain, 'starttls_unavailable'],
    ['imapBadPassword', imapTls, 'auth_failed'],
    ['imapThrottled', imapTls, 'throttled'],
    ['smtpDns', smtpTls, 'dns_failed'],
    ['smtpRefused', smtpTls, 'connection_refused'],
    ['smtpTlsToPlain', smtpTls, 'tls_mismatch'],
    ['smtpBlackhole', smtpTls, 'timeout'],
    ['smtpSelfSigned', smtpTls, 'certificate_invalid'],
    ['smtpBadPassword', smtpTls, 'auth_failed'],
    ['smtpThrottled', smtpTls, 'throttled'],
  ] as const)('%s → %s', (key, target, code) => {
    const problem = classifyConnectionError(recorded[key], target);
    expect(problem.code).toBe(code);
    expect(problem.message).toContain(`${target.host}:${target.port}`);
    expect(problem.message).not.toMatch(/at .*\.js|0A00010B/);
  });

  it('names the usual ports when a connection is refused', () => {
    expect(classifyConnectionError(recorded.imapRefused, imapTls).hint).toMatch(/993.*143/);
    expect(classifyConnectionError(recorded.smtpRefused, smtpTls).hint).toMatch(/465.*587.*25/);
  });

  it('suspects SSL/TLS when a plain connection to port 993 gets no greeting', () => {
    expect(classifyConnectionError(recorded.imapGreetingTimeout, imapNone993).hint).toMatch(/expects SSL\/TLS/);
  });

  it('gives the provider’s app-password advice on authentication failure', () => {
    const hint = 'Google requires an app password';
    expect(classifyConnectionError(recorded.imapBadPassword, imapTls, hint).hint).toBe(hint);
    expect(classifyConnectionError(recorded.smtpBadPassword, smtpTls).hint).toMatch(/app password/);
  });

  it('never echoes what it cannot classify beyond an error code', () => {
    const problem = classifyConnectionError({ code: 'EWEIRD', message: 'secret=hunter2 blew up' }, imapTls);
    expect(problem.code).toBe('unknown');
    expect(JSON.stringify(problem)).not.toContain('hunter2');
    expect(classifyConnectionError('a string', imapTls).code).toBe('unknown');
  });
});

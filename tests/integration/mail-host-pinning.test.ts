/**
 * DNS rebinding: the mail server's name is resolved once, checked, and the
 * connection dials exactly the checked address, so a name that re-points to
 * 127.0.0.1 after the check never reaches it. The DNS is scripted (a
 * resolver passed in, no global mock); the TLS tests prove, against real
 * TLS servers on 127.0.0.1, that imapflow and nodemailer dial the address
 * and still verify the certificate against the name.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  imapOptions,
  pinEndpoint,
  probeImap,
  probeSmtp,
  smtpOptions,
  type DialableEndpoint,
  type EndpointSettings,
  type HostPolicy,
} from '../../server/mail/connection';
import { prerequisite } from '../helpers/prereq';

const PUBLIC = '93.184.215.14';
const NAME = 'mail.shoal.test';

/** A DNS that answers `answers[0]` on the first question, `answers[1]` on the second, and so on; it counts the questions. */
function scriptedDns(...answers: string[][]) {
  const asked: string[] = [];
  const resolve = (host: string) => {
    asked.push(host);
    return Promise.resolve(answers[Math.min(asked.length, answers.length) - 1] ?? null);
  };
  return { resolve, asked };
}

/** Collects what pinEndpoint logs at debug level. */
function debugLog() {
  const entries: Record<string, unknown>[] = [];
  return { log: { debug: (entry: Record<string, unknown>) => void entries.push(entry) } as HostPolicy['log'], entries };
}

const settings = (host: string, port = 993, security: EndpointSettings['security'] = 'tls'): EndpointSettings => ({
  host,
  port,
  security,
  user: 'ada@acme.test',
  credential: { kind: 'password', password: 'secret-pw' },
});

async function pinned(host: string, policy: HostPolicy): Promise<DialableEndpoint> {
  const result = await pinEndpoint('imap', settings(host), policy);
  if (!result.ok) {
    throw new Error(`refused: ${result.problem.code}`);
  }
  return result.endpoint;
}

describe('pinning the mail server address', () => {
  it('dials the first answer even when the name re-points to 127.0.0.1 afterwards', async () => {
    const dns = scriptedDns([PUBLIC], ['127.0.0.1']);
    const { log, entries } = debugLog();
    const endpoint = await pinned(NAME, { allowPrivateHosts: false, resolve: dns.resolve, log });
    expect(dns.asked).toEqual([NAME]);
    expect(endpoint.address).toBe(PUBLIC);
    expect(imapOptions(endpoint)).toMatchObject({ host: PUBLIC, servername: NAME, port: 993 });
    expect(smtpOptions(endpoint)).toMatchObject({ host: PUBLIC, servername: NAME, port: 993 });
    // The EHLO name stays nodemailer's default, not the address dialled.
    expect(smtpOptions(endpoint).name).toBeUndefined();
    expect(entries).toEqual([{ protocol: 'imap', host: NAME, port: 993, address: PUBLIC }]);
    expect(JSON.stringify(entries)).not.toContain('secret-pw');
  });

  it.each([
    ['a private IPv4 address', [PUBLIC, '10.0.0.7']],
    ['a private IPv6 address', ['2606:4700:4700::1111', 'fd00::7']],
    ['loopback', ['::1']],
  ])('refuses a name with %s among its answers', async (_, answers) => {
    const dns = scriptedDns(answers);
    const result = await pinEndpoint('smtp', settings(NAME), { allowPrivateHosts: false, resolve: dns.resolve });
    expect(result).toMatchObject({ ok: false, problem: { code: 'address_not_allowed' } });
  });

  it('refuses a name with no answer as not found', async () => {
    const result = await pinEndpoint('imap', settings(NAME), { allowPrivateHosts: false, resolve: scriptedDns([]).resolve });
    expect(result).toMatchObject({ ok: false, problem: { code: 'dns_failed' } });
  });

  it('dials an IP literal as it is, with no server name', async () => {
    const endpoint = await pinned(PUBLIC, { allowPrivateHosts: false });
    expect(endpoint.address).toBe(PUBLIC);
    expect(imapOptions(endpoint).host).toBe(PUBLIC);
    expect(imapOptions(endpoint).servername).toBeUndefined();
    expect(smtpOptions(endpoint).servername).toBeUndefined();
  });

  it('dials the name as before when private hosts are allowed', async () => {
    const endpoint = await pinned('localhost', { allowPrivateHosts: true });
    expect(endpoint.address).toBe('localhost');
    expect(imapOptions(endpoint).host).toBe('localhost');
    expect(imapOptions(endpoint).servername).toBeUndefined();
    expect(smtpOptions(endpoint)).toMatchObject({ host: 'localhost' });
    expect(smtpOptions(endpoint).servername).toBeUndefined();
  });
});

/** A TCP listener on 127.0.0.1 that only counts who connects. */
async function countingListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket: Socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, connections: () => count };
}

describe('a rebinding name never reaches the loopback server', () => {
  let listener: Awaited<ReturnType<typeof countingListener>>;
  const timeouts = { connectMs: 1_000, greetingMs: 1_000, socketMs: 1_000 };

  beforeAll(async () => {
    listener = await countingListener();
  });
  afterAll(() => new Promise<void>((resolve) => listener.server.close(() => resolve())));

  // "localhost" is what the system resolver answers 127.0.0.1 for: a library that resolved the
  // name again would land on the listener; the scripted DNS answered a public address for the check.
  it.each([
    ['IMAP', probeImap],
    ['SMTP', probeSmtp],
  ])('%s probe', async (_, probe) => {
    const dns = scriptedDns([PUBLIC], ['127.0.0.1']);
    const result = await probe(settings('localhost', listener.port, 'none'), { hint: null, allowPrivateHosts: false, resolve: dns.resolve, timeouts });
    expect(result.ok).toBe(false);
    expect(dns.asked).toEqual(['localhost']);
    expect(listener.connections()).toBe(0);
  });
});

const opensslMissing = existsSync('/usr/bin/openssl') ? null : '/usr/bin/openssl is not installed';

/** A throwaway certificate for NAME only (no IP in it), so verification against the address would fail. */
function certificateFor(name: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-pin-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('/usr/bin/openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Just enough IMAP over implicit TLS for imapflow to greet, log in and log out. */
async function tlsImapServer(tls: { key: string; cert: string }): Promise<{ server: Server; port: number }> {
  const server = createTlsServer(tls, (socket: TLSSocket) => {
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const [tag = '*', command = ''] = buffer.slice(0, end).split(' ');
        buffer = buffer.slice(end + 2);
        if (command.toUpperCase() === 'CAPABILITY') {
          socket.write('* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n');
        }
        if (command.toUpperCase() === 'LOGOUT') {
          socket.end(`* BYE\r\n${tag} OK bye\r\n`);
          return;
        }
        socket.write(`${tag} OK done\r\n`);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

async function smtpServer(tls: { key: string; cert: string }, secure: boolean): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({ ...tls, secure, authOptional: true, logger: false, onAuth: (_auth, _session, done) => done(null, { user: 'ada' }) });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

/** An endpoint for `name` pinned to 127.0.0.1, as pinEndpoint builds it for a public address. */
const toLoopback = (name: string, port: number, security: EndpointSettings['security']): DialableEndpoint => ({ ...settings(name, port, security), address: '127.0.0.1' });

describe.runIf(prerequisite('openssl', opensslMissing))('dialling the address, verifying the name', () => {
  let tls: { key: string; cert: string };
  let imap: { server: Server; port: number };
  let smtps: { server: SMTPServer; port: number };
  let starttls: { server: SMTPServer; port: number };

  beforeAll(async () => {
    tls = certificateFor(NAME);
    [imap, smtps, starttls] = await Promise.all([tlsImapServer(tls), smtpServer(tls, true), smtpServer(tls, false)]);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => imap.server.close(() => resolve()));
    await Promise.all([smtps, starttls].map((s) => new Promise<void>((resolve) => s.server.close(() => resolve()))));
  });

  const connectImap = async (endpoint: DialableEndpoint) => {
    const options = imapOptions(endpoint);
    const client = new ImapFlow({ ...options, tls: { ...options.tls, ca: tls.cert } });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.logout();
    } finally {
      client.close();
    }
  };

  const verifySmtp = async (endpoint: DialableEndpoint) => {
    const options = smtpOptions(endpoint);
    const transport = nodemailer.createTransport({ ...options, tls: { ...options.tls, ca: tls.cert } });
    try {
      return await transport.verify();
    } finally {
      transport.close();
    }
  };

  it('imapflow connects to the address and accepts the certificate issued for the name', async () => {
    await expect(connectImap(toLoopback(NAME, imap.port, 'tls'))).resolves.toBeUndefined();
  });

  it('imapflow refuses the certificate when the name is not the one it was issued for', async () => {
    await expect(connectImap(toLoopback('other.shoal.test', imap.port, 'tls'))).rejects.toThrow(/altnames|certificate/i);
  });

  it.each([
    ['implicit TLS', () => smtps, 'tls'],
    ['STARTTLS', () => starttls, 'starttls'],
  ] as const)('nodemailer over %s connects to the address and verifies the name', async (_, server, security) => {
    await expect(verifySmtp(toLoopback(NAME, server().port, security))).resolves.toBe(true);
    await expect(verifySmtp(toLoopback('other.shoal.test', server().port, security))).rejects.toThrow(/altnames|certificate/i);
  });
});

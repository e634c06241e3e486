/**
 * The connection layer signs in with an OAuth2 access token as well as a
 * password, so an OAuth sign-in can plug in later: imapflow sends it as
 * SASL XOAUTH2 (to a minimal IMAP server below that checks the exchange),
 * nodemailer as SMTP AUTH XOAUTH2 (to a real smtp-server). A refused token
 * is an auth_failed like a refused password, and the token is never echoed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeImap, probeSmtp, type EndpointSettings, type ProbeOptions } from '../../server/mail/connection';

const USER = 'ada@acme.test';
const TOKEN = `ya29.token-${crypto.randomUUID()}`;
const OPTIONS: ProbeOptions = { hint: null, allowPrivateHosts: true };

/** The SASL XOAUTH2 initial response (Google's "XOAUTH2 protocol" document). */
const xoauth2 = (user: string, token: string) => Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString('base64');

/** Just enough IMAP4rev1 to greet, advertise AUTH=XOAUTH2, check AUTHENTICATE and say goodbye. */
function startImapServer(): Promise<{ server: Server; port: number; mechanisms: string[] }> {
  const mechanisms: string[] = [];
  const server = createServer((socket: Socket) => {
    let buffer = '';
    let pending: string | null = null;
    const reply = (line: string) => socket.write(`${line}\r\n`);
    const authenticate = (tag: string, payload: string) => {
      reply(payload === xoauth2(USER, TOKEN) ? `${tag} OK Authenticated` : `${tag} NO [AUTHENTICATIONFAILED] Invalid credentials`);
    };
    reply('* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=PLAIN] ready');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (pending !== null) {
          authenticate(pending, line);
          pending = null;
          continue;
        }
        const [tag = '*', command = '', ...args] = line.split(' ');
        switch (command.toUpperCase()) {
          case 'CAPABILITY':
            reply('* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=PLAIN');
            reply(`${tag} OK done`);
            break;
          case 'AUTHENTICATE':
            mechanisms.push(args[0] ?? '');
            if (args[1]) {
              authenticate(tag, args[1]);
            } else {
              pending = tag;
              reply('+ ');
            }
            break;
          case 'LOGIN':
            mechanisms.push('LOGIN');
            reply(`${tag} NO [AUTHENTICATIONFAILED] Passwords are not accepted here`);
            break;
          case 'LOGOUT':
            reply('* BYE Logging out');
            reply(`${tag} OK done`);
            socket.end();
            break;
          default:
            reply(`${tag} OK done`);
        }
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, mechanisms });
    });
  });
}

function startSmtpServer(): Promise<{ server: SMTPServer; port: number; methods: string[] }> {
  const methods: string[] = [];
  const server = new SMTPServer({
    authMethods: ['XOAUTH2'],
    authOptional: false,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      methods.push(auth.method);
      if (auth.method === 'XOAUTH2' && auth.username === USER && auth.accessToken === TOKEN) {
        callback(null, { user: auth.username });
        return;
      }
      callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
    },
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0, methods });
    });
  });
}

describe('OAuth2 access tokens in the connection layer', () => {
  let imap: Awaited<ReturnType<typeof startImapServer>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

  const endpoint = (port: number, accessToken: string): EndpointSettings => ({
    host: '127.0.0.1',
    port,
    security: 'none',
    user: USER,
    credential: { kind: 'oauth2', accessToken },
  });

  beforeAll(async () => {
    imap = await startImapServer();
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await new Promise((resolve) => imap?.server.close(resolve));
    await new Promise((resolve) => smtp?.server.close(() => resolve(undefined)));
  });

  it('signs in to IMAP with SASL XOAUTH2, never with a password', async () => {
    expect(await probeImap(endpoint(imap.port, TOKEN), OPTIONS)).toEqual({ ok: true });
    expect(imap.mechanisms).toEqual(['XOAUTH2']);
  });

  it('signs in to SMTP with AUTH XOAUTH2', async () => {
    expect(await probeSmtp(endpoint(smtp.port, TOKEN), OPTIONS)).toEqual({ ok: true });
    expect(smtp.methods).toEqual(['XOAUTH2']);
  });

  it('reports a refused token as auth_failed on both servers, without echoing it', async () => {
    const stale = `ya29.stale-${crypto.randomUUID()}`;
    const results = [await probeImap(endpoint(imap.port, stale), OPTIONS), await probeSmtp(endpoint(smtp.port, stale), OPTIONS)];
    for (const result of results) {
      expect(result.ok).toBe(false);
      expect(result.ok ? null : result.problem.code).toBe('auth_failed');
      expect(JSON.stringify(result)).not.toContain(stale);
    }
  });
});

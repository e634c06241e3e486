/**
 * @module tests/helpers/smtp-sink
 * An in-process SMTP server on a free loopback port that accepts mail and
 * keeps it in memory, so outbound sending can be asserted without relaying
 * anything anywhere.
 */
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import type { Readable } from 'node:stream';

const HOST = '127.0.0.1';
const DEFAULT_WAIT_MS = 5_000;

export interface SinkUser {
  user: string;
  pass: string;
}

export interface SinkOptions {
  /** When given, AUTH PLAIN/LOGIN is required and checked; otherwise auth is optional and any credentials pass. */
  users?: SinkUser[];
  /** Plain SMTP only: the sink offers neither implicit TLS nor STARTTLS. */
  secure?: false;
}

export interface SinkMessage {
  /** MAIL FROM ('' for the null sender `<>`) and every accepted RCPT TO. */
  envelope: { from: string; to: string[] };
  raw: Buffer;
  /** The Message-ID header as sent, angle brackets included, or null when absent. */
  messageId: string | null;
  /** The authenticated user name, or null when the client did not authenticate. */
  user: string | null;
}

export interface SmtpSink {
  host: typeof HOST;
  port: number;
  /** Every message received so far, in arrival order. */
  messages: SinkMessage[];
  /** Resolves with the messages once at least `count` have arrived; rejects after the timeout. */
  waitFor(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  stop(): Promise<void>;
}

/** Unfolds the header block and returns the first Message-ID value. */
export function headerMessageId(raw: Buffer): string | null {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const headers = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:[ \t]*(.*?)[ \t]*$/im.exec(headers);
  return match?.[1] ? match[1] : null;
}

function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function toMessage(session: SMTPServerSession, raw: Buffer): SinkMessage {
  const from = session.envelope.mailFrom;
  return {
    envelope: { from: from ? from.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
    raw,
    messageId: headerMessageId(raw),
    user: typeof session.user === 'string' ? session.user : null,
  };
}

interface Waiter {
  count: number;
  resolve(messages: SinkMessage[]): void;
}

/** Starts a sink on 127.0.0.1 with a kernel-chosen port. */
export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  const users = options.users;
  const messages: SinkMessage[] = [];
  const waiters = new Set<Waiter>();

  const settle = (): void => {
    for (const waiter of waiters) {
      if (messages.length >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve(messages);
      }
    }
  };

  const checkAuth = (auth: SMTPServerAuthentication): boolean =>
    users === undefined || users.some((u) => u.user === auth.username && u.pass === auth.password);

  const server = new SMTPServer({
    secure: false,
    logger: false,
    // Loopback only and no DNS: reverse lookups would try the network.
    disableReverseLookup: true,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: users === undefined,
    // Without TLS, smtp-server refuses AUTH unless told that plain text is fine.
    allowInsecureAuth: true,
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      if (checkAuth(auth)) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onData(stream, session, callback) {
      readAll(stream).then(
        (raw) => {
          messages.push(toMessage(session, raw));
          settle();
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });

  return {
    host: HOST,
    port,
    messages,
    waitFor(count, timeoutMs = DEFAULT_WAIT_MS) {
      if (messages.length >= count) {
        return Promise.resolve(messages);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`SMTP sink got ${messages.length} of ${count} messages within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter: Waiter = {
          count,
          resolve(received) {
            clearTimeout(timer);
            resolve(received);
          },
        };
        waiters.add(waiter);
      });
    },
    stop() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

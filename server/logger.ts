/**
 * @module server/logger
 * pino with redaction: passwords, tokens and cookies never reach the log,
 * whatever object they ride in on.
 */
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'cookie',
  '*.cookie',
  'headers.cookie',
  'headers.authorization',
  '*.headers.cookie',
  '*.headers.authorization',
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
  'passwordHash',
  '*.passwordHash',
  'secret',
  '*.secret',
];

/**
 * Creates the process logger.
 * @param level pino level; `silent` in tests.
 * @param destination stream to write to (tests capture it to assert on redaction).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'shoal' } };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

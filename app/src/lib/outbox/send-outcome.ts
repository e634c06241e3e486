/**
 * @module app/lib/outbox/send-outcome
 * What one attempt at `POST /api/mail/send` means for the outbox entry.
 * The rule that keeps a message from going twice: only a request that
 * provably did not send (network unreachable, a refusal) is tried again,
 * always with the same id, which the server turns into a report of the
 * first send; a delivery the mail server did not confirm is never retried.
 */
import type { OutboundDto } from '$sync/api';
import { ERROR_CODES } from '$sync/api';

export type SendOutcome =
  /** The mail server took it. */
  | { kind: 'sent'; result: OutboundDto }
  /** Still being delivered (another request holds it): ask again later with the same id. */
  | { kind: 'pending'; result: OutboundDto }
  /** Delivery could not be confirmed: never retried automatically. */
  | { kind: 'unconfirmed'; result: OutboundDto; message: string }
  /** Shoal could not be reached: stays queued. */
  | { kind: 'offline' }
  /** A passing server problem: retried with the same id. */
  | { kind: 'retry'; message: string }
  /** Refused (bad input, SMTP refusal): the person must change something or retry by hand. */
  | { kind: 'rejected'; message: string; field: string | null }
  /** The session ended: stays queued until someone signs in again (log-out wipes it). */
  | { kind: 'signedOut' };

const UNCONFIRMED = 'The mail server did not confirm delivery, so Shoal will not send it again. Check your Sent folder before resending.';

/** A 2xx answer. */
export function outcomeOfResult(result: OutboundDto): SendOutcome {
  if (result.status === 'sent') {
    return { kind: 'sent', result };
  }
  if (result.status === 'sending' && result.error !== null) {
    return { kind: 'unconfirmed', result, message: UNCONFIRMED };
  }
  if (result.status === 'failed') {
    return { kind: 'rejected', message: result.error ?? 'Sending failed.', field: null };
  }
  return { kind: 'pending', result };
}

/** The shape of `ApiError` this module needs (kept structural so it stays free of the HTTP client). */
export interface ErrorLike {
  status: number;
  code: string;
  message: string;
  field: string | null;
}

function isErrorLike(error: unknown): error is ErrorLike {
  return typeof error === 'object' && error !== null && typeof (error as ErrorLike).status === 'number' && typeof (error as ErrorLike).code === 'string';
}

/** A failed request. */
export function outcomeOfError(error: unknown): SendOutcome {
  if (!isErrorLike(error)) {
    return { kind: 'retry', message: error instanceof Error ? error.message : 'Sending failed.' };
  }
  if (error.status === 0) {
    return { kind: 'offline' };
  }
  if (error.status === 401 || error.code === ERROR_CODES.authRequired) {
    return { kind: 'signedOut' };
  }
  // The SMTP server refused (502/422 connection_failed): failed on the server too, retried only by hand.
  if (error.code === ERROR_CODES.connectionFailed || (error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429)) {
    return { kind: 'rejected', message: error.message, field: error.field };
  }
  return { kind: 'retry', message: error.message };
}

/** Seconds between automatic retries: 2, 4, 8 … capped at 60. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60_000, 2_000 * 2 ** Math.max(0, attempts - 1));
}

/** One attempt through `post` (the API client's `sendMail`), as an outcome; never throws. */
export async function attemptSend<I>(post: (input: I) => Promise<OutboundDto>, input: I): Promise<SendOutcome> {
  try {
    return outcomeOfResult(await post(input));
  } catch (error) {
    return outcomeOfError(error);
  }
}

/**
 * @module server/commands/image-proxy
 * Remote images go through Shoal, never straight from the viewer's browser.
 *
 * The message frame is a sandbox with an opaque origin, so the browser sends
 * no session cookie from it. Instead the app asks, with its session, for
 * signed proxy paths for the addresses the viewer chose to show; each path
 * names the viewer, an expiry and one address, under an HMAC only the
 * server can make. A signature read out of a frame unlocks that one address
 * for that viewer until it expires, nothing more.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { findUserById } from '../../db/queries/users';
import { ERROR_CODES } from '../../sync/api';
import type { SignedImagesDto } from '../../sync/mail-api';
import type { Auth, Deps } from '../context';
import { HttpError } from '../errors';
import {
  DEFAULT_IMAGE_POLICY,
  fetchImage,
  IMAGE_FETCH_FAILURES,
  ImageFetchError,
  parseImageUrl,
  type FetchedImage,
  type ImageFetchFailure,
  type ImageFetchPolicy,
} from '../net/image-fetch';

/** How long a signed image path works: long enough for a thread left open all day. */
export const SIGNATURE_TTL_MS = 12 * 3_600_000;

export const IMAGE_PROXY_PATH = '/api/image-proxy';

function signingKey(deps: Deps): Buffer {
  // Derived, not the Message-ID key itself, so one signature can never pass for the other.
  return createHmac('sha256', deps.keyring.messageIdKey).update('shoal image proxy v1').digest();
}

function signature(deps: Deps, userId: string, expires: number, url: string): string {
  return createHmac('sha256', signingKey(deps)).update(`${userId}\n${expires}\n${url}`).digest('base64url');
}

/** Signed proxy paths for each address; an address that is not http(s) comes back without one. */
export function signImageUrls(deps: Deps, auth: Auth, urls: readonly string[]): SignedImagesDto {
  const expires = deps.now().getTime() + SIGNATURE_TTL_MS;
  const images: SignedImagesDto['images'] = [];
  for (const url of new Set(urls)) {
    try {
      parseImageUrl(url);
    } catch {
      continue;
    }
    const query = new URLSearchParams({ url, u: auth.user.id, e: String(expires), s: signature(deps, auth.user.id, expires, url) });
    images.push({ url, src: `${IMAGE_PROXY_PATH}?${query.toString()}` });
  }
  return { images };
}

export interface ProxyQuery {
  url: string;
  u: string;
  e: number;
  s: string;
}

const refused = (message: string) => new HttpError(403, ERROR_CODES.imageRefused, message);

async function verify(deps: Deps, q: ProxyQuery): Promise<void> {
  const expected = Buffer.from(signature(deps, q.u, q.e, q.url));
  const given = Buffer.from(q.s);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refused('This image link was not issued by Shoal');
  }
  if (q.e < deps.now().getTime()) {
    throw refused('This image link has expired; reopen the message');
  }
  const user = await findUserById(deps.db, q.u);
  if (!user?.active) {
    throw refused('This image link belongs to an account that is no longer active');
  }
}

const FAILURE_STATUS: Record<ImageFetchFailure, { status: 400 | 403 | 413 | 415 | 502 | 504; code: (typeof ERROR_CODES)[keyof typeof ERROR_CODES] }> = {
  [IMAGE_FETCH_FAILURES.invalidUrl]: { status: 400, code: ERROR_CODES.validationFailed },
  [IMAGE_FETCH_FAILURES.refused]: { status: 403, code: ERROR_CODES.imageRefused },
  [IMAGE_FETCH_FAILURES.notImage]: { status: 415, code: ERROR_CODES.notAnImage },
  [IMAGE_FETCH_FAILURES.tooLarge]: { status: 413, code: ERROR_CODES.payloadTooLarge },
  [IMAGE_FETCH_FAILURES.unreachable]: { status: 502, code: ERROR_CODES.imageUnavailable },
  [IMAGE_FETCH_FAILURES.upstreamStatus]: { status: 502, code: ERROR_CODES.imageUnavailable },
  [IMAGE_FETCH_FAILURES.tooManyRedirects]: { status: 502, code: ERROR_CODES.imageUnavailable },
  [IMAGE_FETCH_FAILURES.timeout]: { status: 504, code: ERROR_CODES.imageUnavailable },
};

/** The fetch policy of this deployment: the defaults plus the configured private exceptions. */
export function imagePolicy(deps: Deps): ImageFetchPolicy {
  return { ...DEFAULT_IMAGE_POLICY, allowedPrivate: new Set(deps.config.imageProxyAllowedPrivate) };
}

/**
 * Checks the signature, then fetches the image under the SSRF policy.
 * @throws {HttpError} 403 for a bad, expired or foreign signature and for private addresses; 415, 413, 502, 504 otherwise.
 */
export async function proxyImage(deps: Deps, q: ProxyQuery): Promise<FetchedImage> {
  await verify(deps, q);
  try {
    return await fetchImage(q.url, imagePolicy(deps));
  } catch (error) {
    if (error instanceof ImageFetchError) {
      const { status, code } = FAILURE_STATUS[error.kind];
      throw new HttpError(status, code, error.message, status === 400 ? 'url' : undefined);
    }
    throw error;
  }
}

/**
 * @module server/net/image-fetch
 * Fetches one remote image for the image proxy without becoming an SSRF
 * tool: http(s) only, no credentials in the URL, every address the name
 * resolves to checked against the private-range policy, the connection
 * pinned to the checked address (a DNS answer that changes between the
 * check and the connect cannot move it), at most three redirects each
 * checked the same way, a wall-clock deadline for the whole chain, a size
 * cap, and a body that must be a raster image by its declared type and by
 * its magic bytes. Nothing of the viewer travels: no cookie, no referrer.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress, resolveHost } from './address-policy';
import { isRasterContentType, sniffImage, type RasterType } from './image-sniff';

export const IMAGE_FETCH_FAILURES = {
  invalidUrl: 'invalid_url',
  refused: 'refused',
  unreachable: 'unreachable',
  upstreamStatus: 'upstream_status',
  notImage: 'not_image',
  tooLarge: 'too_large',
  timeout: 'timeout',
  tooManyRedirects: 'too_many_redirects',
} as const;
export type ImageFetchFailure = (typeof IMAGE_FETCH_FAILURES)[keyof typeof IMAGE_FETCH_FAILURES];

/** Why a fetch was refused or failed; the message is safe to show (it names no internal address). */
export class ImageFetchError extends Error {
  override readonly name = 'ImageFetchError';
  constructor(
    readonly kind: ImageFetchFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ImageFetchPolicy {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  /**
   * Private `address:port` pairs this deployment may fetch from anyway (an
   * intranet image host; the tests' loopback image server). Empty in a
   * default deployment: nothing private is reachable.
   */
  allowedPrivate: ReadonlySet<string>;
}

export const DEFAULT_IMAGE_POLICY: ImageFetchPolicy = {
  maxBytes: 10 * 1024 * 1024,
  timeoutMs: 10_000,
  maxRedirects: 3,
  allowedPrivate: new Set(),
};

export interface FetchedImage {
  type: RasterType;
  body: Uint8Array;
}

const fail = (kind: ImageFetchFailure, message: string) => new ImageFetchError(kind, message);

/** Parses and vets a URL: http(s), no user info; decimal/octal/hex IPv4 spellings are normalised by WHATWG URL. */
export function parseImageUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(IMAGE_FETCH_FAILURES.invalidUrl, 'The image address is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail(IMAGE_FETCH_FAILURES.invalidUrl, 'Only http and https images can be loaded');
  }
  if (url.username || url.password) {
    throw fail(IMAGE_FETCH_FAILURES.invalidUrl, 'Image addresses with credentials are refused');
  }
  return url;
}

const defaultPort = (url: URL) => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

/** The one address to connect to: every resolved address must pass the policy, not just the first. */
async function pinAddress(url: URL, policy: ImageFetchPolicy): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = await resolveHost(host);
  if (!addresses || addresses.length === 0) {
    throw fail(IMAGE_FETCH_FAILURES.unreachable, 'The image’s server name does not resolve');
  }
  const port = defaultPort(url);
  const refused = addresses.find((ip) => isPrivateAddress(ip) && !policy.allowedPrivate.has(`${ip}:${port}`));
  if (refused !== undefined) {
    throw fail(IMAGE_FETCH_FAILURES.refused, 'Images on private, loopback or link-local addresses are not loaded');
  }
  return addresses[0] as string;
}

/** A lookup that always answers the pinned address, in both callback shapes Node uses. */
function pinnedLookup(ip: string): LookupFunction {
  const family = isIP(ip);
  return (_host, options, callback) => {
    if (options.all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: ip, family }]);
      return;
    }
    callback(null, ip, family);
  };
}

function request(url: URL, ip: string, signal: AbortSignal): Promise<IncomingMessage> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: defaultPort(url),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        agent: false,
        lookup: pinnedLookup(ip),
        signal,
        headers: {
          accept: 'image/avif,image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8',
          'user-agent': 'Shoal-ImageProxy/1',
        },
      },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

async function readCapped(res: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw fail(IMAGE_FETCH_FAILURES.tooLarge, `The image is larger than ${Math.round(maxBytes / 1048576)} MB`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      res.destroy();
      throw fail(IMAGE_FETCH_FAILURES.tooLarge, `The image is larger than ${Math.round(maxBytes / 1048576)} MB`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

async function follow(start: URL, policy: ImageFetchPolicy, signal: AbortSignal): Promise<FetchedImage> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const res = await request(url, await pinAddress(url, policy), signal);
    const location = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.destroy();
      if (hop >= policy.maxRedirects) {
        throw fail(IMAGE_FETCH_FAILURES.tooManyRedirects, `The image redirects more than ${policy.maxRedirects} times`);
      }
      url = parseImageUrl(new URL(location, url).toString());
      continue;
    }
    if (res.statusCode !== 200) {
      res.destroy();
      throw fail(IMAGE_FETCH_FAILURES.upstreamStatus, `The image’s server answered ${res.statusCode ?? 'nothing'}`);
    }
    if (!isRasterContentType(res.headers['content-type'])) {
      res.destroy();
      throw fail(IMAGE_FETCH_FAILURES.notImage, 'The address does not serve an image');
    }
    const body = await readCapped(res, policy.maxBytes);
    const type = sniffImage(body);
    if (!type) {
      throw fail(IMAGE_FETCH_FAILURES.notImage, 'The address does not serve an image');
    }
    return { type, body };
  }
}

/**
 * Fetches a remote raster image under the policy.
 * @throws {ImageFetchError} for every refusal and failure.
 */
export async function fetchImage(raw: string, policy: ImageFetchPolicy = DEFAULT_IMAGE_POLICY): Promise<FetchedImage> {
  const url = parseImageUrl(raw);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), policy.timeoutMs);
  try {
    return await follow(url, policy, controller.signal);
  } catch (error) {
    if (error instanceof ImageFetchError) {
      throw error;
    }
    if (controller.signal.aborted) {
      throw fail(IMAGE_FETCH_FAILURES.timeout, `The image did not arrive within ${policy.timeoutMs / 1000} s`);
    }
    throw fail(IMAGE_FETCH_FAILURES.unreachable, 'The image’s server could not be reached');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The image proxy over HTTP on every driver, against real local HTTP
 * servers: an image server on 127.0.0.1 that this deployment explicitly
 * allows (IMAGE_PROXY_ALLOW_PRIVATE, as an intranet image host would be),
 * and a canary listener on another loopback port that no SSRF case may
 * ever reach. Signatures: only the server's, only unexpired, only for an
 * active person, only for the signed address.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedImagesDto } from '../../sync/mail-api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string } };

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

interface Listener {
  server: Server;
  port: number;
  hits: { url: string; headers: IncomingMessage['headers'] }[];
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listener> {
  const hits: Listener['hits'] = [];
  const server = createServer((req, res) => {
    hits.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

type Reply = { status: number; headers?: Record<string, string>; body?: Buffer | string };

/** Fixed answers of the test image server, by path. */
const ROUTES: Record<string, Reply> = {
  '/pixel.png': { status: 200, headers: { 'content-type': 'image/png', 'set-cookie': 'track=1' }, body: PNG },
  '/pixel.gif': { status: 200, headers: { 'content-type': 'image/gif; charset=binary' }, body: GIF },
  '/page.html': { status: 200, headers: { 'content-type': 'text/html' }, body: '<script>alert(1)</script>' },
  '/lying.png': { status: 200, headers: { 'content-type': 'image/png' }, body: '<html><script>alert(1)</script></html>' },
  '/vector.svg': { status: 200, headers: { 'content-type': 'image/svg+xml' }, body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' },
  '/huge.png': { status: 200, headers: { 'content-type': 'image/png' }, body: Buffer.concat([PNG, Buffer.alloc(11 * 1024 * 1024)]) },
  '/missing.png': { status: 404, headers: { 'content-type': 'text/plain' }, body: 'no' },
  '/hop.png': { status: 302, headers: { location: '/pixel.png' } },
};

function redirectFor(path: string): Reply | null {
  if (path.startsWith('/chain/')) {
    const n = Number(path.split('/')[2]);
    return { status: 302, headers: { location: n > 0 ? `/chain/${n - 1}` : '/pixel.png' } };
  }
  return path.startsWith('/to/') ? { status: 302, headers: { location: decodeURIComponent(path.slice(4)) } } : null;
}

function imageServer(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  if (path === '/huge-chunked.png') {
    // No Content-Length: the cap has to hold while streaming.
    res.writeHead(200, { 'content-type': 'image/png' });
    res.write(PNG);
    for (let i = 0; i < 11; i++) {
      res.write(Buffer.alloc(1024 * 1024));
    }
    res.end();
    return;
  }
  if (path === '/slow.png') {
    setTimeout(() => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG), 15_000);
    return;
  }
  const reply = ROUTES[path] ?? redirectFor(path) ?? { status: 404, body: 'unknown' };
  res.writeHead(reply.status, reply.headers ?? {});
  res.end(reply.body ?? '');
}

describe.each(driverCases())('image proxy on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let cookie: string;
  let images: Listener;
  let canary: Listener;

  const sign = async (urls: string[], who = cookie) => api.post<SignedImagesDto & ErrorBody>('/api/image-proxy/sign', { urls }, { cookie: who });

  /** Fetches a URL through the proxy the way the message frame does: signed path, no cookie, no Origin. */
  const viaProxy = async (url: string) => {
    const signed = await sign([url]);
    expect(signed.status).toBe(200);
    const src = signed.body.images[0]?.src;
    expect(src, `signed ${url}`).toBeDefined();
    return h.app.request(src as string);
  };

  beforeAll(async () => {
    images = await listen(imageServer);
    canary = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(PNG);
    });
    t = await create();
    h = await createHarness(t.db, { IMAGE_PROXY_ALLOW_PRIVATE: `127.0.0.1:${images.port}` });
    api = client(h.app);
    cookie = (await signUpAdmin(api)).cookie;
  });
  afterAll(async () => {
    images?.server.close();
    canary?.server.close();
    await t?.drop();
  });

  it('serves an allowed image under its sniffed type, with nothing of the viewer sent upstream', async () => {
    const res = await viaProxy(`http://127.0.0.1:${images.port}/pixel.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    const hit = images.hits.at(-1);
    expect(hit?.headers.cookie).toBeUndefined();
    expect(hit?.headers.referer).toBeUndefined();
    expect(hit?.headers.origin).toBeUndefined();

    const gif = await viaProxy(`http://127.0.0.1:${images.port}/pixel.gif`);
    expect(gif.headers.get('content-type')).toBe('image/gif');
  });

  it('follows a redirect and up to three, refuses a fourth', async () => {
    expect((await viaProxy(`http://127.0.0.1:${images.port}/hop.png`)).status).toBe(200);
    expect((await viaProxy(`http://127.0.0.1:${images.port}/chain/2`)).status).toBe(200);
    const res = await viaProxy(`http://127.0.0.1:${images.port}/chain/3`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as ErrorBody).error.code).toBe('image_unavailable');
  });

  it('refuses what is not a raster image: HTML, an SVG, a PNG label on HTML bytes', async () => {
    for (const path of ['/page.html', '/vector.svg', '/lying.png']) {
      const res = await viaProxy(`http://127.0.0.1:${images.port}${path}`);
      expect(res.status, path).toBe(415);
      expect(((await res.json()) as ErrorBody).error.code).toBe('not_an_image');
    }
  });

  it('caps the size whether or not the length is declared, and reports upstream errors', async () => {
    for (const path of ['/huge.png', '/huge-chunked.png']) {
      const res = await viaProxy(`http://127.0.0.1:${images.port}${path}`);
      expect(res.status, path).toBe(413);
    }
    expect((await viaProxy(`http://127.0.0.1:${images.port}/missing.png`)).status).toBe(502);
  });

  it('gives up on a slow server after the time cap', { timeout: 20_000 }, async () => {
    const res = await viaProxy(`http://127.0.0.1:${images.port}/slow.png`);
    expect(res.status).toBe(504);
  });

  it('refuses every private, loopback, link-local, CGNAT, multicast and mapped address, and never reaches the canary', async () => {
    const p = canary.port;
    const targets = [
      `http://127.0.0.1:${p}/x.png`,
      `http://127.0.0.2:${p}/x.png`,
      `http://[::1]:${p}/x.png`,
      `http://10.0.0.1:${p}/x.png`,
      `http://172.16.5.4:${p}/x.png`,
      `http://192.168.1.1:${p}/x.png`,
      'http://169.254.169.254/latest/meta-data/',
      `http://100.64.0.1:${p}/x.png`,
      `http://0.0.0.0:${p}/x.png`,
      `http://224.0.0.1:${p}/x.png`,
      `http://[::ffff:127.0.0.1]:${p}/x.png`,
      `http://[::ffff:7f00:1]:${p}/x.png`,
      `http://[fc00::1]:${p}/x.png`,
      `http://[fd12:3456::1]:${p}/x.png`,
      `http://[fe80::1]:${p}/x.png`,
      `http://[ff02::1]:${p}/x.png`,
      `http://[64:ff9b::7f00:1]:${p}/x.png`,
      `http://[2002:7f00:1::]:${p}/x.png`,
      // Decimal, octal, hex and short spellings of 127.0.0.1.
      `http://2130706433:${p}/x.png`,
      `http://0177.0.0.1:${p}/x.png`,
      `http://0x7f.0x0.0x0.0x1:${p}/x.png`,
      `http://0x7f000001:${p}/x.png`,
      `http://127.1:${p}/x.png`,
      // Names that resolve to loopback, with and without the trailing dot.
      `http://localhost:${p}/x.png`,
      `http://localhost.:${p}/x.png`,
      // The allowed image server's address, but another port.
      `http://127.0.0.1:${p}/pixel.png`,
    ];
    for (const url of targets) {
      const res = await viaProxy(url);
      expect(res.status, url).toBe(403);
      expect(((await res.json()) as ErrorBody).error.code, url).toBe('image_refused');
    }
    expect(canary.hits).toEqual([]);
  });

  it('refuses a redirect from an allowed server to a private address, checked again after the hop', async () => {
    for (const to of [`http://127.0.0.1:${canary.port}/x.png`, 'http://169.254.169.254/latest/meta-data/', `http://[::1]:${canary.port}/`]) {
      const res = await viaProxy(`http://127.0.0.1:${images.port}/to/${encodeURIComponent(to)}`);
      expect(res.status, to).toBe(403);
    }
    const toFile = await viaProxy(`http://127.0.0.1:${images.port}/to/${encodeURIComponent('file:///etc/passwd')}`);
    expect(toFile.status).toBe(400);
    expect(canary.hits).toEqual([]);
  });

  it('does not sign other schemes or credentials in the address', async () => {
    const urls = ['file:///etc/passwd', 'ftp://example.com/x.png', 'gopher://127.0.0.1:70/', 'data:image/png;base64,AAAA', 'javascript:alert(1)', `http://user:pw@127.0.0.1:${images.port}/pixel.png`, 'not a url'];
    const res = await sign(urls);
    expect(res.status).toBe(200);
    expect(res.body.images).toEqual([]);
  });

  it('accepts only its own, unexpired signatures for the signed address and an active person', async () => {
    const url = `http://127.0.0.1:${images.port}/pixel.png`;
    const src = (await sign([url])).body.images[0]?.src as string;
    const query = new URL(src, 'http://x').searchParams;
    const withParam = (name: string, value: string) => {
      const q = new URLSearchParams(query);
      q.set(name, value);
      return `/api/image-proxy?${q.toString()}`;
    };
    expect((await h.app.request(src)).status).toBe(200);
    // Another address under the same signature.
    expect((await h.app.request(withParam('url', `http://127.0.0.1:${images.port}/pixel.gif`))).status).toBe(403);
    // A forged signature of the right shape, and a later expiry.
    expect((await h.app.request(withParam('s', 'A'.repeat(43)))).status).toBe(403);
    expect((await h.app.request(withParam('e', String(Number(query.get('e')) + 1)))).status).toBe(403);
    // Missing parameters are a validation error, not a fetch.
    const bare = await api.get<ErrorBody>(`/api/image-proxy?url=${encodeURIComponent(url)}`);
    expect(bare.status).toBe(400);
    expect(bare.body.error.code).toBe('validation_failed');
    // Signing needs a session.
    expect((await api.post('/api/image-proxy/sign', { urls: [url] })).status).toBe(401);

    // Expired after the time-to-live.
    h.clock.advance(13 * 3_600_000);
    const expired = await h.app.request(src);
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as ErrorBody).error.message).toMatch(/expired/);
  });

  it('stops working for a deactivated person', async () => {
    const rep = await addPerson(api, cookie, 'rep', 'Rex Rep');
    const url = `http://127.0.0.1:${images.port}/pixel.png`;
    const src = (await sign([url], rep.cookie)).body.images[0]?.src as string;
    expect((await h.app.request(src)).status).toBe(200);
    const off = await api.post(`/api/people/${rep.userId}/deactivate`, {}, { cookie });
    expect(off.status).toBe(200);
    expect((await h.app.request(src)).status).toBe(403);
  });
});

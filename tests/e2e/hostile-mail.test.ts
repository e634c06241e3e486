/**
 * The hostile-email set (tests/helpers/hostile-mail.ts: 44 messages over
 * every payload class of reliability.md §1) delivered through a real
 * Dovecot, synced by the live server, and opened one by one in the thread
 * view in real Chromium. Per message: 0 script executions (a canary
 * binding every frame can reach), 0 dialogs, 0 requests leaving the app's
 * origin and 0 image-proxy requests while images are blocked, and the host
 * page's computed styles unchanged. Then "Show images" loads the tracking
 * pixel through the signed proxy only: the image server sees the proxy,
 * never the browser, and never a cookie.
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailCountsDto, ThreadListDto } from '../../sync/mail-api';
import { browserAvailable, launchBrowser, startLiveServer, type LiveServer } from '../helpers/browser';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { hostileEml, hostilePayloads, type HostilePayload } from '../helpers/hostile-mail';
import { loopbackAccountInput, waitFor } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

const PASSWORD = 'correct horse battery staple';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const FRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

/** Host elements and properties a message must not be able to change. */
const WATCHED = ['body', 'main', 'h1', 'nav', 'article[data-message-id]'] as const;
const PROPERTIES = ['display', 'visibility', 'position', 'background-color', 'color', 'font-size', 'z-index', 'opacity'] as const;

function hostStyles(page: Page): Promise<string[]> {
  return page.evaluate(
    ({ selectors, properties }) =>
      selectors.map((selector) => {
        const el = document.querySelector(selector);
        if (!el) {
          return `${selector}: missing`;
        }
        const style = getComputedStyle(el);
        return `${selector}: ${properties.map((p) => `${p}=${style.getPropertyValue(p)}`).join(' ')}`;
      }),
    { selectors: [...WATCHED], properties: [...PROPERTIES] },
  );
}

describe.runIf(browserAvailable() && dovecotAvailable())('hostile mail in the thread view', () => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let server: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let images: Server;
  let remote: string;
  const imageHits: { url: string; cookie: string | undefined; referer: string | undefined; agent: string | undefined }[] = [];
  let payloads: HostilePayload[];
  const threads = new Map<string, string>();

  const api = async <T>(method: 'GET' | 'POST', path: string, data?: unknown): Promise<T> => {
    const res = await context.request.fetch(path, { method, data, headers: { origin: server.url } });
    if (!res.ok()) {
      throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
    }
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    images = createServer((req: IncomingMessage, res) => {
      imageHits.push({ url: req.url ?? '', cookie: req.headers.cookie, referer: req.headers.referer, agent: req.headers['user-agent'] });
      res.writeHead(200, { 'content-type': 'image/png', 'set-cookie': 'tracked=1' });
      res.end(PNG);
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    const imagePort = (images.address() as AddressInfo).port;
    remote = `http://127.0.0.1:${imagePort}`;
    payloads = hostilePayloads(remote);
    expect(payloads.length).toBeGreaterThanOrEqual(40);
    const classes = new Set(payloads.flatMap((p) => p.cls));
    expect([...classes].sort((a, b) => a - b)).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 23, 24, 25, 26]));

    await mkdir('test-results/screenshots', { recursive: true });
    dovecot = await startDovecot();
    const start = Date.now() - payloads.length * 60_000;
    await dovecot.prefill('alice', 'INBOX', payloads.map((p, i) => Buffer.from(hostileEml(p, i, 'alice@acme.test', new Date(start + i * 60_000)))));
    sink = await startSmtpSink();
    server = await startLiveServer({ MAIL_ALLOW_PRIVATE_HOSTS: 'true', IMAGE_PROXY_ALLOW_PRIVATE: `127.0.0.1:${imagePort}` });
    browser = await launchBrowser();
    context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
    await api('POST', '/api/auth/signup', { orgName: 'Acme Sales', name: 'Alice Admin', email: 'alice@acme.test', password: PASSWORD });
    await api('POST', '/api/mail/accounts', loopbackAccountInput({ imapPort: dovecot.port, smtpPort: sink.port }));
    await waitFor('the hostile set to sync', () => api<MailCountsDto>('GET', '/api/mail/counts'), (c) => c.total === payloads.length, 60_000, 250);
    const list = await api<ThreadListDto>('GET', '/api/threads?limit=200');
    for (const t of list.threads) {
      threads.set(t.subject, t.id);
    }
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    await sink?.stop();
    await dovecot?.stop();
    images?.close();
  });

  const subjectOf = (p: HostilePayload) => (p.name === 'header-xss' ? [...threads.keys()].find((s) => s.includes('onerror')) ?? '' : p.subject ?? `Hostile: ${p.name}`);

  it('opens every hostile message: no script, no dialog, nothing leaves the origin, host styles untouched', async () => {
    const page = await context.newPage();
    const canary: string[] = [];
    const dialogs: string[] = [];
    const outside: string[] = [];
    const proxied: string[] = [];
    await page.exposeBinding('__canary', (_source, id: string) => void canary.push(id));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('request', (req) => {
      const url = req.url();
      if (url.startsWith('data:') || url.startsWith('about:') || url.startsWith('blob:')) {
        return;
      }
      if (!url.startsWith(`${server.url}/`)) {
        outside.push(url);
      } else if (url.includes('/api/image-proxy')) {
        proxied.push(url);
      }
    });

    await page.goto('/inbox');
    await page.locator('a[data-thread-id]').first().waitFor();
    // Control: the canary is reachable, so a script that ran would be counted.
    await page.evaluate(() => (window as unknown as { __canary: (id: string) => Promise<void> }).__canary('control'));
    expect(canary.splice(0)).toEqual(['control']);
    let baseline: string[] | null = null;
    for (const payload of payloads) {
      const subject = subjectOf(payload);
      const id = threads.get(subject);
      expect(id, `thread of ${payload.name}`).toBeDefined();
      await page.goto(`/inbox/${id}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      const article = page.locator('article[data-message-id]').first();
      await article.waitFor();
      if (payload.html !== '') {
        const frame = article.locator('iframe[data-message-frame]');
        await frame.waitFor();
        expect(await frame.getAttribute('sandbox'), payload.name).toBe(FRAME_SANDBOX);
        expect(await frame.getAttribute('srcdoc'), payload.name).toContain("script-src 'none'");
      }
      if (payload.name === 'safe-rich') {
        // The harmless part of a message still renders: the table, its styles, the mailto and tel links.
        const srcdoc = (await article.locator('iframe[data-message-frame]').getAttribute('srcdoc')) ?? '';
        expect(srcdoc).toContain('<td style="padding:8px;color:#123456;font-weight:bold">Quarterly</td>');
        expect(srcdoc).toContain('<a href="mailto:sales@example.com" target="_blank" rel="noopener noreferrer">Sales</a>');
        await page.screenshot({ path: 'test-results/screenshots/thread-html.png' });
        // The quoted earlier message is folded until asked for.
        const quoted = article.frameLocator('iframe[data-message-frame]').getByText('The earlier quarterly figures.');
        expect(await quoted.isVisible()).toBe(false);
        await article.getByRole('button', { name: 'Show quoted text' }).click();
        await quoted.waitFor({ state: 'visible' });
        await article.getByRole('button', { name: 'Hide quoted text' }).waitFor();
      }
      // Give anything that might run, load or redirect a moment to do it.
      await page.waitForTimeout(150);
      const styles = await hostStyles(page);
      baseline ??= styles;
      expect(styles, `host styles after ${payload.name}`).toEqual(baseline);
      expect(canary, `script ran for ${payload.name}`).toEqual([]);
      expect(dialogs, `dialog for ${payload.name}`).toEqual([]);
      expect(outside, `requests leaving the origin for ${payload.name}`).toEqual([]);
      expect(proxied, `proxy requests while images are blocked for ${payload.name}`).toEqual([]);
      expect(page.url(), `navigation by ${payload.name}`).toBe(`${server.url}/inbox/${id}`);
    }
    expect(imageHits).toEqual([]);
    await page.close();
  });

  it('shows subjects, names and file names as text only', async () => {
    const page = await context.newPage();
    const subject = subjectOf(payloads.find((p) => p.name === 'header-xss') as HostilePayload);
    expect(subject).toContain('<img src=x onerror=');
    await page.goto(`/inbox/${threads.get(subject)}`);
    const heading = page.getByRole('heading', { level: 1 });
    await heading.waitFor();
    expect(await heading.textContent()).toBe(subject);
    expect(await page.locator('main img[src="x"], h1 img').count()).toBe(0);
    await page.getByText('<img src=x onerror=', { exact: false }).first().waitFor();

    await page.goto(`/inbox/${threads.get('Hostile: rtl-filename')}`);
    const file = page.locator('article[data-message-id] .attachments a').first();
    await file.waitFor();
    // The bidi override is gone, so "invoice…exe" cannot pose as a PDF.
    expect(await file.textContent()).toBe('invoicefdp.exe');

    await page.goto(`/inbox/${threads.get('Hostile: hostile-attachments')}`);
    const links = page.locator('article[data-message-id] .attachments a');
    await links.first().waitFor();
    const names = await links.allTextContents();
    expect(names).toEqual(expect.arrayContaining(['page.html', 'pic.svg', 'x.xhtml', 'run.js', 'logo.png']));
    for (const name of ['page.html', 'pic.svg', 'x.xhtml', 'run.js']) {
      const href = await links.filter({ hasText: name }).getAttribute('href');
      const res = await context.request.get(href ?? '');
      expect(res.headers()['content-type'], name).toBe('application/octet-stream');
      expect(res.headers()['content-disposition'], name).toMatch(/^attachment; /);
      expect(res.headers()['x-content-type-options']).toBe('nosniff');
    }
    // The message's own cid: image is inlined from the attachment endpoint; the cid pointing at HTML shows nothing.
    const srcdoc = (await page.locator('iframe[data-message-frame]').getAttribute('srcdoc')) ?? '';
    await expect.poll(async () => (await page.locator('iframe[data-message-frame]').getAttribute('srcdoc')) ?? '').toContain('src="data:image/png;base64,');
    expect(srcdoc).not.toContain('cid:');
    await page.close();
  });

  it('"Show images" loads remote images through the signed proxy only, and "always" remembers the sender', async () => {
    const page = await context.newPage();
    const outside: string[] = [];
    const proxied: string[] = [];
    page.on('request', (req) => {
      const url = req.url();
      if (/^https?:/.test(url) && !url.startsWith(`${server.url}/`)) {
        outside.push(url);
      } else if (url.includes('/api/image-proxy?')) {
        proxied.push(url);
      }
    });
    await page.goto(`/inbox/${threads.get('Hostile: tracking-pixel')}`);
    const article = page.locator('article[data-message-id]').first();
    await article.getByText('Remote images are hidden to protect your privacy.').waitFor();
    expect(imageHits).toEqual([]);
    await article.getByRole('button', { name: 'Show images' }).click();
    await expect.poll(() => imageHits.length, { timeout: 10_000 }).toBe(2);
    expect(imageHits.map((h) => h.url).sort()).toEqual(['/open?id=123', '/pixel.png']);
    for (const hit of imageHits) {
      expect(hit.cookie).toBeUndefined();
      expect(hit.referer).toBeUndefined();
      expect(hit.agent).toBe('Shoal-ImageProxy/1');
    }
    expect(outside).toEqual([]);
    expect(proxied).toHaveLength(2);
    expect(await article.getByText('Remote images are hidden').count()).toBe(0);

    // "Always for this sender": the next visit shows them without asking.
    // "Show images" was for that message only: reopened, it asks again; another sender still asks.
    const sender = `attacker${payloads.findIndex((p) => p.name === 'tracking-pixel')}@evil.example`;
    await page.goto(`/inbox/${threads.get('Hostile: remote-css-loads')}`);
    await page.getByText('Remote images are hidden to protect your privacy.').waitFor();
    await page.goto(`/inbox/${threads.get('Hostile: tracking-pixel')}`);
    await page.getByRole('button', { name: `Always show from ${sender}` }).click();
    await page.goto('/inbox');
    await page.goto(`/inbox/${threads.get('Hostile: tracking-pixel')}`);
    await page.locator('iframe[data-message-frame]').waitFor();
    await expect.poll(async () => (await page.locator('iframe[data-message-frame]').getAttribute('srcdoc')) ?? '').toContain('/api/image-proxy?');
    expect(await page.getByText('Remote images are hidden').count()).toBe(0);
    expect(outside).toEqual([]);
    await page.close();
  });
});

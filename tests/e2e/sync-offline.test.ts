/**
 * The browser side of sync in real Chromium against a real server with
 * `/sync` (transport, document host, projection, edit policy) on
 * file-backed PGlite. A tiny page bundles app/src/lib/sync (served by the
 * test on the server's own origin, so the session cookie goes with the
 * WebSocket upgrade): the person's document arrives, an edit is
 * acknowledged by the server and lands in Postgres, then with the server
 * gone an offline edit and the document survive a reload from IndexedDB,
 * and log-out deletes every database.
 */
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocHost } from '../../server/sync/host';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import { Projection } from '../../server/sync/projection/writer';
import type { MeDto } from '../../sync/api';
import { browserAvailable, CHROMIUM, startLiveServer, type LiveServer } from '../helpers/browser';
import { insertTestMailbox, insertTestMessage } from '../helpers/mail-rows';

const PASSWORD = 'correct horse battery staple';
const PAGE = '/__sync-offline.html';
const SCRIPT = '/__sync-offline.js';

/** The page's script: the session module, reachable from `page.evaluate`. */
const ENTRY = `
import { SyncSession } from './app/src/lib/sync/sync-session.ts';
window.shoalSync = {
  session: null,
  async open(userId, orgId) { this.session = await SyncSession.open({ userId, orgId }); },
  view(threadId) {
    const s = this.session;
    return { status: s.status, epoch: s.epoch, pending: s.pendingCount, threads: s.client.threads().map((t) => t.id),
      status_: s.client.field(threadId, 'status'), labels: s.client.field(threadId, 'labels') };
  },
};
`;

interface View {
  status: string;
  epoch: string | null;
  pending: number;
  threads: string[];
  status_: string;
  labels: string[];
}

async function bundle(): Promise<string> {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    alias: { $sync: './sync' },
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

async function view(page: Page, threadId: string): Promise<View> {
  return page.evaluate((id) => (window as unknown as { shoalSync: { view(id: string): View } }).shoalSync.view(id), threadId);
}

async function openSession(page: Page, me: MeDto): Promise<void> {
  await page.evaluate(([userId, orgId]) => (window as unknown as { shoalSync: { open(u: string, o: string): Promise<void> } }).shoalSync.open(userId as string, orgId as string), [me.user.id, me.org.id]);
}

async function until(page: Page, threadId: string, test: (v: View) => boolean, what: string): Promise<View> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const current = await view(page, threadId);
    if (test(current)) {
      return current;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(current)}`);
    }
    await page.waitForTimeout(50);
  }
}

describe.runIf(browserAvailable())('sync in the browser: acknowledged edits, offline reload from IndexedDB, wipe', () => {
  let server: LiveServer;
  let browser: Browser;
  let context: BrowserContext;
  let stopping: Promise<void> | null = null;

  beforeAll(async () => {
    server = await startLiveServer(
      {},
      {
        createDocHost: async (db, log) => {
          const projection = new Projection(db, { windowDays: 90, maxThreads: 5000 });
          const policy = createEditPolicy({ db, now: () => Date.now(), log });
          return createDocHost({ db, log, policy, build: (userId, hosted) => projection.buildDocument(userId, hosted) });
        },
      },
    );
    // The test serves the page itself (no address), so Chromium would treat it as public and block its socket to loopback.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-features=LocalNetworkAccessChecks'],
    });
    const script = await bundle();
    context = await browser.newContext({ baseURL: server.url });
    await context.route(`${server.url}${PAGE}`, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>sync</title><script type="module" src="${SCRIPT}"></script>` }));
    await context.route(`${server.url}${SCRIPT}`, (route) => route.fulfill({ contentType: 'text/javascript', body: script }));
  });

  afterAll(async () => {
    await browser?.close();
    await (stopping ?? server?.stop());
  });

  it('keeps the document and an offline edit across a reload with the server gone', async () => {
    const origin = server.url;
    const signup = await context.request.fetch('/api/auth/signup', {
      method: 'POST',
      headers: { origin },
      data: { orgName: 'Acme Sales', name: 'Ada Admin', email: 'ada@acme.test', password: PASSWORD },
    });
    expect(signup.ok()).toBe(true);
    const me = (await signup.json()) as MeDto;
    const accountId = await insertTestMailbox(server.db, { orgId: me.org.id, ownerId: me.user.id, address: 'ada@acme.test' });
    const { threadId } = await insertTestMessage(server.db, { orgId: me.org.id, accountId, from: 'buyer@client.test', to: ['ada@acme.test'], subject: 'Spring order' });

    const page = await context.newPage();

    await page.goto(PAGE);
    await page.waitForFunction(() => 'shoalSync' in window);
    await openSession(page, me);
    const online = await until(page, threadId, (v) => v.status === 'online' && v.threads.includes(threadId), 'the document');
    expect(online.epoch).not.toBeNull();

    // An edit online: the server reviews it, Postgres keeps it, the acknowledgement empties the outbox.
    await page.evaluate((id) => (window as unknown as { shoalSync: { session: { setField(t: string, f: string, v: unknown): unknown } } }).shoalSync.session.setField(id, 'status', 'pending'), threadId);
    await until(page, threadId, (v) => v.pending === 0, 'the acknowledgement');
    const rows = await server.db.query<{ value: unknown }>(`select value from thread_fields where thread_id = $1 and field = 'status'`, [threadId]);
    expect(rows[0]?.value).toBe('pending');

    // The server goes away; an edit made now waits in the outbox.
    // Not awaited: the server's stop waits for the browser's open connections, which end with the browser.
    stopping = server.stop();
    await until(page, threadId, (v) => v.status === 'offline', 'offline');
    await page.evaluate((id) => (window as unknown as { shoalSync: { session: { setField(t: string, f: string, v: unknown): unknown } } }).shoalSync.session.setField(id, 'labels', ['eu']), threadId);
    expect((await view(page, threadId)).pending).toBe(1);

    // Reload: the page comes from the test, the document and the outbox from IndexedDB.
    await page.reload();
    await page.waitForFunction(() => 'shoalSync' in window);
    await openSession(page, me);
    const reloaded = await view(page, threadId);
    expect(reloaded.threads).toContain(threadId);
    expect(reloaded.status_).toBe('pending');
    expect(reloaded.labels).toEqual(['eu']);
    expect(reloaded.pending).toBe(1);
    expect(reloaded.epoch).toBe(online.epoch);
    expect(reloaded.status).not.toBe('online');

    // Log-out wipes the person's databases.
    const names = await page.evaluate(async () => {
      await (window as unknown as { shoalSync: { session: { wipe(): Promise<void> } } }).shoalSync.session.wipe();
      return (await indexedDB.databases()).map((d) => d.name);
    });
    expect(names.filter((n) => n?.startsWith('shoal-'))).toEqual([]);
  });
});

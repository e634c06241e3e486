/**
 * The inbox live between people, in real Chromium against one real server
 * (file-backed PGlite, the whole sync engine) whose mailboxes sync from a
 * throwaway Dovecot: Rita and Rob (reps, Public sharing) and their manager
 * Mia each in a browser context of their own, and Pam (rep under Mia,
 * Private sharing).
 *
 * - Rita assigns a thread to Rob with the keyboard; Rob's open list shows it
 *   without a reload (the measured latency is printed), Mia's too.
 * - Presence: Rita opens the thread; Mia, on the same thread, reads
 *   "Rita Rep is viewing".
 * - Rob goes offline (context.setOffline) once the service worker controls
 *   his page: he converts a sender no one has in the CRM to a contact, marks
 *   one thread done and another pending, and reloads: the app shell comes
 *   from the service worker, his inbox and changes from IndexedDB, and the
 *   indicator says offline with 3 changes waiting; the thread he read
 *   before going offline opens from the copy saved on the device. Meanwhile Rita, online
 *   and later, marks that second thread done. Rob reconnects: his done and
 *   his conversion reach Rita and Mia (the converted sender's thread is now
 *   shared with them) and Postgres; his pending lost to Rita's later one,
 *   and he is told so. Cache Storage holds the shell and build files only:
 *   nothing from /api or /sync, and no one's name in the cached page.
 * - Mia sees her reps' shared threads, lists her team (Pam included), and
 *   never Pam's private mail, not even through search.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedInviteDto, MeDto } from '../../sync/api';
import { browserAvailable, launchBrowser, startLiveServer, type LiveServer } from '../helpers/browser';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { e2eDrivers, shot, PASSWORD } from '../helpers/e2e-session';
import { loopbackAccountInput } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

const HOUR = 3_600_000;
const DRIVERS = e2eDrivers('shoal_e2e_live');

function mail(id: string, from: string, to: string, subject: string, hoursAgo: number, text: string): Buffer {
  const at = new Date(Date.now() - hoursAgo * HOUR);
  return Buffer.from(
    [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Date: ${at.toUTCString()}`, `Message-ID: <${id}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', text, ''].join('\r\n'),
  );
}

async function call<T>(context: BrowserContext, origin: string, method: 'POST' | 'PUT' | 'PATCH', path: string, data: unknown): Promise<T> {
  const res = await context.request.fetch(path, { method, data, headers: { origin } });
  if (!res.ok()) {
    throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
  }
  return (await res.json()) as T;
}

const rows = (page: Page) => page.locator('a[data-thread-id]');
const PARTNER = 'dana@umbrella.example';

/** Waits until the service worker has installed (shell precached) and controls the page, so it can load offline. */
async function whenControlledByServiceWorker(page: Page): Promise<void> {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
}

/** Every URL in the origin's Cache Storage, and the cached shell's text. */
async function cacheContents(page: Page): Promise<{ urls: string[]; shell: string }> {
  return page.evaluate(async () => {
    const urls: string[] = [];
    let shell = '';
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        urls.push(new URL(request.url).pathname);
        if (new URL(request.url).pathname === '/') {
          shell = (await (await cache.match(request))?.text()) ?? '';
        }
      }
    }
    return { urls, shell };
  });
}
const row = (page: Page, subject: string) => rows(page).filter({ hasText: subject });

describe.runIf(browserAvailable() && dovecotAvailable()).each(DRIVERS)('the inbox live between two reps and their manager on $name', (driver) => {
  let drop: (() => Promise<void>) | undefined;
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let server: LiveServer;
  let browser: Browser;
  const contexts: Record<'ada' | 'mia' | 'rita' | 'rob' | 'pam', BrowserContext> = {} as never;

  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [
        { name: 'rita', password: 'rita-pw' },
        { name: 'rob', password: 'rob-pw' },
        { name: 'pam', password: 'pam-pw' },
      ],
    });
    await dovecot.prefill('rita', 'INBOX', [
      mail('pricing-1@globex.example', '"Bob Buyer" <bob@globex.example>', 'rita@acme.test', 'Pricing for 40 seats', 5, 'Could you send a quote for 40 seats?'),
      mail('renewal-1@globex.example', '"Bob Buyer" <bob@globex.example>', 'rita@acme.test', 'Renewal terms', 4, 'When does our renewal start?'),
    ]);
    await dovecot.prefill('rob', 'INBOX', [
      mail('demo-1@hooli.example', '"Erin Evans" <erin@hooli.example>', 'rob@acme.test', 'Demo next week', 3, 'Can we see a demo?'),
      // From someone in no CRM record: private to Rob until he converts the sender.
      mail('partner-1@umbrella.example', '"Dana Doe" <dana@umbrella.example>', 'rob@acme.test', 'Partnership idea', 1, 'Shall we partner?'),
    ]);
    await dovecot.prefill('pam', 'INBOX', [mail('secret-1@initech.example', '"Carol Client" <carol@initech.example>', 'pam@acme.test', 'Confidential pricing', 2, 'Between us.')]);
    sink = await startSmtpSink();
    const database = await driver.prepare();
    drop = database.drop;
    server = await startLiveServer({ MAIL_ALLOW_PRIVATE_HOSTS: 'true', ...database.env });
    browser = await launchBrowser();
    const origin = server.url;
    for (const name of ['ada', 'mia', 'rita', 'rob', 'pam'] as const) {
      contexts[name] = await browser.newContext({ baseURL: origin, viewport: { width: 1366, height: 900 } });
    }
    await call<MeDto>(contexts.ada, origin, 'POST', '/api/auth/signup', { orgName: 'Acme Sales', name: 'Ada Admin', email: 'ada@acme.test', password: PASSWORD });
    const join = async (who: 'mia' | 'rita' | 'rob' | 'pam', name: string, role: 'manager' | 'rep', managerId: string | null): Promise<MeDto> => {
      const invite = await call<CreatedInviteDto>(contexts.ada, origin, 'POST', '/api/people/invites', { email: `${who}@acme.test`, role, managerId });
      return call<MeDto>(contexts[who], origin, 'POST', `/api/invites/${invite.url.split('/invite/')[1] ?? ''}/accept`, { name, password: PASSWORD });
    };
    const mia = await join('mia', 'Mia Manager', 'manager', null);
    await join('rita', 'Rita Rep', 'rep', mia.user.id);
    await join('rob', 'Rob Rep', 'rep', mia.user.id);
    await join('pam', 'Pam Private', 'rep', mia.user.id);
    for (const who of ['rita', 'rob'] as const) {
      await call(contexts[who], origin, 'PUT', '/api/me/email-sharing', { mode: 'public', excludedDomains: [], audience: null });
    }
    await call(contexts.pam, origin, 'PUT', '/api/me/email-sharing', { mode: 'private', excludedDomains: [], audience: null });
    // Contacts (records are public in the organization), so the reps' mail with them is shared.
    for (const [name, email] of [['Bob Buyer', 'bob@globex.example'], ['Erin Evans', 'erin@hooli.example'], ['Carol Client', 'carol@initech.example']]) {
      await call(contexts.ada, origin, 'POST', '/api/records', { type: 'contact', name, company: 'Client', primaryEmail: email });
    }
    for (const who of ['rita', 'rob', 'pam'] as const) {
      const input = loopbackAccountInput({ imapPort: dovecot.port, smtpPort: sink.port, user: who, password: `${who}-pw`, email: `${who}@acme.test` });
      await call(contexts[who], origin, 'POST', '/api/mail/accounts', input);
    }
  });

  afterAll(async () => {
    for (const context of Object.values(contexts)) {
      await context?.close();
    }
    await browser?.close();
    await server?.stop();
    await drop?.();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('merges assignments, presence, offline changes (across an offline reload) and lost writes live; the manager never sees private mail', async () => {
    const rita = await contexts.rita.newPage();
    const rob = await contexts.rob.newPage();
    const mia = await contexts.mia.newPage();
    const errors: string[] = [];
    for (const page of [rita, rob, mia]) {
      page.on('pageerror', (e) => errors.push(String(e)));
    }
    for (const page of [rita, rob, mia]) {
      await page.goto('/inbox');
    }
    // Everyone's synced mail arrives in their documents.
    for (const page of [rita, rob, mia]) {
      await row(page, 'Pricing for 40 seats').waitFor({ timeout: 60_000 });
      await row(page, 'Demo next week').waitFor({ timeout: 60_000 });
    }
    await rita.locator('[data-sync-status="online"]').waitFor();

    // Rita assigns the pricing thread to Rob with the keyboard; Rob's screen follows without a reload.
    await row(rita, 'Pricing for 40 seats').focus();
    await rita.keyboard.press('a');
    const assign = rita.getByRole('dialog', { name: 'Assign' });
    await assign.getByPlaceholder('Type a name…').fill('Rob');
    const started = Date.now();
    await rita.keyboard.press('Enter');
    await row(rob, 'Pricing for 40 seats').locator('[data-tag="assignee"]', { hasText: '→ Me' }).waitFor();
    const latency = Date.now() - started;
    console.log(`assignment by Rita visible on Rob's screen after ${latency} ms`);
    expect(await rita.locator('[data-undo-toast]').innerText()).toContain('Assigned to Rob Rep');
    await row(mia, 'Pricing for 40 seats').locator('[data-tag="assignee"]', { hasText: '→ Rob Rep' }).waitFor();
    await row(rita, 'Pricing for 40 seats').locator('[data-tag="assignee"]', { hasText: '→ Rob Rep' }).waitFor();
    await rob.locator('nav[aria-label="Inbox views"] [data-view="mine"]').click();
    await row(rob, 'Pricing for 40 seats').waitFor();

    // Presence: Rita opens the thread; Mia on the same thread sees her there.
    await row(rita, 'Pricing for 40 seats').click();
    await rita.getByRole('heading', { level: 1, name: 'Pricing for 40 seats' }).waitFor();
    await row(mia, 'Pricing for 40 seats').click();
    await mia.getByRole('heading', { level: 1, name: 'Pricing for 40 seats' }).waitFor();
    await mia.getByText('Rita Rep is viewing').waitFor();
    await shot(mia, `inbox-live-presence-${driver.name}`);
    await rita.goto('/inbox');
    await mia.goto('/inbox');
    await expect.poll(() => mia.getByText('Rita Rep is viewing').count()).toBe(0);

    // Only Rob sees the mail of a sender in no record.
    await row(rob, 'Partnership idea').waitFor();
    expect(await row(rita, 'Partnership idea').count()).toBe(0);
    expect(await row(mia, 'Partnership idea').count()).toBe(0);

    // Rob goes offline (the shell is in the service worker's cache by then), converts that sender and triages two threads.
    await whenControlledByServiceWorker(rob);
    await row(rob, 'Partnership idea').click();
    await rob.getByRole('heading', { level: 1, name: 'Partnership idea' }).waitFor();
    // Opening it marked it read: that write is acknowledged before the network goes.
    await rob.locator('[data-sync-status="online"][data-pending="0"]').waitFor();
    await contexts.rob.setOffline(true);
    await rob.locator('[data-sync-status="offline"]').waitFor();
    await rob.getByRole('button', { name: 'Convert sender' }).click();
    await rob.getByRole('button', { name: 'Convert to contact' }).click();
    await rob.locator(`[data-conversion-queued="${PARTNER}"]`).waitFor();
    await rob.locator('[data-sync-status="offline"][data-pending="1"]').waitFor();
    await rob.getByRole('link', { name: 'Inbox' }).first().click();
    await rob.locator('nav[aria-label="Inbox views"] [data-view="team"]').click();
    await row(rob, 'Pricing for 40 seats').focus();
    await rob.keyboard.press('e');
    await expect.poll(() => row(rob, 'Pricing for 40 seats').count()).toBe(0);
    // The second through the command palette.
    await row(rob, 'Renewal terms').focus();
    await rob.keyboard.press('Control+k');
    await rob.getByRole('combobox', { name: 'Type a command' }).fill('pending');
    await rob.keyboard.press('Enter');
    await rob.locator('[data-status-tab="pending"]').click();
    await row(rob, 'Renewal terms').waitFor();
    await rob.locator('[data-sync-status="offline"][data-pending="3"]').waitFor();

    // A reload with the network off: the service worker serves the shell, IndexedDB the inbox and the waiting changes.
    await rob.reload();
    await rob.locator('[data-sync-status="offline"][data-pending="3"]').waitFor();
    expect(await rob.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await rob.locator('nav[aria-label="Inbox views"] [data-view="team"]').click();
    await row(rob, 'Partnership idea').waitFor();
    // The conversation he read before the network went opens from the copy saved on this device.
    await row(rob, 'Partnership idea').click();
    await rob.getByRole('heading', { level: 1, name: 'Partnership idea' }).waitFor();
    await rob.getByText('Offline: this is the copy saved on this device').waitFor();
    await rob.locator('article[data-message-id]').first().waitFor();
    await rob.getByRole('link', { name: 'Inbox' }).first().click();
    await rob.locator('nav[aria-label="Inbox views"] [data-view="team"]').click();
    await row(rob, 'Partnership idea').waitFor();
    expect(await row(rob, 'Pricing for 40 seats').count()).toBe(0);
    await rob.locator('[data-status-tab="pending"]').click();
    await row(rob, 'Renewal terms').waitFor();
    await shot(rob, `inbox-live-offline-${driver.name}`);
    // Rita has seen neither; later than Rob, she marks the renewal thread done.
    expect(await row(rita, 'Pricing for 40 seats').count()).toBe(1);
    await row(rita, 'Renewal terms').focus();
    await rita.keyboard.press('e');
    await expect.poll(() => row(rita, 'Renewal terms').count()).toBe(0);

    // Rob reconnects: his done lands everywhere; his pending lost to Rita's later done, and he is told.
    await contexts.rob.setOffline(false);
    await rob.locator('[data-sync-status="online"][data-pending="0"]').waitFor({ timeout: 30_000 });
    // His offline conversion: one contact in Postgres, and the sender's thread now shared with Rita and Mia.
    const converted = await server.db.query<{ type: string; source: string; owner: string }>(
      `select r.type, r.source, u.name as owner from record_emails e join records r on r.id = e.record_id join users u on u.id = r.owner_id where e.address = $1`,
      [PARTNER],
    );
    expect(converted).toEqual([{ type: 'contact', source: 'conversion', owner: 'Rob Rep' }]);
    await row(rita, 'Partnership idea').waitFor({ timeout: 30_000 });
    await row(mia, 'Partnership idea').waitFor({ timeout: 30_000 });
    await rob.locator('[data-notice="lost"]', { hasText: 'Your change to the status lost to a later one.' }).waitFor();
    await rob.locator('[data-status-tab="done"]').click();
    await row(rob, 'Renewal terms').waitFor();
    await row(rob, 'Pricing for 40 seats').waitFor();
    await expect.poll(() => row(rita, 'Pricing for 40 seats').count()).toBe(0);
    await expect.poll(() => row(mia, 'Pricing for 40 seats').count()).toBe(0);
    await mia.locator('[data-status-tab="done"]').click();
    await row(mia, 'Pricing for 40 seats').waitFor();
    await row(mia, 'Renewal terms').waitFor();
    await shot(rob, `inbox-live-notice-${driver.name}`);

    // The manager: her team in the views, the reps' shared threads, never Pam's private mail.
    await mia.locator('[data-status-tab="open"]').click();
    const views = mia.getByRole('navigation', { name: 'Inbox views' });
    await views.getByText('Your team').waitFor();
    for (const name of ['Rita Rep', 'Rob Rep', 'Pam Private']) {
      await views.getByRole('button', { name: new RegExp(name) }).waitFor();
    }
    await row(mia, 'Demo next week').waitFor();
    expect(await row(mia, 'Confidential pricing').count()).toBe(0);
    await views.getByRole('button', { name: /Pam Private/ }).click();
    await mia.getByRole('heading', { name: /None of Pam Private’s mail is shared with you/ }).waitFor();
    await mia.getByRole('searchbox', { name: 'Search mail' }).fill('confidential');
    await mia.getByRole('button', { name: 'Search older mail on the server' }).click();
    await mia.getByText('The server has no other mail matching “confidential”.').waitFor();
    // Pam herself has it.
    const pam = await contexts.pam.newPage();
    await pam.goto('/inbox');
    await row(pam, 'Confidential pricing').waitFor({ timeout: 60_000 });
    await shot(mia, `inbox-live-manager-${driver.name}`);

    // The worker script itself is revalidated on every load, so a new build's worker is found at once.
    const script = await contexts.rob.request.get('/service-worker.js');
    expect(script.headers()['cache-control']).toBe('no-cache');
    expect(script.headers()['content-type']).toMatch(/^text\/javascript/);
    // Cache Storage after all this: the shell and build files, nothing private, no one's name in the page.
    const cached = await cacheContents(rob);
    expect(cached.urls).toContain('/');
    expect(cached.urls.some((url) => url.startsWith('/_app/immutable/'))).toBe(true);
    expect(cached.urls.filter((url) => url.startsWith('/api') || url.startsWith('/sync'))).toEqual([]);
    expect(cached.shell).toContain('<html');
    for (const personal of ['Rob Rep', 'rob@acme.test', 'Acme Sales', 'Partnership idea']) {
      expect(cached.shell).not.toContain(personal);
    }
    expect(errors).toEqual([]);
  });
});

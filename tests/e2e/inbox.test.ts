/**
 * The Inbox in real Chromium against a real server, on file-backed PGlite
 * and (when TEST_DATABASE_URL is set) on Postgres: Ada (admin) and Rita
 * (rep, mailbox Public, acme.test excluded) each have a mailbox whose mail
 * goes through the real ingest store. Ada sees Rita's conversation with a
 * contact, opens it, reads "Why can I see this?"; Rita's mail with someone
 * in no record is never listed for Ada, not even by search; search, lanes,
 * j/k/Enter/Escape and mark-read work.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db';
import { createMessageStore } from '../../server/ingest/store-messages';
import type { FetchedMessage } from '../../server/ingest/sync-folder';
import type { Keyring } from '../../server/secrets/keyring';
import type { CreatedInviteDto, MeDto } from '../../sync/api';
import type { RecordDto } from '../../sync/records-api';
import { browserAvailable, launchBrowser, startLiveServer, type LiveServer } from '../helpers/browser';
import { seedMailbox, type TestMailbox } from '../helpers/conversion-mail';
import { e2eDrivers, PASSWORD, SHOTS, shot, shotDark } from '../helpers/e2e-session';

const HOUR = 3_600_000;
const DRIVERS = e2eDrivers('shoal_e2e');

async function call<T>(context: BrowserContext, origin: string, method: 'POST' | 'PUT', path: string, data: unknown): Promise<T> {
  const res = await context.request.fetch(path, { method, data, headers: { origin } });
  if (!res.ok()) {
    throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
  }
  return (await res.json()) as T;
}

/** Nothing here decrypts a secret or checks a signed Message-ID, so throwaway keys do. */
function testKeyring(): Keyring {
  const key = new Uint8Array(randomBytes(32));
  return { active: { kid: 'e2e', key }, keks: new Map([['e2e', key]]), messageIdKey: new Uint8Array(randomBytes(32)), source: 'env' };
}

interface Mail {
  id: string;
  from: string;
  to: string;
  subject: string;
  at: Date;
  /** Full MIME body after the headers (Content-Type included); plain text when `text` is given instead. */
  mime?: string;
  text?: string;
  inReplyTo?: string[];
  seen?: boolean;
}

function raw(mail: Mail): Buffer {
  const headers = [
    `From: ${mail.from}`,
    `To: ${mail.to}`,
    `Subject: ${mail.subject}`,
    `Date: ${mail.at.toUTCString()}`,
    `Message-ID: <${mail.id}>`,
    ...(mail.inReplyTo ? [`In-Reply-To: <${mail.inReplyTo.at(-1)}>`, `References: ${mail.inReplyTo.map((r) => `<${r}>`).join(' ')}`] : []),
    'MIME-Version: 1.0',
  ];
  const body = mail.mime ?? `Content-Type: text/plain; charset=utf-8\r\n\r\n${mail.text ?? ''}`;
  return Buffer.from(`${headers.join('\r\n')}\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`);
}

/** Stores mail in a mailbox's INBOX through the real ingest store (parse, thread, participants). */
async function deliver(db: Db, keyring: Keyring, box: TestMailbox, mails: Mail[]): Promise<void> {
  const store = createMessageStore(db, { accountId: box.accountId, orgId: box.orgId, ownAddresses: [box.email], messageIdKey: keyring.messageIdKey });
  const fetched = mails.map(
    (mail): FetchedMessage => ({
      uid: box.nextUid++,
      flags: mail.seen ? ['\\Seen'] : [],
      modseq: null,
      internalDate: mail.at,
      source: raw(mail),
      emailId: null,
      gmThreadId: null,
    }),
  );
  await store.storeBatch(box.folder, box.uidvalidity, fetched, { uidnext: box.nextUid });
}

const ORDER_FORM_HTML = `Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style><script>window.__pwned = 1</script></head>
<body><p>Hi Rita,</p><p>Please find the <b>signed order form</b> attached.<br>Kick-off on Monday?</p>
<img src="https://tracker.example/pixel.gif" onerror="window.__pwned = 2">
<blockquote><p>Here is the quote for 40 seats: 12,000 EUR a year.</p></blockquote></body></html>
--b1
Content-Type: application/pdf; name="order-form.pdf"
Content-Disposition: attachment; filename="order-form.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK
--b1--`;

describe.runIf(browserAvailable()).each(DRIVERS)('inbox e2e in Chromium on $name', (driver) => {
  let server: LiveServer;
  let drop: (() => Promise<void>) | undefined;
  let browser: Browser;
  let ada: BrowserContext;
  let rita: BrowserContext;
  const now = Date.now();
  const ago = (hours: number) => new Date(now - hours * HOUR);

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    const database = await driver.prepare();
    drop = database.drop;
    server = await startLiveServer(database.env);
    browser = await launchBrowser();
    const origin = server.url;
    ada = await browser.newContext({ baseURL: origin, viewport: { width: 1366, height: 900 } });
    rita = await browser.newContext({ baseURL: origin, viewport: { width: 1366, height: 900 } });

    const admin = await call<MeDto>(ada, origin, 'POST', '/api/auth/signup', { orgName: 'Acme Sales', name: 'Ada Admin', email: 'ada@acme.test', password: PASSWORD });
    const invite = await call<CreatedInviteDto>(ada, origin, 'POST', '/api/people/invites', { email: 'rita@acme.test', role: 'rep' });
    const rep = await call<MeDto>(rita, origin, 'POST', `/api/invites/${invite.url.split('/invite/')[1] ?? ''}/accept`, { name: 'Rita Rep', password: PASSWORD });

    // Rita shares mail about records with everyone who can access them, except internal mail.
    await call(rita, origin, 'PUT', '/api/me/email-sharing', { mode: 'public', excludedDomains: ['acme.test'], audience: null });
    const bob = await call<RecordDto>(rita, origin, 'POST', '/api/records', { type: 'contact', name: 'Bob Buyer', company: 'Globex', primaryEmail: 'bob@globex.example' });
    await call(rita, origin, 'POST', '/api/records', { type: 'lead', name: 'Erin Evans', company: 'Hooli', primaryEmail: 'erin@hooli.example' });
    await call(rita, origin, 'POST', '/api/records', { type: 'deal', name: 'Globex 40 seats', contactIds: [bob.id] });

    const keyring = testKeyring();
    const ritaBox = await seedMailbox(server.db, keyring, rep.org.id, rep.user.id, 'rita@acme.test');
    const adaBox = await seedMailbox(server.db, keyring, admin.org.id, admin.user.id, 'ada@acme.test');
    await deliver(server.db, keyring, ritaBox, [
      {
        id: 'pricing-1@globex.example',
        from: '"Bob Buyer" <bob@globex.example>',
        to: '"Rita Rep" <rita@acme.test>',
        subject: 'Pricing for 40 seats',
        at: ago(50),
        seen: true,
        text: 'Hi Rita,\n\nWe are looking at Shoal for our 40-person sales team.\nOur requirements are at https://globex.example/rfp.\n\nCould you send a quote?\n\nBob',
      },
      {
        id: 'pricing-2@acme.test',
        from: '"Rita Rep" <rita@acme.test>',
        to: '"Bob Buyer" <bob@globex.example>',
        subject: 'Re: Pricing for 40 seats',
        at: ago(26),
        seen: true,
        inReplyTo: ['pricing-1@globex.example'],
        text: `Hi Bob,\n\nHere is the quote for 40 seats: 12,000 EUR a year.\n\nRita\n\nOn ${ago(50).toUTCString()}, Bob Buyer <bob@globex.example> wrote:\n> Hi Rita,\n>\n> Could you send a quote?`,
      },
      {
        id: 'pricing-3@globex.example',
        from: '"Bob Buyer" <bob@globex.example>',
        to: '"Rita Rep" <rita@acme.test>',
        subject: 'Re: Pricing for 40 seats',
        at: ago(1),
        inReplyTo: ['pricing-1@globex.example', 'pricing-2@acme.test'],
        mime: ORDER_FORM_HTML,
      },
      {
        id: 'demo-1@hooli.example',
        from: '"Erin Evans" <erin@hooli.example>',
        to: '"Rita Rep" <rita@acme.test>',
        subject: 'Demo request',
        at: ago(20),
        text: 'Hello, could we see a demo of the shared inbox next week?\n\nErin',
      },
      {
        id: 'lunch-1@initech.example',
        from: '"Carol Client" <carol@initech.example>',
        to: '"Rita Rep" <rita@acme.test>',
        subject: 'Lunch next week?',
        at: ago(2),
        text: 'Lunch on Thursday? Private matter, not for the CRM.',
      },
    ]);
    await deliver(server.db, keyring, adaBox, [
      {
        id: 'intro-1@umbrella.example',
        from: '"Dana Doe" <dana@umbrella.example>',
        to: '"Ada Admin" <ada@acme.test>',
        subject: 'Intro: Umbrella rollout',
        at: ago(3),
        text: 'Hi Ada, a colleague suggested I reach out about rolling Shoal out at Umbrella.',
      },
      {
        id: 'weekly-1@acme.test',
        from: '"Rita Rep" <rita@acme.test>',
        to: '"Ada Admin" <ada@acme.test>',
        subject: 'Weekly pipeline review',
        at: ago(72),
        seen: true,
        text: 'Ada, the pipeline sheet is updated for Friday.',
      },
    ]);
    // These mailboxes have no server to reach: with no server copies, marking read changes only Shoal.
    await server.db.query('delete from message_locations where folder_id = any($1::uuid[])', [[adaBox.folder.id, ritaBox.folder.id]]);
  });

  afterAll(async () => {
    await ada?.close();
    await rita?.close();
    await browser?.close();
    await server?.stop();
    await drop?.();
  });

  it('lists what Ada may see, opens a teammate’s thread and explains why she sees it', async () => {
    const page = await ada.newPage();
    await page.goto('/inbox');
    const rows = page.locator('a[data-thread-id]');
    await rows.filter({ hasText: 'Weekly pipeline review' }).waitFor();
    expect(await rows.allInnerTexts()).toHaveLength(4);
    const first = rows.first();
    expect(await first.innerText()).toContain('Pricing for 40 seats');
    await rows.filter({ hasText: 'Demo request' }).getByText('Erin Evans').first().waitFor();
    expect(await rows.filter({ hasText: 'Lunch next week?' }).count()).toBe(0);
    // Rita's mail with a contact, in the views with its count; Ada's own unread mail is marked.
    const views = page.getByRole('navigation', { name: 'Inbox views' });
    await views.getByRole('button', { name: /Rita Rep/ }).waitFor();
    expect(await rows.filter({ hasText: 'Intro: Umbrella rollout' }).innerText()).toContain('Dana Doe');
    expect(await rows.filter({ hasText: 'Intro: Umbrella rollout' }).getByText('Unread.').count()).toBe(1);
    await shot(page, 'inbox');
    await shotDark(page, 'inbox-dark');

    // Lanes: the thread with a deal's contact is under Deals; mail with no record under Not in CRM.
    await page.getByRole('tab', { name: 'Deals' }).click();
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining('Pricing for 40 seats')]);
    await page.getByRole('tab', { name: 'Not in CRM' }).click();
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining('Intro: Umbrella rollout')]);
    await page.getByRole('tab', { name: 'Colleagues' }).click();
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining('Weekly pipeline review')]);
    await page.getByRole('tab', { name: 'All' }).click();
    await expect.poll(() => rows.count()).toBe(4);

    // Keyboard: j moves down, k back up, Enter opens.
    await page.locator('body').press('j');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent ?? '')).toContain('Intro: Umbrella rollout');
    await page.keyboard.press('k');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent ?? '')).toContain('Pricing for 40 seats');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/inbox\/[0-9a-f-]{36}$/);
    const heading = page.getByRole('heading', { level: 1, name: 'Pricing for 40 seats' });
    await heading.waitFor();
    await expect.poll(() => heading.evaluate((h) => h === document.activeElement)).toBe(true);

    const messages = page.locator('article[data-message-id]');
    expect(await messages.count()).toBe(3);
    await page.getByText('3 messages · in Rita Rep’s mailbox').waitFor();
    await page.getByRole('link', { name: /Contact · Bob Buyer/ }).waitFor();
    // Plain text with a real link; the quoted part waits behind its toggle.
    await messages.nth(0).getByRole('link', { name: 'https://globex.example/rfp' }).waitFor();
    const reply = messages.nth(1);
    await reply.getByText('Here is the quote for 40 seats').waitFor();
    expect(await reply.getByText('> Could you send a quote?').isVisible()).toBe(false);
    await reply.getByRole('button', { name: 'Show quoted text' }).click();
    await reply.getByText(/> Could you send a quote\?/).waitFor();
    // The HTML-only message renders sanitized in a sandboxed frame: markup kept, no script, remote image blocked.
    const html = messages.nth(2);
    const frame = html.locator('iframe[data-message-frame]');
    await frame.waitFor();
    expect(await frame.getAttribute('sandbox')).toBe('allow-popups allow-popups-to-escape-sandbox');
    const body = page.frameLocator('article[data-message-id] >> nth=2 >> iframe[data-message-frame]');
    await body.getByText(/Please find the/).waitFor();
    expect(await body.locator('b').textContent()).toBe('signed order form');
    expect(await body.locator('script, img[src]').count()).toBe(0);
    await html.getByText('Remote images are hidden to protect your privacy.').waitFor();
    await html.getByRole('link', { name: 'order-form.pdf' }).waitFor();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    await messages.nth(0).getByRole('button', { name: 'Why can I see this?' }).click();
    const steps = messages.nth(0).getByRole('list', { name: 'How the sharing rules decided' });
    await steps.getByText('Rita Rep\'s mailbox is Public.').waitFor();
    const text = await steps.innerText();
    expect(text).toContain('You can access contact Bob Buyer because records are public in your organization.');
    expect(text).toContain('globex.example is not excluded.');
    await messages.nth(0).scrollIntoViewIfNeeded();
    await shot(page, 'inbox-why');
    await shotDark(page, 'inbox-why-dark');

    // Escape returns to the list, on the row that was open.
    await page.keyboard.press('Escape');
    await page.waitForURL(/\/inbox$/);
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent ?? '')).toContain('Pricing for 40 seats');
    await page.close();
  });

  it('search finds visible mail and never the hidden message; opening own mail marks it read', async () => {
    const page = await ada.newPage();
    await page.goto('/inbox');
    const rows = page.locator('a[data-thread-id]');
    await rows.first().waitFor();
    await page.locator('body').press('/');
    const search = page.getByRole('searchbox', { name: 'Search mail' });
    await expect.poll(() => search.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type('demo');
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining('Demo request')]);
    await search.fill('lunch');
    await page.getByRole('heading', { name: 'No conversations match “lunch”' }).waitFor();
    const api = await ada.request.get('/api/mail/search?q=lunch');
    expect(((await api.json()) as { messages: unknown[] }).messages).toEqual([]);
    await page.getByRole('button', { name: 'Clear search' }).click();
    await expect.poll(() => rows.count()).toBe(4);

    // One teammate's view: only what Rita shares with Ada.
    const views = page.getByRole('navigation', { name: 'Inbox views' });
    await views.getByRole('button', { name: /Rita Rep/ }).click();
    await expect
      .poll(() => rows.allInnerTexts())
      .toEqual([expect.stringContaining('Pricing for 40 seats'), expect.stringContaining('Demo request')]);
    // A narrow laptop window: the views fold into a row above the list.
    await page.setViewportSize({ width: 1024, height: 768 });
    await shot(page, 'inbox-narrow');
    await page.setViewportSize({ width: 1366, height: 900 });
    await views.getByRole('button', { name: /Team/ }).click();
    await expect.poll(() => rows.count()).toBe(4);

    // Ada's own unread message: the Mine badge counts it until she opens it.
    const mine = page.getByRole('navigation', { name: 'Inbox views' }).getByRole('button', { name: /Mine/ });
    await expect.poll(() => mine.innerText()).toMatch(/1\s+unread/);
    await rows.filter({ hasText: 'Intro: Umbrella rollout' }).click();
    await page.getByRole('heading', { level: 1, name: 'Intro: Umbrella rollout' }).waitFor();
    await expect.poll(() => mine.innerText()).not.toMatch(/unread/);
    await page.getByRole('link', { name: 'Inbox', exact: true }).first().click();
    await rows.first().waitFor();
    expect(await rows.filter({ hasText: 'Intro: Umbrella rollout' }).getByText('Unread.').count()).toBe(0);

    // Rita's own view: her private lunch thread is there, and it is hers.
    const ritaPage = await rita.newPage();
    await ritaPage.goto('/inbox');
    const ritaRows = ritaPage.locator('a[data-thread-id]');
    await ritaRows.filter({ hasText: 'Lunch next week?' }).click();
    await ritaPage.getByRole('button', { name: 'Why can I see this?' }).click();
    await ritaPage.getByText('This is your own mailbox.').waitFor();
    await ritaPage.close();
    await page.close();
  });
});

/**
 * Compose in real Chromium against a real server (file-backed PGlite) and
 * an SMTP sink: Ada saves a signature, opens a customer's thread, presses
 * `r`, writes and sends with Ctrl+Enter, and the sink gets exactly one
 * message with the right From, In-Reply-To and References. With the network
 * off she replies again (queued), reloads (the service worker serves the
 * shell, IndexedDB the outbox), goes online, and the sink gets it exactly
 * once. Reply-all and forward fill the right recipients (and name a bad
 * one), a reply draft and a new-message draft (`c`) survive a reload, and
 * log-out deletes the drafts database.
 */
import { randomBytes } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Keyring } from '../../server/secrets/keyring';
import type { CreatedInviteDto, MeDto } from '../../sync/api';
import { browserAvailable, launchBrowser, startLiveServer, type LiveServer } from '../helpers/browser';
import { deliver, seedMailbox, type TestMailbox } from '../helpers/conversion-mail';
import { PASSWORD, shot } from '../helpers/e2e-session';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../helpers/smtp-sink';

const SUBJECT = 'Pricing for 40 seats';
const SIGNATURE = 'Ada Admin\nAcme Sales';

/** The server's keys, so it can open the SMTP credentials the test seals. */
const KEK = new Uint8Array(randomBytes(32));
const MESSAGE_ID_KEY = new Uint8Array(randomBytes(32));
const SERVER_KEYS = { MAIL_KEKS: `e2e:${Buffer.from(KEK).toString('base64')}`, MESSAGE_ID_KEY: Buffer.from(MESSAGE_ID_KEY).toString('base64') };

function testKeyring(): Keyring {
  return { active: { kid: 'e2e', key: KEK }, keks: new Map([['e2e', KEK]]), messageIdKey: MESSAGE_ID_KEY, source: 'env' };
}

const parse = (m: SinkMessage): Promise<ParsedMail> => simpleParser(m.raw);
const addresses = (field: ParsedMail['to']): string[] =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));

async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
}

describe.runIf(browserAvailable())('compose, reply, forward and the offline outbox in Chromium', () => {
  let server: LiveServer;
  let browser: Browser;
  let sink: SmtpSink;
  let ada: BrowserContext;
  let rita: BrowserContext;
  let me: MeDto;
  let threadId: string;
  let originalId: string;
  let rootId: string;
  let mailbox: TestMailbox;

  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startLiveServer({ MAIL_ALLOW_PRIVATE_HOSTS: 'true', ...SERVER_KEYS });
    browser = await launchBrowser();
    ada = await browser.newContext({ baseURL: server.url, viewport: { width: 1366, height: 900 } });
    const signup = await ada.request.fetch('/api/auth/signup', {
      method: 'POST',
      data: { orgName: 'Acme Sales', name: 'Ada Admin', email: 'ada@acme.test', password: PASSWORD },
      headers: { origin: server.url },
    });
    me = (await signup.json()) as MeDto;
    // Rita (rep) sees Ada's mail with Carol: Carol is a contact and Ada's mailbox is Public.
    const headers = { origin: server.url };
    const invite = (await (await ada.request.fetch('/api/people/invites', { method: 'POST', data: { email: 'rita@acme.test', role: 'rep' }, headers })).json()) as CreatedInviteDto;
    rita = await browser.newContext({ baseURL: server.url, viewport: { width: 1366, height: 900 } });
    const token = invite.url.split('/invite/')[1] ?? '';
    expect((await rita.request.fetch(`/api/invites/${token}/accept`, { method: 'POST', data: { name: 'Rita Rep', password: PASSWORD }, headers })).ok()).toBe(true);
    const contact = { type: 'contact', name: 'Carol Customer', company: 'Customer Inc', primaryEmail: 'carol@customer.test' };
    expect((await ada.request.fetch('/api/records', { method: 'POST', data: contact, headers })).ok()).toBe(true);
    expect((await ada.request.fetch('/api/me/email-sharing', { method: 'PUT', data: { mode: 'public', excludedDomains: [], audience: null }, headers })).ok()).toBe(true);
    const keyring = testKeyring();
    const box = await seedMailbox(server.db, keyring, me.org.id, me.user.id, 'ada@acme.test');
    mailbox = box;
    // Her mailbox sends through the sink; it has a sales@ alias too.
    await server.db.query(`update mail_accounts set smtp_host = '127.0.0.1', smtp_port = $2, smtp_security = 'none', store_sent = false where id = $1`, [
      box.accountId,
      sink.port,
    ]);
    await server.db.query(`insert into mail_account_addresses (account_id, address, display_name) values ($1, 'sales@acme.test', 'Acme Sales')`, [box.accountId]);
    await deliver(server.db, keyring, box, [
      { from: 'carol@customer.test', fromName: 'Carol Customer', to: ['ada@acme.test'], cc: ['dave@customer.test'], subject: SUBJECT, body: 'Could you send pricing for 40 seats?' },
    ]);
    await markRead();
    const [row] = await server.db.query<{ threadId: string; headerMessageId: string }>(
      `select thread_id as "threadId", header_message_id as "headerMessageId" from messages where subject = $1`,
      [SUBJECT],
    );
    threadId = row?.threadId ?? '';
    originalId = row?.headerMessageId ?? '';
    rootId = originalId;
  });

  afterAll(async () => {
    await rita?.close();
    await ada?.close();
    await browser?.close();
    await server?.stop();
    await sink?.stop();
  });

  /** Read already, so opening the thread does not try to set \Seen on the seeded mailbox's (unreachable) IMAP server. */
  const markRead = () => server.db.query('update messages set seen = true where account_id = $1', [mailbox.accountId]);
  const outboxIn = (page: Page, status: string) => page.locator(`[data-outbox-status="${status}"]`);
  /** The next message the sink receives after the `count` it already had. */
  const mailAfter = async (count: number): Promise<SinkMessage> => (await sink.waitFor(count + 1, 15_000))[count] as SinkMessage;

  it('saves a signature on the Account page', async () => {
    const page = await ada.newPage();
    await page.goto('/account');
    const field = page.getByLabel('Signature', { exact: true });
    await field.fill(SIGNATURE);
    await page.getByRole('button', { name: 'Save signature' }).click();
    await page.getByText('Signature saved.').waitFor();
    await shot(page, 'compose-signature');
    const saved = await ada.request.get('/api/me/signature');
    expect(((await saved.json()) as { signature: string }).signature).toBe(SIGNATURE);
    await page.close();
  });

  it('replies with r and Ctrl+Enter: one message with the right From, In-Reply-To and References', async () => {
    const page = await ada.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto('/inbox');
    await page.locator('a[data-thread-id]').filter({ hasText: SUBJECT }).click();
    await page.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
    await page.keyboard.press('r');
    const box = page.locator('[data-compose-reply]');
    await box.waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('[data-compose-reply]') !== null && document.activeElement?.tagName)).toBe('TEXTAREA');
    // The default From is the address the customer wrote to; the signature sits under "-- ".
    expect(await page.getByLabel('From', { exact: true }).inputValue()).toContain('ada@acme.test');
    expect(await page.getByRole('list', { name: 'To recipients' }).innerText()).toContain('Carol Customer');
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe(`\n\n-- \n${SIGNATURE}`);
    await page.keyboard.type('Hi Carol, 40 seats are 12,000 EUR a year.');
    await shot(page, 'compose-reply');
    await page.keyboard.press('Control+Enter');

    const [mail] = await sink.waitFor(1, 15_000);
    const parsed = await parse(mail as SinkMessage);
    expect(parsed.from?.value[0]?.address).toBe('ada@acme.test');
    expect(parsed.inReplyTo).toBe(`<${originalId}>`);
    expect(parsed.references).toBe(`<${rootId}>`);
    expect(parsed.subject).toBe(`Re: ${SUBJECT}`);
    expect(mail?.envelope.to).toEqual(['carol@customer.test']);
    expect(parsed.text).toContain(`Hi Carol, 40 seats are 12,000 EUR a year.\n\n-- \n${SIGNATURE}`);
    // The thread shows the sent message (reloaded from the server).
    await page.locator('ol[aria-label="Messages, oldest first"] > li').nth(1).waitFor();
    await expect.poll(() => page.locator('[data-compose-start="reply"]').count()).toBe(1);
    await shot(page, 'compose-sent');
    expect(sink.messages).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('queues a reply offline, keeps it across an offline reload, and sends it exactly once on reconnect with two tabs open', async () => {
    const page = await ada.newPage();
    await page.goto(`/inbox/${threadId}`);
    await page.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
    await waitForServiceWorker(page);
    // A second tab: both see the network come back, and the Web Lock lets one of them send.
    const other = await ada.newPage();
    await other.goto('/inbox');
    await other.locator('a[data-thread-id]').first().waitFor();
    const posts: string[] = [];
    for (const tab of [page, other]) {
      tab.on('request', (request) => {
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/mail/send') {
          posts.push(tab === page ? 'reply tab' : 'other tab');
        }
      });
    }
    await ada.setOffline(true);
    await page.locator('[data-compose-start="reply"]').click();
    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.type('Sent from a plane.');
    await page.keyboard.press('Control+Enter');
    await outboxIn(page, 'queued').getByText('Queued (offline)').waitFor();
    await page.getByRole('button', { name: 'Outbox: 1 queued' }).waitFor();
    await shot(page, 'compose-queued-offline');

    await page.reload();
    await page.getByRole('button', { name: 'Outbox: 1 queued' }).waitFor();
    await other.getByRole('button', { name: 'Outbox: 1 queued' }).waitFor();
    expect(sink.messages).toHaveLength(1);

    await ada.setOffline(false);
    const all = await sink.waitFor(2, 30_000);
    const parsed = await parse(all[1] as SinkMessage);
    expect(parsed.text).toContain('Sent from a plane.');
    expect(parsed.inReplyTo).toMatch(/^<s\./u);
    await expect.poll(() => page.locator('[data-outbox-indicator]').count(), { timeout: 15_000 }).toBe(0);
    // Both replies are in the outbox as sent: nothing is left to retry, so nothing more arrives.
    const stored = await page.evaluate(async (userId) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(`shoal-compose-${userId}`);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const entries = await new Promise<{ status: string }[]>((resolve) => {
        const request = db.transaction('outbox').objectStore('outbox').getAll();
        request.onsuccess = () => resolve(request.result as { status: string }[]);
      });
      db.close();
      return entries.map((e) => e.status);
    }, me.user.id);
    expect(stored).toEqual(['sent', 'sent']);
    expect(sink.messages.filter((m) => m.raw.toString().includes('Sent from a plane.'))).toHaveLength(1);
    expect(sink.messages).toHaveLength(2);
    await expect.poll(() => other.locator('[data-outbox-indicator]').count()).toBe(0);
    // One request in all: the tab that got the lock sent it, the other found it sent.
    expect(posts).toHaveLength(1);
    const sends = await server.db.query<{ n: number }>(`select count(*)::int as n from outbound_messages where author_id = $1`, [me.user.id]);
    expect(sends[0]?.n).toBe(2);
    await other.close();
    await page.close();
  });

  it('fills reply-all and forward recipients, names a bad address, and sends both', async () => {
    const page = await ada.newPage();
    await page.goto(`/inbox/${threadId}`);
    await page.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
    // Reply all answers the newest message in her mailbox: her own reply to Carol, so Carol again.
    await page.locator('[data-compose-start="replyAll"]').click();
    await page.locator('[data-compose-reply]').waitFor();
    expect(await page.getByRole('list', { name: 'To recipients' }).innerText()).toBe('Carol Customer');
    expect(await page.locator('[data-compose-reply] .field').filter({ hasText: 'Cc' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Discard' }).click();
    await page.getByText('Draft discarded.').waitFor();

    await page.locator('[data-compose-start="forward"]').click();
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.closest('.field')?.querySelector('label')?.textContent)).toBe('To');
    await page.keyboard.type('erin@prospect.test, bad@');
    await page.keyboard.press('Enter');
    await page.getByText('To: “bad@” is not an email address like name@example.com.').waitFor();
    // It forwards the newest message of her mailbox: her own reply.
    expect(await page.getByLabel('Subject', { exact: true }).inputValue()).toBe(`Fwd: Re: ${SUBJECT}`);
    await page.getByLabel('From', { exact: true }).selectOption({ label: 'Acme Sales <sales@acme.test>' });
    await shot(page, 'compose-forward-invalid');
    await page.keyboard.press('Control+Enter');
    // Not sent: the bad address is named and focused.
    await page.getByText('To: “bad@” is not an email address like name@example.com.').waitFor();
    await page.getByLabel('To', { exact: true }).fill('');
    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.type('FYI, see below.');
    const count = sink.messages.length;
    await page.keyboard.press('Control+Enter');
    const forward = await parse(await mailAfter(count));
    expect(forward.subject).toBe(`Fwd: Re: ${SUBJECT}`);
    expect(forward.from?.value[0]).toEqual({ address: 'sales@acme.test', name: 'Acme Sales' });
    expect(addresses(forward.to)).toEqual(['erin@prospect.test']);
    expect(forward.text).toContain('---------- Forwarded message ---------');
    expect(forward.inReplyTo).toBeUndefined();
    await page.close();
  });

  it('reply-all to the customer’s message copies the others', async () => {
    // Carol answers to Ada and Dave; Ada replies to all from that message.
    await deliver(server.db, testKeyring(), mailbox, [
      {
        from: 'carol@customer.test',
        fromName: 'Carol Customer',
        to: ['ada@acme.test', 'dave@customer.test'],
        cc: ['fay@customer.test'],
        subject: `Re: ${SUBJECT}`,
        body: 'Thanks, looping in Dave and Fay.',
        // A minute ahead: Date headers have whole seconds, and this must be newer than the forward just sent.
        receivedAt: new Date(Date.now() + 60_000),
      },
    ]);
    await markRead();
    const page = await ada.newPage();
    await page.goto(`/inbox/${threadId}`);
    await page.getByText('looping in Dave and Fay').first().waitFor();
    await page.locator('[data-compose-start="replyAll"]').click();
    expect(await page.getByRole('list', { name: 'To recipients' }).innerText()).toContain('Carol Customer');
    const cc = await page.getByRole('list', { name: 'Cc recipients' }).innerText();
    expect(cc).toContain('dave@customer.test');
    expect(cc).toContain('fay@customer.test');
    expect(cc).not.toContain('ada@acme.test');
    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.type('Hi all!');
    const count = sink.messages.length;
    await page.keyboard.press('Control+Enter');
    const mail = await mailAfter(count);
    expect(mail.envelope.to.sort()).toEqual(['carol@customer.test', 'dave@customer.test', 'fay@customer.test']);
    await page.close();
  });

  it('shows a teammate "Ada Admin is replying" while focus is in the reply box; only the owner can reply', async () => {
    const watcher = await rita.newPage();
    await watcher.goto(`/inbox/${threadId}`);
    await watcher.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
    await watcher.getByText('This conversation is in Ada Admin’s mailbox: only they can reply from it.').waitFor();
    expect(await watcher.locator('[data-compose-start]').count()).toBe(0);

    const page = await ada.newPage();
    await page.goto(`/inbox/${threadId}`);
    await page.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
    const ada$ = watcher.locator(`[data-presence-user="${me.user.id}"]`);
    await ada$.and(watcher.locator('[data-activity="viewing"]')).waitFor();
    await page.keyboard.press('r');
    await page.locator('[data-compose-reply]').waitFor();
    await ada$.and(watcher.locator('[data-activity="replying"]')).getByText('Ada Admin is replying').waitFor();
    await shot(watcher, 'compose-teammate-replying');
    await page.keyboard.press('Escape');
    await ada$.and(watcher.locator('[data-activity="viewing"]')).waitFor();
    await page.close();
    await watcher.close();
  });

  it('keeps a reply draft and a new-message draft across a reload; log-out deletes them', async () => {
    const page = await ada.newPage();
    await page.goto(`/inbox/${threadId}`);
    await page.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
    await page.keyboard.press('r');
    await page.locator('[data-compose-reply] textarea:focus').waitFor();
    await page.keyboard.type('A draft that survives.');
    await page.keyboard.press('Escape');
    await page.locator('[data-compose-start="reply"]').waitFor();
    // Escape closed the form, not the conversation.
    expect(page.url()).toContain(`/inbox/${threadId}`);

    await page.keyboard.press('c');
    const dialog = page.getByRole('dialog', { name: 'New message' });
    await dialog.waitFor();
    await page.keyboard.type('gina@prospect.test');
    await page.keyboard.press('Enter');
    await dialog.getByLabel('Subject', { exact: true }).fill('Intro from Acme');
    await dialog.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.type('Hello Gina.');
    await shot(page, 'compose-new');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);

    await page.reload();
    await page.getByRole('heading', { level: 1, name: SUBJECT }).waitFor();
    await expect.poll(() => page.getByLabel('Message', { exact: true }).inputValue()).toContain('A draft that survives.');
    await page.keyboard.press('c');
    await dialog.waitFor();
    expect(await dialog.getByLabel('Subject', { exact: true }).inputValue()).toBe('Intro from Acme');
    // Written above the signature, which the draft kept.
    expect(await dialog.getByLabel('Message', { exact: true }).inputValue()).toBe(`Hello Gina.\n\n-- \n${SIGNATURE}`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'compose-new-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    const count = sink.messages.length;
    await dialog.getByRole('button', { name: 'Send' }).click();
    const fresh = await parse(await mailAfter(count));
    expect(fresh.subject).toBe('Intro from Acme');
    expect(addresses(fresh.to)).toEqual(['gina@prospect.test']);

    const dbName = `shoal-compose-${me.user.id}`;
    const databases = () => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ''));
    expect(await databases()).toContain(dbName);
    await page.goto('/account');
    // Mail still in the outbox is not thrown away without asking.
    await ada.setOffline(true);
    await page.getByRole('button', { name: 'New message' }).click();
    await dialog.waitFor();
    await page.keyboard.type('hank@prospect.test');
    await page.keyboard.press('Enter');
    await dialog.getByLabel('Subject', { exact: true }).fill('Queued at log-out');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('button', { name: 'Outbox: 1 queued' }).waitFor();
    await page.getByRole('button', { name: /^User menu/u }).click();
    await page.locator('#app-sidebar').getByRole('button', { name: 'Log out', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Log out with unsent mail?' });
    await confirm.getByText('1 message has not been sent yet').waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await ada.setOffline(false);
    expect((await parse(await mailAfter(count + 1))).subject).toBe('Queued at log-out');
    await expect.poll(() => page.locator('[data-outbox-indicator]').count(), { timeout: 15_000 }).toBe(0);
    await page.locator('#main').getByRole('button', { name: 'Log out', exact: true }).click();
    await page.waitForURL(/\/login/);
    await expect.poll(databases).not.toContain(dbName);
    expect((await databases()).filter((name) => name.includes(me.user.id))).toEqual([]);
    expect(sink.messages).toHaveLength(count + 2);
    await page.close();
  });
});

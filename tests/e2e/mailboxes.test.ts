/**
 * Connecting a mailbox in real Chromium against a real server, a throwaway
 * Dovecot holding 50 corpus messages and an SMTP sink: a wrong password is
 * explained inline by "Test connection", the fixed settings pass both
 * probes, and after "Connect" the account's progress bar reaches 50/50 and
 * its status becomes "Up to date". Then the account is edited: every
 * refusing server is explained under its section with its hint apart, a
 * new server asks for the password again, and the saved change keeps the
 * mailbox syncing.
 */
import { mkdir } from 'node:fs/promises';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchBrowser, startLiveServer, type LiveServer } from '../helpers/browser';
import { loadCorpus } from '../helpers/corpus';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

const SHOTS = 'test-results/screenshots';
const PASSWORD = 'correct horse battery staple';
const MESSAGES = 50;

/**
 * A whole-page screenshot taken by growing the viewport to the page's height,
 * so the sticky sidebar and fixed layers render where a person sees them.
 */
async function shot(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize() ?? { width: 1280, height: 900 };
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  // Let transitions (progress fill, theme colours) settle.
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
  await page.setViewportSize(viewport);
}

/** Closes any toast still showing (they also close on their own after a few seconds, so none may be left). */
async function dismissToasts(page: Page): Promise<void> {
  for (const button of await page.getByRole('button', { name: 'Dismiss notification' }).all()) {
    await button.click({ timeout: 1_000 }).catch(() => undefined);
  }
}

async function attribute(locator: Locator, name: string): Promise<string | null> {
  return locator.getAttribute(name);
}

describe.runIf(browserAvailable() && dovecotAvailable())('mailboxes e2e in Chromium', () => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let server: LiveServer;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    dovecot = await startDovecot();
    const corpus = loadCorpus({ groups: ['easy-ham-1'], limit: MESSAGES });
    await dovecot.prefill('alice', 'INBOX', corpus.map((m) => m.raw));
    sink = await startSmtpSink();
    server = await startLiveServer({ MAIL_ALLOW_PRIVATE_HOSTS: 'true', SIGNUP: 'open' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('tests the settings, explains a wrong password inline, connects and shows live sync progress', async () => {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto('/');
    await page.waitForURL(/\/signup$/);
    await page.getByLabel('Organization name').fill('Acme Sales');
    await page.getByLabel('Your name').fill('Alice Admin');
    await page.getByLabel('Work email').fill('alice@acme.test');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL(/\/inbox$/);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mailboxes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mailboxes' }).waitFor();
    await page.getByRole('heading', { name: 'No mailbox connected yet' }).waitFor();
    await page.getByRole('link', { name: 'Connect a mailbox' }).first().click();
    await page.waitForURL(/\/settings\/mailboxes\/connect$/);
    await page.getByRole('heading', { level: 1, name: 'Connect a mailbox' }).waitFor();

    // Presets fill the servers in; the custom choice opens the server settings.
    await page.getByRole('radio', { name: /Gmail/ }).check({ force: true });
    await page.getByLabel('Email address').fill('someone@gmail.com');
    const appPasswordLink = page.getByRole('link', { name: /Create an app password/ });
    expect(await attribute(appPasswordLink, 'target')).toBe('_blank');
    expect(await attribute(appPasswordLink, 'rel')).toBe('noopener noreferrer');
    await page.getByText('imap.gmail.com:993 · SSL/TLS').waitFor();
    await shot(page, 'mailboxes-connect-preset');

    await page.getByRole('radio', { name: /Other \/ custom server/ }).check({ force: true });
    await page.getByLabel('Email address').fill('alice@acme.test');
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    const incoming = page.getByRole('group', { name: 'Incoming mail (IMAP)' });
    await incoming.getByLabel('Server').fill('127.0.0.1');
    await incoming.getByLabel('Security').selectOption('starttls');
    expect(await incoming.getByLabel('Port').inputValue()).toBe('143');
    await incoming.getByLabel('Security').selectOption('none');
    await incoming.getByLabel('Port').fill(String(dovecot.port));
    await incoming.getByLabel('User name').fill('alice');
    const outgoing = page.getByRole('group', { name: 'Outgoing mail (SMTP)' });
    await outgoing.getByLabel('Server').fill('127.0.0.1');
    await outgoing.getByLabel('Security').selectOption('starttls');
    expect(await outgoing.getByLabel('Port').inputValue()).toBe('587');
    await outgoing.getByLabel('Port').fill(String(sink.port));
    await outgoing.getByLabel('Security').selectOption('none');
    // A typed port survives a security change.
    expect(await outgoing.getByLabel('Port').inputValue()).toBe(String(sink.port));

    const result = page.getByTestId('connection-result');
    expect(await attribute(result, 'aria-live')).toBe('polite');
    await page.getByRole('button', { name: 'Test connection' }).click();
    const imapLine = result.locator('[data-probe="imap"]');
    await imapLine.getByText(/rejected the user name or password/).waitFor({ timeout: 30_000 });
    await result.locator('[data-probe="smtp"]').getByText('Outgoing (SMTP) works').waitFor();
    expect(await imapLine.textContent()).toMatch(/app password/i);
    await shot(page, 'mailboxes-connect-error');
    // Connect runs the same probe; the refusal lands in the incoming section.
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await incoming.getByRole('alert').getByText(/rejected the user name or password/).waitFor({ timeout: 30_000 });
    expect(await outgoing.getByRole('alert').count()).toBe(0);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'mailboxes-connect-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await page.getByLabel('Password', { exact: true }).fill('alice-pw');
    await result.getByText(/changed the settings after this test/).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await imapLine.getByText('Incoming (IMAP) works').waitFor({ timeout: 30_000 });
    await result.locator('[data-probe="smtp"]').getByText('Outgoing (SMTP) works').waitFor();
    await shot(page, 'mailboxes-connect');

    // A From address outside the organization is refused by the server, inline on its row.
    await page.getByRole('button', { name: 'Add address' }).click();
    const extra = page.getByRole('textbox', { name: 'From address 2' });
    await extra.fill('ceo@rival.test');
    await page.getByRole('textbox', { name: 'Display name 2' }).fill('Not us');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await expect.poll(() => attribute(extra, 'aria-invalid')).toBe('true');
    const describedBy = (await attribute(extra, 'aria-describedby')) ?? '';
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toMatch(/ceo@rival\.test is not an address of your organization/);
    await extra.fill('sales@acme.test');
    await page.getByRole('textbox', { name: 'Display name', exact: true }).fill('Alice Admin');

    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.waitForURL(/\/settings\/mailboxes$/, { timeout: 30_000 });
    const card = page.locator('article[data-account-email="alice@acme.test"]');
    await card.waitFor();
    const bar = card.getByRole('progressbar', { name: 'Sync progress for alice@acme.test' });
    await expect
      .poll(async () => [await attribute(bar, 'aria-valuenow'), await attribute(bar, 'aria-valuemax')], { timeout: 60_000 })
      .toEqual([String(MESSAGES), String(MESSAGES)]);
    await card.getByText(`${MESSAGES} of ${MESSAGES} messages`).waitFor();
    await card.getByTestId('health').getByText('Up to date').waitFor({ timeout: 30_000 });
    expect(await attribute(bar, 'aria-valuetext')).toBe(`${MESSAGES} of ${MESSAGES} messages`);
    await card.getByText('Alice Admin <alice@acme.test>, Not us <sales@acme.test>').waitFor();

    // The admin's sync-health table lists the same account with its owner.
    const row = page.locator('tr[data-account-email="alice@acme.test"]');
    await row.getByText('Alice Admin').waitFor();
    await row.getByText('Up to date').waitFor();
    // Polling stops once nothing is syncing.
    await page.getByText('Updating live').waitFor({ state: 'detached' });
    await dismissToasts(page);
    await shot(page, 'mailboxes-list');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'mailboxes-list-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Edit: the settings page opens filled in; a blank password keeps the saved one.
    await card.getByRole('link', { name: 'Edit alice@acme.test' }).click();
    await page.waitForURL(/\/settings\/mailboxes\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { level: 1, name: 'Settings of alice@acme.test' }).waitFor();
    const editIn = page.getByRole('group', { name: 'Incoming mail (IMAP)' });
    const editOut = page.getByRole('group', { name: 'Outgoing mail (SMTP)' });
    expect(await editIn.getByLabel('Port').inputValue()).toBe(String(dovecot.port));
    expect(await editIn.getByLabel('User name').inputValue()).toBe('alice');
    expect(await page.getByRole('textbox', { name: 'Display name', exact: true }).inputValue()).toBe('Alice Admin');
    await page.getByLabel('Name in Shoal').fill('Sales inbox');
    // Both servers refuse: each says so under its own section, the hint apart from the message.
    await page.getByLabel('New password').fill('not-the-password');
    await editOut.getByLabel('Port').fill('1');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const inAlert = editIn.getByRole('alert');
    await inAlert.getByText(/rejected the user name or password/).waitFor({ timeout: 30_000 });
    expect(await inAlert.locator('.problem-message').textContent()).not.toMatch(/app password/i);
    expect(await inAlert.locator('.problem-hint').textContent()).toMatch(/app password/i);
    const outAlert = editOut.getByRole('alert');
    await outAlert.getByText(/refused the connection/).waitFor();
    expect(await outAlert.locator('.problem-hint').textContent()).toMatch(/465/);
    await shot(page, 'mailboxes-edit-error');
    // A new server needs the password typed again: the saved one only goes where it was saved for.
    await page.getByLabel('New password').fill('');
    await editOut.getByLabel('Port').fill(String(sink.port));
    await editIn.getByLabel('Server').fill('localhost');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const secret = page.getByLabel('New password');
    await expect.poll(() => attribute(secret, 'aria-invalid')).toBe('true');
    const secretHelp = (await attribute(secret, 'aria-describedby')) ?? '';
    expect(await page.locator(`[id="${secretHelp.split(' ').join('"], [id="')}"]`).allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/enter it again/i)]),
    );
    await editIn.getByLabel('Server').fill('127.0.0.1');
    await secret.fill('alice-pw');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await result.locator('[data-probe="imap"]').getByText('Incoming (IMAP) works').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/\/settings\/mailboxes$/, { timeout: 30_000 });
    await card.getByRole('heading', { name: 'Sales inbox' }).waitFor();
    await card.getByTestId('health').getByText('Up to date').waitFor({ timeout: 30_000 });
    await dismissToasts(page);

    // Disconnect asks first and says the server keeps everything.
    await card.getByRole('button', { name: 'Disconnect alice@acme.test' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/Nothing on the mail server is deleted/).waitFor();
    await dialog.getByRole('button', { name: 'Disconnect' }).click();
    await card.waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'No mailbox connected yet' }).waitFor();
    expect((await dovecot.status('alice', 'INBOX')).messages).toBe(MESSAGES);

    await context.close();
  });
});

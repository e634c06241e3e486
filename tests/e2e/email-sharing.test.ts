/**
 * A rep makes their mailbox Public with an excluded domain, an admin locks
 * the setting on the Email sharing page, and the rep then sees it locked;
 * the admin also switches record access. Real Chromium, real server.
 */
import type { BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser';
import { PASSWORD, shot, shotDark, useLiveBrowser } from '../helpers/e2e-session';


/** Calls the API inside a browser context, so the session cookie lands in it. */
async function post(context: BrowserContext, origin: string, path: string, data: unknown): Promise<unknown> {
  const res = await context.request.post(path, { data, headers: { origin } });
  if (!res.ok()) {
    throw new Error(`${path}: ${res.status()} ${await res.text()}`);
  }
  return res.json();
}

describe.runIf(browserAvailable())('email sharing e2e in Chromium', () => {
  const live = useLiveBrowser();

  it('a rep goes Public with an excluded domain, an admin locks it, the rep sees the lock', async () => {
    const adminContext = await live.browser.newContext({ baseURL: live.server.url });
    const repContext = await live.browser.newContext({ baseURL: live.server.url });
    await post(adminContext, live.server.url, '/api/auth/signup', {
      orgName: 'Acme Sales',
      name: 'Ada Admin',
      email: 'ada@acme.test',
      password: PASSWORD,
    });
    const invite = (await post(adminContext, live.server.url, '/api/people/invites', { email: 'rita@acme.test', role: 'rep' })) as {
      url: string;
    };
    const token = invite.url.split('/invite/')[1] ?? '';
    await post(repContext, live.server.url, `/api/invites/${token}/accept`, { name: 'Rita Rep', password: PASSWORD });

    // The rep chooses Public, excludes a customer's domain and, in one click, her own company's.
    const rep = await repContext.newPage();
    await rep.goto('/inbox');
    await rep.getByRole('link', { name: 'Sharing', exact: true }).click();
    await rep.getByRole('heading', { name: 'Sharing', level: 1 }).waitFor();
    expect(await rep.getByRole('link', { name: 'Email sharing', exact: true }).count()).toBe(0);
    expect(await rep.getByRole('radio', { name: /Custom/ }).isChecked()).toBe(true);
    await rep.getByRole('radio', { name: /Public/ }).check();
    const domains = rep.getByRole('textbox', { name: 'Excluded domains' });
    await domains.fill('Globex.example');
    await domains.press('Enter');
    await rep.getByRole('button', { name: 'Exclude acme.test (your company)' }).click();
    await rep.getByRole('button', { name: 'Remove globex.example' }).waitFor();
    await rep.getByText('2 of 5').waitFor();
    await rep.getByRole('radio', { name: 'Only people and groups I choose' }).check();
    await rep.getByRole('checkbox', { name: 'Ada Admin' }).check();
    await rep.getByText('1 person, 0 groups chosen').waitFor();
    await shot(rep, 'sharing-settings');
    await rep.getByRole('button', { name: 'Save sharing' }).click();
    await rep.getByText('Your email sharing is now Public.').waitFor();

    // The admin finds it on the Email sharing page and locks it.
    const admin = await adminContext.newPage();
    await admin.goto('/inbox');
    await admin.getByRole('link', { name: 'Email sharing', exact: true }).click();
    await admin.getByRole('heading', { name: 'Email sharing', level: 1 }).waitFor();
    const row = admin.locator('tr[data-sharing-email="rita@acme.test"]');
    await row.getByText('Public').waitFor();
    await row.getByText('globex.example, acme.test').waitFor();
    await row.getByText('Chosen: Ada Admin').waitFor();
    const summary = admin.getByRole('region', { name: 'Summary' });
    await summary.locator('li', { hasText: /^\s*Public\s*1 person/ }).waitFor();
    await summary.locator('li', { hasText: /^\s*Custom\s*1 person/ }).waitFor();
    await summary.locator('li', { hasText: /^\s*Chosen audience\s*1 person/ }).waitFor();
    await summary.locator('li', { hasText: 'globex.example' }).getByText('1 person').waitFor();
    await row.getByRole('button', { name: 'Edit Rita Rep’s sharing' }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByRole('switch', { name: 'Lock this setting' }).check();
    await shot(admin, 'admin-email-sharing-edit');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await admin.getByText('Rita Rep’s sharing is now Public and locked.').waitFor();
    await row.getByText('Locked').waitFor();
    await shot(admin, 'admin-email-sharing');
    await shotDark(admin, 'admin-email-sharing-dark');

    // The rep sees the locked notice and a read-only form.
    await rep.reload();
    await rep.getByTestId('sharing-locked').getByText('Your sharing setting is locked').waitFor();
    await rep.getByText(/An admin \(Ada Admin\) set it/).waitFor();
    expect(await rep.getByRole('radio', { name: /Public/ }).isChecked()).toBe(true);
    expect(await rep.getByRole('radio', { name: /Private/ }).isDisabled()).toBe(true);
    expect(await rep.getByRole('button', { name: 'Save sharing' }).count()).toBe(0);
    await shot(rep, 'sharing-locked');
    await shotDark(rep, 'sharing-locked-dark');

    // Record access: the admin switches it to Private; the rep's explanation follows.
    await admin.getByRole('link', { name: 'Organization' }).click();
    await admin.getByRole('heading', { name: 'Organization', level: 1 }).waitFor();
    await admin.getByRole('radio', { name: /Private/ }).check();
    await shot(admin, 'admin-organization');
    await admin.getByRole('button', { name: 'Save record access' }).click();
    await admin.getByText('Record access is now Private.').waitFor();
    await rep.reload();
    await rep.getByText(/Record access in Acme Sales is\s+Private/).waitFor();

    await adminContext.close();
    await repContext.close();
  });
});

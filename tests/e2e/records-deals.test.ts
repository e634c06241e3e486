/**
 * Deals and record access in real Chromium against a real server: an
 * account, a contact at it and a deal linking both with a stage, made in the
 * forms; the deals list filtered by stage; then, under Private record access,
 * the deal shared with a teammate, who can open it while an unshared deal
 * stays out of her list, and a lead made for her that its maker cannot open.
 */
import type { APIRequestContext, Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser';
import { PASSWORD, shot, signUp, useLiveBrowser } from '../helpers/e2e-session';

/** Calls the API with the context's session cookie. */
async function call(request: APIRequestContext, origin: string, method: string, path: string, data?: unknown): Promise<unknown> {
  const res = await request.fetch(path, { method, data, headers: { origin } });
  if (!res.ok()) {
    throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`);
  }
  return res.status() === 204 ? null : res.json();
}

describe.runIf(browserAvailable())('deals and record shares e2e in Chromium', () => {
  const live = useLiveBrowser();

  it('links a deal to its account and contact with a stage, filters by stage, and shares it under Private access', async () => {
    const origin = live.server.url;
    const context = await live.browser.newContext({ baseURL: origin });
    const repContext = await live.browser.newContext({ baseURL: origin });
    const page = await context.newPage();
    await signUp(page);
    const invite = (await call(context.request, origin, 'POST', '/api/people/invites', { email: 'rita@acme.test', role: 'rep' })) as { url: string };
    await call(repContext.request, origin, 'POST', `/api/invites/${invite.url.split('/invite/')[1] ?? ''}/accept`, { name: 'Rita Rep', password: PASSWORD });

    const create = async (type: 'account' | 'contact' | 'deal', fill: (dialog: Locator) => Promise<void>) => {
      await page.goto(`/records/${type}`);
      await page.getByRole('button', { name: `New ${type}` }).first().click();
      const dialog = page.getByRole('dialog', { name: `New ${type}` });
      await fill(dialog);
      await dialog.getByRole('button', { name: `Create ${type}` }).click();
      await page.waitForURL(new RegExp(`/records/${type}/[0-9a-f-]{36}$`));
      return page.url().split('/').pop() as string;
    };
    await create('account', (d) => d.getByLabel('Name', { exact: true }).fill('Acme GmbH'));
    await create('contact', async (d) => {
      await d.getByLabel('Name', { exact: true }).fill('Carla Contact');
      await d.getByLabel('Account').selectOption({ label: 'Acme GmbH' });
    });
    const dealId = await create('deal', async (d) => {
      await d.getByLabel('Name', { exact: true }).fill('Acme renewal');
      await d.getByLabel('Stage').selectOption({ label: 'Won' });
      await d.getByLabel('Account').selectOption({ label: 'Acme GmbH' });
      await d.getByRole('checkbox', { name: 'Carla Contact' }).check();
    });
    await page.getByRole('heading', { name: 'Acme renewal', level: 1 }).waitFor();
    await page.getByRole('region', { name: 'Account', exact: true }).getByRole('link', { name: 'Acme GmbH' }).waitFor();
    await page.getByRole('region', { name: 'Contacts', exact: true }).getByRole('link', { name: 'Carla Contact' }).waitFor();
    expect(await page.locator('dl.details').getByText('Won').count()).toBe(1);

    // The contact's page lists the deal; the account's lists both.
    await page.getByRole('region', { name: 'Contacts', exact: true }).getByRole('link', { name: 'Carla Contact' }).click();
    await page.getByRole('region', { name: 'Deals', exact: true }).getByRole('link', { name: 'Acme renewal' }).waitFor();
    await page.getByRole('region', { name: 'Account', exact: true }).getByRole('link', { name: 'Acme GmbH' }).click();
    await page.getByRole('region', { name: 'Contacts', exact: true }).getByRole('link', { name: 'Carla Contact' }).waitFor();
    await page.getByRole('region', { name: 'Deals', exact: true }).getByRole('link', { name: 'Acme renewal' }).waitFor();

    // A second, open deal; the list filters by stage.
    await call(context.request, origin, 'POST', '/api/records', { type: 'deal', name: 'Beta pilot', stage: 'open' });
    await page.goto('/records/deal');
    const names = () => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-record-name')));
    await expect.poll(names).toEqual(['Acme renewal', 'Beta pilot']);
    await page.getByLabel('Stage').selectOption({ label: 'Won' });
    await expect.poll(names).toEqual(['Acme renewal']);
    await page.getByLabel('Stage').selectOption({ label: 'Open' });
    await expect.poll(names).toEqual(['Beta pilot']);
    await shot(page, 'records-deals-filtered');

    // Private record access: the admin shares the won deal with Rita; the other deal stays out of her reach.
    await call(context.request, origin, 'PUT', '/api/admin/organization', { recordAccess: 'private' });
    await page.goto(`/records/deal/${dealId}`);
    await page.getByRole('button', { name: 'Edit sharing' }).click();
    const share = page.getByRole('dialog', { name: 'Share Acme renewal' });
    await share.getByRole('checkbox', { name: 'Rita Rep' }).check();
    await share.getByRole('button', { name: 'Save sharing' }).click();
    await page.getByRole('region', { name: 'Shared with' }).getByText('Rita Rep').waitFor();
    await shot(page, 'record-shares');

    // A lead made for Rita, outside the admin's line: created, and the admin stays on the list she cannot open it from.
    await page.goto('/records/lead');
    await page.getByRole('button', { name: 'New lead' }).first().click();
    const newLead = page.getByRole('dialog', { name: 'New lead' });
    await newLead.getByLabel('Name', { exact: true }).fill('Lead for Rita');
    await newLead.getByLabel('Owner').selectOption({ label: 'Rita Rep' });
    await newLead.getByRole('button', { name: 'Create lead' }).click();
    await page.getByText('Lead for Rita was created for Rita Rep; records are Private, so you cannot open it.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/records/lead');

    const rita = await repContext.newPage();
    await rita.goto('/records/lead');
    await rita.locator('tr[data-record-name="Lead for Rita"]').waitFor();
    await rita.goto('/records/deal');
    await rita.locator('tr[data-record-name="Acme renewal"]').waitFor();
    expect(await rita.locator('tr[data-record-name="Beta pilot"]').count()).toBe(0);
    await rita.locator('tr[data-record-name="Acme renewal"]').getByRole('link').click();
    await rita.getByRole('heading', { name: 'Acme renewal', level: 1 }).waitFor();

    await context.close();
    await repContext.close();
  });
});

/**
 * The conversion rules admin page in real Chromium against a real server:
 * create with inline errors, owner strategies, reorder, enable switch, edit
 * and delete, in light and dark.
 */
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser';
import { shot, signUp, useLiveBrowser } from '../helpers/e2e-session';


/** The rule names in list order. */
async function order(page: Page): Promise<string[]> {
  const names = await page.locator('ol[aria-label="Conversion rules, in order"] > li h3').allTextContents();
  return names.map((n) => n.replace(/\s+(Lead|Contact|Disabled)\b/g, '').trim());
}

function item(page: Page, name: string): Locator {
  return page.locator('ol[aria-label="Conversion rules, in order"] > li').filter({ has: page.getByRole('heading', { name }) });
}

describe.runIf(browserAvailable())('conversion rules admin in Chromium', () => {
  const live = useLiveBrowser();

  it('an admin creates, orders, disables, edits and deletes rules', async () => {
    const context = await live.browser.newContext({ baseURL: live.server.url });
    const page = await context.newPage();
    await signUp(page);

    await page.getByRole('link', { name: 'Conversion rules' }).click();
    await page.getByRole('heading', { name: 'Conversion rules', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'No conversion rules yet' }).waitFor();
    await shot(page, 'conversion-rules-empty');

    // A rule without criteria is refused, and a bad domain is named next to its field.
    await page.getByRole('button', { name: 'New rule' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('Web leads');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.getByText(/at least one criterion/).waitFor();
    // The message is brought into view and focused, though the button was at the bottom.
    await expect.poll(() => dialog.locator('[data-error]').evaluate((el) => el === document.activeElement)).toBe(true);
    await dialog.getByLabel('Sender’s domain').fill('acme.com, not a domain');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.getByText('“not a domain” must be a domain like acme.com.').waitFor();
    expect(await dialog.getByLabel('Sender’s domain').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'conversion-rule-errors');
    await dialog.getByLabel('Sender’s domain').fill('acme.com, beta.io');
    await dialog.getByLabel('Round-robin').check();
    await dialog.getByLabel('Take turns among').selectOption('role:rep');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await item(page, 'Web leads').waitFor();
    expect(await item(page, 'Web leads').textContent()).toContain('Round-robin among active Reps');
    expect(await item(page, 'Web leads').getByTestId('fired').textContent()).toBe('Has not fired yet');

    // By country: DE goes to Ada, everyone else to Ada too (the only person).
    await page.getByRole('button', { name: 'New rule' }).first().click();
    await dialog.getByLabel('Name').fill('Contacts by country');
    await dialog.getByLabel('Create a').selectOption('contact');
    await dialog.getByLabel('Subject contains').fill('hello');
    await dialog.getByLabel('By country').check();
    await dialog.getByLabel('Country code, row 1').fill('zz');
    await dialog.getByLabel('Owner for row 1').selectOption({ label: 'Ada Admin' });
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await dialog.getByText('Must be a two-letter country code like DE.').waitFor();
    await dialog.getByLabel('Country code, row 1').fill('de');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await item(page, 'Contacts by country').waitFor();
    expect(await item(page, 'Contacts by country').textContent()).toContain('By country: DE → Ada Admin; otherwise Ada Admin');
    expect(await order(page)).toEqual(['Web leads', 'Contacts by country']);

    // Reorder with the keyboard-reachable buttons; the order survives a reload.
    await page.getByRole('button', { name: 'Move Contacts by country up' }).click();
    await expect.poll(() => order(page)).toEqual(['Contacts by country', 'Web leads']);
    await page.reload();
    await expect.poll(() => order(page)).toEqual(['Contacts by country', 'Web leads']);

    // The enable switch.
    const toggle = page.getByRole('switch', { name: 'Enabled: Web leads' });
    await toggle.click();
    await item(page, 'Web leads').getByText('Disabled').waitFor();
    expect(await toggle.isChecked()).toBe(false);
    await shot(page, 'conversion-rules');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400);
    await shot(page, 'conversion-rules-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Edit keeps what was there and saves the change.
    await page.getByRole('button', { name: 'Edit Web leads' }).click();
    expect(await dialog.getByLabel('Sender’s domain').inputValue()).toBe('acme.com, beta.io');
    await dialog.getByLabel('Name').fill('Web leads (EU)');
    await dialog.getByRole('button', { name: 'Save rule' }).click();
    await item(page, 'Web leads (EU)').waitFor();

    // Delete asks first.
    await page.getByRole('button', { name: 'Delete Web leads (EU)' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete rule' }).click();
    await expect.poll(() => order(page)).toEqual(['Contacts by country']);
    await context.close();
  });
});

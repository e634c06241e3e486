/**
 * Sign up, invite a second person, accept in a second browser context, and
 * both see each other on the People page, in real Chromium against a real
 * server on file-backed PGlite.
 */
import { describe, expect, it } from 'vitest';
import { browserAvailable } from '../helpers/browser';
import { PASSWORD, shot, signUp, useLiveBrowser } from '../helpers/e2e-session';


describe.runIf(browserAvailable())('people e2e in Chromium', () => {
  const live = useLiveBrowser();

  it('an admin signs up and invites a rep; both see each other on the People page', async () => {
    const adminContext = await live.browser.newContext({ baseURL: live.server.url });
    const admin = await adminContext.newPage();
    await signUp(admin, { beforeSubmit: () => shot(admin, 'signup') });
    await admin.getByRole('heading', { name: 'Inbox' }).waitFor();
    await shot(admin, 'inbox-empty');

    await admin.getByRole('link', { name: 'People' }).click();
    await admin.getByRole('heading', { name: 'People' }).waitFor();
    await admin.getByRole('button', { name: 'Invite person' }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByLabel('Email').fill('rita@acme.test');
    await dialog.getByLabel('Role').selectOption('rep');
    await dialog.getByRole('button', { name: 'Send invite' }).click();
    const inviteUrl = (await admin.getByTestId('invite-url').textContent())?.trim() ?? '';
    expect(inviteUrl).toMatch(new RegExp(`^${live.server.url}/invite/[a-z2-7]{32}$`));
    await shot(admin, 'invite-created');

    const repContext = await live.browser.newContext({ baseURL: live.server.url });
    const rep = await repContext.newPage();
    await rep.goto(inviteUrl);
    await rep.getByText('Acme Sales').first().waitFor();
    await rep.getByLabel('Your name').fill('Rita Rep');
    await rep.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await shot(rep, 'accept-invite');
    await rep.getByRole('button', { name: /Accept invite/ }).click();
    await rep.waitForURL(/\/inbox$/);

    await rep.getByRole('link', { name: 'People' }).click();
    await admin.goto('/people');
    await admin.locator('tr[data-person-email="rita@acme.test"]').waitFor();
    await admin.locator('tr[data-person-email="ada@acme.test"]').waitFor();
    await shot(admin, 'people');
    await admin.emulateMedia({ colorScheme: 'dark' });
    // Let colour transitions finish so the screenshot shows the settled theme.
    await admin.waitForTimeout(400);
    await shot(admin, 'people-dark');
    await admin.emulateMedia({ colorScheme: 'light' });
    // The rep sees the same directory, read-only: no invite button, no role controls.
    await rep.locator('tr[data-person-email="ada@acme.test"]').waitFor();
    await rep.locator('tr[data-person-email="rita@acme.test"]').waitFor();
    await shot(rep, 'people-readonly');
    expect(await rep.getByRole('button', { name: 'Invite person' }).count()).toBe(0);
    expect(await rep.getByRole('combobox').count()).toBe(0);

    await adminContext.close();
    await repContext.close();
  });
});

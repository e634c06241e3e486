/**
 * Records in real Chromium against a real server: create a contact with two
 * addresses, edit it and its addresses, flip "share my emails", see its
 * (empty) Emails list, import a CSV with a bad row and read the report, and
 * delete a record.
 */
import { describe, expect, it } from 'vitest';
import { browserAvailable, startLiveServer } from '../helpers/browser';
import { createPostgresDb } from '../helpers/db';
import { shot, signUp, useLiveBrowser } from '../helpers/e2e-session';
import { insertTestMailbox, insertTestMessage } from '../helpers/mail-rows';
import { prerequisite } from '../helpers/prereq';

const testDatabaseUrl = process.env.TEST_DATABASE_URL;

describe.runIf(browserAvailable())('records e2e in Chromium', () => {
  const live = useLiveBrowser();

  it('creates, edits and imports contacts, and shows the import report', async () => {
    const context = await live.browser.newContext({ baseURL: live.server.url });
    const page = await context.newPage();
    await signUp(page);

    await page.getByRole('link', { name: 'Records' }).click();
    await page.waitForURL(/\/records\/lead$/);
    await page.getByRole('heading', { name: 'No leads yet' }).waitFor();
    await page.getByRole('navigation', { name: 'Record types' }).getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('heading', { name: 'No contacts yet' }).waitFor();
    await shot(page, 'records-empty');

    // Create a contact with two addresses.
    await page.getByRole('button', { name: 'New contact' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New contact' });
    await dialog.getByLabel('Name', { exact: true }).fill('Carla Contact');
    await dialog.getByLabel('Company').fill('Acme GmbH');
    await dialog.getByLabel('Country').selectOption('DE');
    await dialog.getByLabel('Primary email').fill('Carla@Acme.test');
    await dialog.getByLabel('Other emails').fill('carla@home.test');
    await shot(page, 'record-create');
    await dialog.getByRole('button', { name: 'Create contact' }).click();
    await page.waitForURL(/\/records\/contact\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Carla Contact', level: 1 }).waitFor();
    const addresses = page.getByRole('region', { name: 'Email addresses' });
    await addresses.locator('li[data-address="carla@acme.test"]').getByText('Primary').waitFor();
    await addresses.locator('li[data-address="carla@home.test"]').waitFor();
    expect(await page.getByText('Germany').count()).toBe(1);
    // The Emails related list loads (nothing linked yet).
    await page.getByText('No emails about this record that you can see.').waitFor();

    // Edit the fields.
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByRole('dialog', { name: /^Edit / });
    await edit.getByLabel('Name', { exact: true }).fill('Carla Contreras');
    await edit.getByLabel('Country').selectOption('FR');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Carla Contreras', level: 1 }).waitFor();
    await page.getByText('France').waitFor();

    // Edit the addresses: make the home address primary, add a third, refuse a bad one.
    await addresses.getByRole('button', { name: 'Make primary: carla@home.test' }).click();
    await addresses.locator('li[data-address="carla@home.test"]').getByText('Primary').waitFor();
    await addresses.getByLabel('Add an address').fill('c.contreras@acme.test');
    await addresses.getByRole('button', { name: 'Add', exact: true }).click();
    await addresses.locator('li[data-address="c.contreras@acme.test"]').waitFor();
    await addresses.getByLabel('Add an address').fill('not an address');
    await addresses.getByRole('button', { name: 'Add', exact: true }).click();
    await addresses.getByText('must be an email address').waitFor();

    // Share my emails about this record; it survives a reload.
    const flag = page.getByLabel('Share my emails about this record');
    await flag.check();
    await expect.poll(() => flag.isDisabled()).toBe(false);
    await page.reload();
    await expect.poll(() => page.getByLabel('Share my emails about this record').isChecked()).toBe(true);
    await shot(page, 'record-detail');

    // Import a CSV with a bad row.
    await page.getByRole('link', { name: '← Contacts' }).click();
    await page.waitForURL(/\/records\/contact$/);
    await page.locator('tr[data-record-name="Carla Contreras"]').waitFor();
    await page.getByRole('button', { name: 'Import CSV' }).click();
    const importer = page.getByRole('dialog', { name: 'Import contacts' });
    const csv = 'Name,E-mail,Country\r\nDora Dee,dora@import.test,UK\r\nBad Row,not-an-address,\r\nEli Eh,eli@import.test,Canada\r\nCopy Carla,carla@home.test,\r\n';
    await importer.getByLabel('CSV file').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await importer.getByRole('button', { name: 'Import', exact: true }).click();
    const report = importer.getByTestId('import-report');
    await report.getByText('Imported 2 of 4 rows').waitFor();
    await report.locator('tr[data-row="3"][data-code="bad_address"]').waitFor();
    await report.locator('tr[data-row="5"][data-code="duplicate"]').getByText('Carla Contreras').waitFor();
    await shot(page, 'records-import-report');
    await importer.getByRole('button', { name: 'Done' }).click();
    await page.locator('tr[data-record-name="Dora Dee"]').waitFor();
    await page.locator('tr[data-record-name="Eli Eh"]').waitFor();
    await shot(page, 'records-list');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400);
    await shot(page, 'records-list-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // The list is sorted by name; its header flips the direction. Then search.
    const firstRow = () => page.locator('tbody tr').first().getAttribute('data-record-name');
    expect(await firstRow()).toBe('Carla Contreras');
    await page.getByRole('button', { name: 'Name', exact: true }).click();
    await expect.poll(firstRow).toBe('Eli Eh');
    expect(await page.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort')).toBe('descending');
    await page.getByRole('button', { name: 'Name', exact: true }).click();
    await expect.poll(firstRow).toBe('Carla Contreras');
    await page.getByLabel('Search').fill('dora');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);

    // Delete a record.
    await page.locator('tr[data-record-name="Dora Dee"]').getByRole('link').click();
    await page.getByRole('heading', { name: 'Dora Dee', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog', { name: 'Delete Dora Dee?' }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/\/records\/contact$/);
    await page.locator('tr[data-record-name="Eli Eh"]').waitFor();
    expect(await page.locator('tr[data-record-name="Dora Dee"]').count()).toBe(0);
    await context.close();
  });

  // Needs a database the test can write mail into while the server runs, so it runs on Postgres.
  it.runIf(browserAvailable() && prerequisite('Postgres tier', testDatabaseUrl ? null : 'TEST_DATABASE_URL is not set'))(
    'the Emails list shows the visible mail about a record, filters by mailbox and explains why',
    async () => {
      const t = await createPostgresDb(testDatabaseUrl as string, 'shoal_e2e');
      const [{ name }] = (await t.db.query<{ name: string }>('select current_database() as name')) as [{ name: string }];
      const url = new URL(testDatabaseUrl as string);
      url.pathname = `/${name}`;
      const mailServer = await startLiveServer({ DATABASE_URL: url.toString() });
      const context = await live.browser.newContext({ baseURL: mailServer.url });
      try {
        const page = await context.newPage();
        await signUp(page);

        const [ada] = await t.db.query<{ id: string; orgId: string }>(`select id, org_id as "orgId" from users where email = 'ada@acme.test'`);
        if (!ada) {
          throw new Error('the admin was not created');
        }
        const markId = crypto.randomUUID();
        await t.db.query(`insert into users (id, org_id, email, name, password_hash, role) values ($1, $2, 'mark@acme.test', 'Mark Rep', 'x', 'rep')`, [
          markId,
          ada.orgId,
        ]);
        // Mark shares all his mail about records; Ada sees her own.
        await t.db.query(`insert into email_sharing (user_id, org_id, mode) values ($1, $2, 'public')`, [markId, ada.orgId]);
        const adaBox = await insertTestMailbox(t.db, { orgId: ada.orgId, ownerId: ada.id, address: 'ada@acme.test' });
        const markBox = await insertTestMailbox(t.db, { orgId: ada.orgId, ownerId: markId, address: 'mark@acme.test' });
        await insertTestMessage(t.db, { orgId: ada.orgId, accountId: adaBox, from: 'pat@customer.test', to: ['ada@acme.test'], subject: 'Pricing question' });
        await insertTestMessage(t.db, { orgId: ada.orgId, accountId: markBox, from: 'mark@acme.test', to: ['pat@customer.test'], subject: 'Our proposal' });
        await insertTestMessage(t.db, { orgId: ada.orgId, accountId: adaBox, from: 'other@else.test', to: ['ada@acme.test'], subject: 'Unrelated' });

        await page.goto('/records/contact');
        await page.getByRole('button', { name: 'New contact' }).first().click();
        const dialog = page.getByRole('dialog', { name: 'New contact' });
        await dialog.getByLabel('Name', { exact: true }).fill('Pat Customer');
        await dialog.getByLabel('Primary email').fill('pat@customer.test');
        await dialog.getByRole('button', { name: 'Create contact' }).click();
        await page.getByRole('heading', { name: 'Pat Customer', level: 1 }).waitFor();

        const emails = page.getByRole('region', { name: 'Emails', exact: true });
        const subjects = () => emails.locator('li[data-message-id] .subject').allTextContents();
        await expect.poll(async () => (await subjects()).sort()).toEqual(['Our proposal', 'Pricing question']);
        await emails.getByLabel('Mailbox').selectOption({ label: 'Mark Rep' });
        await expect.poll(subjects).toEqual(['Our proposal']);
        await emails.getByRole('button', { name: 'Why can I see this?' }).click();
        await emails.getByText("Mark Rep's mailbox is Public").waitFor();
        await shot(page, 'record-emails-why');
      } finally {
        await context.close();
        await mailServer.stop();
        await t.drop();
      }
    },
  );
});

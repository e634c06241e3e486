/**
 * CSV import of leads and contacts over HTTP on every driver: good rows go
 * in together, bad ones come back in a per-row report (bad address,
 * duplicate in the file or in the database, unknown owner, missing name,
 * bad country), and a file that cannot be a table is refused as a whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReportDto, RecordDto, RecordListDto } from '../../sync/records-api';
import { addPerson, client, createHarness, signUpAdmin, TEST_ORIGIN, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string } };

describe.each(driverCases())('CSV import on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open' });
    api = client(h.app);
  });
  afterAll(async () => {
    await t?.drop();
  });

  const upload = <T>(cookie: string, type: string, csv: string, contentType = 'text/csv') =>
    api.post<T>(`/api/records/import?type=${type}`, undefined, { cookie, rawBody: csv, contentType });

  it('imports the good rows and reports every bad one', async () => {
    const admin = await signUpAdmin(api);
    const rep = await addPerson(api, admin.cookie, 'rep', 'Rita Rep');
    await api.post('/api/records', { type: 'contact', name: 'Existing', primaryEmail: 'taken@db.test' }, { cookie: admin.cookie });
    const csv = [
      'Full Name,E-mail,Secondary Emails,Company,Country,Owner,Phone',
      `Gina Good,gina@ok.test,,Acme,de,${rep.email},123`,
      'Bad Address,not-an-address,,,,,',
      'Twin,GINA@ok.test,,,,,',
      'In Db,fresh@ok.test,taken@db.test,,,,',
      'No Owner,nobody@ok.test,,,,ghost@acme.test,',
      ',noname@ok.test,,,,,',
      'Sam Second,sam@ok.test,"sam@home.test; sam@work.test, sam@ok.test",,germany,rita rep,',
      'Wrong Country,wc@ok.test,,,Atlantis,,',
      '"Doe, Jane",,,"Doe & Sons, Ltd",,,',
    ].join('\r\n');
    const res = await upload<ImportReportDto>(admin.cookie, 'lead', csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'lead', rows: 9, imported: 3, failedRows: 6, ignoredColumns: ['Phone'] });
    expect(res.body.failed.map((f) => [f.row, f.field, f.code])).toEqual([
      [3, 'email', 'bad_address'],
      [4, 'email', 'duplicate'],
      [5, 'secondaryEmails', 'duplicate'],
      [6, 'owner', 'unknown_owner'],
      [7, 'name', 'missing_name'],
      [9, 'country', 'bad_country'],
    ]);
    expect(res.body.failed[1]?.message).toContain('row 2');
    expect(res.body.failed[2]?.message).toContain('Existing');

    const leads = await api.get<RecordListDto>('/api/records?type=lead&sort=name', { cookie: admin.cookie });
    expect(leads.body.records.map((r) => [r.name, r.primaryEmail, r.country, r.owner.name])).toEqual([
      ['Doe, Jane', null, null, 'Ada Admin'],
      ['Gina Good', 'gina@ok.test', 'DE', 'Rita Rep'],
      ['Sam Second', 'sam@ok.test', 'DE', 'Rita Rep'],
    ]);
    const sam = await api.get<RecordDto>(`/api/records/${leads.body.records[2]?.id}`, { cookie: admin.cookie });
    expect(sam.body).toMatchObject({ source: 'import', secondaryEmails: ['sam@home.test', 'sam@work.test'], company: '' });
    const jane = await api.get<RecordDto>(`/api/records/${leads.body.records[0]?.id}`, { cookie: admin.cookie });
    expect(jane.body.company).toBe('Doe & Sons, Ltd');

    // Importing the same file again: everything with an address is now a duplicate.
    const again = await upload<ImportReportDto>(admin.cookie, 'contact', csv);
    expect(again.body.imported).toBe(1);
    const duplicates = again.body.failed.filter((f) => f.code === 'duplicate');
    // Each taken address is reported: Sam's row has three.
    expect(duplicates.map((f) => f.row)).toEqual([2, 4, 5, 8, 8, 8]);
  });

  it('reads semicolons, first and last name columns, and Windows-1252 files', async () => {
    const admin = await signUpAdmin(api);
    const text = 'First name;Last name;Email address;Country\nJürgen;Müller;j@mueller.test;Österreich\nAnna;Ström;anna@x.test;AT\n';
    const bytes = Uint8Array.from([...text].map((ch) => ch.charCodeAt(0)));
    const res = await h.app.request('/api/records/import?type=contact', {
      method: 'POST',
      headers: { origin: TEST_ORIGIN, cookie: admin.cookie, 'content-type': 'text/csv' },
      body: bytes,
    });
    const report = (await res.json()) as ImportReportDto;
    expect(report).toMatchObject({ imported: 1, failedRows: 1 });
    expect(report.failed[0]).toMatchObject({ row: 2, field: 'country', code: 'bad_country' });
    expect(report.failed[0]?.message).toContain('Österreich');
    const list = await api.get<RecordListDto>('/api/records?type=contact', { cookie: admin.cookie });
    expect(list.body.records.map((r) => r.name)).toEqual(['Anna Ström']);
  });

  it('takes files over the 1 MB API limit up to its own 5 MB cap', async () => {
    const admin = await signUpAdmin(api);
    const notes = 'n'.repeat(120);
    const rows = Array.from({ length: 9000 }, (_, i) => `Person ${i},p${i}@bulk.test,${notes}`);
    const csv = ['Name,Email,Notes', ...rows].join('\n');
    expect(csv.length).toBeGreaterThan(1024 * 1024);
    const res = await upload<ImportReportDto>(admin.cookie, 'lead', csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 9000, failedRows: 0 });
    expect((await api.get<RecordListDto>('/api/records?limit=1', { cookie: admin.cookie })).body.total).toBe(9000);

    const huge = `Name,Email\n${'x'.repeat(5 * 1024 * 1024)}\n`;
    const tooBig = await upload<ErrorBody>(admin.cookie, 'lead', huge);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
  });

  it('refuses what is not a usable CSV, naming the problem', async () => {
    const admin = await signUpAdmin(api);
    const cookie = admin.cookie;
    const noName = await upload<ErrorBody>(cookie, 'lead', 'Email,Company\na@b.test,Acme\n');
    expect(noName.status).toBe(400);
    expect(noName.body.error.code).toBe('invalid_csv');
    expect(noName.body.error.message).toContain('name column');
    const open = await upload<ErrorBody>(cookie, 'lead', 'Name,Email\n"Unclosed,a@b.test\n');
    expect(open.body.error).toMatchObject({ code: 'invalid_csv' });
    expect(open.body.error.message).toContain('Row 2');
    expect((await upload<ErrorBody>(cookie, 'lead', '\uFEFF\r\n')).body.error.code).toBe('invalid_csv');
    const wrongType = await upload<ErrorBody>(cookie, 'account', 'Name\nA\n');
    expect(wrongType.body.error).toMatchObject({ code: 'validation_failed', field: 'type' });
    const json = await upload<ErrorBody>(cookie, 'lead', '{"name":"x"}', 'application/json');
    expect(json.status).toBe(415);
    expect((await upload(null as unknown as string, 'lead', 'Name\nA\n')).status).toBe(401);
  });
});

/**
 * CRM records over HTTP on every driver: create, read, edit, delete, the
 * validation of every field (which field, and why), one address per
 * lead/contact (409 address_taken, also when two creates race), links
 * between deals, contacts and accounts, and the list's filters and order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordDto, RecordListDto } from '../../sync/records-api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string; details?: Record<string, string> } };

describe.each(driverCases())('records over HTTP on $name', ({ create }) => {
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

  it('creates a contact with normalized addresses and country, reads, edits and deletes it', async () => {
    const admin = await signUpAdmin(api);
    const created = await api.post<RecordDto>(
      '/api/records',
      {
        type: 'contact',
        name: '  Carla Contact ',
        company: 'Acme',
        country: 'germany',
        primaryEmail: ' Carla@Acme.TEST ',
        secondaryEmails: ['carla@home.test', 'CARLA@acme.test', 'carla@home.test'],
      },
      { cookie: admin.cookie },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      type: 'contact',
      name: 'Carla Contact',
      country: 'DE',
      primaryEmail: 'carla@acme.test',
      secondaryEmails: ['carla@home.test'],
      owner: { id: admin.userId, name: 'Ada Admin' },
      stage: null,
      canDelete: true,
      myShareFlag: false,
      source: 'manual',
    });
    const id = created.body.id;

    const edited = await api.patch<RecordDto>(
      `/api/records/${id}`,
      { name: 'Carla C.', country: 'fr', primaryEmail: 'carla@home.test', secondaryEmails: ['carla@acme.test'] },
      { cookie: admin.cookie },
    );
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ name: 'Carla C.', country: 'FR', primaryEmail: 'carla@home.test', secondaryEmails: ['carla@acme.test'] });

    const cleared = await api.patch<RecordDto>(`/api/records/${id}`, { primaryEmail: null, country: '' }, { cookie: admin.cookie });
    // Without a primary, the first secondary takes its place.
    expect(cleared.body).toMatchObject({ primaryEmail: 'carla@acme.test', secondaryEmails: [], country: null });

    expect((await api.delete(`/api/records/${id}`, { cookie: admin.cookie })).status).toBe(204);
    expect((await api.get(`/api/records/${id}`, { cookie: admin.cookie })).status).toBe(404);
    // The address is free again.
    const again = await api.post('/api/records', { type: 'lead', name: 'Carla', primaryEmail: 'carla@acme.test' }, { cookie: admin.cookie });
    expect(again.status).toBe(201);
  });

  it('names the field and the reason for every bad input', async () => {
    const admin = await signUpAdmin(api);
    const cases: [unknown, string][] = [
      [{ type: 'lead' }, 'name'],
      [{ type: 'lead', name: '   ' }, 'name'],
      [{ type: 'lead', name: 'x'.repeat(201) }, 'name'],
      [{ type: 'person', name: 'X' }, 'type'],
      [{ type: 'lead', name: 'X', company: 'c'.repeat(201) }, 'company'],
      [{ type: 'lead', name: 'X', country: 'Atlantis' }, 'country'],
      [{ type: 'lead', name: 'X', primaryEmail: 'not-an-address' }, 'primaryEmail'],
      [{ type: 'lead', name: 'X', secondaryEmails: ['a@b.test', 'b@c.test', 'nope@'] }, 'secondaryEmails.2'],
      [{ type: 'lead', name: 'X', ownerId: 'abc' }, 'ownerId'],
      [{ type: 'lead', name: 'X', ownerId: crypto.randomUUID() }, 'ownerId'],
      [{ type: 'lead', name: 'X', stage: 'won' }, 'stage'],
      [{ type: 'deal', name: 'X', stage: 'maybe' }, 'stage'],
      [{ type: 'lead', name: 'X', accountId: crypto.randomUUID() }, 'accountId'],
      [{ type: 'contact', name: 'X', accountId: crypto.randomUUID() }, 'accountId'],
      [{ type: 'contact', name: 'X', contactIds: [] }, 'contactIds'],
      [{ type: 'deal', name: 'X', contactIds: [crypto.randomUUID()] }, 'contactIds.0'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post<ErrorBody>('/api/records', body, { cookie: admin.cookie });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ code: 'validation_failed', field });
      expect(res.body.error.message.length).toBeGreaterThan(field.length + 2);
    }
    const notJson = await api.post<ErrorBody>('/api/records', undefined, { cookie: admin.cookie, rawBody: '{', contentType: 'application/json' });
    expect(notJson.body.error.code).toBe('invalid_json');
    const rec = await api.post<RecordDto>('/api/records', { type: 'lead', name: 'X' }, { cookie: admin.cookie });
    const empty = await api.patch<ErrorBody>(`/api/records/${rec.body.id}`, {}, { cookie: admin.cookie });
    expect(empty.status).toBe(400);
    expect((await api.get<ErrorBody>('/api/records/nope', { cookie: admin.cookie })).body.error.field).toBe('id');
    expect((await api.get<ErrorBody>('/api/records?sort=size', { cookie: admin.cookie })).body.error.field).toBe('sort');
    expect((await api.get<ErrorBody>('/api/records?limit=0', { cookie: admin.cookie })).body.error.field).toBe('limit');
    expect((await api.get('/api/records')).status).toBe(401);
  });

  it('refuses an address another lead or contact has, naming the field and the record', async () => {
    const admin = await signUpAdmin(api);
    const first = await api.post<RecordDto>('/api/records', { type: 'lead', name: 'Lena Lead', primaryEmail: 'lena@x.test' }, { cookie: admin.cookie });
    const taken = await api.post<ErrorBody>(
      '/api/records',
      { type: 'contact', name: 'Other', primaryEmail: 'fresh@x.test', secondaryEmails: ['ok@x.test', 'x@x.test', 'LENA@x.test'] },
      { cookie: admin.cookie },
    );
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({
      code: 'address_taken',
      field: 'secondaryEmails.2',
      details: { recordId: first.body.id, recordType: 'lead', recordName: 'Lena Lead' },
    });
    expect(taken.body.error.message).toContain('Lena Lead');
    // Nothing of the refused record was kept.
    expect((await api.post('/api/records', { type: 'lead', name: 'Y', primaryEmail: 'fresh@x.test' }, { cookie: admin.cookie })).status).toBe(201);
    // Editing another contact to take it is refused the same way.
    const other = await api.post<RecordDto>('/api/records', { type: 'contact', name: 'Z' }, { cookie: admin.cookie });
    const patch = await api.patch<ErrorBody>(`/api/records/${other.body.id}`, { primaryEmail: 'lena@x.test' }, { cookie: admin.cookie });
    expect(patch.body.error).toMatchObject({ code: 'address_taken', field: 'primaryEmail' });
    // Accounts and deals may share an address with a contact.
    const account = await api.post('/api/records', { type: 'account', name: 'Acme', primaryEmail: 'lena@x.test' }, { cookie: admin.cookie });
    expect(account.status).toBe(201);
    // A record keeps its own addresses when edited.
    const same = await api.patch(`/api/records/${first.body.id}`, { name: 'Lena L.', secondaryEmails: ['lena2@x.test'] }, { cookie: admin.cookie });
    expect(same.status).toBe(200);
  });

  it('two creates of the same address at once: one 201, one 409', async () => {
    const admin = await signUpAdmin(api);
    for (let round = 0; round < 3; round += 1) {
      const address = `race${round}@race.test`;
      const results = await Promise.all(
        ['lead', 'contact'].map((type) => api.post<ErrorBody>('/api/records', { type, name: `Racer ${type}`, primaryEmail: address }, { cookie: admin.cookie })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const loser = results.find((r) => r.status === 409);
      expect(loser?.body.error).toMatchObject({ code: 'address_taken', field: 'primaryEmail' });
    }
  });

  it('links contacts and deals to an account and deals to contacts', async () => {
    const admin = await signUpAdmin(api);
    const cookie = admin.cookie;
    const account = await api.post<RecordDto>('/api/records', { type: 'account', name: 'Acme Corp' }, { cookie });
    const contact = await api.post<RecordDto>('/api/records', { type: 'contact', name: 'Cleo', accountId: account.body.id }, { cookie });
    const deal = await api.post<RecordDto>(
      '/api/records',
      { type: 'deal', name: 'Big deal', accountId: account.body.id, contactIds: [contact.body.id, contact.body.id] },
      { cookie },
    );
    expect(deal.status).toBe(201);
    expect(deal.body).toMatchObject({ stage: 'open', account: { id: account.body.id, name: 'Acme Corp' } });
    expect(deal.body.contacts.map((c) => c.id)).toEqual([contact.body.id]);
    const acct = await api.get<RecordDto>(`/api/records/${account.body.id}`, { cookie });
    expect(acct.body.contacts.map((c) => c.name)).toEqual(['Cleo']);
    expect(acct.body.deals.map((d) => d.name)).toEqual(['Big deal']);
    const cont = await api.get<RecordDto>(`/api/records/${contact.body.id}`, { cookie });
    expect(cont.body.deals.map((d) => d.name)).toEqual(['Big deal']);
    const won = await api.patch<RecordDto>(`/api/records/${deal.body.id}`, { stage: 'won', contactIds: [] }, { cookie });
    expect(won.body).toMatchObject({ stage: 'won', contacts: [] });
    // An account that is not an account is refused.
    const bad = await api.post<ErrorBody>('/api/records', { type: 'deal', name: 'D', accountId: contact.body.id }, { cookie });
    expect(bad.body.error.field).toBe('accountId');
    // Deleting the account unlinks the contact.
    await api.delete(`/api/records/${account.body.id}`, { cookie });
    expect((await api.get<RecordDto>(`/api/records/${contact.body.id}`, { cookie })).body.account).toBeNull();
  });

  it('lists with filters, search, sorting and stable pages', async () => {
    const admin = await signUpAdmin(api);
    const rep = await addPerson(api, admin.cookie, 'rep', 'Zed Rep');
    const cookie = admin.cookie;
    const names = ['delta', 'Alpha', 'charlie', 'Bravo', 'echo'];
    for (const [i, name] of names.entries()) {
      await api.post(
        '/api/records',
        {
          type: 'lead',
          name,
          company: `Co ${5 - i}`,
          country: i % 2 === 0 ? 'DE' : null,
          primaryEmail: `${name.toLowerCase()}@list.test`,
          ownerId: i === 4 ? rep.userId : admin.userId,
        },
        { cookie },
      );
      h.clock.advance(1000);
    }
    await api.post('/api/records', { type: 'contact', name: 'Not a lead' }, { cookie });
    const list = (query: string) => api.get<RecordListDto>(`/api/records?type=lead&${query}`, { cookie });
    expect((await list('sort=name')).body.records.map((r) => r.name)).toEqual(['Alpha', 'Bravo', 'charlie', 'delta', 'echo']);
    expect((await list('sort=name&dir=desc')).body.records.map((r) => r.name)).toEqual(['echo', 'delta', 'charlie', 'Bravo', 'Alpha']);
    expect((await list('sort=company')).body.records.map((r) => r.company)).toEqual(['Co 1', 'Co 2', 'Co 3', 'Co 4', 'Co 5']);
    // Records without a country sort last either way.
    expect((await list('sort=country&dir=desc')).body.records.map((r) => r.country)).toEqual(['DE', 'DE', 'DE', null, null]);
    expect((await list('sort=owner')).body.records.at(-1)?.owner.name).toBe('Zed Rep');
    expect((await list(`owner=${rep.userId}`)).body.records.map((r) => r.name)).toEqual(['echo']);
    expect((await list('country=germany')).body.total).toBe(3);
    expect((await list('q=BRAV')).body.records.map((r) => r.name)).toEqual(['Bravo']);
    expect((await list('q=charlie%40list')).body.records.map((r) => r.name)).toEqual(['charlie']);
    expect((await list('q=co%205')).body.records.map((r) => r.name)).toEqual(['delta']);
    expect((await list('q=%25')).body.total).toBe(0);
    const first = await list('sort=name&limit=2');
    expect(first.body).toMatchObject({ total: 5, nextCursor: '2' });
    const second = await list('sort=name&limit=2&cursor=2');
    const third = await list('sort=name&limit=2&cursor=4');
    expect([...first.body.records, ...second.body.records, ...third.body.records].map((r) => r.name)).toEqual([
      'Alpha',
      'Bravo',
      'charlie',
      'delta',
      'echo',
    ]);
    expect(third.body.nextCursor).toBeNull();
    expect((await api.get<RecordListDto>('/api/records', { cookie })).body.total).toBe(6);
  });

  it('filters deals by stage and sorts by when records were made or changed', async () => {
    const admin = await signUpAdmin(api);
    const cookie = admin.cookie;
    const ids: Record<string, string> = {};
    for (const [name, stage] of [['Renewal', 'open'], ['Upsell', 'won'], ['Pilot', 'lost'], ['Expansion', 'open']] as const) {
      ids[name] = (await api.post<RecordDto>('/api/records', { type: 'deal', name, stage }, { cookie })).body.id;
      h.clock.advance(1000);
    }
    await api.patch(`/api/records/${ids.Upsell}`, { stage: 'open' }, { cookie });
    const deals = async (query: string) => (await api.get<RecordListDto>(`/api/records?type=deal&${query}`, { cookie })).body.records.map((r) => r.name);
    expect(await deals('stage=open&sort=name')).toEqual(['Expansion', 'Renewal', 'Upsell']);
    expect(await deals('stage=lost')).toEqual(['Pilot']);
    expect(await deals('stage=won')).toEqual([]);
    expect(await deals('sort=created')).toEqual(['Renewal', 'Upsell', 'Pilot', 'Expansion']);
    expect(await deals('sort=created&dir=desc')).toEqual(['Expansion', 'Pilot', 'Upsell', 'Renewal']);
    expect((await deals('sort=updated&dir=desc'))[0]).toBe('Upsell');
    const bad = await api.get<ErrorBody>('/api/records?type=deal&stage=maybe', { cookie });
    expect([bad.status, bad.body.error.field]).toEqual([400, 'stage']);
  });
});

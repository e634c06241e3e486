/**
 * The conversion rules admin API on every driver: CRUD, order, enable and
 * disable, and validation errors that name the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversionRuleDto, ConversionRuleListDto } from '../../sync/conversion-api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { seedMailbox } from '../helpers/conversion-mail';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string } };
type Reply = ConversionRuleDto & ErrorBody;

const PATH = '/api/admin/conversion-rules';

describe.each(driverCases())('conversion rules admin on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let admin: { cookie: string; userId: string; orgId: string };
  let rep: { cookie: string; userId: string };

  const rule = (overrides: Record<string, unknown> = {}) => ({
    name: 'Web leads',
    recordType: 'lead',
    criteria: { senderDomains: ['acme.com'] },
    ownerStrategy: { kind: 'person', userId: rep.userId },
    ...overrides,
  });
  const post = (body: unknown, cookie = admin.cookie) => api.post<Reply>(PATH, body, { cookie });
  const list = async () => (await api.get<ConversionRuleListDto>(PATH, { cookie: admin.cookie })).body.rules;

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open' });
    api = client(h.app);
    admin = await signUpAdmin(api);
    rep = await addPerson(api, admin.cookie, 'rep', 'Rita');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('admins only', async () => {
    expect((await api.get(PATH)).status).toBe(401);
    expect((await api.get(PATH, { cookie: rep.cookie })).status).toBe(403);
    expect((await post(rule(), rep.cookie)).status).toBe(403);
  });

  it('creates rules at the end of the order, normalized, with no firings yet', async () => {
    const first = await post(
      rule({ criteria: { senderDomains: ['@Acme.COM', 'beta.io.'], subjectContains: ['  Pricing '], bodyContains: [], accountIds: [] } }),
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      name: 'Web leads',
      enabled: true,
      recordType: 'lead',
      criteria: { senderDomains: ['acme.com', 'beta.io'], subjectContains: ['Pricing'] },
      ownerStrategy: { kind: 'person', userId: rep.userId },
      firedCount: 0,
      lastFiredAt: null,
    });
    expect(Object.keys(first.body.criteria).sort()).toEqual(['senderDomains', 'subjectContains']);
    const second = await post(
      rule({ name: 'Contacts by country', recordType: 'contact', enabled: false, ownerStrategy: { kind: 'country', routes: [{ country: 'de', target: { kind: 'role', role: 'manager' } }], fallbackUserId: admin.userId } }),
    );
    expect(second.status).toBe(201);
    expect(second.body.ownerStrategy).toEqual({ kind: 'country', routes: [{ country: 'DE', target: { kind: 'role', role: 'manager' } }], fallbackUserId: admin.userId });
    expect(second.body.position).toBeGreaterThan(first.body.position);
    expect((await list()).map((r) => r.id)).toEqual([first.body.id, second.body.id]);
  });

  it('names the bad field of every invalid rule', async () => {
    const other = client(h.app);
    const stranger = await signUpAdmin(other);
    const strangerBox = await seedMailbox(t.db, h.deps.keyring, stranger.orgId, stranger.userId, 'stranger@other.test');
    const group = await api.post<{ id: string }>('/api/groups', { name: 'EMEA' }, { cookie: admin.cookie });
    const cases: [unknown, string][] = [
      [rule({ criteria: {} }), 'criteria'],
      [rule({ criteria: { senderDomains: [], subjectContains: [] } }), 'criteria'],
      [rule({ criteria: { senderDomains: ['acme.com', 'not a domain'] } }), 'criteria.senderDomains.1'],
      [rule({ criteria: { subjectContains: ['  '] } }), 'criteria.subjectContains.0'],
      [rule({ criteria: { recipientAddresses: ['sales@acme.com', 'nope'] } }), 'criteria.recipientAddresses.1'],
      [rule({ criteria: { accountIds: [strangerBox.accountId] } }), 'criteria.accountIds.0'],
      [rule({ criteria: { colour: ['red'] } }), 'criteria'],
      [rule({ recordType: 'deal' }), 'recordType'],
      [rule({ name: '' }), 'name'],
      [rule({ ownerStrategy: { kind: 'person', userId: crypto.randomUUID() } }), 'ownerStrategy.userId'],
      [rule({ ownerStrategy: { kind: 'person', userId: stranger.userId } }), 'ownerStrategy.userId'],
      [rule({ ownerStrategy: { kind: 'person', userId: 'x' } }), 'ownerStrategy.userId'],
      [rule({ ownerStrategy: { kind: 'lottery' } }), 'ownerStrategy.kind'],
      [rule({ ownerStrategy: { kind: 'round_robin', pool: { kind: 'group', groupId: crypto.randomUUID() } } }), 'ownerStrategy.pool.groupId'],
      [rule({ ownerStrategy: { kind: 'round_robin', pool: { kind: 'role', role: 'boss' } } }), 'ownerStrategy.pool.role'],
      [
        rule({ ownerStrategy: { kind: 'country', routes: [{ country: 'XX', target: { kind: 'role', role: 'rep' } }], fallbackUserId: rep.userId } }),
        'ownerStrategy.routes.0.country',
      ],
      [
        rule({
          ownerStrategy: {
            kind: 'country',
            routes: [
              { country: 'DE', target: { kind: 'role', role: 'rep' } },
              { country: 'de', target: { kind: 'person', userId: rep.userId } },
            ],
            fallbackUserId: rep.userId,
          },
        }),
        'ownerStrategy.routes.1.country',
      ],
      [
        rule({ ownerStrategy: { kind: 'country', routes: [{ country: 'FR', target: { kind: 'person', userId: stranger.userId } }], fallbackUserId: rep.userId } }),
        'ownerStrategy.routes.0.target.userId',
      ],
      [rule({ ownerStrategy: { kind: 'country', routes: [], fallbackUserId: crypto.randomUUID() } }), 'ownerStrategy.fallbackUserId'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field, JSON.stringify(res.body)).toBe(field);
    }
    const ok = await post(rule({ ownerStrategy: { kind: 'round_robin', pool: { kind: 'group', groupId: group.body.id } } }));
    expect(ok.status).toBe(201);
  });

  it('updates, enables and disables a rule, and answers 404 for another organization', async () => {
    const created = await post(rule({ name: 'To edit' }));
    const disabled = await api.patch<Reply>(`${PATH}/${created.body.id}`, { enabled: false }, { cookie: admin.cookie });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, name: 'To edit', criteria: { senderDomains: ['acme.com'] } });
    const edited = await api.patch<Reply>(
      `${PATH}/${created.body.id}`,
      { enabled: true, recordType: 'contact', criteria: { bodyContains: ['demo'] }, ownerStrategy: { kind: 'round_robin', pool: { kind: 'role', role: 'rep' } } },
      { cookie: admin.cookie },
    );
    expect(edited.body).toMatchObject({
      enabled: true,
      recordType: 'contact',
      criteria: { bodyContains: ['demo'] },
      ownerStrategy: { kind: 'round_robin', pool: { kind: 'role', role: 'rep' } },
    });
    expect(edited.body.criteria.senderDomains).toBeUndefined();
    const empty = await api.patch<Reply>(`${PATH}/${created.body.id}`, {}, { cookie: admin.cookie });
    expect(empty.status).toBe(400);
    const noCriteria = await api.patch<Reply>(`${PATH}/${created.body.id}`, { criteria: {} }, { cookie: admin.cookie });
    expect(noCriteria.body.error.field).toBe('criteria');

    const other = client(h.app);
    const stranger = await signUpAdmin(other);
    expect((await other.patch(`${PATH}/${created.body.id}`, { enabled: false }, { cookie: stranger.cookie })).status).toBe(404);
    expect((await other.delete(`${PATH}/${created.body.id}`, { cookie: stranger.cookie })).status).toBe(404);
    expect((await api.patch(`${PATH}/${crypto.randomUUID()}`, { enabled: false }, { cookie: admin.cookie })).status).toBe(404);
  });

  it('reorders with the full list of ids only', async () => {
    const ids = (await list()).map((r) => r.id);
    const reversed = [...ids].reverse();
    const res = await api.put<ConversionRuleListDto & ErrorBody>(`${PATH}/order`, { ids: reversed }, { cookie: admin.cookie });
    expect(res.status).toBe(200);
    expect(res.body.rules.map((r) => r.id)).toEqual(reversed);
    expect(res.body.rules.map((r) => r.position)).toEqual(reversed.map((_, i) => i));
    expect((await list()).map((r) => r.id)).toEqual(reversed);

    for (const bad of [reversed.slice(1), [...reversed, reversed[0]], [...reversed.slice(1), crypto.randomUUID()]]) {
      const refused = await api.put<ErrorBody>(`${PATH}/order`, { ids: bad }, { cookie: admin.cookie });
      expect(refused.status).toBe(400);
      expect(refused.body.error.field).toBe('ids');
    }
    const notIds = await api.put<ErrorBody>(`${PATH}/order`, { ids: ['x'] }, { cookie: admin.cookie });
    expect(notIds.body.error.field).toBe('ids.0');
    expect((await api.put(`${PATH}/order`, { ids: reversed }, { cookie: rep.cookie })).status).toBe(403);
  });

  it('deletes a rule', async () => {
    const created = await post(rule({ name: 'Short-lived' }));
    expect((await api.delete(`${PATH}/${created.body.id}`, { cookie: admin.cookie })).status).toBe(204);
    expect((await api.delete(`${PATH}/${created.body.id}`, { cookie: admin.cookie })).status).toBe(404);
    expect((await list()).map((r) => r.id)).not.toContain(created.body.id);
  });
});

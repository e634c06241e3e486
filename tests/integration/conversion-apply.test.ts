/**
 * Conversion rules applied to stored batches on every driver: each
 * criterion, each owner strategy, order, disabled rules, fired counts, and
 * never a duplicate (same sender twice, a batch applied twice or at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../db';
import { applyConversionRules } from '../../server/conversion/apply-rules';
import type { ConversionRuleDto } from '../../sync/conversion-api';
import { recordIdFor } from '../../sync/uuidv5';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { deliver, seedMailbox, type TestMail, type TestMailbox } from '../helpers/conversion-mail';
import { driverCases, type TestDb } from '../helpers/db';

describe.each(driverCases())('conversion rules on arriving mail on $name', ({ name: driver, create }) => {
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

  /** A fresh organization: an admin with a mailbox, plus people added as asked. */
  async function org() {
    const admin = await signUpAdmin(api);
    const box = await seedMailbox(t.db, h.deps.keyring, admin.orgId, admin.userId, `inbox.${admin.userId.slice(0, 8)}@shoal-sales.test`);
    const person = async (role: 'rep' | 'manager' | 'admin', name: string) => (await addPerson(api, admin.cookie, role, name)).userId;
    const rule = async (body: Record<string, unknown>) => {
      const res = await api.post<ConversionRuleDto>(
        '/api/admin/conversion-rules',
        { name: 'Rule', recordType: 'lead', ownerStrategy: { kind: 'person', userId: admin.userId }, ...body },
        { cookie: admin.cookie },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    };
    /** Delivers one batch to `target` and applies the rules to it, as the ingest hook does. */
    const arrive = async (mails: (Omit<TestMail, 'to'> & { to?: string[] })[], target: TestMailbox = box, db: Db = t.db) => {
      const fetched = await deliver(t.db, h.deps.keyring, target, mails.map((m) => ({ to: [target.email], ...m })));
      const batch = { accountId: target.accountId, folderId: target.folder.id, uidvalidity: target.uidvalidity, uids: fetched.map((f) => f.uid) };
      const firings = await applyConversionRules(db, batch);
      return { batch, firings };
    };
    const recordOf = async (address: string) => {
      const [row] = await t.db.query<{ id: string; type: string; ownerId: string; name: string; company: string; country: string | null; source: string }>(
        `select r.id, r.type, r.owner_id as "ownerId", r.name, r.company, r.country, r.source
         from record_emails e join records r on r.id = e.record_id where e.org_id = $1 and e.address = $2`,
        [admin.orgId, address],
      );
      return row ?? null;
    };
    const ruleRow = async (id: string) => {
      const rules = (await api.get<{ rules: ConversionRuleDto[] }>('/api/admin/conversion-rules', { cookie: admin.cookie })).body.rules;
      return rules.find((r) => r.id === id) as ConversionRuleDto;
    };
    return { admin, box, person, rule, arrive, recordOf, ruleRow };
  }

  it('creates a lead with the deterministic id from a matching sender, and counts the firing', async () => {
    const o = await org();
    const rule = await o.rule({ criteria: { senderDomains: ['vertex.de'] } });
    const { firings } = await o.arrive([{ from: 'lena.fischer@vertex.de', fromName: 'Lena Fischer' }]);
    expect(firings).toHaveLength(1);
    expect(await o.recordOf('lena.fischer@vertex.de')).toMatchObject({
      id: recordIdFor(o.admin.orgId, 'lena.fischer@vertex.de'),
      type: 'lead',
      ownerId: o.admin.userId,
      name: 'Lena Fischer',
      company: 'Vertex',
      country: 'DE',
      source: 'rule',
    });
    const after = await o.ruleRow(rule.id);
    expect(after.firedCount).toBe(1);
    expect(after.lastFiredAt).not.toBeNull();
  });

  it('matches each criterion, and all of them together', async () => {
    const o = await org();
    const other = await seedMailbox(t.db, h.deps.keyring, o.admin.orgId, o.admin.userId, `second.${o.admin.userId.slice(0, 8)}@shoal-sales.test`);
    const cases: { criteria: Record<string, string[]>; yes: TestMail & { box?: TestMailbox }; no: TestMail & { box?: TestMailbox } }[] = [
      { criteria: { senderDomains: ['acme.com'] }, yes: { from: 'a@eu.acme.com', to: [] }, no: { from: 'a@notacme.com', to: [] } },
      { criteria: { subjectContains: ['pricing'] }, yes: { from: 'b@x1.test', subject: 'Your PRICING question', to: [] }, no: { from: 'b@x2.test', subject: 'Lunch', to: [] } },
      { criteria: { bodyContains: ['Request a Demo'] }, yes: { from: 'c@x1.test', body: 'I would like to request a demo.', to: [] }, no: { from: 'c@x2.test', body: 'Thanks', to: [] } },
      {
        criteria: { recipientAddresses: ['sales@shoal-sales.test'] },
        yes: { from: 'd@x1.test', to: [], cc: ['sales@shoal-sales.test'] },
        no: { from: 'd@x2.test', to: ['support@shoal-sales.test'] },
      },
      { criteria: { accountIds: [other.accountId] }, yes: { from: 'e@x1.test', to: [], box: other }, no: { from: 'e@x2.test', to: [] } },
      {
        criteria: { senderDomains: ['acme.com'], subjectContains: ['pricing', 'quote'] },
        yes: { from: 'f@acme.com', subject: 'Quote please', to: [] },
        no: { from: 'f@acme.com.evil.test', subject: 'Quote please', to: [] },
      },
    ];
    for (const c of cases) {
      const rule = await o.rule({ criteria: c.criteria });
      for (const mail of [c.yes, c.no]) {
        const { box, ...m } = mail;
        const target = box ?? o.box;
        await o.arrive([{ ...m, to: m.to.length > 0 ? m.to : [target.email] }], target);
      }
      expect(await o.recordOf(c.yes.from), JSON.stringify(c.criteria)).not.toBeNull();
      expect(await o.recordOf(c.no.from), JSON.stringify(c.criteria)).toBeNull();
      await api.patch(`/api/admin/conversion-rules/${rule.id}`, { enabled: false }, { cookie: o.admin.cookie });
    }
  });

  it('takes the first enabled matching rule in order, and follows a reorder', async () => {
    const o = await org();
    const rep = await o.person('rep', 'Rosa');
    const disabled = await o.rule({ name: 'Off', enabled: false, criteria: { senderDomains: ['shop.test'] } });
    const leads = await o.rule({ name: 'Leads', criteria: { senderDomains: ['shop.test'] } });
    const contacts = await o.rule({ name: 'Contacts', recordType: 'contact', criteria: { subjectContains: ['order'] }, ownerStrategy: { kind: 'person', userId: rep } });
    await o.arrive([{ from: 'one@shop.test', subject: 'New order' }]);
    expect(await o.recordOf('one@shop.test')).toMatchObject({ type: 'lead', ownerId: o.admin.userId });

    await api.put('/api/admin/conversion-rules/order', { ids: [contacts.id, leads.id, disabled.id] }, { cookie: o.admin.cookie });
    await o.arrive([{ from: 'two@shop.test', subject: 'New order' }, { from: 'three@shop.test', subject: 'Hello' }]);
    expect(await o.recordOf('two@shop.test')).toMatchObject({ type: 'contact', ownerId: rep });
    expect(await o.recordOf('three@shop.test')).toMatchObject({ type: 'lead' });
    expect((await o.ruleRow(disabled.id)).firedCount).toBe(0);
    expect((await o.ruleRow(leads.id)).firedCount).toBe(2);
    expect((await o.ruleRow(contacts.id)).firedCount).toBe(1);
  });

  it('round-robin cycles through a role in order and skips inactive people', async () => {
    const o = await org();
    const reps = [await o.person('rep', 'R1'), await o.person('rep', 'R2'), await o.person('rep', 'R3')];
    await o.rule({ criteria: { senderDomains: ['rr.test'] }, ownerStrategy: { kind: 'round_robin', pool: { kind: 'role', role: 'rep' } } });
    const senders = ['s1', 's2', 's3', 's4'].map((s) => `${s}@rr.test`);
    await o.arrive(senders.map((from) => ({ from })));
    expect(await Promise.all(senders.map(async (s) => (await o.recordOf(s))?.ownerId))).toEqual([reps[0], reps[1], reps[2], reps[0]]);

    expect((await api.post(`/api/people/${reps[1]}/deactivate`, undefined, { cookie: o.admin.cookie })).status).toBe(200);
    const rule2 = await o.rule({ criteria: { senderDomains: ['rr2.test'] }, ownerStrategy: { kind: 'round_robin', pool: { kind: 'role', role: 'rep' } } });
    const more = ['t1', 't2', 't3', 't4'].map((s) => `${s}@rr2.test`);
    await o.arrive(more.map((from) => ({ from })));
    expect(await Promise.all(more.map(async (s) => (await o.recordOf(s))?.ownerId))).toEqual([reps[0], reps[2], reps[0], reps[2]]);
    expect((await o.ruleRow(rule2.id)).firedCount).toBe(4);
  });

  it('round-robin among a group, and a rule whose pool is empty lets the next rule fire', async () => {
    const o = await org();
    const [m1, m2, m3] = [await o.person('manager', 'M1'), await o.person('rep', 'G2'), await o.person('rep', 'G3')];
    const group = await api.post<{ id: string }>('/api/groups', { name: 'Inbound' }, { cookie: o.admin.cookie });
    await api.put(`/api/groups/${group.body.id}/members`, { userIds: [m1, m2, m3] }, { cookie: o.admin.cookie });
    await api.post(`/api/people/${m2}/deactivate`, undefined, { cookie: o.admin.cookie });
    const empty = await api.post<{ id: string }>('/api/groups', { name: 'Nobody' }, { cookie: o.admin.cookie });
    const none = await o.rule({ criteria: { senderDomains: ['grp.test'] }, ownerStrategy: { kind: 'round_robin', pool: { kind: 'group', groupId: empty.body.id } } });
    await o.rule({ criteria: { senderDomains: ['grp.test'] }, ownerStrategy: { kind: 'round_robin', pool: { kind: 'group', groupId: group.body.id } } });
    const senders = ['a', 'b', 'c'].map((s) => `${s}@grp.test`);
    await o.arrive(senders.map((from) => ({ from })));
    expect(await Promise.all(senders.map(async (s) => (await o.recordOf(s))?.ownerId))).toEqual([m1, m3, m1]);
    expect((await o.ruleRow(none.id)).firedCount).toBe(0);
  });

  it('routes by the country of the sender domain, with a fallback person', async () => {
    const o = await org();
    const german = await o.person('rep', 'Greta');
    const [fr1, fr2] = [await o.person('manager', 'Fleur'), await o.person('manager', 'Fabien')];
    const fallback = await o.person('rep', 'Fallon');
    const gone = await o.person('rep', 'Gone');
    await o.rule({
      criteria: { subjectContains: ['hello'] },
      ownerStrategy: {
        kind: 'country',
        routes: [
          { country: 'DE', target: { kind: 'person', userId: german } },
          { country: 'FR', target: { kind: 'role', role: 'manager' } },
          { country: 'ES', target: { kind: 'person', userId: gone } },
        ],
        fallbackUserId: fallback,
      },
    });
    await api.post(`/api/people/${gone}/deactivate`, undefined, { cookie: o.admin.cookie });
    const mails = ['a@firma.de', 'b@societe.fr', 'c@autre.fr', 'd@corp.com', 'e@shop.co.uk', 'f@empresa.es'].map((from) => ({ from, subject: 'Hello' }));
    await o.arrive(mails);
    const owners = await Promise.all(mails.map(async (m) => (await o.recordOf(m.from))?.ownerId));
    expect(owners).toEqual([german, fr1, fr2, fallback, fallback, fallback]);
    expect((await o.recordOf('b@societe.fr'))?.country).toBe('FR');
  });

  it('takes the country the organization knows for the sender’s domain before the ccTLD, never from free mail', async () => {
    const o = await org();
    const [fleur, greta, fallback] = [await o.person('rep', 'Fleur'), await o.person('rep', 'Greta'), await o.person('rep', 'Fallon')];
    const known = async (type: string, name: string, email: string, country: string) =>
      expect((await api.post('/api/records', { type, name, primaryEmail: email, country }, { cookie: o.admin.cookie })).status).toBe(201);
    await known('account', 'Big Corp', 'info@bigcorp.com', 'FR');
    await known('contact', 'Old Contact', 'someone@bigcorp.com', 'DE');
    await known('account', 'Firma', 'info@firma.de', 'FR');
    await known('contact', 'Gmail User', 'friend@gmail.com', 'FR');
    await o.rule({
      criteria: { subjectContains: ['hello'] },
      ownerStrategy: {
        kind: 'country',
        routes: [
          { country: 'FR', target: { kind: 'person', userId: fleur } },
          { country: 'DE', target: { kind: 'person', userId: greta } },
        ],
        fallbackUserId: fallback,
      },
    });
    const mails = ['buyer@bigcorp.com', 'einkauf@firma.de', 'a@unknown.de', 'b@gmail.com', 'c@unknown.com'].map((from) => ({ from, subject: 'Hello' }));
    await o.arrive(mails);
    const made = await Promise.all(mails.map(async (m) => (await o.recordOf(m.from)) ?? { ownerId: null, country: null }));
    // The account's country beats a contact's and the ccTLD; a free-mail domain says nothing, so gmail falls back.
    expect(made.map((r) => [r.ownerId, r.country])).toEqual([
      [fleur, 'FR'],
      [fleur, 'FR'],
      [greta, 'DE'],
      [fallback, null],
      [fallback, null],
    ]);
  });

  it('leaves senders alone who already are a record, outbound mail, and mail from before the rule', async () => {
    const o = await org();
    const accountId = crypto.randomUUID();
    await t.db.query(`insert into records (id, org_id, type, owner_id, name) values ($1, $2, 'account', $3, 'Known Co')`, [accountId, o.admin.orgId, o.admin.userId]);
    await t.db.query(`insert into record_emails (org_id, address, record_type, record_id, is_primary) values ($1, 'billing@known.test', 'account', $2, true)`, [
      o.admin.orgId,
      accountId,
    ]);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const rule = await o.rule({ criteria: { senderDomains: ['known.test', 'old.test', 'history.test', 'out.test'] } });
    await o.arrive([
      { from: 'billing@known.test' },
      { from: 'x@old.test', receivedAt: hourAgo },
      { from: 'y@history.test', date: new Date(Date.now() - 30 * 86_400_000) },
      { from: o.box.email, to: ['z@out.test'] },
    ]);
    for (const address of ['x@old.test', 'y@history.test', 'z@out.test']) {
      expect(await o.recordOf(address), address).toBeNull();
    }
    expect((await o.recordOf('billing@known.test'))?.id).toBe(accountId);
    expect((await o.ruleRow(rule.id)).firedCount).toBe(0);
  });

  it('never creates a duplicate: same sender twice in a batch, a batch applied again or at once', async () => {
    const o = await org();
    const rule = await o.rule({ criteria: { senderDomains: ['dup.test'] }, ownerStrategy: { kind: 'round_robin', pool: { kind: 'role', role: 'admin' } } });
    const { batch, firings } = await o.arrive([{ from: 'same@dup.test' }, { from: 'same@dup.test', subject: 'Again' }, { from: 'other@dup.test' }]);
    expect(firings).toHaveLength(2);
    expect(await applyConversionRules(t.db, batch)).toEqual([]);
    const both = await o.arrive([{ from: 'race@dup.test' }]);
    const again = await Promise.all([applyConversionRules(t.db, both.batch), applyConversionRules(t.db, both.batch), applyConversionRules(t.db, both.batch)]);
    expect(both.firings.length + again.flat().length).toBe(1);
    const [count] = await t.db.query<{ n: number }>(`select count(*)::int as n from record_emails where org_id = $1 and address like '%@dup.test'`, [o.admin.orgId]);
    expect(count?.n).toBe(3);
    const after = await o.ruleRow(rule.id);
    expect(after.firedCount).toBe(3);
  });

  // Separate pools contend only on a server; PGlite is one in-process connection.
  if (driver === 'postgres') {
    it('two processes applying the same batch at once create one record and one firing', async () => {
      const o = await org();
      const rule = await o.rule({ criteria: { senderDomains: ['proc.test'] }, ownerStrategy: { kind: 'round_robin', pool: { kind: 'role', role: 'admin' } } });
      const [{ name }] = (await t.db.query<{ name: string }>('select current_database() as name')) as [{ name: string }];
      const url = new URL(process.env.TEST_DATABASE_URL as string);
      url.pathname = `/${name}`;
      const second = await openDb({ databaseUrl: url.toString() });
      try {
        const senders = Array.from({ length: 20 }, (_, i) => ({ from: `p${i}@proc.test` }));
        const fetched = await deliver(t.db, h.deps.keyring, o.box, senders.map((m) => ({ ...m, to: [o.box.email] })));
        const batch = { accountId: o.box.accountId, folderId: o.box.folder.id, uidvalidity: o.box.uidvalidity, uids: fetched.map((f) => f.uid) };
        const [a, b] = await Promise.all([applyConversionRules(t.db, batch), applyConversionRules(second, batch)]);
        expect(a.length + b.length).toBe(20);
        const ids = new Set([...a, ...b].map((f) => f.recordId));
        expect(ids.size).toBe(20);
        expect((await o.ruleRow(rule.id)).firedCount).toBe(20);
        const [cursor] = await t.db.query<{ c: number }>('select round_robin_cursor as c from conversion_rules where id = $1', [rule.id]);
        expect(cursor?.c).toBe(20);
      } finally {
        await second.close();
      }
    });
  }
});

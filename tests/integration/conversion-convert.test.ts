/**
 * "Convert sender to lead/contact" over HTTP on every driver: the
 * deterministic id makes racing converters meet on one record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../db';
import type { ConvertSenderDto } from '../../sync/conversion-api';
import { recordIdFor } from '../../sync/uuidv5';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { deliver, messageIdOf, seedMailbox, type TestMail, type TestMailbox } from '../helpers/conversion-mail';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string } };

interface Person {
  cookie: string;
  userId: string;
  box: TestMailbox;
}

describe.each(driverCases())('convert sender on $name', ({ name: driver, create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let orgId: string;
  let admin: { cookie: string; userId: string };
  let ana: Person;
  let ben: Person;

  const personWithMailbox = async (role: 'rep' | 'manager', name: string): Promise<Person> => {
    const p = await addPerson(api, admin.cookie, role, name);
    const box = await seedMailbox(t.db, h.deps.keyring, orgId, p.userId, `${name.toLowerCase()}.${p.userId.slice(0, 6)}@shoal-sales.test`);
    return { cookie: p.cookie, userId: p.userId, box };
  };

  const receive = async (p: Person, mail: Omit<TestMail, 'to'> & { to?: string[] }): Promise<string> => {
    const [fetched] = await deliver(t.db, h.deps.keyring, p.box, [{ to: [p.box.email], ...mail }]);
    return messageIdOf(t.db, p.box, fetched?.uid ?? 0);
  };

  const convert = (p: Person, messageId: string, body: unknown) =>
    api.post<ConvertSenderDto & ErrorBody>(`/api/messages/${messageId}/convert`, body, { cookie: p.cookie });

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db);
    api = client(h.app);
    const signed = await signUpAdmin(api);
    orgId = signed.orgId;
    admin = signed;
    ana = await personWithMailbox('rep', 'Ana');
    ben = await personWithMailbox('rep', 'Ben');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('creates a lead with the deterministic id, owned by the converter, named from the message', async () => {
    const messageId = await receive(ana, { from: 'lucia.moreno@vertex-labs.de', fromName: 'Moreno, Lucía' });
    const res = await convert(ana, messageId, { type: 'lead' });
    expect(res.status).toBe(201);
    expect(res.body.created).toBe(true);
    expect(res.body.record).toMatchObject({
      id: recordIdFor(orgId, 'lucia.moreno@vertex-labs.de'),
      type: 'lead',
      name: 'Lucía Moreno',
      company: 'Vertex Labs',
      country: 'DE',
      email: 'lucia.moreno@vertex-labs.de',
      owner: { id: ana.userId, name: 'Ana' },
      source: 'conversion',
    });
    const again = await convert(ana, messageId, { type: 'contact' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, record: { id: res.body.record.id, type: 'lead' } });
  });

  it('makes a name from the local part and leaves the company empty for free-mail domains', async () => {
    const gmail = await receive(ana, { from: 'tom_baker+deals@gmail.com' });
    const res = await convert(ana, gmail, { type: 'contact' });
    expect(res.status).toBe(201);
    expect(res.body.record).toMatchObject({ name: 'Tom Baker', company: '', country: null, type: 'contact' });
    const uk = await receive(ana, { from: 'j.doe@mail.northwind.co.uk' });
    expect((await convert(ana, uk, { type: 'lead' })).body.record).toMatchObject({ name: 'J Doe', company: 'Northwind', country: 'GB' });
  });

  it('converts the first recipient of outbound mail, or a named other party', async () => {
    const [fetched] = await deliver(t.db, h.deps.keyring, ana.box, [
      { from: ana.box.email, to: ['"Kim Park" <kim@orbit.io>', 'lee@orbit.io'], cc: ['max@orbit.io'] },
    ]);
    const messageId = await messageIdOf(t.db, ana.box, fetched?.uid ?? 0);
    const first = await convert(ana, messageId, { type: 'lead' });
    expect(first.status).toBe(201);
    expect(first.body.record).toMatchObject({ email: 'kim@orbit.io', name: 'Kim Park', company: 'Orbit', country: null });
    const named = await convert(ana, messageId, { type: 'contact', address: ' MAX@orbit.io ' });
    expect(named.status).toBe(201);
    expect(named.body.record).toMatchObject({ email: 'max@orbit.io', type: 'contact' });
  });

  it('refuses an address that is not another party, naming the field', async () => {
    const messageId = await receive(ana, { from: 'someone@elsewhere.test' });
    const own = await convert(ana, messageId, { type: 'lead', address: ana.box.email });
    expect(own.status).toBe(400);
    expect(own.body.error).toMatchObject({ code: 'validation_failed', field: 'address' });
    const stranger = await convert(ana, messageId, { type: 'lead', address: 'nobody@nowhere.test' });
    expect(stranger.body.error.field).toBe('address');
    const bad = await convert(ana, messageId, { type: 'account' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('type');
    const notEmail = await convert(ana, messageId, { type: 'lead', address: 'not-an-address' });
    expect(notEmail.body.error.field).toBe('address');
    const unknown = await api.post<ErrorBody>(`/api/messages/not-an-id/convert`, { type: 'lead' }, { cookie: ana.cookie });
    expect(unknown.body.error.field).toBe('id');
  });

  it('answers 404 for a message the person cannot see, and 401 when signed out', async () => {
    const messageId = await receive(ana, { from: 'private@secret.test' });
    const other = await convert(ben, messageId, { type: 'lead' });
    expect(other.status).toBe(404);
    expect((await api.post(`/api/messages/${crypto.randomUUID()}/convert`, { type: 'lead' }, { cookie: ana.cookie })).status).toBe(404);
    expect((await api.post(`/api/messages/${messageId}/convert`, { type: 'lead' })).status).toBe(401);
    const [row] = await t.db.query<{ n: number }>(`select count(*)::int as n from record_emails where address = 'private@secret.test'`);
    expect(row?.n).toBe(0);
  });

  it('two people converting one sender at once get one record', async () => {
    for (let round = 0; round < 5; round++) {
      const sender = `racer${round}@fastco.test`;
      const [a, b] = await Promise.all([receive(ana, { from: sender }), receive(ben, { from: sender })]);
      const results = await Promise.all([convert(ana, a, { type: 'lead' }), convert(ben, b, { type: 'lead' })]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 201]);
      expect(new Set(results.map((r) => r.body.record.id))).toEqual(new Set([recordIdFor(orgId, sender)]));
      const [row] = await t.db.query<{ n: number }>(
        'select count(*)::int as n from records r join record_emails e on e.record_id = r.id where e.address = $1',
        [sender],
      );
      expect(row?.n).toBe(1);
    }
  });

  it('returns the lead or contact that already has the address', async () => {
    const existingId = crypto.randomUUID();
    await t.db.query(`insert into records (id, org_id, type, owner_id, name) values ($1, $2, 'contact', $3, 'Old Contact')`, [
      existingId,
      orgId,
      ben.userId,
    ]);
    await t.db.query(
      `insert into record_emails (org_id, address, record_type, record_id, is_primary) values ($1, 'known@old.test', 'contact', $2, true)`,
      [orgId, existingId],
    );
    const messageId = await receive(ana, { from: 'known@old.test' });
    const res = await convert(ana, messageId, { type: 'lead' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: false, record: { id: existingId, name: 'Old Contact', owner: { id: ben.userId } } });

    // Under private record access Ana cannot reach Ben's contact: she is told it exists, not what it is.
    await t.db.query(`update organizations set record_access = 'private' where id = $1`, [orgId]);
    try {
      const hidden = await convert(ana, messageId, { type: 'lead' });
      expect(hidden.status).toBe(409);
      expect(hidden.body.error).toMatchObject({ code: 'already_converted', field: 'address' });
      expect(JSON.stringify(hidden.body)).not.toContain('Old Contact');
    } finally {
      await t.db.query(`update organizations set record_access = 'public' where id = $1`, [orgId]);
    }
  });

  // Separate pools contend only on a server; PGlite is one in-process connection.
  if (driver === 'postgres') {
    it('two processes (separate pools) converting at once create one record', async () => {
      const [{ name }] = (await t.db.query<{ name: string }>('select current_database() as name')) as [{ name: string }];
      const url = new URL(process.env.TEST_DATABASE_URL as string);
      url.pathname = `/${name}`;
      const second: Db = await openDb({ databaseUrl: url.toString() });
      try {
        const h2 = await createHarness(second);
        const api2 = client(h2.app);
        for (let round = 0; round < 5; round++) {
          const sender = `pool${round}@twoproc.test`;
          const [a, b] = await Promise.all([receive(ana, { from: sender }), receive(ben, { from: sender })]);
          const results = await Promise.all([
            api.post<ConvertSenderDto>(`/api/messages/${a}/convert`, { type: 'lead' }, { cookie: ana.cookie }),
            api2.post<ConvertSenderDto>(`/api/messages/${b}/convert`, { type: 'contact' }, { cookie: ben.cookie }),
          ]);
          expect(results.map((r) => r.status).sort()).toEqual([200, 201]);
          expect(results[0]?.body.record.id).toBe(results[1]?.body.record.id);
          const [row] = await t.db.query<{ n: number }>(`select count(*)::int as n from record_emails where address = $1`, [sender]);
          expect(row?.n).toBe(1);
        }
      } finally {
        await second.close();
      }
    });
  }
});

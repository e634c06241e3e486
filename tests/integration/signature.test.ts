/**
 * The email signature at /api/me/signature over the real app on every
 * database driver: none at first, saved normalized, per person, validated
 * with stable codes, gone with the person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SIGNATURE_LENGTH, type SignatureDto } from '../../sync/api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string } };

const PATH = '/api/me/signature';

describe.each(driverCases())('email signature over HTTP on $name', ({ create }) => {
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

  it('has none at first and needs a session', async () => {
    const admin = await signUpAdmin(api);
    const res = await api.get<SignatureDto>(PATH, { cookie: admin.cookie });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ signature: '', updatedAt: null });
    expect((await api.get<ErrorBody>(PATH)).body.error.code).toBe('auth_required');
    expect((await api.put<ErrorBody>(PATH, { signature: 'x' })).status).toBe(401);
  });

  it('saves the signature normalized (LF, no trailing blanks) and keeps it per person', async () => {
    const admin = await signUpAdmin(api);
    const rep = await addPerson(api, admin.cookie, 'rep', 'Rita');
    const saved = await api.put<SignatureDto>(PATH, { signature: 'Rita Rep  \r\nAcme Sales\r\n+1 555 0100\n\n  ' }, { cookie: rep.cookie });
    expect(saved.status).toBe(200);
    expect(saved.body.signature).toBe('Rita Rep\nAcme Sales\n+1 555 0100');
    expect(saved.body.updatedAt).toBe(h.clock.now().toISOString());
    expect((await api.get<SignatureDto>(PATH, { cookie: rep.cookie })).body).toEqual(saved.body);
    expect((await api.get<SignatureDto>(PATH, { cookie: admin.cookie })).body.signature).toBe('');

    h.clock.advance(60_000);
    const replaced = await api.put<SignatureDto>(PATH, { signature: '' }, { cookie: rep.cookie });
    expect(replaced.body).toEqual({ signature: '', updatedAt: h.clock.now().toISOString() });
    const [row] = await t.db.query<{ n: number }>('select count(*)::int as n from user_signatures where user_id = $1', [rep.userId]);
    expect(row?.n).toBe(1);
  });

  it('accepts exactly the longest signature and refuses one character more, naming the field', async () => {
    const admin = await signUpAdmin(api);
    const longest = 'x'.repeat(MAX_SIGNATURE_LENGTH);
    const ok = await api.put<SignatureDto>(PATH, { signature: longest }, { cookie: admin.cookie });
    expect(ok.status).toBe(200);
    expect(ok.body.signature).toHaveLength(MAX_SIGNATURE_LENGTH);
    const tooLong = await api.put<ErrorBody>(PATH, { signature: `${longest}x` }, { cookie: admin.cookie });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ code: 'validation_failed', field: 'signature' });
    expect(tooLong.body.error.message).toMatch(/at most 10,000 characters/);
    expect((await api.get<SignatureDto>(PATH, { cookie: admin.cookie })).body.signature).toBe(longest);
  });

  it('refuses bad bodies with stable codes', async () => {
    const admin = await signUpAdmin(api);
    const cases: [unknown, string, string | undefined][] = [
      [{}, 'validation_failed', 'signature'],
      [{ signature: 42 }, 'validation_failed', 'signature'],
      [{ signature: 'a\0b' }, 'validation_failed', 'signature'],
      [{ signature: 'ok', extra: true }, 'validation_failed', undefined],
    ];
    for (const [body, code, field] of cases) {
      const res = await api.put<ErrorBody>(PATH, body, { cookie: admin.cookie });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.field).toBe(field);
    }
    const notJson = await api.put<ErrorBody>(PATH, undefined, { cookie: admin.cookie, rawBody: '{nope', contentType: 'application/json' });
    expect(notJson.body.error.code).toBe('invalid_json');
    const wrongOrigin = await api.put<ErrorBody>(PATH, { signature: 'x' }, { cookie: admin.cookie, origin: 'http://evil.test' });
    expect(wrongOrigin.status).toBe(403);
  });

  it('goes with the person when they are deleted', async () => {
    const admin = await signUpAdmin(api);
    await api.put(PATH, { signature: 'Ada' }, { cookie: admin.cookie });
    await t.db.query('delete from users where id = $1', [admin.userId]);
    const [row] = await t.db.query<{ n: number }>('select count(*)::int as n from user_signatures where user_id = $1', [admin.userId]);
    expect(row?.n).toBe(0);
  });
});

/**
 * Email sharing settings (mine and the admin page), locking, stats and the
 * organization's record access, over the real app on every database driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeDto, OrgDto } from '../../sync/api';
import type { AdminEmailSharingDto, EmailSharingDto, PersonEmailSharingDto } from '../../sync/sharing-api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string } };

const MINE = '/api/me/email-sharing';
const ADMIN = '/api/admin/email-sharing';
const NOBODY = '00000000-0000-4000-8000-000000000000';

describe.each(driverCases())('email sharing over HTTP on $name', ({ create }) => {
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

  async function createGroup(cookie: string, name: string, userIds: string[]): Promise<string> {
    const group = await api.post<{ id: string }>('/api/groups', { name }, { cookie });
    await api.put(`/api/groups/${group.body.id}/members`, { userIds }, { cookie });
    return group.body.id;
  }

  describe('my setting', () => {
    it('starts at the default: custom, nothing excluded, unrestricted, unlocked', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie, 'rep');
      const res = await api.get<EmailSharingDto>(MINE, { cookie: rep.cookie });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ mode: 'custom', excludedDomains: [], audience: null, locked: false, updatedBy: null, updatedAt: null });
      expect((await api.get(MINE)).status).toBe(401);
    });

    it('saves Public with normalized, deduplicated domains and says who changed it', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie, 'rep', 'Mark');
      const input = { mode: 'public', excludedDomains: ['@Acme.COM', 'acme.com.', ' Beta.io '], audience: null };
      const res = await api.put<EmailSharingDto>(MINE, input, { cookie: rep.cookie });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ mode: 'public', excludedDomains: ['acme.com', 'beta.io'], audience: null, locked: false });
      expect(res.body.updatedBy).toEqual({ id: rep.userId, name: 'Mark' });
      expect(Date.parse(res.body.updatedAt ?? '')).not.toBeNaN();
      expect((await api.get<EmailSharingDto>(MINE, { cookie: rep.cookie })).body).toEqual(res.body);
      // Six entries that are five distinct domains fit the limit.
      const five = ['a.com', 'b.com', 'c.com', 'd.com', 'e.com', 'A.com'];
      const ok = await api.put<EmailSharingDto>(MINE, { mode: 'public', excludedDomains: five, audience: null }, { cookie: rep.cookie });
      expect(ok.body.excludedDomains).toEqual(['a.com', 'b.com', 'c.com', 'd.com', 'e.com']);
    });

    it('restricts Public and Custom to chosen people and groups, and clears the audience when sent null', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie, 'rep', 'Mark');
      const claire = await addPerson(api, admin.cookie, 'rep', 'Claire');
      const team = await createGroup(admin.cookie, 'West', [claire.userId]);
      const audience = { userIds: [claire.userId, claire.userId.toUpperCase()], groupIds: [team] };
      const res = await api.put<EmailSharingDto>(MINE, { mode: 'public', excludedDomains: [], audience }, { cookie: rep.cookie });
      expect(res.status).toBe(200);
      expect(res.body.audience).toEqual({ userIds: [claire.userId], groupIds: [team] });
      const custom = await api.put<EmailSharingDto>(MINE, { mode: 'custom', excludedDomains: [], audience: { userIds: [], groupIds: [team] } }, { cookie: rep.cookie });
      expect(custom.body).toMatchObject({ mode: 'custom', audience: { userIds: [], groupIds: [team] } });
      const open = await api.put<EmailSharingDto>(MINE, { mode: 'custom', excludedDomains: [], audience: null }, { cookie: rep.cookie });
      expect(open.body.audience).toBeNull();
      const [row] = await t.db.query<{ n: number }>('select count(*)::int as n from email_sharing_audience where owner_id = $1', [
        rep.userId,
      ]);
      expect(row?.n).toBe(0);
    });

    it('names the field of every bad input', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie, 'rep');
      const gone = await addPerson(api, admin.cookie, 'rep', 'Gone');
      await api.post(`/api/people/${gone.userId}/deactivate`, undefined, { cookie: admin.cookie });
      const other = await signUpAdmin(api);
      const foreignGroup = await createGroup(other.cookie, 'Elsewhere', []);
      const base = { mode: 'public', excludedDomains: [], audience: null };
      const cases: [unknown, string | undefined][] = [
        [{ ...base, mode: 'secret' }, 'mode'],
        [{ excludedDomains: [], audience: null }, 'mode'],
        [{ ...base, excludedDomains: 'acme.com' }, 'excludedDomains'],
        [{ mode: 'public', audience: null }, 'excludedDomains'],
        [{ ...base, excludedDomains: ['ok.com', 'not a domain'] }, 'excludedDomains.1'],
        [{ ...base, excludedDomains: [42] }, 'excludedDomains.0'],
        [{ ...base, excludedDomains: ['a.com', 'b.com', 'c.com', 'd.com', 'e.com', 'f.com'] }, 'excludedDomains'],
        [{ mode: 'public', excludedDomains: [] }, 'audience'],
        [{ ...base, mode: 'private', audience: { userIds: [admin.userId], groupIds: [] } }, 'audience'],
        [{ ...base, audience: { userIds: [], groupIds: [] } }, 'audience'],
        [{ ...base, audience: { userIds: [] } }, 'audience.groupIds'],
        [{ ...base, audience: { userIds: [admin.userId, 'nope'], groupIds: [] } }, 'audience.userIds.1'],
        [{ ...base, audience: { userIds: [admin.userId, NOBODY], groupIds: [] } }, 'audience.userIds.1'],
        [{ ...base, audience: { userIds: [gone.userId], groupIds: [] } }, 'audience.userIds.0'],
        [{ ...base, audience: { userIds: [other.userId], groupIds: [] } }, 'audience.userIds.0'],
        [{ ...base, audience: { userIds: [], groupIds: [foreignGroup] } }, 'audience.groupIds.0'],
      ];
      for (const [body, field] of cases) {
        const res = await api.put<ErrorBody>(MINE, body, { cookie: rep.cookie });
        expect({ body, status: res.status, code: res.body.error.code, field: res.body.error.field }).toEqual({
          body,
          status: 400,
          code: 'validation_failed',
          field,
        });
        expect(res.body.error.message).toMatch(/\S/);
      }
      const extra = await api.put<ErrorBody>(MINE, { ...base, shareAll: true }, { cookie: rep.cookie });
      expect([extra.status, extra.body.error.code]).toEqual([400, 'validation_failed']);
      const json = await api.put<ErrorBody>(MINE, undefined, { cookie: rep.cookie, rawBody: '{"mode":' });
      expect([json.status, json.body.error.code]).toEqual([400, 'invalid_json']);
      // Nothing was saved by any of the refused requests.
      expect((await api.get<EmailSharingDto>(MINE, { cookie: rep.cookie })).body.updatedAt).toBeNull();
    });
  });

  describe('locking', () => {
    it('an admin locks a setting; the person cannot change it, the admin still can', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie, 'rep', 'Mark');
      const lock = { mode: 'public', excludedDomains: ['acme.com'], audience: null, locked: true };
      const locked = await api.put<PersonEmailSharingDto>(`${ADMIN}/${rep.userId}`, lock, { cookie: admin.cookie });
      expect(locked.status).toBe(200);
      expect(locked.body.person).toMatchObject({ id: rep.userId, name: 'Mark', active: true });
      expect(locked.body.setting).toMatchObject({ mode: 'public', excludedDomains: ['acme.com'], locked: true });
      expect(locked.body.setting.updatedBy).toEqual({ id: admin.userId, name: 'Ada Admin' });

      const mine = await api.get<EmailSharingDto>(MINE, { cookie: rep.cookie });
      expect(mine.body).toMatchObject({ mode: 'public', locked: true, updatedBy: { id: admin.userId } });
      const refused = await api.put<ErrorBody>(MINE, { mode: 'private', excludedDomains: [], audience: null }, { cookie: rep.cookie });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('setting_locked');
      expect((await api.get<EmailSharingDto>(MINE, { cookie: rep.cookie })).body.mode).toBe('public');

      const changed = await api.put<PersonEmailSharingDto>(
        `${ADMIN}/${rep.userId}`,
        { mode: 'private', excludedDomains: [], audience: null, locked: true },
        { cookie: admin.cookie },
      );
      expect(changed.body.setting).toMatchObject({ mode: 'private', locked: true });
      await api.put(`${ADMIN}/${rep.userId}`, { mode: 'private', excludedDomains: [], audience: null, locked: false }, { cookie: admin.cookie });
      const again = await api.put<EmailSharingDto>(MINE, { mode: 'custom', excludedDomains: [], audience: null }, { cookie: rep.cookie });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ mode: 'custom', locked: false, updatedBy: { id: rep.userId } });
    });

    it('a locked admin is refused on their own endpoint too, and validation errors name the field for admins', async () => {
      const admin = await signUpAdmin(api);
      await api.put(`${ADMIN}/${admin.userId}`, { mode: 'custom', excludedDomains: [], audience: null, locked: true }, { cookie: admin.cookie });
      const own = await api.put<ErrorBody>(MINE, { mode: 'public', excludedDomains: [], audience: null }, { cookie: admin.cookie });
      expect(own.body.error.code).toBe('setting_locked');
      const noLock = await api.put<ErrorBody>(`${ADMIN}/${admin.userId}`, { mode: 'custom', excludedDomains: [], audience: null }, { cookie: admin.cookie });
      expect([noLock.status, noLock.body.error.field]).toEqual([400, 'locked']);
      const badDomain = await api.put<ErrorBody>(
        `${ADMIN}/${admin.userId}`,
        { mode: 'public', excludedDomains: ['x'], audience: null, locked: false },
        { cookie: admin.cookie },
      );
      expect([badDomain.status, badDomain.body.error.field]).toEqual([400, 'excludedDomains.0']);
      const badId = await api.put<ErrorBody>(`${ADMIN}/not-an-id`, { mode: 'custom', excludedDomains: [], audience: null, locked: false }, { cookie: admin.cookie });
      expect([badId.status, badId.body.error.field]).toEqual([400, 'userId']);
    });
  });

  describe('admin page', () => {
    it('is for admins only, and only for people of their organization', async () => {
      const admin = await signUpAdmin(api);
      const manager = await addPerson(api, admin.cookie, 'manager');
      const rep = await addPerson(api, admin.cookie, 'rep');
      const body = { mode: 'public', excludedDomains: [], audience: null, locked: true };
      for (const cookie of [manager.cookie, rep.cookie]) {
        const list = await api.get<ErrorBody>(ADMIN, { cookie });
        expect([list.status, list.body.error.code]).toEqual([403, 'forbidden']);
        const put = await api.put<ErrorBody>(`${ADMIN}/${rep.userId}`, body, { cookie });
        expect([put.status, put.body.error.code]).toEqual([403, 'forbidden']);
      }
      expect((await api.get(ADMIN)).status).toBe(401);
      const other = await signUpAdmin(api);
      const foreign = await api.put<ErrorBody>(`${ADMIN}/${other.userId}`, body, { cookie: admin.cookie });
      expect([foreign.status, foreign.body.error.code]).toEqual([404, 'not_found']);
      expect((await api.put<ErrorBody>(`${ADMIN}/${NOBODY}`, body, { cookie: admin.cookie })).status).toBe(404);
      expect((await api.get<EmailSharingDto>(MINE, { cookie: rep.cookie })).body.locked).toBe(false);
    });

    it('lists everyone with their setting and counts the active people', async () => {
      const admin = await signUpAdmin(api);
      const anna = await addPerson(api, admin.cookie, 'rep', 'Anna');
      const ben = await addPerson(api, admin.cookie, 'rep', 'Ben');
      const cleo = await addPerson(api, admin.cookie, 'manager', 'Cleo');
      const dora = await addPerson(api, admin.cookie, 'rep', 'Dora');
      const eve = await addPerson(api, admin.cookie, 'rep', 'Eve');
      const put = (cookie: string, body: unknown) => api.put(MINE, body, { cookie });
      const group = await createGroup(admin.cookie, 'Managers', [cleo.userId]);
      await put(anna.cookie, { mode: 'public', excludedDomains: ['acme.com', 'beta.io'], audience: { userIds: [cleo.userId], groupIds: [] } });
      await put(ben.cookie, { mode: 'public', excludedDomains: ['acme.com'], audience: null });
      await put(cleo.cookie, { mode: 'custom', excludedDomains: ['gamma.org'], audience: { userIds: [], groupIds: [group] } });
      // Private shares nothing, so Dora's excluded domain is not "in use".
      await api.put(`${ADMIN}/${dora.userId}`, { mode: 'private', excludedDomains: ['acme.com'], audience: null, locked: true }, { cookie: admin.cookie });
      await put(eve.cookie, { mode: 'public', excludedDomains: ['acme.com'], audience: null });
      await api.post(`/api/people/${eve.userId}/deactivate`, undefined, { cookie: admin.cookie });

      const res = await api.get<AdminEmailSharingDto>(ADMIN, { cookie: admin.cookie });
      expect(res.status).toBe(200);
      expect(res.body.people.map((p) => [p.person.name, p.person.active, p.setting.mode])).toEqual([
        ['Ada Admin', true, 'custom'],
        ['Anna', true, 'public'],
        ['Ben', true, 'public'],
        ['Cleo', true, 'custom'],
        ['Dora', true, 'private'],
        ['Eve', false, 'public'],
      ]);
      const byName = new Map(res.body.people.map((p) => [p.person.name, p]));
      expect(byName.get('Anna')?.setting.audience).toEqual({ userIds: [cleo.userId], groupIds: [] });
      expect(byName.get('Dora')?.setting).toMatchObject({ locked: true, updatedBy: { id: admin.userId, name: 'Ada Admin' } });
      expect(byName.get('Ada Admin')?.setting).toMatchObject({ updatedBy: null, updatedAt: null });
      expect(res.body.stats).toEqual({
        public: 2,
        custom: 2,
        private: 1,
        locked: 1,
        restricted: 2,
        excludedDomains: [
          { domain: 'acme.com', people: 2 },
          { domain: 'beta.io', people: 1 },
          { domain: 'gamma.org', people: 1 },
        ],
      });
    });
  });

  describe('record access', () => {
    it('admins switch it; everyone in the organization sees it in /api/me', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie, 'rep');
      const initial = await api.get<OrgDto>('/api/admin/organization', { cookie: admin.cookie });
      expect(initial.body).toMatchObject({ id: admin.orgId, name: 'Acme Sales', recordAccess: 'public' });
      expect((await api.get<MeDto>('/api/me', { cookie: rep.cookie })).body.org.recordAccess).toBe('public');

      const set = await api.put<OrgDto>('/api/admin/organization', { recordAccess: 'private' }, { cookie: admin.cookie });
      expect([set.status, set.body.recordAccess]).toEqual([200, 'private']);
      expect((await api.get<MeDto>('/api/me', { cookie: rep.cookie })).body.org.recordAccess).toBe('private');
      const other = await signUpAdmin(api);
      expect((await api.get<MeDto>('/api/me', { cookie: other.cookie })).body.org.recordAccess).toBe('public');

      const bad = await api.put<ErrorBody>('/api/admin/organization', { recordAccess: 'secret' }, { cookie: admin.cookie });
      expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'validation_failed', 'recordAccess']);
      const missing = await api.put<ErrorBody>('/api/admin/organization', {}, { cookie: admin.cookie });
      expect(missing.body.error.field).toBe('recordAccess');
      for (const call of [
        () => api.get<ErrorBody>('/api/admin/organization', { cookie: rep.cookie }),
        () => api.put<ErrorBody>('/api/admin/organization', { recordAccess: 'public' }, { cookie: rep.cookie }),
      ]) {
        const res = await call();
        expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
      }
      expect((await api.get<OrgDto>('/api/admin/organization', { cookie: admin.cookie })).body.recordAccess).toBe('private');
    });
  });
});

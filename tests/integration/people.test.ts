/**
 * Invites, roles, the reporting line, deactivation and groups, over the
 * real app on every database driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupDto, PeopleListDto, PersonDto } from '../../sync/api';
import {
  addPerson,
  client,
  createHarness,
  PASSWORD,
  signUpAdmin,
  uniqueEmail,
  type Client,
  type Harness,
} from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';

type ErrorBody = { error: { code: string; message: string; field?: string } };

describe.each(driverCases())('people over HTTP on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', INVITE_TTL_HOURS: '48' });
    api = client(h.app);
  });
  afterAll(async () => {
    await t?.drop();
  });

  describe('invites', () => {
    it('an invite link lets one person join with the invited role, once', async () => {
      const admin = await signUpAdmin(api);
      const email = uniqueEmail('rep');
      const created = await api.post<{ url: string; invite: { email: string } }>(
        '/api/people/invites',
        { email, role: 'manager' },
        { cookie: admin.cookie },
      );
      expect(created.status).toBe(201);
      expect(created.body.url).toMatch(/^http:\/\/shoal\.test\/invite\/[a-z2-7]{32}$/);
      const token = created.body.url.split('/invite/')[1];
      const preview = await api.get<{ orgName: string; role: string; email: string; invitedByName: string }>(
        `/api/invites/${token}`,
      );
      expect(preview.body).toMatchObject({ orgName: 'Acme Sales', role: 'manager', email, invitedByName: 'Ada Admin' });
      const pending = await api.get<{ invites: { email: string }[] }>('/api/people/invites', { cookie: admin.cookie });
      expect(pending.body.invites.map((i) => i.email)).toContain(email);

      const accepted = await api.post<{ user: PersonDto }>(`/api/invites/${token}/accept`, { name: 'Max', password: PASSWORD });
      expect(accepted.status).toBe(201);
      expect(accepted.body.user).toMatchObject({ email, role: 'manager', name: 'Max' });
      expect((await api.get('/api/me', { cookie: accepted.cookie })).status).toBe(200);

      const reused = await api.post<ErrorBody>(`/api/invites/${token}/accept`, { name: 'Eve', password: PASSWORD });
      expect(reused.status).toBe(410);
      expect(reused.body.error.code).toBe('invite_used');
      const after = await api.get<{ invites: { email: string }[] }>('/api/people/invites', { cookie: admin.cookie });
      expect(after.body.invites.map((i) => i.email)).not.toContain(email);
    });

    it('two simultaneous accepts of one link create exactly one account', async () => {
      const admin = await signUpAdmin(api);
      const created = await api.post<{ url: string }>('/api/people/invites', { email: uniqueEmail(), role: 'rep' }, { cookie: admin.cookie });
      const token = created.body.url.split('/invite/')[1];
      const results = await Promise.all(
        [1, 2, 3].map((n) => api.post(`/api/invites/${token}/accept`, { name: `Racer ${n}`, password: PASSWORD })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 410, 410]);
    });

    it('an expired link is refused with invite_expired', async () => {
      const admin = await signUpAdmin(api);
      const created = await api.post<{ url: string }>('/api/people/invites', { email: uniqueEmail(), role: 'rep' }, { cookie: admin.cookie });
      const token = created.body.url.split('/invite/')[1];
      h.clock.advance(48 * 3_600_000 + 1);
      const preview = await api.get<ErrorBody>(`/api/invites/${token}`);
      expect(preview.status).toBe(410);
      expect(preview.body.error.code).toBe('invite_expired');
      const accept = await api.post<ErrorBody>(`/api/invites/${token}/accept`, { name: 'Late', password: PASSWORD });
      expect(accept.body.error.code).toBe('invite_expired');
    });

    it('a revoked or made-up link is refused with invite_invalid', async () => {
      const admin = await signUpAdmin(api);
      const created = await api.post<{ url: string; invite: { id: string } }>(
        '/api/people/invites',
        { email: uniqueEmail(), role: 'rep' },
        { cookie: admin.cookie },
      );
      expect((await api.delete(`/api/people/invites/${created.body.invite.id}`, { cookie: admin.cookie })).status).toBe(204);
      const token = created.body.url.split('/invite/')[1];
      expect((await api.get<ErrorBody>(`/api/invites/${token}`)).body.error.code).toBe('invite_invalid');
      expect((await api.get<ErrorBody>(`/api/invites/${'a'.repeat(32)}`)).body.error.code).toBe('invite_invalid');
      const malformed = await api.get<ErrorBody>('/api/invites/not-a-token');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.field).toBe('token');
    });

    it('refuses to invite an address that already has an account', async () => {
      const admin = await signUpAdmin(api);
      const res = await api.post<ErrorBody>('/api/people/invites', { email: admin.email, role: 'rep' }, { cookie: admin.cookie });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'email_taken', field: 'email' });
    });

    it('only admins invite', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie, 'rep');
      const res = await api.post<ErrorBody>('/api/people/invites', { email: uniqueEmail(), role: 'rep' }, { cookie: rep.cookie });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect((await api.get('/api/people/invites')).status).toBe(401);
    });
  });

  describe('roles and the reporting line', () => {
    it('changes a role and a manager; everyone in the org sees the result', async () => {
      const admin = await signUpAdmin(api);
      const mark = await addPerson(api, admin.cookie, 'rep', 'Mark');
      const karl = await addPerson(api, admin.cookie, 'rep', 'Karl');
      const promoted = await api.patch<PersonDto>(`/api/people/${karl.userId}`, { role: 'manager' }, { cookie: admin.cookie });
      expect(promoted.body.role).toBe('manager');
      const managed = await api.patch<PersonDto>(`/api/people/${mark.userId}`, { managerId: karl.userId }, { cookie: admin.cookie });
      expect(managed.body.managerId).toBe(karl.userId);
      const list = await api.get<PeopleListDto>('/api/people', { cookie: mark.cookie });
      expect(list.body.people.find((p) => p.id === mark.userId)?.managerId).toBe(karl.userId);
      const cleared = await api.patch<PersonDto>(`/api/people/${mark.userId}`, { managerId: null }, { cookie: admin.cookie });
      expect(cleared.body.managerId).toBeNull();
    });

    it('refuses a manager change that would form a loop with a clear 400', async () => {
      const admin = await signUpAdmin(api);
      const a = await addPerson(api, admin.cookie, 'manager', 'Anna');
      const b = await addPerson(api, admin.cookie, 'manager', 'Ben');
      const c = await addPerson(api, admin.cookie, 'rep', 'Cleo');
      await api.patch(`/api/people/${b.userId}`, { managerId: a.userId }, { cookie: admin.cookie });
      await api.patch(`/api/people/${c.userId}`, { managerId: b.userId }, { cookie: admin.cookie });
      const loop = await api.patch<ErrorBody>(`/api/people/${a.userId}`, { managerId: c.userId }, { cookie: admin.cookie });
      expect(loop.status).toBe(400);
      expect(loop.body.error).toMatchObject({ code: 'manager_cycle', field: 'managerId' });
      expect(loop.body.error.message).toBe('Cleo already reports to Anna, so Anna cannot report to Cleo');
      const self = await api.patch<ErrorBody>(`/api/people/${a.userId}`, { managerId: a.userId }, { cookie: admin.cookie });
      expect(self.body.error.code).toBe('manager_cycle');
    });

    it('validates the patch: unknown manager, bad role, unknown field, empty patch', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie);
      const cases: [unknown, string][] = [
        [{ managerId: crypto.randomUUID() }, 'managerId'],
        [{ managerId: 'nope' }, 'managerId'],
        [{ role: 'overlord' }, 'role'],
        [{ role: 'rep', salary: 1 }, ''],
        [{}, ''],
      ];
      for (const [body, field] of cases) {
        const res = await api.patch<ErrorBody>(`/api/people/${rep.userId}`, body, { cookie: admin.cookie });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.field ?? '').toBe(field);
      }
      const missing = await api.patch(`/api/people/${crypto.randomUUID()}`, { role: 'rep' }, { cookie: admin.cookie });
      expect(missing.status).toBe(404);
    });

    it('cannot reach people of another organization', async () => {
      const one = await signUpAdmin(api);
      const other = await signUpAdmin(api);
      const outsider = await addPerson(api, other.cookie);
      const res = await api.patch(`/api/people/${outsider.userId}`, { role: 'admin' }, { cookie: one.cookie });
      expect(res.status).toBe(404);
      const list = await api.get<PeopleListDto>('/api/people', { cookie: one.cookie });
      expect(list.body.people.map((p) => p.id)).not.toContain(outsider.userId);
    });

    it('keeps at least one active admin', async () => {
      const admin = await signUpAdmin(api);
      const demote = await api.patch<ErrorBody>(`/api/people/${admin.userId}`, { role: 'rep' }, { cookie: admin.cookie });
      expect(demote.status).toBe(409);
      expect(demote.body.error.code).toBe('last_admin');
      const off = await api.post<ErrorBody>(`/api/people/${admin.userId}/deactivate`, undefined, { cookie: admin.cookie });
      expect(off.body.error.code).toBe('last_admin');
      const second = await addPerson(api, admin.cookie, 'admin', 'Second');
      expect((await api.patch(`/api/people/${admin.userId}`, { role: 'rep' }, { cookie: second.cookie })).status).toBe(200);
    });
  });

  describe('deactivation', () => {
    it('ends every session at once, blocks log-in, and reactivation restores access', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie);
      const laptop = (await api.post('/api/auth/login', { email: rep.email, password: PASSWORD })).cookie;
      const off = await api.post<PersonDto>(`/api/people/${rep.userId}/deactivate`, undefined, { cookie: admin.cookie });
      expect(off.body.active).toBe(false);
      expect((await api.get('/api/me', { cookie: rep.cookie })).status).toBe(401);
      expect((await api.get('/api/me', { cookie: laptop })).status).toBe(401);
      const login = await api.post<ErrorBody>('/api/auth/login', { email: rep.email, password: PASSWORD });
      expect(login.status).toBe(403);
      expect(login.body.error.code).toBe('account_deactivated');
      const on = await api.post<PersonDto>(`/api/people/${rep.userId}/reactivate`, undefined, { cookie: admin.cookie });
      expect(on.body.active).toBe(true);
      expect((await api.post('/api/auth/login', { email: rep.email, password: PASSWORD })).status).toBe(200);
    });
  });

  describe('groups', () => {
    it('creates, renames, sets members and deletes a group', async () => {
      const admin = await signUpAdmin(api);
      const rep = await addPerson(api, admin.cookie);
      const created = await api.post<GroupDto>('/api/groups', { name: 'EMEA closers' }, { cookie: admin.cookie });
      expect(created.status).toBe(201);
      const dup = await api.post<ErrorBody>('/api/groups', { name: 'emea CLOSERS' }, { cookie: admin.cookie });
      expect(dup.status).toBe(409);
      expect(dup.body.error.field).toBe('name');
      const id = created.body.id;
      const renamed = await api.patch<GroupDto>(`/api/groups/${id}`, { name: 'EMEA' }, { cookie: admin.cookie });
      expect(renamed.body.name).toBe('EMEA');
      const members = await api.put<GroupDto>(
        `/api/groups/${id}/members`,
        { userIds: [rep.userId, admin.userId, rep.userId] },
        { cookie: admin.cookie },
      );
      expect(members.body.memberIds.sort()).toEqual([rep.userId, admin.userId].sort());
      const people = await api.get<PeopleListDto>('/api/people', { cookie: rep.cookie });
      expect(people.body.people.find((p) => p.id === rep.userId)?.groupIds).toEqual([id]);
      const foreign = await api.put<ErrorBody>(`/api/groups/${id}/members`, { userIds: [crypto.randomUUID()] }, { cookie: admin.cookie });
      expect(foreign.status).toBe(400);
      expect(foreign.body.error.field).toBe('userIds');
      expect((await api.post('/api/groups', { name: 'Nope' }, { cookie: rep.cookie })).status).toBe(403);
      expect((await api.delete(`/api/groups/${id}`, { cookie: admin.cookie })).status).toBe(204);
      expect((await api.get<{ groups: GroupDto[] }>('/api/groups', { cookie: admin.cookie })).body.groups).toEqual([]);
    });
  });
});

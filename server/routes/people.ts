/**
 * @module server/routes/people
 * The organization's people and pending invites. Everyone may list people;
 * only admins change them.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { listPendingInvites } from '../../db/queries/invites';
import { listUsers } from '../../db/queries/users';
import type { CreatedInviteDto, InviteListDto, PeopleListDto } from '../../sync/api';
import { createInvite, revokeInvite } from '../commands/invites';
import { deactivatePerson, reactivatePerson, updatePerson } from '../commands/people';
import type { AppEnv } from '../context';
import { requireAdmin, requireAuth } from '../middleware/session';
import { presentInvite, presentPerson } from '../presenters/person';
import { EmailSchema, IdParamSchema, IdSchema, NameSchema, RoleSchema } from '../schemas';
import { check, readJson } from '../validate';

const UpdatePersonSchema = z
  .strictObject({ name: NameSchema.optional(), role: RoleSchema.optional(), managerId: IdSchema.nullable().optional() })
  .refine((v) => Object.keys(v).length > 0, { message: 'send at least one of name, role, managerId' });

const CreateInviteSchema = z.object({
  email: EmailSchema,
  role: RoleSchema,
  managerId: IdSchema.nullable().optional(),
});

export const peopleRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const people = await listUsers(c.var.deps.db, auth.user.orgId);
    const body: PeopleListDto = { people: people.map(presentPerson) };
    return c.json(body);
  })
  .get('/invites', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const invites = await listPendingInvites(c.var.deps.db, admin.user.orgId, c.var.deps.now());
    const body: InviteListDto = { invites: invites.map(presentInvite) };
    return c.json(body);
  })
  .post('/invites', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const input = await readJson(c, CreateInviteSchema);
    const { invite, url } = await createInvite(c.var.deps, admin, input);
    c.var.log.info({ inviteId: invite.id, role: invite.role }, 'invite created');
    const body: CreatedInviteDto = { invite: presentInvite(invite), url };
    return c.json(body, 201);
  })
  .delete('/invites/:id', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    await revokeInvite(c.var.deps, admin, id);
    return c.body(null, 204);
  })
  .patch('/:id', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const patch = await readJson(c, UpdatePersonSchema);
    return c.json(presentPerson(await updatePerson(c.var.deps, admin, id, patch)));
  })
  .post('/:id/deactivate', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const person = await deactivatePerson(c.var.deps, admin, id);
    c.var.log.info({ personId: id }, 'person deactivated');
    return c.json(presentPerson(person));
  })
  .post('/:id/reactivate', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    return c.json(presentPerson(await reactivatePerson(c.var.deps, admin, id)));
  });

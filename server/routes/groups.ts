/**
 * @module server/routes/groups
 * Groups of people. Everyone may list them; only admins change them.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { listGroups } from '../../db/queries/groups';
import type { GroupListDto } from '../../sync/api';
import { createGroup, deleteGroup, renameGroup, setGroupMembers } from '../commands/groups';
import type { AppEnv } from '../context';
import { requireAdmin, requireAuth } from '../middleware/session';
import { presentGroup } from '../presenters/person';
import { IdParamSchema, IdSchema } from '../schemas';
import { check, readJson } from '../validate';

const GroupSchema = z.object({
  name: z.string({ error: 'is required' }).trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters'),
});
const MembersSchema = z.object({ userIds: z.array(IdSchema).max(10_000) });

export const groupRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const groups = await listGroups(c.var.deps.db, auth.user.orgId);
    const body: GroupListDto = { groups: groups.map(presentGroup) };
    return c.json(body);
  })
  .post('/', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { name } = await readJson(c, GroupSchema);
    return c.json(presentGroup(await createGroup(c.var.deps, admin, name)), 201);
  })
  .patch('/:id', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const { name } = await readJson(c, GroupSchema);
    return c.json(presentGroup(await renameGroup(c.var.deps, admin, id, name)));
  })
  .delete('/:id', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    await deleteGroup(c.var.deps, admin, id);
    return c.body(null, 204);
  })
  .put('/:id/members', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const { userIds } = await readJson(c, MembersSchema);
    return c.json(presentGroup(await setGroupMembers(c.var.deps, admin, id, userIds)));
  });

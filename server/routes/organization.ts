/**
 * @module server/routes/organization
 * The organization's settings, for admins: today, record access. Everyone
 * else reads `recordAccess` from `GET /api/me`.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { OrgDto } from '../../sync/api';
import { RECORD_ACCESS } from '../../sync/sharing';
import { loadOrganization, setRecordAccess } from '../commands/organization';
import type { AppEnv } from '../context';
import { requireAdmin } from '../middleware/session';
import { presentOrg } from '../presenters/person';
import { readJson } from '../validate';

const OrganizationSchema = z.strictObject({
  recordAccess: z.enum(RECORD_ACCESS, { error: `must be one of ${RECORD_ACCESS.join(', ')}` }),
});

export const organizationRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const body: OrgDto = presentOrg(await loadOrganization(c.var.deps, admin));
    return c.json(body);
  })
  .put('/', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { recordAccess } = await readJson(c, OrganizationSchema);
    const org = await setRecordAccess(c.var.deps, admin, recordAccess);
    c.var.log.info({ orgId: org.id, recordAccess, by: admin.user.id }, 'record access changed');
    const body: OrgDto = presentOrg(org);
    return c.json(body);
  });

/**
 * @module server/routes/email-sharing
 * Email sharing settings: everyone reads and (unless locked) changes their
 * own at /api/me/email-sharing; admins see and change everyone's, and lock
 * them, at /api/admin/email-sharing.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { findPersonSharing, listPeopleSharing } from '../../db/queries/email-sharing';
import { MAX_EXCLUDED_DOMAINS, normalizeDomain, SHARING_MODES, type SharingMode } from '../../sync/sharing';
import type { AdminEmailSharingDto, EmailSharingDto, PersonEmailSharingDto } from '../../sync/sharing-api';
import { updateEmailSharingAsAdmin, updateMyEmailSharing } from '../commands/email-sharing';
import type { AppEnv } from '../context';
import { notFound } from '../errors';
import { requireAdmin, requireAuth } from '../middleware/session';
import { presentAdminEmailSharing, presentEmailSharing, presentPersonSharing } from '../presenters/email-sharing';
import { IdSchema } from '../schemas';
import { check, readJson } from '../validate';

const TOO_MANY_DOMAINS = `must list at most ${MAX_EXCLUDED_DOMAINS} domains`;

const DomainSchema = z
  .string({ error: 'must be a domain like acme.com' })
  .max(260, 'must be a domain like acme.com')
  .transform((value, ctx) => {
    const domain = normalizeDomain(value);
    if (domain === null) {
      ctx.addIssue({ code: 'custom', message: 'must be a domain like acme.com' });
      return z.NEVER;
    }
    return domain;
  });

const ExcludedDomainsSchema = z
  .array(DomainSchema, { error: 'must be a list of domains' })
  // A generous cap before deduplication keeps a silly body cheap; the real limit counts distinct domains.
  .max(100, TOO_MANY_DOMAINS)
  .transform((domains) => [...new Set(domains)])
  .refine((domains) => domains.length <= MAX_EXCLUDED_DOMAINS, TOO_MANY_DOMAINS);

const AudienceIdsSchema = z.array(IdSchema.transform((id) => id.toLowerCase()), { error: 'must be a list of ids' }).max(10_000);

const AudienceSchema = z
  .strictObject({ userIds: AudienceIdsSchema, groupIds: AudienceIdsSchema }, { error: 'must be null or {userIds, groupIds}' })
  .nullable();

const sharingShape = {
  mode: z.enum(SHARING_MODES, { error: `must be one of ${SHARING_MODES.join(', ')}` }),
  excludedDomains: ExcludedDomainsSchema,
  audience: AudienceSchema,
};

type SharingShape = { mode: SharingMode; audience: { userIds: string[]; groupIds: string[] } | null };

/**
 * A Private mailbox shares with nobody, so an audience there would only
 * mislead; Custom and Public may narrow what they share to chosen people
 * (sync/visibility.ts), and a chosen audience names someone.
 */
function checkAudience(value: SharingShape, ctx: z.RefinementCtx): void {
  if (value.audience === null) {
    return;
  }
  if (value.mode === 'private') {
    ctx.addIssue({ code: 'custom', path: ['audience'], message: 'cannot be chosen when sharing is Private; send null' });
    return;
  }
  if (value.audience.userIds.length + value.audience.groupIds.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['audience'], message: 'choose at least one person or group, or send null to share with everyone' });
  }
}

const MySharingSchema = z.strictObject(sharingShape).superRefine(checkAudience);
const AdminSharingSchema = z
  .strictObject({ ...sharingShape, locked: z.boolean({ error: 'must be true or false' }) })
  .superRefine(checkAudience);
const UserIdParamSchema = z.object({ userId: IdSchema });

export const mySharingRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const row = await findPersonSharing(c.var.deps.db, auth.user.orgId, auth.user.id);
    if (!row) {
      throw notFound('Person');
    }
    const body: EmailSharingDto = presentEmailSharing(row);
    return c.json(body);
  })
  .put('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const input = await readJson(c, MySharingSchema);
    const row = await updateMyEmailSharing(c.var.deps, auth, input);
    c.var.log.info({ userId: auth.user.id, mode: row.mode }, 'email sharing changed');
    const body: EmailSharingDto = presentEmailSharing(row);
    return c.json(body);
  });

export const adminSharingRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const body: AdminEmailSharingDto = presentAdminEmailSharing(await listPeopleSharing(c.var.deps.db, admin.user.orgId));
    return c.json(body);
  })
  .put('/:userId', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { userId } = check(UserIdParamSchema, c.req.param());
    const input = await readJson(c, AdminSharingSchema);
    const row = await updateEmailSharingAsAdmin(c.var.deps, admin, userId.toLowerCase(), input);
    c.var.log.info({ userId, mode: row.mode, locked: row.locked, by: admin.user.id }, 'email sharing changed by an admin');
    const body: PersonEmailSharingDto = presentPersonSharing(row);
    return c.json(body);
  });

/**
 * @module server/routes/auth
 * Sign-up, log-in, log-out. Each handler: validate → command → presenter.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { countOrganizations, findOrganization } from '../../db/queries/organizations';
import { findUserById } from '../../db/queries/users';
import type { AuthStateDto, MeDto } from '../../sync/api';
import { clearSessionCookie, setSessionCookie } from '../auth/cookie';
import { invalidateSession, invalidateUserSessions } from '../auth/session';
import { clientIp } from '../client-ip';
import { logIn } from '../commands/log-in';
import { signUp, signupOpen } from '../commands/sign-up';
import type { AppEnv } from '../context';
import { requireAuth } from '../middleware/session';
import { presentMe } from '../presenters/person';
import { EmailSchema, NameSchema, PasswordSchema } from '../schemas';
import { readJson } from '../validate';

const SignUpSchema = z.object({
  orgName: NameSchema,
  name: NameSchema,
  email: EmailSchema,
  password: PasswordSchema,
});

const LogInSchema = z.object({
  email: EmailSchema,
  // Any length is checked against the hash; length rules apply when a password is set.
  password: z.string({ error: 'is required' }).min(1, 'is required').max(1024, 'is too long'),
});

/**
 * Loads the signed-in person's view of themselves.
 * @throws when the rows vanished between session creation and now (never in practice).
 */
export async function loadMe(c: Context<AppEnv>, userId: string): Promise<MeDto> {
  const { db } = c.var.deps;
  const user = await findUserById(db, userId);
  const org = user ? await findOrganization(db, user.orgId) : null;
  if (!user || !org) {
    throw new Error(`user ${userId} or their organization is missing`);
  }
  return presentMe(user, org);
}

export const authRoutes = new Hono<AppEnv>()
  .get('/state', async (c) => {
    const { db, config } = c.var.deps;
    const organizations = await countOrganizations(db);
    const body: AuthStateDto = { hasOrganization: organizations > 0, signupOpen: signupOpen(config.signup, organizations) };
    return c.json(body);
  })
  .post('/signup', async (c) => {
    const input = await readJson(c, SignUpSchema);
    const result = await signUp(c.var.deps, input);
    setSessionCookie(c, c.var.deps.config, result.token, result.expiresAt);
    c.var.log.info({ userId: result.userId, orgId: result.orgId }, 'organization created');
    return c.json(await loadMe(c, result.userId), 201);
  })
  .post('/login', async (c) => {
    const input = await readJson(c, LogInSchema);
    const { deps } = c.var;
    const result = await logIn(deps, input, clientIp(c, deps.config.trustProxy));
    setSessionCookie(c, deps.config, result.token, result.expiresAt);
    return c.json(await loadMe(c, result.userId));
  })
  .post('/logout', async (c) => {
    const auth = c.var.auth;
    if (auth) {
      await invalidateSession(c.var.deps.db, auth.session.id);
      c.var.deps.sessionEvents?.revoked([auth.session.id]);
    }
    clearSessionCookie(c, c.var.deps.config);
    return c.body(null, 204);
  })
  .post('/logout-all', async (c) => {
    const auth = requireAuth(c.var.auth);
    const ended = await invalidateUserSessions(c.var.deps.db, auth.user.id);
    c.var.deps.sessionEvents?.revoked(ended);
    clearSessionCookie(c, c.var.deps.config);
    return c.body(null, 204);
  });

export const meRoutes = new Hono<AppEnv>().get('/', async (c) => {
  const auth = requireAuth(c.var.auth);
  return c.json(await loadMe(c, auth.user.id));
});

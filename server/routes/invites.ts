/**
 * @module server/routes/invites
 * The invitee's side of an invite: preview and accept (no session needed; the token is the credential).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { InvitePreviewDto } from '../../sync/api';
import { setSessionCookie } from '../auth/cookie';
import { acceptInvite, previewInvite } from '../commands/invites';
import type { AppEnv } from '../context';
import { NameSchema, PasswordSchema } from '../schemas';
import { check, readJson } from '../validate';
import { loadMe } from './auth';

const TokenParamSchema = z.object({ token: z.string().regex(/^[a-z2-7]{32}$/, 'is not an invite token') });
const AcceptSchema = z.object({ name: NameSchema, password: PasswordSchema });

export const inviteRoutes = new Hono<AppEnv>()
  .get('/:token', async (c) => {
    const { token } = check(TokenParamSchema, c.req.param());
    const { invite, orgName, invitedByName } = await previewInvite(c.var.deps, token);
    const body: InvitePreviewDto = {
      email: invite.email,
      role: invite.role,
      orgName,
      invitedByName,
      expiresAt: invite.expiresAt.toISOString(),
    };
    return c.json(body);
  })
  .post('/:token/accept', async (c) => {
    const { token } = check(TokenParamSchema, c.req.param());
    const input = await readJson(c, AcceptSchema);
    const result = await acceptInvite(c.var.deps, token, input);
    setSessionCookie(c, c.var.deps.config, result.token, result.expiresAt);
    return c.json(await loadMe(c, result.userId), 201);
  });

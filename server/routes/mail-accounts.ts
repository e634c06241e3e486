/**
 * @module server/routes/mail-accounts
 * Provider presets, "test connection", connecting, changing and disconnecting mailboxes.
 */
import { Hono } from 'hono';
import { listAccountsOfOrg, listAccountsOfOwner } from '../../db/queries/mail-accounts';
import type { MailAccountListDto, PresetListDto } from '../../sync/api';
import {
  connectMailAccount,
  disconnectMailAccount,
  limitProbes,
  manageableAccount,
  testMailSettings,
} from '../commands/mail-accounts';
import { testMailAccountUpdate, updateMailAccountSettings } from '../commands/mail-account-settings';
import type { AppEnv } from '../context';
import { MailAccountSchema, MailAccountUpdateSchema } from '../mail/account-input';
import { PROVIDER_PRESETS } from '../mail/presets';
import { requireAdmin, requireAuth } from '../middleware/session';
import { presentMailAccount, presentPreset } from '../presenters/mail-account';
import { IdParamSchema } from '../schemas';
import { check, readJson } from '../validate';

export const mailAccountRoutes = new Hono<AppEnv>()
  .get('/presets', (c) => {
    requireAuth(c.var.auth);
    const body: PresetListDto = { presets: PROVIDER_PRESETS.map(presentPreset) };
    return c.json(body);
  })
  .post('/test-connection', async (c) => {
    const auth = requireAuth(c.var.auth);
    const input = await readJson(c, MailAccountSchema);
    await limitProbes(c.var.deps, auth);
    return c.json(await testMailSettings(c.var.deps, input));
  })
  .get('/accounts', async (c) => {
    const auth = requireAuth(c.var.auth);
    const accounts = await listAccountsOfOwner(c.var.deps.db, auth.user.id);
    const body: MailAccountListDto = { accounts: accounts.map(presentMailAccount) };
    return c.json(body);
  })
  .get('/accounts/all', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const accounts = await listAccountsOfOrg(c.var.deps.db, admin.user.orgId);
    const body: MailAccountListDto = { accounts: accounts.map(presentMailAccount) };
    return c.json(body);
  })
  .post('/accounts', async (c) => {
    const auth = requireAuth(c.var.auth);
    const input = await readJson(c, MailAccountSchema);
    const account = await connectMailAccount(c.var.deps, auth, input);
    c.var.log.info({ accountId: account.id, provider: account.provider }, 'mailbox connected');
    return c.json(presentMailAccount(account), 201);
  })
  .get('/accounts/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    return c.json(presentMailAccount(await manageableAccount(c.var.deps, auth, id)));
  })
  .patch('/accounts/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const input = await readJson(c, MailAccountUpdateSchema);
    const account = await updateMailAccountSettings(c.var.deps, auth, id, input);
    c.var.log.info({ accountId: id, changed: Object.keys(input) }, 'mailbox settings changed');
    return c.json(presentMailAccount(account));
  })
  .post('/accounts/:id/test-connection', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const input = await readJson(c, MailAccountUpdateSchema);
    return c.json(await testMailAccountUpdate(c.var.deps, auth, id, input));
  })
  .delete('/accounts/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    await disconnectMailAccount(c.var.deps, auth, id);
    c.var.log.info({ accountId: id }, 'mailbox disconnected');
    return c.body(null, 204);
  });

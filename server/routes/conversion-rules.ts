/**
 * @module server/routes/conversion-rules
 * The conversion rules admin, mounted under `/api/admin/conversion-rules`.
 * Admins only.
 */
import { Hono } from 'hono';
import type { ConversionRuleListDto } from '../../sync/conversion-api';
import { createRule, deleteRule, listRules, reorderRules, updateRule } from '../commands/conversion-rules';
import type { AppEnv } from '../context';
import { RuleInputSchema, RuleOrderSchema, RulePatchSchema } from '../conversion/rule-input';
import { requireAdmin } from '../middleware/session';
import { presentConversionRule } from '../presenters/conversion';
import { IdParamSchema } from '../schemas';
import { check, readJson } from '../validate';

export const conversionRuleRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const body: ConversionRuleListDto = { rules: (await listRules(c.var.deps, admin)).map(presentConversionRule) };
    return c.json(body);
  })
  .post('/', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const input = await readJson(c, RuleInputSchema);
    const rule = await createRule(c.var.deps, admin, input);
    c.var.log.info({ ruleId: rule.id }, 'conversion rule created');
    return c.json(presentConversionRule(rule), 201);
  })
  .put('/order', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { ids } = await readJson(c, RuleOrderSchema);
    const body: ConversionRuleListDto = { rules: (await reorderRules(c.var.deps, admin, ids)).map(presentConversionRule) };
    return c.json(body);
  })
  .patch('/:id', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const patch = await readJson(c, RulePatchSchema);
    return c.json(presentConversionRule(await updateRule(c.var.deps, admin, id, patch)));
  })
  .delete('/:id', async (c) => {
    const admin = requireAdmin(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    await deleteRule(c.var.deps, admin, id);
    c.var.log.info({ ruleId: id }, 'conversion rule deleted');
    return c.body(null, 204);
  });

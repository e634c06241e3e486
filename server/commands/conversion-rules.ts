/**
 * @module server/commands/conversion-rules
 * Admin changes to conversion rules. References (people, groups, mailboxes)
 * are checked against the organization here, so a rule never points at
 * someone from another organization; a person who leaves later simply makes
 * the rule skip (see server/conversion/pick-owner.ts).
 */
import {
  activePeopleAmong,
  deleteConversionRule,
  findConversionRule,
  groupsAmong,
  insertConversionRule,
  listConversionRules,
  lockConversionRuleIds,
  mailboxesAmong,
  setConversionRuleOrder,
  updateConversionRule,
  type ConversionRuleRow,
} from '../../db/queries/conversion-rules';
import type { Queryable } from '../../db/types';
import { compactCriteria, type ConversionCriteria, type OwnerStrategy } from '../../sync/conversion-rules';
import type { Auth, Deps } from '../context';
import type { RuleInput, RulePatch } from '../conversion/rule-input';
import { invalid, notFound } from '../errors';

/** Every person an owner strategy names, with the field that names them. */
function peopleOf(strategy: OwnerStrategy): { field: string; id: string }[] {
  if (strategy.kind === 'person') {
    return [{ field: 'ownerStrategy.userId', id: strategy.userId }];
  }
  if (strategy.kind === 'country') {
    const routed = strategy.routes.flatMap((r, i) =>
      r.target.kind === 'person' ? [{ field: `ownerStrategy.routes.${i}.target.userId`, id: r.target.userId }] : [],
    );
    return [...routed, { field: 'ownerStrategy.fallbackUserId', id: strategy.fallbackUserId }];
  }
  return [];
}

async function assertStrategyReferences(q: Queryable, orgId: string, strategy: OwnerStrategy): Promise<void> {
  const people = peopleOf(strategy);
  const active = await activePeopleAmong(q, orgId, people.map((p) => p.id));
  const missing = people.find((p) => !active.has(p.id));
  if (missing) {
    throw invalid(missing.field, `${missing.field}: no such active person in your organization`);
  }
  if (strategy.kind === 'round_robin' && strategy.pool.kind === 'group') {
    const groups = await groupsAmong(q, orgId, [strategy.pool.groupId]);
    if (!groups.has(strategy.pool.groupId)) {
      throw invalid('ownerStrategy.pool.groupId', 'ownerStrategy.pool.groupId: no such group in your organization');
    }
  }
}

async function assertCriteriaReferences(q: Queryable, orgId: string, criteria: ConversionCriteria): Promise<void> {
  const ids = criteria.accountIds ?? [];
  if (ids.length === 0) {
    return;
  }
  const known = await mailboxesAmong(q, orgId, ids);
  const index = ids.findIndex((id) => !known.has(id));
  if (index >= 0) {
    throw invalid(`criteria.accountIds.${index}`, `criteria.accountIds.${index}: no such mailbox in your organization`);
  }
}

async function ruleOrThrow(q: Queryable, orgId: string, id: string): Promise<ConversionRuleRow> {
  const rule = await findConversionRule(q, orgId, id);
  if (!rule) {
    throw notFound('Conversion rule');
  }
  return rule;
}

/** Lists the organization's rules, first rule first. */
export async function listRules(deps: Deps, admin: Auth): Promise<ConversionRuleRow[]> {
  return listConversionRules(deps.db, admin.user.orgId);
}

/**
 * Adds a rule at the end of the order. It applies to mail received from now on.
 * @throws {HttpError} 400 naming a field that points outside the organization.
 */
export async function createRule(deps: Deps, admin: Auth, input: RuleInput): Promise<ConversionRuleRow> {
  const orgId = admin.user.orgId;
  const criteria = compactCriteria(input.criteria);
  return deps.db.transaction(async (tx) => {
    await assertCriteriaReferences(tx, orgId, criteria);
    await assertStrategyReferences(tx, orgId, input.ownerStrategy);
    const id = crypto.randomUUID();
    await insertConversionRule(tx, {
      id,
      orgId,
      name: input.name,
      enabled: input.enabled ?? true,
      recordType: input.recordType,
      criteria,
      ownerStrategy: input.ownerStrategy,
    });
    return ruleOrThrow(tx, orgId, id);
  });
}

/**
 * Changes a rule (also enables or disables it).
 * @throws {HttpError} 404, 400 naming a bad field.
 */
export async function updateRule(deps: Deps, admin: Auth, id: string, patch: RulePatch): Promise<ConversionRuleRow> {
  const orgId = admin.user.orgId;
  const criteria = patch.criteria ? compactCriteria(patch.criteria) : undefined;
  return deps.db.transaction(async (tx) => {
    await ruleOrThrow(tx, orgId, id);
    if (criteria) {
      await assertCriteriaReferences(tx, orgId, criteria);
    }
    if (patch.ownerStrategy) {
      await assertStrategyReferences(tx, orgId, patch.ownerStrategy);
    }
    await updateConversionRule(tx, orgId, id, { ...patch, criteria });
    return ruleOrThrow(tx, orgId, id);
  });
}

/** @throws {HttpError} 404. */
export async function deleteRule(deps: Deps, admin: Auth, id: string): Promise<void> {
  if (!(await deleteConversionRule(deps.db, admin.user.orgId, id))) {
    throw notFound('Conversion rule');
  }
}

/**
 * Puts the rules in the given order.
 * @throws {HttpError} 400 `ids` unless it lists every rule of the organization exactly once.
 */
export async function reorderRules(deps: Deps, admin: Auth, ids: readonly string[]): Promise<ConversionRuleRow[]> {
  const orgId = admin.user.orgId;
  return deps.db.transaction(async (tx) => {
    const current = await lockConversionRuleIds(tx, orgId);
    const given = new Set(ids);
    const complete = given.size === ids.length && ids.length === current.length && current.every((id) => given.has(id));
    if (!complete) {
      throw invalid('ids', 'ids: list every conversion rule of your organization exactly once');
    }
    await setConversionRuleOrder(tx, orgId, ids);
    return listConversionRules(tx, orgId);
  });
}

/**
 * @module server/conversion/pick-owner
 * Who owns a record a rule creates. Runs inside the transaction that creates
 * the record, so a round-robin slot is only spent when a record is made.
 */
import {
  activeGroupMembers,
  activePeopleAmong,
  activeRoleMembers,
  takeRoundRobinSlot,
  type ConversionRuleRow,
} from '../../db/queries/conversion-rules';
import type { Queryable } from '../../db/types';
import { routeForCountry, type OwnerPool } from '../../sync/conversion-rules';

async function activePerson(q: Queryable, orgId: string, userId: string): Promise<string | null> {
  return (await activePeopleAmong(q, orgId, [userId])).has(userId) ? userId : null;
}

async function poolMembers(q: Queryable, orgId: string, pool: OwnerPool): Promise<string[]> {
  return pool.kind === 'role' ? activeRoleMembers(q, orgId, pool.role) : activeGroupMembers(q, orgId, pool.groupId);
}

/** The next member in turn; the cursor is one atomic increment, so concurrent picks never share a slot. */
async function roundRobin(q: Queryable, orgId: string, ruleId: string, pool: OwnerPool): Promise<string | null> {
  const members = await poolMembers(q, orgId, pool);
  if (members.length === 0) {
    return null;
  }
  const slot = await takeRoundRobinSlot(q, ruleId);
  return members[slot % members.length] ?? null;
}

/**
 * Picks the owner for a new record.
 * @param country the sender's country, if known (from the domain's ccTLD).
 * @returns an active person of the organization, or null when the strategy
 *   names nobody who is still active (the rule then does not fire).
 */
export async function pickOwner(q: Queryable, rule: ConversionRuleRow, country: string | null): Promise<string | null> {
  const strategy = rule.ownerStrategy;
  if (strategy.kind === 'person') {
    return activePerson(q, rule.orgId, strategy.userId);
  }
  if (strategy.kind === 'round_robin') {
    return roundRobin(q, rule.orgId, rule.id, strategy.pool);
  }
  const target = routeForCountry(strategy.routes, country);
  const routed =
    target?.kind === 'person'
      ? await activePerson(q, rule.orgId, target.userId)
      : target?.kind === 'role'
        ? await roundRobin(q, rule.orgId, rule.id, { kind: 'role', role: target.role })
        : null;
  return routed ?? activePerson(q, rule.orgId, strategy.fallbackUserId);
}

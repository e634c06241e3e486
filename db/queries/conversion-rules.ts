/**
 * @module db/queries/conversion-rules
 * Conversion rules (migration 0003): ordered per organization by `position`,
 * with a round-robin cursor and firing statistics.
 */
import type { ConversionCriteria, ConversionRecordType, OwnerStrategy } from '../../sync/conversion-rules';
import type { Queryable } from '../types';

export interface ConversionRuleRow {
  id: string;
  orgId: string;
  name: string;
  position: number;
  enabled: boolean;
  recordType: ConversionRecordType;
  criteria: ConversionCriteria;
  ownerStrategy: OwnerStrategy;
  roundRobinCursor: number;
  firedCount: number;
  lastFiredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `r.id, r.org_id as "orgId", r.name, r.position, r.enabled, r.record_type as "recordType",
  r.criteria, r.owner_strategy as "ownerStrategy", r.round_robin_cursor as "roundRobinCursor",
  r.fired_count as "firedCount", r.last_fired_at as "lastFiredAt", r.created_at as "createdAt", r.updated_at as "updatedAt"`;

/** An organization's rules, first rule first. */
export async function listConversionRules(q: Queryable, orgId: string): Promise<ConversionRuleRow[]> {
  return q.query<ConversionRuleRow>(
    `select ${COLUMNS} from conversion_rules r where r.org_id = $1 order by r.position, r.created_at, r.id`,
    [orgId],
  );
}

/** The enabled rules, in order: what arriving mail is checked against. */
export async function listEnabledConversionRules(q: Queryable, orgId: string): Promise<ConversionRuleRow[]> {
  return q.query<ConversionRuleRow>(
    `select ${COLUMNS} from conversion_rules r where r.org_id = $1 and r.enabled
     order by r.position, r.created_at, r.id`,
    [orgId],
  );
}

export async function findConversionRule(q: Queryable, orgId: string, id: string): Promise<ConversionRuleRow | null> {
  const rows = await q.query<ConversionRuleRow>(`select ${COLUMNS} from conversion_rules r where r.org_id = $1 and r.id = $2`, [
    orgId,
    id,
  ]);
  return rows[0] ?? null;
}

export interface NewConversionRule {
  id: string;
  orgId: string;
  name: string;
  enabled: boolean;
  recordType: ConversionRecordType;
  criteria: ConversionCriteria;
  ownerStrategy: OwnerStrategy;
}

/** Adds a rule after the organization's last one. */
export async function insertConversionRule(q: Queryable, rule: NewConversionRule): Promise<void> {
  await q.query(
    `insert into conversion_rules (id, org_id, name, position, enabled, record_type, criteria, owner_strategy)
     values ($1, $2, $3, (select coalesce(max(position), -1) + 1 from conversion_rules where org_id = $2), $4, $5,
       $6::text::jsonb, $7::text::jsonb)`,
    [rule.id, rule.orgId, rule.name, rule.enabled, rule.recordType, JSON.stringify(rule.criteria), JSON.stringify(rule.ownerStrategy)],
  );
}

export type ConversionRuleChanges = Partial<Pick<NewConversionRule, 'name' | 'enabled' | 'recordType' | 'criteria' | 'ownerStrategy'>>;

/** Changes a rule. @returns whether it exists. */
export async function updateConversionRule(q: Queryable, orgId: string, id: string, changes: ConversionRuleChanges): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    `update conversion_rules set
       name = coalesce($3, name),
       enabled = coalesce($4, enabled),
       record_type = coalesce($5, record_type),
       criteria = coalesce($6::text::jsonb, criteria),
       owner_strategy = coalesce($7::text::jsonb, owner_strategy),
       updated_at = now()
     where org_id = $1 and id = $2 returning id`,
    [
      orgId,
      id,
      changes.name ?? null,
      changes.enabled ?? null,
      changes.recordType ?? null,
      changes.criteria ? JSON.stringify(changes.criteria) : null,
      changes.ownerStrategy ? JSON.stringify(changes.ownerStrategy) : null,
    ],
  );
  return rows.length > 0;
}

/** Deletes a rule. @returns whether it existed. */
export async function deleteConversionRule(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query<{ id: string }>('delete from conversion_rules where org_id = $1 and id = $2 returning id', [orgId, id]);
  return rows.length > 0;
}

/** The organization's rule ids, locked so a concurrent reorder waits. */
export async function lockConversionRuleIds(q: Queryable, orgId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>('select id from conversion_rules where org_id = $1 order by id for update', [orgId]);
  return rows.map((r) => r.id);
}

/** Sets positions 0…n-1 in the order given. */
export async function setConversionRuleOrder(q: Queryable, orgId: string, ids: readonly string[]): Promise<void> {
  await q.query(
    `update conversion_rules r set position = o.ord - 1, updated_at = now()
     from unnest($2::uuid[]) with ordinality as o(id, ord)
     where r.org_id = $1 and r.id = o.id`,
    [orgId, ids],
  );
}

/**
 * Takes the rule's next round-robin slot. One atomic increment, so concurrent
 * firings (several processes) each get a different slot.
 */
export async function takeRoundRobinSlot(q: Queryable, ruleId: string): Promise<number> {
  const rows = await q.query<{ slot: number }>(
    'update conversion_rules set round_robin_cursor = round_robin_cursor + 1 where id = $1 returning round_robin_cursor - 1 as slot',
    [ruleId],
  );
  return rows[0]?.slot ?? 0;
}

/** Counts one record created by the rule. */
export async function recordRuleFired(q: Queryable, ruleId: string): Promise<void> {
  await q.query('update conversion_rules set fired_count = fired_count + 1, last_fired_at = now() where id = $1', [ruleId]);
}

/** Active people of a role, in a stable order (round-robin cycles through it). */
export async function activeRoleMembers(q: Queryable, orgId: string, role: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    'select id from users where org_id = $1 and role = $2 and active order by created_at, id',
    [orgId, role],
  );
  return rows.map((r) => r.id);
}

/** Active members of a group, in a stable order. */
export async function activeGroupMembers(q: Queryable, orgId: string, groupId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `select u.id from group_members gm join users u on u.id = gm.user_id
     where gm.group_id = $2 and u.org_id = $1 and u.active order by u.created_at, u.id`,
    [orgId, groupId],
  );
  return rows.map((r) => r.id);
}

/** Which of `ids` are active people of the organization. */
export async function activePeopleAmong(q: Queryable, orgId: string, ids: readonly string[]): Promise<Set<string>> {
  const rows = await q.query<{ id: string }>('select id from users where org_id = $1 and active and id = any($2::uuid[])', [
    orgId,
    ids,
  ]);
  return new Set(rows.map((r) => r.id));
}

/** Which of `ids` are groups of the organization. */
export async function groupsAmong(q: Queryable, orgId: string, ids: readonly string[]): Promise<Set<string>> {
  const rows = await q.query<{ id: string }>('select id from groups where org_id = $1 and id = any($2::uuid[])', [orgId, ids]);
  return new Set(rows.map((r) => r.id));
}

/** Which of `ids` are mailboxes of the organization. */
export async function mailboxesAmong(q: Queryable, orgId: string, ids: readonly string[]): Promise<Set<string>> {
  const rows = await q.query<{ id: string }>('select id from mail_accounts where org_id = $1 and id = any($2::uuid[])', [
    orgId,
    ids,
  ]);
  return new Set(rows.map((r) => r.id));
}

/**
 * @module tests/helpers/sync-policy-org
 * A small organization for the edit-policy suites, with private record
 * access so who-sees-what differs per person:
 *
 *   ana (author)  mailbox ana@…; threads `shared` (from the lead's address, Public sharing)
 *                 and `own` (from a stranger, only Ana sees it)
 *   ben           can access the lead (record share), so he sees Ana's `shared` threads
 *   dan           like Ben but deactivated
 *   cleo          owns the `hidden` thread and the `secret` lead; Ana sees neither
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/types';
import { insertTestMailbox, insertTestMessage } from './mail-rows';

export interface PolicyOrg {
  orgId: string;
  ana: string;
  ben: string;
  cleo: string;
  dan: string;
  /** Threads Ana, Ben and (inactive) Dan see. */
  shared: string[];
  /** A thread only Ana sees; its sender is `stranger`. */
  own: string;
  /** Cleo's thread; Ana cannot see it. */
  hidden: string;
  /** The lead Ana owns (shared with Ben and Dan). */
  lead: string;
  /** Cleo's lead, which Ana cannot access. */
  secretLead: string;
  /** Other party of Ana's `own` thread, not yet a record. */
  stranger: string;
  /** Other party of Cleo's hidden thread only. */
  hiddenParty: string;
}

async function addUser(db: Db, orgId: string, name: string, active = true): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into users (id, org_id, email, name, password_hash, role, active) values ($1, $2, $3, $4, 'x', 'rep', $5)`,
    [id, orgId, `${name}.${id.slice(0, 8)}@team.test`, name, active],
  );
  return id;
}

async function addLead(db: Db, orgId: string, ownerId: string, address: string, sharedWith: string[]): Promise<string> {
  const id = randomUUID();
  await db.query(`insert into records (id, org_id, type, owner_id, name) values ($1, $2, 'lead', $3, 'Lead')`, [id, orgId, ownerId]);
  await db.query(`insert into record_emails (org_id, address, record_type, record_id, is_primary) values ($1, $2, 'lead', $3, true)`, [
    orgId,
    address,
    id,
  ]);
  for (const userId of sharedWith) {
    await db.query('insert into record_shares (record_id, user_id) values ($1, $2)', [id, userId]);
  }
  return id;
}

/** Another person of the organization: with `seesLead`, the lead is shared with them, so they see Ana's `shared` threads. */
export async function addPolicyPerson(db: Db, org: PolicyOrg, options: { seesLead: boolean; active?: boolean }): Promise<string> {
  const id = await addUser(db, org.orgId, 'extra', options.active ?? true);
  if (options.seesLead) {
    await db.query('insert into record_shares (record_id, user_id) values ($1, $2)', [org.lead, id]);
  }
  return id;
}

/** Writes a fresh organization; each call is independent (ids and addresses are unique). */
export async function seedPolicyOrg(db: Db, sharedThreads = 3): Promise<PolicyOrg> {
  const orgId = randomUUID();
  const tag = orgId.slice(0, 8);
  await db.query(`insert into organizations (id, name, record_access) values ($1, 'Policy org', 'private')`, [orgId]);
  const ana = await addUser(db, orgId, 'ana');
  const ben = await addUser(db, orgId, 'ben');
  const cleo = await addUser(db, orgId, 'cleo');
  const dan = await addUser(db, orgId, 'dan', false);
  const anaBox = await insertTestMailbox(db, { orgId, ownerId: ana, address: `ana.${tag}@team.test` });
  const cleoBox = await insertTestMailbox(db, { orgId, ownerId: cleo, address: `cleo.${tag}@team.test` });
  await db.query(`insert into email_sharing (user_id, org_id, mode) values ($1, $2, 'public')`, [ana, orgId]);
  const buyer = `buyer.${tag}@acme.test`;
  const stranger = `stranger.${tag}@else.test`;
  const hiddenParty = `secret.${tag}@hidden.test`;
  const lead = await addLead(db, orgId, ana, buyer, [ben, dan]);
  const secretLead = await addLead(db, orgId, cleo, hiddenParty, []);
  const shared: string[] = [];
  for (let i = 0; i < sharedThreads; i++) {
    const { threadId } = await insertTestMessage(db, { orgId, accountId: anaBox, from: buyer, to: [`ana.${tag}@team.test`], subject: `Quote ${i}` });
    shared.push(threadId);
  }
  const own = (await insertTestMessage(db, { orgId, accountId: anaBox, from: stranger, to: [`ana.${tag}@team.test`], subject: 'Hello' })).threadId;
  const hidden = (await insertTestMessage(db, { orgId, accountId: cleoBox, from: hiddenParty, to: [`cleo.${tag}@team.test`], subject: 'Secret' }))
    .threadId;
  return { orgId, ana, ben, cleo, dan, shared, own, hidden, lead, secretLead, stranger, hiddenParty };
}

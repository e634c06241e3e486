/**
 * @module server/conversion/apply-rules
 * Conversion rules over a freshly stored batch: an inbound message whose
 * sender matches no record (lead, contact, account or deal) and meets an
 * enabled rule's criteria becomes a lead or contact, decided by the first
 * such rule in order.
 *
 * Never a duplicate: the record id is uuidv5(org, address), inserted with
 * `on conflict do nothing`, so the same sender twice in a batch, two
 * processes, or a replayed batch all end on one record; a rule's fired count
 * moves only in the transaction that created the record.
 *
 * Only mail received after the rule was created counts: a new rule must not
 * turn years of backfilled history into leads.
 *
 * The sender's country (for the record and for routing by country) is the
 * one the organization's records on the sender's domain have, else the
 * domain's country-code TLD.
 */
import type { Logger } from 'pino';
import { listEnabledConversionRules, recordRuleFired, type ConversionRuleRow } from '../../db/queries/conversion-rules';
import { addressHasRecord, insertConvertedRecord, knownCountryOfDomain } from '../../db/queries/conversions';
import type { Db, Queryable } from '../../db/types';
import { guessPerson, isFreeMailDomain } from '../../sync/conversion-guess';
import { domainOf } from '../../sync/sharing';
import { matchesCriteria, type RuleMessage } from '../../sync/conversion-rules';
import { recordIdFor } from '../../sync/uuidv5';
import { createLogger } from '../logger';
import type { ChangeSink } from '../sync/projection/changes';
import { pickOwner } from './pick-owner';

/** A stored batch, as the ingest pipeline knows it. */
export interface StoredBatch {
  accountId: string;
  folderId: string;
  uidvalidity: number;
  uids: readonly number[];
}

export interface RuleFiring {
  ruleId: string;
  recordId: string;
  messageId: string;
}

interface Candidate extends RuleMessage {
  messageId: string;
  orgId: string;
  fromName: string | null;
  receivedAt: Date;
  sentAt: Date | null;
}

/**
 * Mail whose Date header is this much older than the rule is history (an
 * import, an APPEND of old mail), even if the server received it just now.
 */
const HISTORY_SLACK_MS = 24 * 3_600_000;

/**
 * Whether a message arrived once the rule existed. IMAP's INTERNALDATE (our
 * `receivedAt`) has whole seconds, so the rule's time is cut to its second:
 * mail that arrived in the second the rule was made counts as after it.
 */
export function arrivedAfter(rule: Pick<ConversionRuleRow, 'createdAt'>, m: Pick<Candidate, 'receivedAt' | 'sentAt'>): boolean {
  const created = Math.floor(rule.createdAt.getTime() / 1000) * 1000;
  return m.receivedAt.getTime() >= created && (m.sentAt ?? m.receivedAt).getTime() >= created - HISTORY_SLACK_MS;
}

/** Inbound messages of the batch from a sender no record has, oldest UID first. */
async function candidates(db: Db, batch: StoredBatch): Promise<Candidate[]> {
  return db.query<Candidate>(
    `select m.id as "messageId", m.org_id as "orgId", m.account_id as "accountId", m.from_address as "from",
       m.from_name as "fromName", m.subject, m.text_body as text, m.received_at as "receivedAt", m.sent_at as "sentAt",
       coalesce((select array_agg(distinct p.address) from message_participants p
         where p.message_id = m.id and p.role in ('to', 'cc', 'bcc')), '{}') as recipients
     from message_locations l
     join mail_folders f on f.id = l.folder_id
     join messages m on m.id = l.message_id
     join mail_accounts a on a.id = m.account_id
     where l.folder_id = $1 and f.account_id = $2 and l.uidvalidity = $3 and l.uid = any($4::bigint[])
       and m.direction = 'inbound' and m.from_address is not null and m.from_address <> a.email
       and not exists (select 1 from mail_account_addresses own where own.account_id = a.id and own.address = m.from_address)
       and not exists (select 1 from record_emails re where re.org_id = m.org_id and re.address = m.from_address)
     order by l.uid`,
    [batch.folderId, batch.accountId, batch.uidvalidity, batch.uids],
  );
}

/**
 * A country better than the ccTLD's: the one the organization's records on
 * the sender's business domain have (a .com customer whose account is in
 * France is French). A consumer domain says nothing about its users.
 */
async function knownCountry(q: Queryable, orgId: string, address: string): Promise<string | null> {
  const domain = domainOf(address);
  return isFreeMailDomain(domain) ? null : knownCountryOfDomain(q, orgId, domain);
}

/** Thrown inside the transaction to undo a round-robin slot when no record was created. */
class NotCreated extends Error {}

type Outcome = 'created' | 'exists' | 'no_owner';

async function fire(db: Db, rule: ConversionRuleRow, m: Candidate): Promise<Outcome> {
  const recordId = recordIdFor(m.orgId, m.from);
  try {
    return await db.transaction(async (tx) => {
      if (await addressHasRecord(tx, m.orgId, m.from)) {
        return 'exists';
      }
      const guess = guessPerson(m.from, m.fromName);
      const country = (await knownCountry(tx, m.orgId, m.from)) ?? guess.country;
      const ownerId = await pickOwner(tx, rule, country);
      if (!ownerId) {
        return 'no_owner';
      }
      const outcome = await insertConvertedRecord(tx, {
        id: recordId,
        orgId: m.orgId,
        type: rule.recordType,
        ownerId,
        ...guess,
        country,
        source: 'rule',
        createdBy: null,
        address: m.from,
      });
      if (outcome !== 'created') {
        throw new NotCreated(outcome);
      }
      await recordRuleFired(tx, rule.id);
      return 'created';
    });
  } catch (error) {
    if (error instanceof NotCreated) {
      return 'exists';
    }
    throw error;
  }
}

/**
 * Applies the organization's enabled rules to a stored batch.
 * @param onRuleError called when one rule fails (say, a person it names was
 *   deleted); that rule is skipped for the rest of the batch and the others
 *   still apply. Without it, the error is thrown.
 * @returns the records created, one per new sender at most.
 */
export async function applyConversionRules(
  db: Db,
  batch: StoredBatch,
  onRuleError?: (error: unknown, ruleId: string) => void,
): Promise<RuleFiring[]> {
  if (batch.uids.length === 0) {
    return [];
  }
  const [account] = await db.query<{ orgId: string }>('select org_id as "orgId" from mail_accounts where id = $1', [batch.accountId]);
  const rules = account ? await listEnabledConversionRules(db, account.orgId) : [];
  if (rules.length === 0) {
    return [];
  }
  const firings: RuleFiring[] = [];
  const settled = new Set<string>();
  const broken = new Set<string>();
  const attempt = async (rule: ConversionRuleRow, m: Candidate): Promise<Outcome | 'skip'> => {
    try {
      return arrivedAfter(rule, m) && matchesCriteria(rule.criteria, m) ? await fire(db, rule, m) : 'skip';
    } catch (error) {
      if (!onRuleError) {
        throw error;
      }
      broken.add(rule.id);
      onRuleError(error, rule.id);
      return 'skip';
    }
  };
  for (const m of await candidates(db, batch)) {
    if (settled.has(m.from)) {
      continue;
    }
    for (const rule of rules) {
      const outcome = broken.has(rule.id) ? 'skip' : await attempt(rule, m);
      if (outcome === 'skip' || outcome === 'no_owner') {
        continue;
      }
      settled.add(m.from);
      if (outcome === 'created') {
        firings.push({ ruleId: rule.id, recordId: recordIdFor(m.orgId, m.from), messageId: m.messageId });
      }
      break;
    }
  }
  return firings;
}

let fallbackLog: Logger | null = null;

/**
 * The ingest hook: applies the rules after a batch is stored, and never
 * throws, because a broken rule must not stop mail from syncing.
 * @param deps `log` is optional for the CLI import, which has no logger of its own.
 */
export async function applyRulesAfterBatch(
  deps: { db: Db; log?: Logger; changes?: ChangeSink | undefined },
  accountId: string,
  folder: { id: string },
  uidvalidity: number,
  messages: readonly { uid: number }[],
  _checkpoint?: unknown,
): Promise<void> {
  const log = deps.log ?? (fallbackLog ??= createLogger('warn', process.stderr));
  try {
    const uids = messages.map((m) => m.uid);
    const firings = await applyConversionRules(deps.db, { accountId, folderId: folder.id, uidvalidity, uids }, (err, ruleId) =>
      log.error({ err, accountId, ruleId }, 'conversion rule failed; the other rules still apply'),
    );
    firings.forEach((f) => deps.changes?.publish({ kind: 'record-created', recordId: f.recordId }));
    if (firings.length > 0) {
      log.info({ accountId, records: firings.map((f) => f.recordId) }, 'conversion rules created records');
    }
  } catch (err) {
    log.error({ err, accountId, folderId: folder.id }, 'conversion rules failed; sync goes on');
  }
}

/**
 * @module server/sync/policy/conversions
 * "Convert this address to a lead/contact", asked through the document
 * (`conversions`, address → {type, hlc, status: 'pending'}) and answered by
 * the server in the same key ({status: 'done', recordId} or 'refused' with a
 * reason). The address must be an other party of a message the person can
 * see. The record gets the deterministic id of the organization and address
 * (sync/uuidv5), so people converting one sender offline meet on one record.
 * The answer is logged with the request, so a replayed request gets the
 * same answer and a forged answer is put back.
 */
import {
  findConvertibleMessage,
  findMessageWithOtherParty,
  findPersonRecordIdByAddress,
  insertConvertedRecord,
} from '../../../db/queries/conversions';
import { findAccessibleRecord } from '../../../db/queries/records';
import { insertSyncWrites, latestLoggedValues, syncWriteKey } from '../../../db/queries/sync-writes';
import type { Queryable } from '../../../db/types';
import { guessPerson } from '../../../sync/conversion-guess';
import { MAPS, type ConversionDoc } from '../../../sync/doc/schema';
import { normalizeRecordAddress, recordIdFor } from '../../../sync/uuidv5';
import { displayNameOf } from '../../commands/convert-sender';
import { checkStamp, loggedStamp } from './stamps';
import { OUTCOMES, REASONS, type AppliedChange, type MapDecision, type Reason, type ReviewScope, type Verdict } from './types';
import { loggable, refused, stampRefusal, unreplayed } from './verdicts';

const MAX_ADDRESS = 320;
const ADDRESS = /^[^@\s]+@[^@\s]+$/;

interface Request {
  address: string;
  logKey: string;
  type: 'lead' | 'contact';
  hlc: string;
}

interface Answer {
  doc: ConversionDoc;
  reason: Reason | null;
  created: boolean;
}

function isAddressKey(key: string): boolean {
  return key.length <= MAX_ADDRESS && ADDRESS.test(key) && normalizeRecordAddress(key) === key;
}

/** A well-formed pending request, or the reason it is not one. */
function asRequest(scope: ReviewScope, address: string, value: unknown): Request | Reason {
  if (!scope.allowed) {
    return REASONS.authorInactive;
  }
  const r = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  if ((r.type !== 'lead' && r.type !== 'contact') || r.status !== 'pending' || typeof r.hlc !== 'string') {
    return REASONS.notARequest;
  }
  const stamp = checkStamp(r.hlc, scope.nowMs);
  if (!stamp.ok) {
    return stampRefusal(stamp.reason);
  }
  return { address, logKey: syncWriteKey(MAPS.conversions, address), type: r.type, hlc: r.hlc };
}

const done = (req: Request, recordId: string, type: 'lead' | 'contact', reason: Reason | null, created: boolean): Answer => ({
  doc: { type, hlc: req.hlc, status: 'done', recordId, reason: null },
  reason,
  created,
});

const refusedAnswer = (req: Request, reason: Reason): Answer => ({
  doc: { type: req.type, hlc: req.hlc, status: 'refused', recordId: null, reason },
  reason,
  created: false,
});

/** The record the address already belongs to, as an answer: done when the person can access it. */
async function existing(q: Queryable, scope: ReviewScope & { orgId: string }, req: Request, recordId: string): Promise<Answer> {
  const record = await findAccessibleRecord(q, scope.userId, scope.orgId, recordId);
  if (!record || (record.type !== 'lead' && record.type !== 'contact')) {
    return refusedAnswer(req, REASONS.alreadyConverted);
  }
  return done(req, recordId, record.type, REASONS.existed, false);
}

/** Creates (or finds) the lead/contact, as convertSender does, inside the review's transaction. */
async function convert(q: Queryable, scope: ReviewScope & { orgId: string }, req: Request): Promise<Answer> {
  const messageId = await findMessageWithOtherParty(q, scope.userId, scope.orgId, req.address);
  const message = messageId ? await findConvertibleMessage(q, scope.userId, messageId) : null;
  if (!message) {
    return refusedAnswer(req, REASONS.notAnOtherParty);
  }
  const known = await findPersonRecordIdByAddress(q, scope.orgId, req.address);
  if (known) {
    return existing(q, scope, req, known);
  }
  const id = recordIdFor(scope.orgId, req.address);
  // A savepoint, so losing a race for the address undoes only this record, not the whole review.
  await q.query('savepoint shoal_convert');
  const outcome = await insertConvertedRecord(q, {
    id,
    orgId: scope.orgId,
    type: req.type,
    ownerId: scope.userId,
    ...guessPerson(req.address, displayNameOf(message, req.address)),
    source: 'conversion',
    createdBy: scope.userId,
    address: req.address,
  });
  if (outcome === 'address_taken') {
    await q.query('rollback to savepoint shoal_convert');
    const winner = await findPersonRecordIdByAddress(q, scope.orgId, req.address);
    return winner ? existing(q, scope, req, winner) : refusedAnswer(req, REASONS.alreadyConverted);
  }
  await q.query('release savepoint shoal_convert');
  return outcome === 'exists' ? existing(q, scope, req, id) : done(req, id, req.type, null, true);
}

/** Decides the `conversions` requests of one update inside the review's transaction. */
export async function decideConversions(
  q: Queryable,
  scope: ReviewScope,
  writes: ReadonlyMap<string, readonly unknown[]>,
  touched: ReadonlySet<string>,
): Promise<MapDecision> {
  const verdicts: Verdict[] = [];
  const requests: Request[] = [];
  for (const key of touched) {
    for (const value of writes.get(key) ?? []) {
      const hlc = loggedStamp(typeof value === 'object' && value !== null ? (value as { hlc?: unknown }).hlc : undefined);
      const request = isAddressKey(key) ? asRequest(scope, key, value) : REASONS.invalidAddress;
      if (typeof request === 'string') {
        verdicts.push(refused(syncWriteKey(MAPS.conversions, key), hlc, request));
        continue;
      }
      requests.push(request);
    }
  }
  const fresh = (await unreplayed(q, scope.userId, requests, (r) => ({ key: r.logKey, hlc: r.hlc }))).sort((a, b) => (a.hlc < b.hlc ? -1 : 1));
  const applied: AppliedChange[] = [];
  const orgId = scope.orgId;
  for (const req of fresh) {
    if (orgId === null) {
      break;
    }
    const answer = await convert(q, { ...scope, orgId }, req);
    const outcome = answer.doc.status === 'done' ? OUTCOMES.applied : OUTCOMES.refused;
    verdicts.push({ key: req.logKey, hlc: req.hlc, value: answer.doc, outcome, reason: answer.reason });
    if (answer.created && answer.doc.recordId) {
      applied.push({ kind: 'record-created', recordId: answer.doc.recordId });
    }
  }
  await insertSyncWrites(q, scope.userId, loggable(verdicts));
  const addresses = [...touched].filter(isAddressKey);
  const answers = await latestLoggedValues(q, scope.userId, addresses.map((a) => syncWriteKey(MAPS.conversions, a)));
  const canonical = new Map<string, unknown>([...touched].map((key) => [key, answers.get(syncWriteKey(MAPS.conversions, key))]));
  return { verdicts, canonical, applied };
}

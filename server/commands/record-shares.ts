/**
 * @module server/commands/record-shares
 * Explicit record shares (they grant access under Private record access)
 * and the caller's own Custom-mode "share emails" flag for a record.
 */
import { groupsOfOrg, listRecordShares, peopleOfOrg, replaceRecordShares, type RecordSharesRow } from '../../db/queries/record-links';
import { findShareFlag, writeShareFlag } from '../../db/queries/share-flags';
import { clampStamp, formatStamp, Hlc, tryParseStamp, type Stamp } from '../../sync/hlc';
import type { ShareFlagDto } from '../../sync/records-api';
import type { Auth, Deps } from '../context';
import { forbidden, invalid } from '../errors';
import { publishing } from '../sync/projection/changes';
import { accessibleRecordOrThrow, canManageRecord } from './records';

/** The writer id on stamps the server issues for writes that came without one. */
const SERVER_NODE = 'server';

/**
 * Replaces who a record is explicitly shared with.
 * @throws {HttpError} 404, 403 unless owner / above owner / admin, 400 naming `userIds.N` or `groupIds.N`.
 */
export async function setRecordShares(deps: Deps, auth: Auth, id: string, shares: RecordSharesRow): Promise<RecordSharesRow> {
  const { orgId } = auth.user;
  const wanted = { userIds: [...new Set(shares.userIds)], groupIds: [...new Set(shares.groupIds)] };
  return deps.db.transaction(async (tx) => {
    const record = await accessibleRecordOrThrow(tx, auth, id);
    if (!(await canManageRecord(tx, auth, record))) {
      throw forbidden('Only the owner, their managers or an admin can share this record');
    }
    const people = await peopleOfOrg(tx, orgId, wanted.userIds);
    const badUser = shares.userIds.findIndex((u) => !people.has(u));
    if (badUser >= 0) {
      throw invalid(`userIds.${badUser}`, `userIds.${badUser}: no such person in your organization`);
    }
    const groups = await groupsOfOrg(tx, orgId, wanted.groupIds);
    const badGroup = shares.groupIds.findIndex((g) => !groups.has(g));
    if (badGroup >= 0) {
      throw invalid(`groupIds.${badGroup}`, `groupIds.${badGroup}: no such group in your organization`);
    }
    await replaceRecordShares(tx, id, wanted);
    return listRecordShares(tx, id);
  }).then(publishing(deps.changes, { kind: 'record-changed', recordId: id, orgId }));
}

/**
 * Sets the caller's "share emails" flag for a record they can access. Last
 * writer wins by HLC: a stamp from the client is clamped to five minutes
 * ahead of the server's clock (a device with a wrong clock cannot win every
 * future write); without one the server stamps the write after the stored
 * stamp, so it wins. A write that loses changes nothing and reports the
 * stored value with `applied: false`.
 * @throws {HttpError} 404, 400 naming `hlc`.
 */
export async function setShareFlag(
  deps: Deps,
  auth: Auth,
  recordId: string,
  input: { shared: boolean; hlc?: string | undefined },
): Promise<ShareFlagDto> {
  const nowMs = deps.now().getTime();
  let remote: Stamp | null = null;
  if (input.hlc !== undefined) {
    const parsed = tryParseStamp(input.hlc);
    if (!parsed) {
      throw invalid('hlc', 'hlc: must be a stamp like 000001732000000:0000:device-1');
    }
    remote = clampStamp(parsed, nowMs).stamp;
  }
  const ownerId = auth.user.id;
  return deps.db.transaction(async (tx) => {
    await accessibleRecordOrThrow(tx, auth, recordId);
    const stored = await findShareFlag(tx, ownerId, recordId);
    const last = stored ? (tryParseStamp(stored.hlc) ?? undefined) : undefined;
    const stamp = remote ?? new Hlc({ node: SERVER_NODE, now: () => nowMs, ...(last ? { last } : {}) }).tick();
    const hlc = formatStamp(stamp);
    const applied = await writeShareFlag(tx, { ownerId, recordId, shared: input.shared, hlc });
    if (applied) {
      return { recordId, shared: input.shared, hlc, applied };
    }
    const canonical = (await findShareFlag(tx, ownerId, recordId)) ?? { shared: input.shared, hlc };
    return { recordId, shared: canonical.shared, hlc: canonical.hlc, applied: false };
  }).then(publishing(deps.changes, (flag) => (flag.applied ? { kind: 'share-flag', ownerId, recordId } : null)));
}

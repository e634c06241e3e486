/**
 * An update that assigns many people at once (an offline batch): past
 * PER_VIEWER_ASSIGNEES the policy asks about every (assignee, thread) pair
 * and the author's threads in one set-shaped statement. It must decide as
 * the per-person statements do: only an active person who can see the
 * thread, only on a thread the author sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEditPolicy } from '../../server/sync/policy/edit-policy';
import { PER_VIEWER_ASSIGNEES } from '../../server/sync/policy/fields';
import { fieldKey, MAPS } from '../../sync/doc/schema';
import { formatStamp } from '../../sync/hlc';
import { driverCases, type TestDb } from '../helpers/db';
import { authorOf, connectClient, createTestHost, mapJson, syncClient } from '../helpers/hosted-doc';
import { addPolicyPerson, seedPolicyOrg } from '../helpers/sync-policy-org';

const NOW = Date.UTC(2026, 0, 15, 12);
const at = (wallMs: number) => formatStamp({ wallMs, counter: 0, node: 'dev-a' });
const times = <T>(n: number, make: () => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, make));

describe.each(driverCases())('sync edit policy, many assignees in one update, on $name', ({ create }) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await create();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('assigns only active people who see the thread, on threads the author sees', async () => {
    const org = await seedPolicyOrg(t.db, 12);
    const seeing = [org.ben, ...(await times(5, () => addPolicyPerson(t.db, org, { seesLead: true })))];
    const blind = [org.cleo, ...(await times(2, () => addPolicyPerson(t.db, org, { seesLead: false })))];
    const inactive = [org.dan, await addPolicyPerson(t.db, org, { seesLead: true, active: false })];
    const assignees = [...seeing, ...blind, ...inactive];
    expect(new Set(assignees).size).toBeGreaterThan(PER_VIEWER_ASSIGNEES);
    const host = createTestHost(org.ana);
    const client = connectClient(host);
    const fields = client.getMap(MAPS.fields);
    org.shared.forEach((thread, i) => fields.set(fieldKey(thread, 'assignee'), { v: assignees[i % assignees.length], hlc: at(NOW) }));
    // Ben sees Cleo's thread no more than Ana does; Ana cannot assign it either way.
    fields.set(fieldKey(org.hidden, 'assignee'), { v: org.ben, hlc: at(NOW) });
    await syncClient(client, host, createEditPolicy({ db: t.db, now: () => NOW }), authorOf(org.ana));

    const expected = Object.fromEntries(
      org.shared.flatMap((thread, i) => {
        const assignee = assignees[i % assignees.length] as string;
        return seeing.includes(assignee) ? [[fieldKey(thread, 'assignee'), { v: assignee, hlc: at(NOW) }]] : [];
      }),
    );
    const stored = await t.db.query<{ thread_id: string; value: string }>(
      `select thread_id, value from thread_fields where field = 'assignee' and thread_id in (select id from threads where org_id = $1)`,
      [org.orgId],
    );
    expect(Object.fromEntries(stored.map((r) => [fieldKey(r.thread_id, 'assignee'), { v: r.value, hlc: at(NOW) }]))).toEqual(expected);
    expect(mapJson(client, MAPS.fields)).toEqual(expected);
    const reasons = await t.db.query<{ reason: string; n: number }>(
      `select reason, count(*)::int as n from sync_writes where user_id = $1 and outcome = 'refused' group by reason order by reason`,
      [org.ana],
    );
    const refusedAssignees = org.shared.filter((_, i) => !seeing.includes(assignees[i % assignees.length] as string)).length;
    expect(reasons).toEqual([
      { reason: 'assignee_cannot_see_thread', n: refusedAssignees },
      { reason: 'thread_not_visible', n: 1 },
    ]);
  });
});

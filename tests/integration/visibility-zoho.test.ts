/**
 * Zoho CRM's own documented email-sharing scenarios (a)–(d), by name, on
 * every layer at once: the independent oracle, the pure module and the SQL
 * filter every mail API uses, on a real database of each driver, plus the
 * "Why can I see this?" answer over HTTP. The pure rules' wording is in
 * tests/unit/visibility-scenarios.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visibleMessageIdsSql } from '../../db/queries/visibility';
import { createSession } from '../../server/auth/session';
import type { VisibilityExplanationDto } from '../../sync/mail-api';
import { Visibility } from '../../sync/visibility';
import { client, createHarness, type Client, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { storeModelOrgs, type StoredOrg } from '../helpers/visibility-db';
import { ownAddress, personId, toVisibilityMessage, toVisibilityOrg, type ModelOrg, type ModelPerson, type ModelRecord } from '../helpers/visibility-model';
import { oracleAudience } from '../helpers/visibility-oracle';

type Sharing = ModelPerson['sharing'];

const person = (name: string, manager: number | null, sharing: Sharing = null): ModelPerson => ({ name, manager, groups: [], sharing, role: manager === null ? 'admin' : 'rep' });
const contact = (name: string, owner: number, addresses: string[], sharedPeople: number[] = []): ModelRecord => ({
  type: 'contact',
  name,
  owner,
  addresses,
  sharedPeople,
  sharedGroups: [],
});
const publicMailbox = (excluded: string[] = [], chosen: number[] | null = null): Sharing => ({
  mode: 'public',
  excluded,
  audience: chosen ? { people: chosen, groups: [] } : null,
});
const PRIVATE: Sharing = { mode: 'private', excluded: [], audience: null };

/** Who sees each message, by name, according to the oracle, the module and the SQL, which must all agree. */
interface Layers {
  oracle: string[][];
  module: string[][];
  sql: string[][];
}

describe.each(driverCases())("Zoho's documented scenarios on $name", ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db);
    api = client(h.app);
  });
  afterAll(async () => {
    await t.drop();
  });

  async function audiences(org: ModelOrg): Promise<{ stored: StoredOrg; layers: Layers }> {
    const [stored] = (await t.db.transaction((tx) => storeModelOrgs(tx, [org]))) as [StoredOrg];
    const rows = await t.db.query<{ viewer: string; message: string }>(
      `select v.id as viewer, x.id as message from users v cross join lateral ${visibleMessageIdsSql('v.id', 'v.org_id')} x where v.org_id = $1`,
      [stored.orgId],
    );
    const nameOf = (i: number) => org.people[i]?.name as string;
    const visibility = new Visibility(toVisibilityOrg(org));
    const layers: Layers = { oracle: [], module: [], sql: [] };
    org.messages.forEach((m, i) => {
      const people = org.people.map((_, p) => p);
      layers.oracle.push([...oracleAudience(org, m)].map(nameOf).sort());
      layers.module.push(people.filter((p) => visibility.canSee(personId(p), toVisibilityMessage(org, m))).map(nameOf).sort());
      layers.sql.push(people.filter((p) => rows.some((r) => r.viewer === stored.people[p] && r.message === stored.messages[i])).map(nameOf).sort());
    });
    return { stored, layers };
  }

  /** Every layer says `expected` (by message, the names who see it). */
  async function expectAudiences(org: ModelOrg, expected: string[][]): Promise<StoredOrg> {
    const { stored, layers } = await audiences(org);
    const sortedExpected = expected.map((names) => [...names].sort());
    expect(layers).toEqual({ oracle: sortedExpected, module: sortedExpected, sql: sortedExpected });
    return stored;
  }

  async function why(stored: StoredOrg, viewer: number, message: number): Promise<VisibilityExplanationDto> {
    const { token } = await createSession(t.db, stored.people[viewer] as string, h.deps.now());
    const res = await api.get<VisibilityExplanationDto>(`/api/messages/${stored.messages[message]}/visibility`, { cookie: `shoal_session=${token}` });
    expect(res.status).toBe(200);
    return res.body;
  }

  it('(a) Mark shares only with Claire; Karl, manager of both, sees Mark’s mail too; Adam, their peer, does not', async () => {
    const [KARL, MARK, CLAIRE] = [0, 1, 2];
    const org: ModelOrg = {
      recordAccess: 'public',
      people: [person('Karl', null), person('Mark', KARL, publicMailbox([], [CLAIRE])), person('Claire', KARL), person('Adam', KARL)],
      groupCount: 0,
      records: [contact('Acme', MARK, ['buyer@acme.com'])],
      flags: [],
      messages: [{ owner: MARK, sentFromShoal: false, participants: [ownAddress(MARK), 'buyer@acme.com'] }],
    };
    const stored = await expectAudiences(org, [['Claire', 'Karl', 'Mark']]);
    expect((await why(stored, KARL, 0)).steps).toEqual([
      "Mark's mailbox is Public",
      'you are above Mark in the reporting line',
      'you can access contact Acme because records are public in your organization',
      'no domains are excluded',
    ]);
    expect((await why(stored, CLAIRE, 0)).steps).toContain('Mark shares with chosen people only, and you are one of them');
  });

  it('(b) John (Public, own domain excluded) keeps his conversation with the CEO from Adam, and the CEO’s Private copy stays hers', async () => {
    const [CEO, JOHN, ADAM] = [0, 1, 2];
    const org: ModelOrg = {
      recordAccess: 'public',
      people: [
        person('CEO', null, PRIVATE),
        person('John', CEO, publicMailbox(['corp.test'])),
        person('Adam', CEO, publicMailbox()),
        // John and Adam are managers: each has a report.
        person('Jill', JOHN),
        person('Abe', ADAM),
      ],
      groupCount: 0,
      // John adds the CEO's address as a contact; a customer is a contact of the CEO's too.
      records: [contact('The CEO', JOHN, [ownAddress(CEO)]), contact('Big Customer', CEO, ['buyer@acme.com'])],
      flags: [],
      messages: [
        { owner: JOHN, sentFromShoal: false, participants: [ownAddress(JOHN), ownAddress(CEO)] },
        { owner: CEO, sentFromShoal: false, participants: [ownAddress(JOHN), ownAddress(CEO)], inbound: true },
        // The CEO's mail with the customer, linked to a record everyone can access: only Private keeps it hers.
        { owner: CEO, sentFromShoal: false, participants: [ownAddress(CEO), 'buyer@acme.com'] },
      ],
    };
    const stored = await expectAudiences(org, [['John'], ['CEO'], ['CEO']]);
    expect((await why(stored, JOHN, 0)).rule).toBe('owner');
    // Were the CEO's mailbox Public, her mail with the customer would reach everyone: Private is what hides it.
    const ceoPublic = { ...org, people: org.people.map((p, i) => (i === CEO ? { ...p, sharing: publicMailbox() } : p)) };
    await expectAudiences(ceoPublic, [['John'], ['CEO'], ['Abe', 'Adam', 'CEO', 'Jill', 'John']]);
  });

  it('(c) mail sent from Shoal is visible to everyone who can access the contact, even from a Private mailbox', async () => {
    const [LEAD, RITA, SAM] = [0, 1, 2];
    const org: ModelOrg = {
      recordAccess: 'private',
      people: [person('Lead', null), person('Rita', LEAD, PRIVATE), person('Sam', LEAD), person('Outsider', null)],
      groupCount: 0,
      records: [contact('Acme', RITA, ['buyer@acme.com'], [SAM])],
      flags: [],
      messages: [
        { owner: RITA, sentFromShoal: true, participants: [ownAddress(RITA), 'buyer@acme.com'] },
        { owner: RITA, sentFromShoal: false, participants: ['buyer@acme.com', ownAddress(RITA)], inbound: true },
      ],
    };
    const stored = await expectAudiences(org, [['Lead', 'Rita', 'Sam'], ['Rita']]);
    expect((await why(stored, SAM, 0)).steps).toEqual([
      'Rita sent this from Shoal, which shares it with everyone who can access the record',
      'you can access contact Acme because it is shared with you',
    ]);
  });

  it('(d) an excluded customer domain keeps that customer’s mail with its owner under Public; other customers’ mail is shared', async () => {
    const REP = 1;
    const org: ModelOrg = {
      recordAccess: 'public',
      people: [person('Boss', null), person('Rep', 0, publicMailbox(['acme.com'])), person('Peer', 0)],
      groupCount: 0,
      records: [contact('Acme', REP, ['buyer@acme.com']), contact('Beta', REP, ['cto@beta.io'])],
      flags: [],
      messages: [
        { owner: REP, sentFromShoal: false, participants: ['buyer@acme.com', ownAddress(REP)], inbound: true },
        { owner: REP, sentFromShoal: false, participants: ['cto@beta.io', ownAddress(REP)], inbound: true },
        // A subdomain of an excluded domain is excluded too.
        { owner: REP, sentFromShoal: false, participants: [ownAddress(REP), 'cto@beta.io', 'ops@eu.acme.com'] },
      ],
    };
    const stored = await expectAudiences(org, [['Rep'], ['Boss', 'Peer', 'Rep'], ['Rep']]);
    expect((await why(stored, 2, 1)).steps).toEqual([
      "Rep's mailbox is Public",
      'you can access contact Beta because records are public in your organization',
      'beta.io is not excluded',
    ]);
  });
});

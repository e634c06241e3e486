/**
 * Zoho CRM's own documented email-sharing scenarios, by name, through the
 * pure rules and their explanation.
 */
import { describe, expect, it } from 'vitest';
import { linkMessage } from '../../sync/sharing';
import { explain, type ExplainNames } from '../../sync/visibility-explain';
import { Visibility, type SharingSetting, type VisibilityOrg, type VisibilityRecord } from '../../sync/visibility';

interface Scenario {
  people: Record<string, string | null>;
  records: (VisibilityRecord & { name: string; addresses: string[] })[];
  sharing: Record<string, SharingSetting>;
  recordAccess?: VisibilityOrg['recordAccess'];
}

function build(s: Scenario) {
  const org: VisibilityOrg = {
    recordAccess: s.recordAccess ?? 'public',
    people: Object.entries(s.people).map(([id, managerId]) => ({ id, managerId, groupIds: [] })),
    records: s.records,
    sharing: new Map(Object.entries(s.sharing)),
    shareFlags: [],
  };
  const visibility = new Visibility(org);
  const byAddress = new Map<string, string[]>();
  s.records.forEach((r) => r.addresses.forEach((a) => byAddress.set(a, [...(byAddress.get(a) ?? []), r.id])));
  const names: ExplainNames = {
    person: (id) => id,
    record: (id) => {
      const r = s.records.find((x) => x.id === id) as Scenario['records'][number];
      return { type: 'contact', name: r.name, ownerId: r.ownerId };
    },
  };
  const message = (ownerId: string, participants: string[], sentFromShoal = false) => ({
    ownerId,
    sentFromShoal,
    ...linkMessage(participants, [`${ownerId.toLowerCase()}@zylker.com`], byAddress),
  });
  return { visibility, names, message };
}

const contact = (id: string, ownerId: string, name: string, addresses: string[]) => ({
  id,
  ownerId,
  name,
  addresses,
  sharedWithUserIds: [],
  sharedWithGroupIds: [],
});

describe("Zoho's documented email-sharing scenarios", () => {
  it('(a) Mark shares only with Claire; Karl, manager of both, sees it too; Adam, their peer, does not', () => {
    const { visibility, names, message } = build({
      people: { Karl: null, Mark: 'Karl', Claire: 'Karl', Adam: 'Karl' },
      records: [contact('acme', 'Mark', 'Acme', ['buyer@acme.com'])],
      sharing: { Mark: { mode: 'public', excludedDomains: [], audience: { userIds: ['Claire'], groupIds: [] } } },
    });
    const mail = message('Mark', ['mark@zylker.com', 'buyer@acme.com']);
    expect(visibility.audience(mail).sort()).toEqual(['Claire', 'Karl', 'Mark']);
    expect(explain(visibility, names, 'Karl', mail).steps).toEqual([
      "Mark's mailbox is Public",
      'you are above Mark in the reporting line',
      'you can access contact Acme because records are public in your organization',
      'no domains are excluded',
    ]);
    expect(explain(visibility, names, 'Adam', mail)).toMatchObject({ visible: false, rule: 'not_in_audience' });
  });

  it("(b) John's conversation with the CEO stays private from Adam, and so does the CEO's own copy", () => {
    const { visibility, names, message } = build({
      people: { CEO: null, John: 'CEO', Adam: 'CEO' },
      records: [contact('ceo', 'John', 'The CEO', ['ceo@zylker.com'])],
      sharing: {
        John: { mode: 'public', excludedDomains: ['zylker.com'], audience: null },
        CEO: { mode: 'private', excludedDomains: [], audience: null },
      },
    });
    const johnsCopy = message('John', ['john@zylker.com', 'ceo@zylker.com']);
    const ceosCopy = message('CEO', ['ceo@zylker.com', 'john@zylker.com']);
    expect(visibility.canSee('Adam', johnsCopy)).toBe(false);
    expect(visibility.canSee('Adam', ceosCopy)).toBe(false);
    expect(explain(visibility, names, 'Adam', johnsCopy).steps).toEqual([
      "John's mailbox is Public",
      'zylker.com is an excluded domain, so this message stays with John',
    ]);
    expect(visibility.audience(johnsCopy)).toEqual(['John']);
  });

  it('(c) mail sent from Shoal is visible to everyone who can access the contact, even from a Private mailbox', () => {
    const { visibility, names, message } = build({
      people: { Lead: null, Rita: 'Lead', Sam: 'Lead', Outsider: null },
      recordAccess: 'private',
      records: [{ ...contact('acme', 'Rita', 'Acme', ['buyer@acme.com']), sharedWithUserIds: ['Sam'] }],
      sharing: { Rita: { mode: 'private', excludedDomains: [], audience: null } },
    });
    const sent = message('Rita', ['rita@zylker.com', 'buyer@acme.com'], true);
    const received = message('Rita', ['rita@zylker.com', 'buyer@acme.com'], false);
    expect(visibility.audience(sent).sort()).toEqual(['Lead', 'Rita', 'Sam']);
    expect(visibility.audience(received)).toEqual(['Rita']);
    expect(explain(visibility, names, 'Sam', sent).steps).toEqual([
      "Rita sent this from Shoal, which shares it with everyone who can access the record",
      'you can access contact Acme because it is shared with you',
    ]);
  });

  it("(d) an excluded customer domain keeps that customer's mail with its owner; other customers' mail is shared", () => {
    const { visibility, message } = build({
      people: { Boss: null, Rep: 'Boss', Peer: 'Boss' },
      records: [contact('acme', 'Rep', 'Acme', ['buyer@acme.com']), contact('beta', 'Rep', 'Beta', ['cto@beta.io'])],
      sharing: { Rep: { mode: 'public', excludedDomains: ['acme.com'], audience: null } },
    });
    const acme = message('Rep', ['rep@zylker.com', 'buyer@acme.com']);
    const beta = message('Rep', ['rep@zylker.com', 'cto@beta.io']);
    expect(visibility.audience(acme)).toEqual(['Rep']);
    expect(visibility.audience(beta).sort()).toEqual(['Boss', 'Peer', 'Rep']);
  });
});

/**
 * "Why can I see this?": every rule of the visibility module and every way
 * to access a record, in the words a person reads, and always the same
 * verdict as canSee.
 */
import { describe, expect, it } from 'vitest';
import { linkMessage } from '../../sync/sharing';
import { explain, type ExplainNames } from '../../sync/visibility-explain';
import { Visibility, type SharingSetting, type VisibilityOrg } from '../../sync/visibility';

const PEOPLE = { Boss: null, Mark: 'Boss', Rita: 'Boss', Gia: null, Sam: null, Out: null } as const;
type Name = keyof typeof PEOPLE;

const RECORDS = [
  { id: 'acme', name: 'Acme', ownerId: 'Rita', address: 'buyer@acme.com', sharedWithUserIds: ['Sam'], sharedWithGroupIds: ['field'] },
  { id: 'beta', name: 'Beta', ownerId: 'Mark', address: 'cto@beta.io', sharedWithUserIds: [], sharedWithGroupIds: [] },
];

interface Case {
  name: string;
  viewer: Name;
  /** Mark's setting; Custom with nothing excluded when absent. */
  mark?: Partial<SharingSetting>;
  flagged?: string[];
  to?: string;
  sentFromShoal?: boolean;
  visible: boolean;
  rule: string;
  steps: string[];
}

function decideCase(c: Case) {
  const org: VisibilityOrg = {
    recordAccess: 'private',
    people: Object.entries(PEOPLE).map(([id, managerId]) => ({ id, managerId, groupIds: id === 'Gia' ? ['field'] : [] })),
    records: RECORDS,
    sharing: new Map([['Mark', { mode: 'custom' as const, excludedDomains: [], audience: null, ...c.mark }]]),
    shareFlags: (c.flagged ?? []).map((recordId) => ({ ownerId: 'Mark', recordId })),
  };
  const visibility = new Visibility(org);
  const names: ExplainNames = {
    person: (id) => id,
    record: (id) => {
      const r = RECORDS.find((x) => x.id === id) as (typeof RECORDS)[number];
      return { type: 'contact', name: r.name, ownerId: r.ownerId };
    },
  };
  const byAddress = new Map(RECORDS.map((r) => [r.address, [r.id]]));
  const message = { ownerId: 'Mark', sentFromShoal: c.sentFromShoal ?? false, ...linkMessage(['mark@zylker.com', c.to ?? 'buyer@acme.com'], ['mark@zylker.com'], byAddress) };
  return { visibility, result: explain(visibility, names, c.viewer, message), canSee: visibility.canSee(c.viewer, message) };
}

const MARK_PUBLIC = { mode: 'public' } as const;
const CHOSEN_SAM = { userIds: ['Sam'], groupIds: [] };

const CASES: Case[] = [
  { name: 'own mail', viewer: 'Mark', visible: true, rule: 'owner', steps: ['this is your own mailbox'] },
  {
    name: 'mail about no record',
    viewer: 'Boss',
    to: 'someone@else.org',
    mark: MARK_PUBLIC,
    visible: false,
    rule: 'no_record',
    steps: ['this message is linked to no CRM record', 'so only Mark, its mailbox owner, sees it'],
  },
  {
    name: 'a record the viewer cannot access',
    viewer: 'Out',
    mark: MARK_PUBLIC,
    visible: false,
    rule: 'no_record_access',
    steps: ['this message is about contact Acme', 'you cannot access any of them'],
  },
  {
    name: 'sent from Shoal out of a Private mailbox, record shared with a group',
    viewer: 'Gia',
    mark: { mode: 'private' },
    sentFromShoal: true,
    visible: true,
    rule: 'sent_from_shoal',
    steps: ['Mark sent this from Shoal, which shares it with everyone who can access the record', 'you can access contact Acme because it is shared with a group you belong to'],
  },
  {
    name: 'a Private mailbox, even for the manager',
    viewer: 'Boss',
    mark: { mode: 'private' },
    visible: false,
    rule: 'private_mailbox',
    steps: ["Mark's mailbox is Private", 'a Private mailbox is seen by its owner only, not even by managers'],
  },
  {
    name: 'an excluded domain, even for the manager',
    viewer: 'Boss',
    mark: { mode: 'public', excludedDomains: ['acme.com'] },
    visible: false,
    rule: 'excluded_domain',
    steps: ["Mark's mailbox is Public", 'acme.com is an excluded domain, so this message stays with Mark'],
  },
  {
    name: 'the manager, unflagged Custom mail about the owner’s own record',
    viewer: 'Boss',
    to: 'cto@beta.io',
    visible: true,
    rule: 'manager',
    steps: ["Mark's mailbox is Custom", 'you are above Mark in the reporting line', "you can access contact Beta as Mark's manager", 'no domains are excluded'],
  },
  {
    name: 'Custom, a flagged record shared with the viewer',
    viewer: 'Sam',
    flagged: ['acme'],
    visible: true,
    rule: 'custom_flagged',
    steps: ["Mark's mailbox is Custom", 'Mark shares emails about contact Acme', 'you can access contact Acme because it is shared with you', 'no domains are excluded'],
  },
  {
    name: 'Custom with a chosen audience and an excluded domain the message does not touch',
    viewer: 'Sam',
    flagged: ['acme'],
    mark: { audience: CHOSEN_SAM, excludedDomains: ['gmail.com'] },
    visible: true,
    rule: 'custom_flagged',
    steps: [
      "Mark's mailbox is Custom",
      'Mark shares emails about contact Acme',
      'Mark shares with chosen people only, and you are one of them',
      'you can access contact Acme because it is shared with you',
      'acme.com is not excluded',
    ],
  },
  {
    name: 'Custom, no flag',
    viewer: 'Sam',
    visible: false,
    rule: 'custom_not_flagged',
    steps: ["Mark's mailbox is Custom", 'Mark has not shared emails about any record of this message that you can access'],
  },
  {
    name: 'Public, the record’s owner',
    viewer: 'Rita',
    mark: MARK_PUBLIC,
    visible: true,
    rule: 'public',
    steps: ["Mark's mailbox is Public", 'you can access contact Acme as its owner', 'no domains are excluded'],
  },
  {
    name: 'Public for chosen people, one of them',
    viewer: 'Sam',
    mark: { mode: 'public', audience: CHOSEN_SAM },
    visible: true,
    rule: 'public',
    steps: ["Mark's mailbox is Public", 'Mark shares with chosen people only, and you are one of them', 'you can access contact Acme because it is shared with you', 'no domains are excluded'],
  },
  {
    name: 'Public for chosen people, not one of them',
    viewer: 'Rita',
    mark: { mode: 'public', audience: CHOSEN_SAM },
    visible: false,
    rule: 'not_in_audience',
    steps: ["Mark's mailbox is Public", 'Mark shares with chosen people only, and you are not one of them'],
  },
];

describe('why can I see this?', () => {
  it.each(CASES)('$rule: $name', (c) => {
    const { result, canSee } = decideCase(c);
    expect(result).toEqual({ visible: c.visible, rule: c.rule, steps: c.steps });
    expect(result.visible).toBe(canSee);
  });

  it('covers every rule the module can decide by', () => {
    const rules = new Set(CASES.map((c) => c.rule));
    expect([...rules].sort()).toEqual(
      ['custom_flagged', 'custom_not_flagged', 'excluded_domain', 'manager', 'no_record', 'no_record_access', 'not_in_audience', 'owner', 'private_mailbox', 'public', 'sent_from_shoal'].sort(),
    );
  });
});

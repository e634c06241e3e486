/**
 * @module sync/visibility
 * Who may see which message: Zoho SalesInbox's email sharing, as one pure
 * function. The projection and every mail API decide through this module or
 * through its SQL twin (db/queries/visibility.ts), which a property test keeps
 * equal to it and to an independent oracle.
 *
 * The rules, in the order they are checked:
 * 1. The owner of the mailbox always sees their own mail.
 * 2. Mail linked to no record the viewer can access is not shared with them
 *    (mail linked to no record at all stays with its owner).
 * 3. Mail sent from Shoal is shared with everyone who can access a linked record.
 * 4. A Private mailbox shares nothing, not even with managers.
 * 5. A message one of whose other parties is in an excluded domain (or a
 *    subdomain of one) is private too.
 * 6. Managers (direct or indirect) see their subordinates' remaining mail.
 * 7. Custom shares a message when the owner flagged one of the accessible
 *    linked records; Public shares every message. When the owner chose an
 *    audience, only those people and groups get the shared mail.
 *
 * Excluded domains and the audience are part of the setting in both Custom
 * and Public, so tightening Public → Custom → Private never widens what
 * anyone sees (a property the tests check).
 */
import { DEFAULT_SHARING_MODE, type RecordAccess, type SharingMode } from './sharing';

export interface VisibilityPerson {
  id: string;
  managerId: string | null;
  groupIds: readonly string[];
}

export interface VisibilityRecord {
  id: string;
  ownerId: string;
  sharedWithUserIds: readonly string[];
  sharedWithGroupIds: readonly string[];
}

export interface SharingSetting {
  mode: SharingMode;
  excludedDomains: readonly string[];
  /** Null shares with everyone who can access the record. */
  audience: { userIds: readonly string[]; groupIds: readonly string[] } | null;
}

export interface VisibilityOrg {
  recordAccess: RecordAccess;
  people: readonly VisibilityPerson[];
  records: readonly VisibilityRecord[];
  /** By mailbox owner; a person without an entry has the default setting. */
  sharing: ReadonlyMap<string, SharingSetting>;
  /** Custom mode "share emails" flags that are on. */
  shareFlags: readonly { ownerId: string; recordId: string }[];
}

/** What the rules need to know about a message. */
export interface VisibilityMessage {
  ownerId: string;
  sentFromShoal: boolean;
  /** Records linked through the message's other parties. */
  recordIds: readonly string[];
  /** Domains of the message's other parties. */
  otherPartyDomains: readonly string[];
}

/** Why a viewer can access a record. */
export const ACCESS_REASONS = {
  publicOrg: 'public_org',
  owner: 'record_owner',
  aboveOwner: 'above_record_owner',
  sharedUser: 'shared_with_user',
  sharedGroup: 'shared_with_group',
} as const;
export type AccessReason = (typeof ACCESS_REASONS)[keyof typeof ACCESS_REASONS];

export interface RecordGrant {
  recordId: string;
  access: AccessReason;
}

/** The rule that decided, with what it needed to say why. */
export type Decision =
  | { visible: true; rule: 'owner' }
  | { visible: false; rule: 'no_record' }
  | { visible: false; rule: 'no_record_access' }
  | ({ visible: true; rule: 'sent_from_shoal' } & RecordGrant)
  | { visible: false; rule: 'private_mailbox' }
  | { visible: false; rule: 'excluded_domain'; domain: string }
  | ({ visible: true; rule: 'manager' } & RecordGrant)
  | ({ visible: true; rule: 'custom_flagged'; chosen: boolean } & RecordGrant)
  | { visible: false; rule: 'custom_not_flagged' }
  | ({ visible: true; rule: 'public'; chosen: boolean } & RecordGrant)
  | { visible: false; rule: 'not_in_audience' };

/** Whether `domain` is `excluded` or one of its subdomains. */
export function domainMatches(domain: string, excluded: string): boolean {
  return domain === excluded || domain.endsWith(`.${excluded}`);
}

const DEFAULT_SETTING: SharingSetting = { mode: DEFAULT_SHARING_MODE, excludedDomains: [], audience: null };

/** An organization's visibility rules, indexed once and asked many times. */
export class Visibility {
  private readonly managerOf = new Map<string, string | null>();
  private readonly groupsOf = new Map<string, ReadonlySet<string>>();
  private readonly records = new Map<string, VisibilityRecord>();
  private readonly flags = new Set<string>();
  private readonly above = new Map<string, ReadonlySet<string>>();

  constructor(private readonly org: VisibilityOrg) {
    for (const p of org.people) {
      this.managerOf.set(p.id, p.managerId);
      this.groupsOf.set(p.id, new Set(p.groupIds));
    }
    for (const r of org.records) {
      this.records.set(r.id, r);
    }
    for (const f of org.shareFlags) {
      this.flags.add(`${f.ownerId}|${f.recordId}`);
    }
  }

  /** Everyone above a person in the reporting line (stops safely on a loop). */
  managersOf(personId: string): ReadonlySet<string> {
    const cached = this.above.get(personId);
    if (cached) {
      return cached;
    }
    const chain = new Set<string>();
    let current = this.managerOf.get(personId) ?? null;
    while (current !== null && current !== personId && !chain.has(current)) {
      chain.add(current);
      current = this.managerOf.get(current) ?? null;
    }
    this.above.set(personId, chain);
    return chain;
  }

  isAbove(viewerId: string, personId: string): boolean {
    return this.managersOf(personId).has(viewerId);
  }

  private inGroup(viewerId: string, groupIds: readonly string[]): boolean {
    const mine = this.groupsOf.get(viewerId);
    return mine !== undefined && groupIds.some((g) => mine.has(g));
  }

  /** Why the viewer can access a record, or null when they cannot. */
  recordAccess(viewerId: string, recordId: string): AccessReason | null {
    const record = this.records.get(recordId);
    if (!record) {
      return null;
    }
    if (this.org.recordAccess === 'public') {
      return ACCESS_REASONS.publicOrg;
    }
    if (record.ownerId === viewerId) {
      return ACCESS_REASONS.owner;
    }
    if (this.isAbove(viewerId, record.ownerId)) {
      return ACCESS_REASONS.aboveOwner;
    }
    if (record.sharedWithUserIds.includes(viewerId)) {
      return ACCESS_REASONS.sharedUser;
    }
    return this.inGroup(viewerId, record.sharedWithGroupIds) ? ACCESS_REASONS.sharedGroup : null;
  }

  settingOf(ownerId: string): SharingSetting {
    return this.org.sharing.get(ownerId) ?? DEFAULT_SETTING;
  }

  isFlagged(ownerId: string, recordId: string): boolean {
    return this.flags.has(`${ownerId}|${recordId}`);
  }

  /** The rule that decides whether `viewerId` may see `message`. */
  decide(viewerId: string, message: VisibilityMessage): Decision {
    if (viewerId === message.ownerId) {
      return { visible: true, rule: 'owner' };
    }
    if (message.recordIds.length === 0) {
      return { visible: false, rule: 'no_record' };
    }
    const grants = this.grants(viewerId, message.recordIds);
    const first = grants[0];
    if (!first) {
      return { visible: false, rule: 'no_record_access' };
    }
    if (message.sentFromShoal) {
      return { visible: true, rule: 'sent_from_shoal', ...first };
    }
    const setting = this.settingOf(message.ownerId);
    if (setting.mode === 'private') {
      return { visible: false, rule: 'private_mailbox' };
    }
    const excluded = this.excludedDomain(setting, message.otherPartyDomains);
    if (excluded !== null) {
      return { visible: false, rule: 'excluded_domain', domain: excluded };
    }
    if (this.isAbove(viewerId, message.ownerId)) {
      return { visible: true, rule: 'manager', ...first };
    }
    const shared = setting.mode === 'custom' ? grants.find((g) => this.isFlagged(message.ownerId, g.recordId)) : first;
    if (!shared) {
      return { visible: false, rule: 'custom_not_flagged' };
    }
    const rule = setting.mode === 'custom' ? 'custom_flagged' : 'public';
    if (setting.audience === null) {
      return { visible: true, rule, chosen: false, ...shared };
    }
    return this.isChosen(viewerId, setting.audience) ? { visible: true, rule, chosen: true, ...shared } : { visible: false, rule: 'not_in_audience' };
  }

  canSee(viewerId: string, message: VisibilityMessage): boolean {
    return this.decide(viewerId, message).visible;
  }

  /** Everyone in `candidates` (the organization's people by default) who may see the message. */
  audience(message: VisibilityMessage, candidates: readonly string[] = this.org.people.map((p) => p.id)): string[] {
    return candidates.filter((id) => this.canSee(id, message));
  }

  private grants(viewerId: string, recordIds: readonly string[]): RecordGrant[] {
    const out: RecordGrant[] = [];
    for (const recordId of recordIds) {
      const access = this.recordAccess(viewerId, recordId);
      if (access !== null) {
        out.push({ recordId, access });
      }
    }
    return out;
  }

  private excludedDomain(setting: SharingSetting, domains: readonly string[]): string | null {
    for (const domain of domains) {
      if (setting.excludedDomains.some((x) => domainMatches(domain, x))) {
        return domain;
      }
    }
    return null;
  }

  private isChosen(viewerId: string, audience: NonNullable<SharingSetting['audience']>): boolean {
    return audience.userIds.includes(viewerId) || this.inGroup(viewerId, audience.groupIds);
  }
}

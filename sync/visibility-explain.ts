/**
 * @module sync/visibility-explain
 * "Why can I see this?": a decision of the visibility rules as the chain of
 * facts that led to it, in words a person can check.
 */
import type { RecordType } from './sharing';
import { ACCESS_REASONS, type AccessReason, type Decision, type Visibility, type VisibilityMessage } from './visibility';

export interface ExplainNames {
  person(id: string): string;
  record(id: string): { type: RecordType; name: string; ownerId: string };
}

export interface Explanation {
  visible: boolean;
  rule: Decision['rule'];
  steps: string[];
}

const MODE_WORDS = { private: 'Private', custom: 'Custom', public: 'Public' } as const;

function accessStep(names: ExplainNames, recordId: string, access: AccessReason): string {
  const record = names.record(recordId);
  const label = `${record.type} ${record.name}`;
  switch (access) {
    case ACCESS_REASONS.publicOrg:
      return `you can access ${label} because records are public in your organization`;
    case ACCESS_REASONS.owner:
      return `you can access ${label} as its owner`;
    case ACCESS_REASONS.aboveOwner:
      return `you can access ${label} as ${names.person(record.ownerId)}'s manager`;
    case ACCESS_REASONS.sharedUser:
      return `you can access ${label} because it is shared with you`;
    case ACCESS_REASONS.sharedGroup:
      return `you can access ${label} because it is shared with a group you belong to`;
  }
}

function domainsStep(message: VisibilityMessage, excluded: readonly string[]): string {
  if (excluded.length === 0) {
    return 'no domains are excluded';
  }
  const domains = message.otherPartyDomains;
  return `${domains.join(', ')} ${domains.length === 1 ? 'is' : 'are'} not excluded`;
}

/** Explains why `viewerId` may or may not see `message`. */
export function explain(visibility: Visibility, names: ExplainNames, viewerId: string, message: VisibilityMessage): Explanation {
  const decision = visibility.decide(viewerId, message);
  const owner = names.person(message.ownerId);
  const setting = visibility.settingOf(message.ownerId);
  const mailbox = `${owner}'s mailbox is ${MODE_WORDS[setting.mode]}`;
  const steps = ((): string[] => {
    switch (decision.rule) {
      case 'owner':
        return ['this is your own mailbox'];
      case 'no_record':
        return ['this message is linked to no CRM record', `so only ${owner}, its mailbox owner, sees it`];
      case 'no_record_access':
        return [`this message is about ${message.recordIds.map((id) => recordLabel(names, id)).join(', ')}`, 'you cannot access any of them'];
      case 'sent_from_shoal':
        return [
          `${owner} sent this from Shoal, which shares it with everyone who can access the record`,
          accessStep(names, decision.recordId, decision.access),
        ];
      case 'private_mailbox':
        return [mailbox, 'a Private mailbox is seen by its owner only, not even by managers'];
      case 'excluded_domain':
        return [mailbox, `${decision.domain} is an excluded domain, so this message stays with ${owner}`];
      case 'manager':
        return [
          mailbox,
          `you are above ${owner} in the reporting line`,
          accessStep(names, decision.recordId, decision.access),
          domainsStep(message, setting.excludedDomains),
        ];
      case 'custom_flagged':
        return [
          mailbox,
          `${owner} shares emails about ${recordLabel(names, decision.recordId)}`,
          ...(decision.chosen ? [`${owner} shares with chosen people only, and you are one of them`] : []),
          accessStep(names, decision.recordId, decision.access),
          domainsStep(message, setting.excludedDomains),
        ];
      case 'custom_not_flagged':
        return [mailbox, `${owner} has not shared emails about any record of this message that you can access`];
      case 'public':
        return [
          mailbox,
          ...(decision.chosen ? [`${owner} shares with chosen people only, and you are one of them`] : []),
          accessStep(names, decision.recordId, decision.access),
          domainsStep(message, setting.excludedDomains),
        ];
      case 'not_in_audience':
        return [mailbox, `${owner} shares with chosen people only, and you are not one of them`];
    }
  })();
  return { visible: decision.visible, rule: decision.rule, steps };
}

function recordLabel(names: ExplainNames, id: string): string {
  const record = names.record(id);
  return `${record.type} ${record.name}`;
}

/**
 * @module server/commands/explain-visibility
 * "Why can I see this?": the rule chain for one message the viewer may see,
 * from the pure rules over the facts about that message.
 */
import { visibleMessagesByIds } from '../../db/queries/mail-views';
import { loadVisibilityFacts, type VisibilityFacts } from '../../db/queries/visibility-facts';
import type { VisibilityExplanationDto } from '../../sync/mail-api';
import { explain, type ExplainNames } from '../../sync/visibility-explain';
import { Visibility, type SharingSetting } from '../../sync/visibility';
import type { Auth, Deps } from '../context';
import { notFound } from '../errors';

function toVisibility(facts: VisibilityFacts): Visibility {
  const sharing = new Map<string, SharingSetting>();
  if (facts.sharing) {
    sharing.set(facts.message.ownerId, facts.sharing);
  }
  return new Visibility({
    recordAccess: facts.recordAccess,
    people: facts.people,
    records: facts.records,
    sharing,
    shareFlags: facts.flaggedRecordIds.map((recordId) => ({ ownerId: facts.message.ownerId, recordId })),
  });
}

function namesOf(facts: VisibilityFacts): ExplainNames {
  const people = new Map(facts.people.map((p) => [p.id, p.name]));
  const records = new Map(facts.records.map((r) => [r.id, r]));
  return {
    person: (id) => people.get(id) ?? 'someone',
    record: (id) => records.get(id) ?? { type: 'contact', name: 'a record', ownerId: '' },
  };
}

/**
 * Explains why the viewer sees a message. A message they may not see is a
 * 404, like every other read, so the answer never confirms it exists.
 */
export async function explainVisibility(deps: Deps, auth: Auth, messageId: string): Promise<VisibilityExplanationDto> {
  const viewer = auth.user;
  const [visible] = await visibleMessagesByIds(deps.db, { viewerId: viewer.id, orgId: viewer.orgId }, [messageId]);
  const facts = visible ? await loadVisibilityFacts(deps.db, viewer.orgId, messageId) : null;
  if (!facts) {
    throw notFound('Message');
  }
  const result = explain(toVisibility(facts), namesOf(facts), viewer.id, facts.message);
  if (!result.visible) {
    // The SQL filter and the pure rules are proven equal by property tests; a split here is a bug worth a loud log.
    deps.log.error({ messageId, viewerId: viewer.id, rule: result.rule }, 'visibility: SQL showed a message the rules hide');
    throw notFound('Message');
  }
  return result;
}

/**
 * @module tests/helpers/visibility-expected
 * What each mail API should answer for a model organization stored by
 * tests/helpers/visibility-db.ts, derived from the independent oracle and the
 * raw model only (never from the code under test): who sees which message,
 * which records each message is about, who can access which record, a
 * record's Emails scope and what a search matches.
 */
import { ownAddresses, type ModelOrg } from './visibility-model';
import { accessors, oracleAudience } from './visibility-oracle';

export interface Expected {
  /** Message indexes each person may see. */
  visible: Set<number>[];
  /** Record indexes each message is about (through its other parties). */
  linked: number[][];
  /** People (by index) who can access each record. */
  access: Set<number>[];
}

export function expectedFor(model: ModelOrg): Expected {
  const audiences = model.messages.map((m) => oracleAudience(model, m));
  const linked = model.messages.map((m) => {
    const own = ownAddresses(model, m.owner);
    const others = m.participants.filter((a) => !own.includes(a));
    return model.records.flatMap((r, i) => (r.addresses.some((a) => others.includes(a)) ? [i] : []));
  });
  return {
    visible: model.people.map((_, p) => new Set(audiences.flatMap((a, i) => (a.has(p) ? [i] : [])))),
    linked,
    access: model.records.map((r) => accessors(model, r)),
  };
}

/**
 * The records whose mail a record's Emails list shows: itself, an account's
 * contacts and deals, a deal's contacts and its account.
 */
export function emailsScope(model: ModelOrg, record: number): Set<number> {
  const r = model.records[record];
  const scope = new Set([record]);
  model.records.forEach((x, i) => {
    if (x.account === record) {
      scope.add(i);
    }
  });
  if (r?.type === 'deal') {
    (r.contacts ?? []).forEach((c) => scope.add(c));
    if (r.account !== null && r.account !== undefined) {
      scope.add(r.account);
    }
  }
  return scope;
}

/** The texts a stored message is searched by (visibility-db writes them). */
export function searchableText(model: ModelOrg, i: number): string[] {
  return [`Subject m${i}`, `snippet m${i}`, `body token m${i}`, model.messages[i]?.participants[0] ?? ''];
}

/** Message indexes in `among` whose text contains `q`, ignoring case. */
export function matching(model: ModelOrg, among: Iterable<number>, q: string): number[] {
  const needle = q.toLowerCase();
  return [...among].filter((i) => searchableText(model, i).some((t) => t.toLowerCase().includes(needle)));
}

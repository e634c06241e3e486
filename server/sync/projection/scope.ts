/**
 * @module server/sync/projection/scope
 * What part of a person's document a refresh re-reads: everything, whole
 * maps, some threads or some records. Scopes merge, so the change feed can
 * fold a burst of changes into one refresh per person.
 */
import { MAPS } from '../../../sync/doc/schema';

/** The maps a refresh can re-read whole (`threads` includes their `fields`). */
export const PROJECTED_MAPS = [MAPS.meta, MAPS.threads, MAPS.shareFlags, MAPS.records, MAPS.people, MAPS.notifications, MAPS.accounts] as const;
export type ProjectedMap = (typeof PROJECTED_MAPS)[number];

export interface RefreshScope {
  /** Everything the projection writes (a new document, a rebuild, a visibility change). */
  all?: boolean;
  maps?: readonly ProjectedMap[];
  /** These threads and their fields (visibility, summary, working-set membership). */
  threadIds?: readonly string[];
  /** Only these threads' `fields` (a committed edit; membership and summaries unchanged). */
  fieldThreadIds?: readonly string[];
  /** These records' summaries and the person's share flags for them. */
  recordIds?: readonly string[];
}

export const FULL_SCOPE: RefreshScope = { all: true };

const union = (a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined =>
  a === undefined && b === undefined ? undefined : [...new Set([...(a ?? []), ...(b ?? [])])];

/** A scope covering both. */
export function mergeScopes(a: RefreshScope, b: RefreshScope): RefreshScope {
  if (a.all || b.all) {
    return FULL_SCOPE;
  }
  const maps = union(a.maps, b.maps) as ProjectedMap[] | undefined;
  const threadIds = union(a.threadIds, b.threadIds);
  const fieldThreadIds = union(a.fieldThreadIds, b.fieldThreadIds);
  const recordIds = union(a.recordIds, b.recordIds);
  return {
    ...(maps ? { maps } : {}),
    ...(threadIds ? { threadIds } : {}),
    ...(fieldThreadIds ? { fieldThreadIds } : {}),
    ...(recordIds ? { recordIds } : {}),
  };
}

/** Whether the scope asks for the whole map. */
export function coversMap(scope: RefreshScope, map: ProjectedMap): boolean {
  return scope.all === true || (scope.maps?.includes(map) ?? false);
}

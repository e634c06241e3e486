/**
 * @module sync/org-chart
 * The reporting line as a pure structure: who manages whom. Shared by the
 * server (to refuse cycles) and, later, by the visibility rules (managers
 * see their subordinates' shared mail).
 */

/** One person's place in the reporting line. */
export interface ManagerEdge {
  id: string;
  managerId: string | null;
}

/**
 * Would making `managerId` the manager of `personId` close a loop?
 * It would when `personId` already sits above `managerId` (or is `managerId`).
 * @param edges the organization's current reporting line.
 * @returns the loop as a list of ids from `personId` back to `personId`, or null when none would form.
 */
export function findManagerCycle(
  edges: readonly ManagerEdge[],
  personId: string,
  managerId: string | null,
): string[] | null {
  if (managerId === null) {
    return null;
  }
  const managerOf = new Map(edges.map((e) => [e.id, e.managerId]));
  const path = [personId];
  const seen = new Set<string>();
  let current: string | null = managerId;
  while (current !== null && !seen.has(current)) {
    path.push(current);
    if (current === personId) {
      return path;
    }
    seen.add(current);
    current = managerOf.get(current) ?? null;
  }
  return null;
}

/**
 * Everyone above a person, nearest first.
 * @returns manager ids up the chain; stops safely if the data holds a loop.
 */
export function managersAbove(edges: readonly ManagerEdge[], personId: string): string[] {
  const managerOf = new Map(edges.map((e) => [e.id, e.managerId]));
  const chain: string[] = [];
  const seen = new Set<string>([personId]);
  let current = managerOf.get(personId) ?? null;
  while (current !== null && !seen.has(current)) {
    chain.push(current);
    seen.add(current);
    current = managerOf.get(current) ?? null;
  }
  return chain;
}

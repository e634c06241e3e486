/**
 * @module app/lib/stores/command-match
 * The command palette's entries and how a typed query picks them. Pure.
 */
export interface Command {
  id: string;
  label: string;
  /** Shown beside the label and matched by the search, e.g. "Navigation". */
  group: string;
  /** The one-key shortcut that does the same, for the hint. */
  shortcut?: string;
  run: () => void;
}

/** Commands whose label or group holds every word of the query, best (label starts with it) first. */
export function matchCommands(list: readonly Command[], query: string): Command[] {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== '');
  const hits = list.filter((c) => {
    const text = `${c.label} ${c.group}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
  const first = words[0] ?? '';
  return hits.sort((a, b) => Number(b.label.toLowerCase().startsWith(first)) - Number(a.label.toLowerCase().startsWith(first)));
}

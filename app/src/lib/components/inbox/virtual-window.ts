/**
 * @module app/lib/components/inbox/virtual-window
 * The arithmetic of a virtualized list of fixed-height rows: which rows to
 * render for a scroll position, and where to scroll so a row is in view.
 * Pure, so a 5,000-row list renders a few dozen rows and the math is tested.
 */

export interface RowWindow {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last to render (exclusive). */
  end: number;
}

/** The rows in view plus `overscan` on each side, clamped to the list. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan: number): RowWindow {
  if (count === 0 || rowHeight <= 0) {
    return { start: 0, end: 0 };
  }
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(viewport, rowHeight)) / rowHeight);
  return { start: Math.max(0, first - overscan), end: Math.min(count, last + overscan) };
}

/**
 * The scroll position that brings row `index` fully into view with the least
 * movement (unchanged when it already is).
 */
export function scrollToShow(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) {
    return top;
  }
  if (bottom > scrollTop + viewport) {
    return Math.max(0, bottom - viewport);
  }
  return scrollTop;
}

/**
 * @module app/lib/components/inbox/keyboard
 * When the inbox's one-key shortcuts (j, k, /, Escape) must stay out of the way.
 */

/** True while the person is typing, holds a modifier, or a dialog is open: the key is not a shortcut then. */
export function isTyping(event: KeyboardEvent): boolean {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
    return true;
  }
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest('input, textarea, select'))) {
    return true;
  }
  return document.querySelector('dialog[open]') !== null;
}

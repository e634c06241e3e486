/**
 * @module app/lib/components/inbox/html/image-choice
 * "Always show images from this sender", remembered in this browser per
 * viewer (two people sharing a browser profile keep separate choices).
 * Storage failures (private mode, quota) only mean the choice is not kept.
 */

const key = (viewerId: string) => `shoal.images.always.${viewerId}`;
const MAX_SENDERS = 2000;

function read(viewerId: string): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(key(viewerId)) ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** Whether the viewer chose to always see images from this sender address. */
export function alwaysShowsImages(viewerId: string, sender: string | null): boolean {
  return sender !== null && read(viewerId).includes(sender.toLowerCase());
}

/** Remembers the sender for this viewer; the oldest choices go first past the cap. */
export function rememberSender(viewerId: string, sender: string): void {
  const address = sender.toLowerCase();
  const senders = [...read(viewerId).filter((s) => s !== address), address].slice(-MAX_SENDERS);
  try {
    localStorage.setItem(key(viewerId), JSON.stringify(senders));
  } catch {
    // Not kept; the images of this message still show.
  }
}

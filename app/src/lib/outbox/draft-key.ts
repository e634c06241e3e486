/**
 * @module app/lib/outbox/draft-key
 * Where a draft is kept: one per thread and mode (a reply and a forward of
 * the same thread are separate drafts), one per new message.
 */
import type { SendMode } from '$sync/api';

export function threadDraftKey(threadId: string, mode: Exclude<SendMode, 'new'>): string {
  return `thread:${threadId}:${mode}`;
}

export function newDraftKey(id: string): string {
  return `new:${id}`;
}

export function isNewDraftKey(key: string): boolean {
  return key.startsWith('new:');
}

/**
 * @module app/lib/stores/remembered-me
 * The last signed-in person and organization (`GET /api/me`), kept in this
 * browser so a reload with the network off still opens their inbox from the
 * local document. Forgotten when the session ends (log-out, 401, signed out
 * elsewhere), together with that document.
 */
import type { MeDto } from '$sync/api';

const KEY = 'shoal:me';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    // Storage disabled by the browser's settings.
    return null;
  }
}

function isMe(value: unknown): value is MeDto {
  if (typeof value !== 'object' || value === null || !('user' in value) || !('org' in value)) {
    return false;
  }
  const { user, org } = value as { user: unknown; org: unknown };
  const hasId = (part: unknown): boolean => typeof part === 'object' && part !== null && 'id' in part && typeof part.id === 'string';
  return hasId(user) && hasId(org);
}

export function rememberMe(me: MeDto): void {
  try {
    storage()?.setItem(KEY, JSON.stringify(me));
  } catch {
    // Quota or privacy mode: offline reloads just won't find it.
  }
}

/** The remembered session, or null (none, or unreadable). */
export function recallMe(): MeDto | null {
  try {
    const raw = storage()?.getItem(KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    return isMe(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function forgetMe(): void {
  storage()?.removeItem(KEY);
}

/**
 * @module app/lib/utils/safe-redirect
 * Keeps the post-login `next` parameter on this origin.
 */

/**
 * @param next A path from the query string.
 * @param fallback Where to go when `next` is missing or unsafe.
 * @returns A same-origin absolute path.
 */
export function safeNext(next: string | null, fallback = '/inbox'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return fallback;
  }
  if (next === '/' || next.startsWith('/login') || next.startsWith('/signup')) {
    return fallback;
  }
  return next;
}

/**
 * @param from The path the user was on, to come back to after logging in.
 * @returns The login URL.
 */
export function loginPath(from?: string): string {
  const next = from ? safeNext(from, '') : '';
  return next && next !== '/inbox' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

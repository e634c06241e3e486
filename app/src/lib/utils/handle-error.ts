/**
 * @module app/lib/utils/handle-error
 * The one place where an unexpected failure becomes something the user sees.
 */
import { goto } from '$app/navigation';
import { ERROR_CODES } from '$sync/api';
import { ApiError } from '$lib/api';
import { session } from '$lib/stores/session.svelte';
import { toasts } from '$lib/stores/toasts.svelte';
import { loginPath } from './safe-redirect';

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * Turns any error into a user-facing message. API errors keep the server's
 * message; anything else is logged and replaced by the fallback. A lost
 * session sends the user to the login page instead of showing a toast.
 * @param error Whatever was thrown.
 * @param fallbackMessage What to say when the error has no safe message.
 * @param options `toast: false` to only compute the message (e.g. for inline display).
 * @returns The message shown (or that would have been), or null when nothing should be shown.
 */
export function handleError(
  error: unknown,
  fallbackMessage: string,
  options: { toast?: boolean } = {},
): string | null {
  if (isAbort(error)) {
    return null;
  }
  if (error instanceof ApiError && error.code === ERROR_CODES.authRequired) {
    session.clear();
    void goto(loginPath(location.pathname + location.search), { replaceState: true });
    return null;
  }
  let message = fallbackMessage;
  if (error instanceof ApiError) {
    message = error.message || fallbackMessage;
  } else {
    console.error(error);
  }
  if (options.toast !== false) {
    toasts.error(message);
  }
  return message;
}

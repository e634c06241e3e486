/**
 * @module app/lib/services/session-service
 * User actions that end a session: API call, then state, then navigation and toast.
 */
import { goto } from '$app/navigation';
import { ERROR_CODES } from '$sync/api';
import { ApiError, api } from '$lib/api';
import { session } from '$lib/stores/session.svelte';
import { wipeAppSync } from '$lib/sync/app-sync';
import { toasts } from '$lib/stores/toasts.svelte';
import { handleError } from '$lib/utils/handle-error';

/**
 * Logs out of this device, or of every device.
 * @param everywhere True to end every session of this user.
 * @returns Whether the user is now logged out.
 */
export async function logOut(everywhere = false): Promise<boolean> {
  try {
    await (everywhere ? api.logOutAll() : api.logOut());
  } catch (error) {
    // Already signed out on the server: finish the job locally.
    if (!(error instanceof ApiError && error.code === ERROR_CODES.authRequired)) {
      handleError(error, 'Could not log out. Please try again.');
      return false;
    }
  }
  // The browser keeps nothing of the person: their document and pending changes go with the session.
  await wipeAppSync().catch(() => undefined);
  session.clear();
  await goto('/login', { replaceState: true, invalidateAll: true });
  toasts.success(everywhere ? 'Logged out of all devices.' : 'Logged out.');
  return true;
}

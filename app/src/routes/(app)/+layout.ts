import { error, redirect } from '@sveltejs/kit';
import { ERROR_CODES } from '$sync/api';
import { ApiError, createApi } from '$lib/api';
import { recallMe } from '$lib/stores/remembered-me';
import { session } from '$lib/stores/session.svelte';
import { loginPath } from '$lib/utils/safe-redirect';
import type { LayoutLoad } from './$types';

export const load = (async ({ fetch, url, untrack }) => {
  try {
    const me = await createApi(fetch).getMe();
    session.set(me);
    return { me };
  } catch (cause) {
    if (
      cause instanceof ApiError &&
      (cause.status === 401 || cause.code === ERROR_CODES.deactivated)
    ) {
      session.clear();
      // Not a dependency: the session doesn't change when the path does.
      redirect(307, loginPath(untrack(() => url.pathname + url.search)));
    }
    // Offline (status 0): the last session on this device opens the local document; /sync re-checks it on reconnect.
    const remembered = cause instanceof ApiError && cause.status === 0 ? recallMe() : null;
    if (remembered !== null) {
      session.set(remembered);
      return { me: remembered };
    }
    if (cause instanceof ApiError) {
      error(cause.status || 503, { message: cause.message, code: cause.code });
    }
    throw cause;
  }
}) satisfies LayoutLoad;

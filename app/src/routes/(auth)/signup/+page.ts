import { createApi } from '$lib/api';
import type { PageLoad } from './$types';

export const load = (async ({ fetch }) => {
  // When the state can't be read, show the form; submitting reports the real problem.
  const state = await createApi(fetch)
    .getAuthState()
    .catch(() => null);
  return { state };
}) satisfies PageLoad;

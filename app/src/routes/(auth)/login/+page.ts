import { redirect } from '@sveltejs/kit';
import { createApi } from '$lib/api';
import { safeNext } from '$lib/utils/safe-redirect';
import type { PageLoad } from './$types';

export const load = (async ({ fetch, url }) => {
  // A fresh install has no organization yet: sign-up is the only way in.
  const state = await createApi(fetch)
    .getAuthState()
    .catch(() => null);
  if (state && !state.hasOrganization) {
    redirect(307, '/signup');
  }
  return { state, next: safeNext(url.searchParams.get('next')) };
}) satisfies PageLoad;

import { ApiError, createApi } from '$lib/api';
import type { ErrorCode } from '$sync/api';
import type { PageLoad } from './$types';

export interface InviteProblem {
  code: ErrorCode;
  message: string;
}

export const load = (async ({ fetch, params }) => {
  try {
    const preview = await createApi(fetch).getInvitePreview(params.token);
    return { token: params.token, preview, problem: null };
  } catch (error) {
    const problem: InviteProblem =
      error instanceof ApiError
        ? { code: error.code, message: error.message }
        : { code: 'unavailable', message: 'Could not load this invite.' };
    return { token: params.token, preview: null, problem };
  }
}) satisfies PageLoad;

import { error } from '@sveltejs/kit';
import { isRecordType } from '$lib/components/records/record-labels';
import type { PageLoad } from './$types';

export const load = (({ params }) => {
  if (!isRecordType(params.type)) {
    error(404, { message: 'There is no such kind of record.' });
  }
  return { type: params.type };
}) satisfies PageLoad;

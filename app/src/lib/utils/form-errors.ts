/**
 * @module app/lib/utils/form-errors
 * Splits an API failure into inline field errors and one form-level message.
 */
import { tick } from 'svelte';
import { ApiError } from '$lib/api';

export interface FormErrors {
  /** Messages keyed by input name (the server's `field`, top-level segment). */
  fields: Record<string, string>;
  /** A message for the form as a whole, or null when a field took it. */
  form: string | null;
}

/** An empty result, for resetting a form before submit. */
export const NO_FORM_ERRORS: FormErrors = { fields: {}, form: null };

/**
 * @param error The thrown value from an API call.
 * @param knownFields The inputs this form renders; other fields fall back to the form message.
 * @param fallbackMessage Used for non-API errors.
 * @returns Where to show the message.
 */
export function toFormErrors(
  error: unknown,
  knownFields: readonly string[],
  fallbackMessage: string,
): FormErrors {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return { fields: {}, form: fallbackMessage };
  }
  const field = error.field?.split('.')[0];
  if (field && knownFields.includes(field)) {
    return { fields: { [field]: error.message }, form: null };
  }
  return { fields: {}, form: error.message || fallbackMessage };
}

/**
 * Moves focus to the first invalid control in a form, after the errors have rendered.
 * @param form The form element (e.g. `event.currentTarget` of the submit event).
 */
export async function focusFirstInvalid(form: HTMLFormElement | null): Promise<void> {
  await tick();
  form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}

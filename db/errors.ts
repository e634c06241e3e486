/**
 * @module db/errors
 * Driver-independent recognition of Postgres errors (both drivers expose the SQLSTATE as `code`).
 */

const UNIQUE_VIOLATION = '23505';

/** Whether an error is a unique-constraint violation. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/**
 * @module tests/helpers/prereq
 * Tests that need an outside tool skip with a one-line reason on a bare
 * machine; under CI=true a missing prerequisite fails the run instead.
 */

export const inCi = process.env.CI === 'true';

/**
 * Decides whether a tier can run.
 * @param missing a reason when the prerequisite is absent, or null when present.
 * @returns true when the tests should run.
 * @throws under CI when the prerequisite is missing.
 */
export function prerequisite(name: string, missing: string | null): boolean {
  if (missing === null) {
    return true;
  }
  if (inCi) {
    throw new Error(`CI=true but ${name} is unavailable: ${missing}`);
  }
  console.warn(`[skip] ${name}: ${missing}`);
  return false;
}

/**
 * @module server/commands/signature
 * Reading and saving the signed-in person's email signature. Line endings
 * are normalized to `\n` and trailing blank space dropped, so what the app
 * inserts under `-- ` is exactly what was saved.
 */
import { findSignature, saveSignature, type SignatureRow } from '../../db/queries/signatures';
import type { Auth, Deps } from '../context';

/** The stored form of a signature: `\n` line endings, no trailing spaces or blank lines. */
export function normalizeSignature(text: string): string {
  return text
    .replace(/\r\n?/gu, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trimEnd();
}

/** @returns null while the person has none. */
export function getSignature(deps: Deps, auth: Auth): Promise<SignatureRow | null> {
  return findSignature(deps.db, auth.user.id);
}

/** Saves the person's signature ('' keeps an empty one: "none"). */
export function updateSignature(deps: Deps, auth: Auth, signature: string): Promise<SignatureRow> {
  return saveSignature(deps.db, auth.user.id, normalizeSignature(signature), deps.now());
}

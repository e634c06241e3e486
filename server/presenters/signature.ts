/**
 * @module server/presenters/signature
 * A stored signature (or none) as the app sees it.
 */
import type { SignatureRow } from '../../db/queries/signatures';
import type { SignatureDto } from '../../sync/api';

export function presentSignature(row: SignatureRow | null): SignatureDto {
  return { signature: row?.body ?? '', updatedAt: row?.updatedAt.toISOString() ?? null };
}

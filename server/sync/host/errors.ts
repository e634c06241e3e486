/**
 * @module server/sync/host/errors
 * Why the document host refused: stable codes the transport can act on
 * (close the socket so the client syncs again, retry later).
 */

export const DOC_HOST_ERRORS = {
  /** This process does not hold the document's lease (another one writes it). */
  notHolder: 'not_holder',
  /** The lease was lost or the document dropped while writing: nothing more is written here. */
  leaseLost: 'lease_lost',
  /** No process took the edit before the deadline. */
  unavailable: 'doc_unavailable',
  /** The update could not be stored; the document was dropped and will be reloaded from Postgres. */
  persistFailed: 'persist_failed',
  closed: 'host_closed',
} as const;

export type DocHostErrorCode = (typeof DOC_HOST_ERRORS)[keyof typeof DOC_HOST_ERRORS];

export class DocHostError extends Error {
  override readonly name = 'DocHostError';

  constructor(
    readonly code: DocHostErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether an edit may be sent again elsewhere: the document moved or was dropped before it was stored. */
export function isRetryable(error: unknown): boolean {
  return error instanceof DocHostError && (error.code === DOC_HOST_ERRORS.notHolder || error.code === DOC_HOST_ERRORS.leaseLost || error.code === DOC_HOST_ERRORS.persistFailed);
}

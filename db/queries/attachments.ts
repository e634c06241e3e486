/**
 * @module db/queries/attachments
 * One visible message's attachment list and raw bytes, for downloads. The
 * same visibility filter as every other mail read (`visibleMessageIdsSql`,
 * present messages only), so a message the viewer may not see is simply
 * not found.
 */
import type { Queryable } from '../types';
import { visibleMessageIdsSql } from './visibility';

export interface StoredAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  contentId?: string | null;
  partIndex?: number;
  checksum?: string;
}

export interface VisibleMessageContent {
  attachments: StoredAttachment[];
  raw: Uint8Array | null;
}

/** The message's attachment metadata and raw RFC 822 bytes, or null when the viewer may not see it. */
export async function findVisibleMessageContent(
  q: Queryable,
  viewerId: string,
  orgId: string,
  messageId: string,
): Promise<VisibleMessageContent | null> {
  const rows = await q.query<VisibleMessageContent>(
    `select m.attachments, r.raw
     from messages m left join message_raw r on r.message_id = m.id
     where m.id = $3::uuid and m.org_id = $2::uuid and m.orphaned_at is null
       and m.id in ${visibleMessageIdsSql('$1::uuid', '$2::uuid', 'm.id = $3::uuid')}`,
    [viewerId, orgId, messageId],
  );
  return rows[0] ?? null;
}

/**
 * @module server/ingest/account-context
 * What storing a message needs to know about its mailbox, and the
 * participant list derived from a parsed message.
 */
import type { ParsedMessage } from './parse-message';

export interface AccountContext {
  accountId: string;
  orgId: string;
  /** The account's own addresses (From addresses): decide direction, and never count as shared participants. */
  ownAddresses: readonly string[];
  messageIdKey: Uint8Array;
}

/** Every participant with its role; from, to and cc are what threading compares. */
export function participantsOf(parsed: ParsedMessage): { address: string; role: string }[] {
  const rows: { address: string; role: string }[] = [];
  if (parsed.from) {
    rows.push({ address: parsed.from.address, role: 'from' });
  }
  for (const [role, list] of [['to', parsed.to], ['cc', parsed.cc], ['bcc', parsed.bcc], ['reply_to', parsed.replyTo]] as const) {
    for (const a of list) {
      rows.push({ address: a.address, role });
    }
  }
  return rows;
}

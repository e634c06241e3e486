/**
 * @module server/commands/convert-sender
 * "Convert sender to lead/contact" on a message. The record id is
 * uuidv5(org, address), so people converting the same sender at once (or
 * offline, replaying later) all land on one record: the insert does nothing
 * when the id exists, and an address that already belongs to a lead or
 * contact returns that record instead of failing.
 */
import {
  canAccessRecord,
  findConvertedRecord,
  findConvertibleMessage,
  findPersonRecordIdByAddress,
  insertConvertedRecord,
  type ConvertedRecordRow,
  type ConvertibleMessage,
} from '../../db/queries/conversions';
import { ERROR_CODES } from '../../sync/api';
import { guessPerson } from '../../sync/conversion-guess';
import type { ConversionRecordType } from '../../sync/conversion-rules';
import { recordIdFor } from '../../sync/uuidv5';
import type { Auth, Deps } from '../context';
import { HttpError, invalid, notFound } from '../errors';

export interface ConvertResult {
  record: ConvertedRecordRow;
  created: boolean;
}

/** The sender of inbound mail, the first recipient of outbound mail, when that is another party. */
function defaultAddress(m: ConvertibleMessage): string | null {
  const others = new Set(m.otherParties);
  if (m.direction === 'inbound') {
    return m.fromAddress && others.has(m.fromAddress) ? m.fromAddress : null;
  }
  return m.named.find((a) => others.has(a.address.toLowerCase()))?.address.toLowerCase() ?? null;
}

/** The display name `address` carries in the message, if any (the new record's name comes from it). */
export function displayNameOf(m: ConvertibleMessage, address: string): string | null {
  if (m.fromAddress === address && m.fromName) {
    return m.fromName;
  }
  return m.named.find((a) => a.address.toLowerCase() === address && a.name)?.name ?? null;
}

function chooseAddress(m: ConvertibleMessage, requested: string | undefined): string {
  if (requested === undefined) {
    const address = defaultAddress(m);
    if (!address) {
      throw invalid('address', 'address: this message has no sender or recipient outside your mailbox; name the address to convert');
    }
    return address;
  }
  if (!m.otherParties.includes(requested)) {
    throw invalid('address', `address: ${requested} is not one of this message's other parties`);
  }
  return requested;
}

/** Thrown inside the transaction so a record row without its address is never committed. */
class AddressTaken extends Error {}

async function existing(deps: Deps, auth: Auth, recordId: string): Promise<ConvertResult> {
  const record = await findConvertedRecord(deps.db, auth.user.orgId, recordId);
  if (!record) {
    throw new HttpError(409, ERROR_CODES.conflict, 'This address belongs to a record that is not a lead or contact');
  }
  if (!(await canAccessRecord(deps.db, auth.user.id, recordId))) {
    throw new HttpError(409, ERROR_CODES.alreadyConverted, `This address already belongs to a ${record.type} you cannot access`, 'address');
  }
  return { record, created: false };
}

/**
 * Creates (or finds) the lead or contact for one of a message's other parties.
 * @throws {HttpError} 404 when the viewer cannot see the message, 400 `address`, 409 `already_converted`.
 */
export async function convertSender(
  deps: Deps,
  auth: Auth,
  messageId: string,
  input: { type: ConversionRecordType; address?: string | undefined },
): Promise<ConvertResult> {
  const message = await findConvertibleMessage(deps.db, auth.user.id, messageId);
  if (!message || message.orgId !== auth.user.orgId) {
    throw notFound('Message');
  }
  const address = chooseAddress(message, input.address);
  const orgId = auth.user.orgId;
  const known = await findPersonRecordIdByAddress(deps.db, orgId, address);
  if (known) {
    return existing(deps, auth, known);
  }
  const id = recordIdFor(orgId, address);
  try {
    const outcome = await deps.db.transaction(async (tx) => {
      const result = await insertConvertedRecord(tx, {
        id,
        orgId,
        type: input.type,
        ownerId: auth.user.id,
        ...guessPerson(address, displayNameOf(message, address)),
        source: 'conversion',
        createdBy: auth.user.id,
        address,
      });
      if (result === 'address_taken') {
        throw new AddressTaken();
      }
      return result;
    });
    if (outcome === 'exists') {
      return existing(deps, auth, id);
    }
  } catch (error) {
    if (!(error instanceof AddressTaken)) {
      throw error;
    }
    // Someone added the address to another lead/contact between our look-up and insert.
    const winner = await findPersonRecordIdByAddress(deps.db, orgId, address);
    if (!winner) {
      throw error;
    }
    return existing(deps, auth, winner);
  }
  const record = await findConvertedRecord(deps.db, orgId, id);
  if (!record) {
    throw notFound('Record');
  }
  deps.changes?.publish({ kind: 'record-created', recordId: id, orgId });
  return { record, created: true };
}

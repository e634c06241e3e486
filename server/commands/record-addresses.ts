/**
 * @module server/commands/record-addresses
 * A record's addresses as one ordered list (primary first), and the rule
 * that one address belongs to at most one lead or contact per organization,
 * answered as a 409 that names the offending field and the record holding it.
 */
import { findAddressHolders, type AddressHolder } from '../../db/queries/record-emails';
import type { Queryable } from '../../db/types';
import { ERROR_CODES } from '../../sync/api';
import type { RecordType } from '../../sync/sharing';
import { HttpError } from '../errors';

/** Addresses with the input field each came from (`primaryEmail`, `secondaryEmails.2`). */
export interface AddressList {
  /** Normalized and deduplicated; the first is the primary. */
  addresses: string[];
  fieldOf: Map<string, string>;
}

/**
 * Builds the list from already-normalized input. Duplicates within the record
 * are dropped; without a primary, the first secondary becomes the primary.
 */
export function addressList(primary: string | null, secondaries: readonly string[], secondaryFields?: readonly string[]): AddressList {
  const fieldOf = new Map<string, string>();
  if (primary !== null) {
    fieldOf.set(primary, 'primaryEmail');
  }
  secondaries.forEach((address, i) => {
    if (!fieldOf.has(address)) {
      fieldOf.set(address, secondaryFields?.[i] ?? `secondaryEmails.${i}`);
    }
  });
  return { addresses: [...fieldOf.keys()], fieldOf };
}

/** Whether addresses of this type are unique per organization. */
export function holdsPersonAddresses(type: RecordType): boolean {
  return type === 'lead' || type === 'contact';
}

function takenError(holder: AddressHolder, field: string | undefined): HttpError {
  const article = holder.type === 'account' ? 'an' : 'a';
  if (!holder.accessible) {
    return new HttpError(
      409,
      ERROR_CODES.addressTaken,
      `${holder.address} already belongs to ${article} ${holder.type} owned by ${holder.ownerName}, which you cannot open`,
      field,
      undefined,
      { address: holder.address, recordType: holder.type },
    );
  }
  return new HttpError(
    409,
    ERROR_CODES.addressTaken,
    `${holder.address} already belongs to ${holder.type} ${holder.name}`,
    field,
    undefined,
    { address: holder.address, recordId: holder.recordId, recordType: holder.type, recordName: holder.name },
  );
}

/**
 * @throws {HttpError} 409 `address_taken` for the first address (in input order) held by another lead or contact.
 */
export async function assertAddressesFree(
  q: Queryable,
  viewerId: string,
  orgId: string,
  list: AddressList,
  exceptRecordId: string | null,
): Promise<void> {
  const holders = await findAddressHolders(q, viewerId, orgId, list.addresses, exceptRecordId);
  const byAddress = new Map(holders.map((h) => [h.address, h]));
  for (const address of list.addresses) {
    const holder = byAddress.get(address);
    if (holder) {
      throw takenError(holder, list.fieldOf.get(address));
    }
  }
}

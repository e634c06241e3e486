/**
 * @module sync/client/write
 * The only ways the app changes a person's document: validated values,
 * stamped by the device's clock, written in one local transaction and
 * recorded in the outbox until the server answers. Invalid input throws here,
 * before anything is written, because the server would only refuse it later.
 */
import type * as Y from 'yjs';
import type { Hlc } from '../hlc';
import { checkFieldValue, fieldKey, MAPS, type ConversionDoc, type FieldValues, type Stamped, type ThreadField } from '../doc/schema';
import { sameJson } from '../doc/json';
import { normalizeRecordAddress, recordIdFor } from '../uuidv5';
import { stampNow } from './clock';
import type { Outbox, OutboxEntry, OutboxMap } from './outbox';
import { readEntry, readField } from './read';

/** Transaction origin of this device's own writes. */
export const LOCAL_WRITE = 'shoal-local-write';

export const WRITE_ERROR_CODES = {
  invalidValue: 'invalid_value',
  unknownThread: 'unknown_thread',
  invalidRecord: 'invalid_record',
  invalidAddress: 'invalid_address',
} as const;
export type WriteErrorCode = (typeof WRITE_ERROR_CODES)[keyof typeof WRITE_ERROR_CODES];

/** A write the client refuses before it reaches the document; `code` is stable. */
export class SyncWriteError extends Error {
  readonly code: WriteErrorCode;

  constructor(code: WriteErrorCode, message: string) {
    super(message);
    this.name = 'SyncWriteError';
    this.code = code;
  }
}

/** What a write needs: the document, the device's clock and its outbox. */
export interface WriteContext {
  doc: Y.Doc;
  clock: Hlc;
  outbox: Outbox;
  /** The person's organization, for deterministic record ids. */
  orgId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
const MAX_ADDRESS_LENGTH = 320;
export const CONVERSION_TYPES = ['lead', 'contact'] as const;
export type ConversionType = (typeof CONVERSION_TYPES)[number];

function writeStamped(ctx: WriteContext, map: OutboxMap, key: string, value: (hlc: string) => unknown): OutboxEntry {
  const hlc = stampNow(ctx.clock);
  const stored = value(hlc);
  ctx.doc.transact(() => ctx.doc.getMap<unknown>(map).set(key, stored), LOCAL_WRITE);
  return ctx.outbox.record(map, key, stored, hlc);
}

/**
 * Sets one editable field of a thread the document holds.
 * @returns the outbox entry, or null when the field already has this value (nothing written).
 * @throws SyncWriteError `invalid_value` (with the schema's sentence) or `unknown_thread`.
 */
export function setField<F extends ThreadField>(ctx: WriteContext, threadId: string, field: F, value: FieldValues[F]): OutboxEntry | null {
  const problem = checkFieldValue(field, value);
  if (problem !== null) {
    throw new SyncWriteError(WRITE_ERROR_CODES.invalidValue, problem);
  }
  if (readEntry(ctx.doc, 'threads', threadId) === undefined) {
    throw new SyncWriteError(WRITE_ERROR_CODES.unknownThread, 'This conversation is not in your inbox any more.');
  }
  if (sameJson(readField(ctx.doc, threadId, field), value)) {
    return null;
  }
  return writeStamped(ctx, MAPS.fields, fieldKey(threadId, field), (hlc): Stamped<FieldValues[F]> => ({ v: value, hlc }));
}

/**
 * Shares (or stops sharing) the person's own mail about a record (Custom sharing).
 * @returns the outbox entry, or null when the flag already is `shared` (no flag means not shared).
 * @throws SyncWriteError `invalid_record` for an id that is not a record id.
 */
export function setShareFlag(ctx: WriteContext, recordId: string, shared: boolean): OutboxEntry | null {
  if (!UUID.test(recordId)) {
    throw new SyncWriteError(WRITE_ERROR_CODES.invalidRecord, 'Not a record id.');
  }
  if (typeof shared !== 'boolean') {
    throw new SyncWriteError(WRITE_ERROR_CODES.invalidValue, 'shared must be true or false');
  }
  const current = readEntry(ctx.doc, 'shareFlags', recordId);
  if ((current?.v ?? false) === shared) {
    return null;
  }
  return writeStamped(ctx, MAPS.shareFlags, recordId, (hlc): Stamped<boolean> => ({ v: shared, hlc }));
}

export interface ConversionRequest {
  /** The normalized address: the key of the request in `conversions`. */
  address: string;
  /** The id the lead or contact gets (`recordIdFor`): the same on every device, so offline converters meet. */
  recordId: string;
  /** The outbox entry, or null when an equal request was already pending or done. */
  entry: OutboxEntry | null;
}

/**
 * Asks the server to convert an address to a lead or contact. The server
 * answers in place (`status` done or refused, `recordId`). The record id is
 * known at once: it is derived from the organization and the address only.
 * @throws SyncWriteError `invalid_address` or `invalid_value` (type).
 */
export function requestConversion(ctx: WriteContext, address: string, type: ConversionType): ConversionRequest {
  const normalized = normalizeRecordAddress(address);
  if (normalized.length > MAX_ADDRESS_LENGTH || !ADDRESS.test(normalized)) {
    throw new SyncWriteError(WRITE_ERROR_CODES.invalidAddress, 'Not an email address.');
  }
  if (!(CONVERSION_TYPES as readonly string[]).includes(type)) {
    throw new SyncWriteError(WRITE_ERROR_CODES.invalidValue, 'type must be lead or contact');
  }
  const recordId = recordIdFor(ctx.orgId, normalized);
  const current = readEntry(ctx.doc, 'conversions', normalized);
  if (current !== undefined && current.type === type && (current.status === 'pending' || current.status === 'done')) {
    return { address: normalized, recordId: current.recordId ?? recordId, entry: null };
  }
  const entry = writeStamped(ctx, MAPS.conversions, normalized, (hlc): ConversionDoc => ({
    type,
    hlc,
    status: 'pending',
    recordId: null,
    reason: null,
  }));
  return { address: normalized, recordId, entry };
}

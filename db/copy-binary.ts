/**
 * @module db/copy-binary
 * Rows in PostgreSQL's binary COPY format (docs: COPY, "Binary Format").
 * Compared with a multi-row INSERT, nothing is escaped or parsed as text,
 * bytea travels as its bytes instead of twice as many hex digits, and large
 * values are handed over as they are instead of being copied again.
 */

/** The column types the encoder knows; jsonb takes the JSON text, as `JSON.stringify` gives it. */
export type CopyType = 'uuid' | 'text' | 'text[]' | 'jsonb' | 'timestamptz' | 'int4' | 'int8' | 'bool' | 'bytea';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const TEXT_OID = 25;
const JSONB_VERSION = 1;
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const CHUNK_BYTES = 64 * 1024;
/** A bytea at least this long becomes its own chunk rather than being copied into one. */
const PASS_THROUGH_BYTES = 16 * 1024;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/iu;

/** Appends to fixed-size chunks; a finished chunk is never written again, so it can be handed out. */
class ChunkWriter {
  private readonly chunks: Uint8Array[] = [];
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) {
      return;
    }
    this.flush();
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
  }

  private flush(): void {
    if (this.pos > 0) {
      this.chunks.push(this.buf.subarray(0, this.pos));
      this.buf = this.buf.subarray(this.pos);
      this.pos = 0;
    }
  }

  bytes(value: Uint8Array): void {
    this.room(value.byteLength);
    this.buf.set(value, this.pos);
    this.pos += value.byteLength;
  }

  int16(value: number): void {
    this.room(2);
    this.pos = this.buf.writeInt16BE(value, this.pos);
  }

  int32(value: number): void {
    this.room(4);
    this.pos = this.buf.writeInt32BE(value, this.pos);
  }

  int64(value: bigint): void {
    this.room(8);
    this.pos = this.buf.writeBigInt64BE(value, this.pos);
  }

  /** A length-prefixed UTF-8 string, optionally after one prefix byte (jsonb's version). */
  utf8(value: string, prefix?: number): void {
    const extra = prefix === undefined ? 0 : 1;
    const length = Buffer.byteLength(value, 'utf8') + extra;
    this.room(4 + length);
    this.pos = this.buf.writeInt32BE(length, this.pos);
    if (prefix !== undefined) {
      this.pos = this.buf.writeUInt8(prefix, this.pos);
    }
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  /** A length-prefixed byte string; a long one is referenced, not copied. */
  field(value: Uint8Array): void {
    this.int32(value.byteLength);
    if (value.byteLength < PASS_THROUGH_BYTES) {
      this.bytes(value);
      return;
    }
    this.flush();
    this.chunks.push(value);
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

function fail(type: CopyType, value: unknown): never {
  throw new TypeError(`cannot COPY ${typeof value} ${String(value).slice(0, 40)} as ${type}`);
}

function writeValue(w: ChunkWriter, type: CopyType, value: unknown): void {
  if (value === null || value === undefined) {
    w.int32(-1);
    return;
  }
  switch (type) {
    case 'text':
      return typeof value === 'string' ? w.utf8(value) : fail(type, value);
    case 'jsonb':
      return typeof value === 'string' ? w.utf8(value, JSONB_VERSION) : fail(type, value);
    case 'uuid':
      return writeUuid(w, value);
    case 'timestamptz':
      return writeTimestamp(w, value);
    case 'int4':
      if (!Number.isInteger(value)) {
        return fail(type, value);
      }
      w.int32(4);
      return w.int32(value as number);
    case 'int8':
      if (!Number.isSafeInteger(value)) {
        return fail(type, value);
      }
      w.int32(8);
      return w.int64(BigInt(value as number));
    case 'bool':
      w.int32(1);
      return w.bytes(Uint8Array.of(value === true ? 1 : value === false ? 0 : fail(type, value)));
    case 'bytea':
      return value instanceof Uint8Array ? w.field(value) : fail(type, value);
    case 'text[]':
      return writeTextArray(w, value);
  }
}

function writeUuid(w: ChunkWriter, value: unknown): void {
  if (typeof value !== 'string' || !UUID.test(value)) {
    return fail('uuid', value);
  }
  w.int32(16);
  w.bytes(Buffer.from(value.replaceAll('-', ''), 'hex'));
}

/** Microseconds since 2000-01-01 UTC, the server's integer timestamp. */
function writeTimestamp(w: ChunkWriter, value: unknown): void {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) {
    return fail('timestamptz', value);
  }
  w.int32(8);
  w.int64(BigInt(ms - PG_EPOCH_MS) * 1000n);
}

/** One dimension, lower bound 1, no nulls; an empty array has no dimension at all. */
function writeTextArray(w: ChunkWriter, value: unknown): void {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    return fail('text[]', value);
  }
  const items = value as string[];
  const encoded = items.map((s) => Buffer.from(s, 'utf8'));
  const dims = items.length > 0 ? 1 : 0;
  const length = 12 + dims * 8 + encoded.reduce((sum, b) => sum + 4 + b.byteLength, 0);
  w.int32(length);
  w.int32(dims);
  w.int32(0);
  w.int32(TEXT_OID);
  if (dims > 0) {
    w.int32(items.length);
    w.int32(1);
  }
  for (const b of encoded) {
    w.int32(b.byteLength);
    w.bytes(b);
  }
}

/**
 * Encodes rows as one binary COPY stream.
 * @param types each column's type, in the order of each row's values.
 * @returns the stream in chunks, ready for `Tx.copyFrom`.
 * @throws {TypeError} for a value that does not fit its column's type.
 */
export function encodeCopyRows(types: readonly CopyType[], rows: readonly (readonly unknown[])[]): Uint8Array[] {
  const w = new ChunkWriter();
  w.bytes(SIGNATURE);
  w.int32(0); // flags: no OIDs
  w.int32(0); // header extension length
  for (const row of rows) {
    if (row.length !== types.length) {
      throw new TypeError(`a COPY row has ${row.length} values for ${types.length} columns`);
    }
    w.int16(types.length);
    row.forEach((value, i) => writeValue(w, types[i] as CopyType, value));
  }
  w.int16(-1);
  return w.finish();
}

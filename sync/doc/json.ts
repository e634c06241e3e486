/**
 * @module sync/doc/json
 * Comparing and checking document values. Values are JSON when the server
 * writes them, but a client's update can carry anything lib0's `writeAny`
 * encodes: bigint, binary, `undefined`, NaN, a nested Yjs type. The server
 * must compare such content with its own without throwing (JSON.stringify
 * throws on a bigint) and keep it out of what it stores as JSON.
 */

type JsonObject = Record<string, unknown>;

/** An object literal's shape (no array, binary, Date or Yjs type). */
function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Keys JSON would write: a property holding `undefined` is left out. */
const writtenKeys = (value: JsonObject): string[] => Object.keys(value).filter((key) => value[key] !== undefined);

/**
 * Whether `a` and `b` are the same JSON value, object keys in any order (as
 * their key-sorted JSON texts would be equal). Content JSON cannot hold
 * equals only itself, so forged content never passes for a server value.
 * Never throws.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  // Object.is: a forged NaN is itself too, or a key holding one would look changed forever.
  if (a === b || Object.is(a, b)) {
    return true;
  }
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) {
    return false;
  }
  const keys = writtenKeys(a);
  return keys.length === writtenKeys(b).length && keys.every((key) => Object.hasOwn(b, key) && b[key] !== undefined && sameJson(a[key], b[key]));
}

/** Whether `value` is JSON as it stands: JSON.stringify neither throws on it nor changes it (no bigint, binary, undefined, NaN or Infinity, nested type). */
export function isPlainJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) {
        return true;
      }
      if (Array.isArray(value)) {
        return value.every(isPlainJson);
      }
      return isPlainObject(value) && Object.values(value).every(isPlainJson);
    default:
      return false;
  }
}

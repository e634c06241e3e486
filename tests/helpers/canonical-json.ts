/**
 * JSON with object keys sorted: equal values give equal text whatever their
 * key order. A test oracle (and a way to compare whole documents); the app
 * and server compare values with `sameJson` (sync/doc/json.ts), which never
 * throws. This throws on content JSON cannot hold, such as a bigint.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

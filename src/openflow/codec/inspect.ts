// JSON-safe views of decoded messages, for logs and HTTP responses: JSON.stringify cannot
// serialise the bigint counters of OpenFlow 1.3.5 (§7.3.5 statistics are 64-bit) and
// would print byte arrays as objects of indices. Not part of the wire format.

export type JsonSafe = null | boolean | number | string | JsonSafe[] | { [key: string]: JsonSafe };

/** bigint → decimal string, Uint8Array → lower-case hex string, everything else as is. */
export function toJsonSafe(value: unknown): JsonSafe {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: JsonSafe } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonSafe(v);
    return out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  return String(value);
}

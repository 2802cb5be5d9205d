// Reading flow entries (layout.ts E_*) into FlowRecord objects and counters into
// EngineCounters, for both engines: the wasm module keeps u64 counters, the TypeScript twin
// float64 numbers; everything else is byte for byte the same layout.
import { decodeKey } from './keys.js';
import {
  C_ACTION, C_BYTES, C_CACHE_HITS, C_CACHE_MISSES, C_COLOR, C_FLOWS_EXPIRED, C_FLOWS_INSERTED, C_PACKETS, C_REASON,
  C_REWRITES, C_TABLE_FULL, E_BYTES, E_CHARGE, E_CLASS, E_LAST_SEEN, E_PACKETS, E_RULE, EB_PINNED, ENTRY_BYTES,
  REASON_COUNT, V_ACTION, V_CLASS, V_COLOR, V_DSCP, V_FLAGS, V_FLOW, V_QUEUE, V_REASON, V_RULE, VERDICT_BYTES,
} from './layout.js';
import type { ActionCode, EngineCounters, FlowRecord, Verdict } from './types.js';

export function readFlow(mem: Uint8Array, entryAt: number, id: number, u64Counters: boolean): FlowRecord {
  const dv = new DataView(mem.buffer, mem.byteOffset + entryAt, ENTRY_BYTES);
  const n = (off: number): number => (u64Counters ? Number(dv.getBigUint64(off, true)) : dv.getFloat64(off, true));
  const k = decodeKey(mem, entryAt);
  return {
    id,
    ...k,
    packets: [n(E_PACKETS), n(E_PACKETS + 8), n(E_PACKETS + 16)],
    bytes: [n(E_BYTES), n(E_BYTES + 8), n(E_BYTES + 16)],
    charge: dv.getFloat64(E_CHARGE, true),
    lastSeenNs: n(E_LAST_SEEN),
    rule: dv.getUint16(E_RULE, true) - 1,
    class: dv.getUint8(E_CLASS) & 63,
    pinned: (dv.getUint8(E_CLASS) & EB_PINNED) !== 0,
  };
}

export function readCounters(get: (i: number) => number): EngineCounters {
  const reasons: number[] = [];
  for (let i = 0; i < REASON_COUNT; i++) reasons.push(get(C_REASON + i));
  return {
    packets: get(C_PACKETS),
    bytes: get(C_BYTES),
    flowsInserted: get(C_FLOWS_INSERTED),
    flowsExpired: get(C_FLOWS_EXPIRED),
    tableFull: get(C_TABLE_FULL),
    cacheHits: get(C_CACHE_HITS),
    cacheMisses: get(C_CACHE_MISSES),
    rewrites: get(C_REWRITES),
    actions: [get(C_ACTION), get(C_ACTION + 1), get(C_ACTION + 2)],
    colors: [get(C_COLOR), get(C_COLOR + 1), get(C_COLOR + 2)],
    reasons,
  };
}

export function readVerdict(raw: Uint8Array, i: number): Verdict {
  const at = i * VERDICT_BYTES;
  const dv = new DataView(raw.buffer, raw.byteOffset + at, VERDICT_BYTES);
  return {
    action: dv.getUint8(V_ACTION) as ActionCode,
    color: dv.getUint8(V_COLOR),
    reason: dv.getUint8(V_REASON),
    dscp: dv.getUint8(V_DSCP),
    queue: dv.getUint16(V_QUEUE, true),
    class: dv.getUint8(V_CLASS),
    flags: dv.getUint8(V_FLAGS),
    flow: dv.getInt32(V_FLOW, true),
    rule: dv.getInt32(V_RULE, true),
  };
}

/** Normalises (frames, timestamps, ports) arguments; throws on a bad batch size. */
export function batchArg(values: number | readonly number[] | undefined, i: number, fallback: number): number {
  if (values === undefined) return fallback;
  return typeof values === 'number' ? values : (values[i] ?? fallback);
}

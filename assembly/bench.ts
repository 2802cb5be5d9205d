// The bench module (build/payflow.bench.wasm, and its debug build): everything
// build/payflow.wasm exports, plus entry points that only benchmarks and unit tests call — the
// partial pipelines of partial.ts, and probes that run one meter or pricing step alone or read
// internal state. None of this is in the production module; docs/dataplane.md lists both sets.
export * from './index';
export { meterTokens, meterLastNs } from './meter';
export { classMeasured, classAlpha, classMaxPrice, priceAtDemand } from './pricing';
import { processPartial } from './partial';
import { meterColor as color } from './meter';
import { classAccount as account } from './pricing';

/** Partial pipeline `mode` (partial.ts PARTIAL_*) over descriptors [0, n); returns a checksum. */
export function batchPartial(n: u32, mode: u32, meterMod: u32): u32 {
  return processPartial(n, mode, meterMod);
}

/** Colour of one packet on meter id: the per-packet meter step of the batch loop, alone. */
export function meterColor(id: u32, nowNs: u64, bytes: u32, preColor: u32): u32 {
  return color(id, nowNs, bytes, preColor);
}

/** Accounts bytes to a class, as the batch loop does for a forwarded frame. */
export function classAccount(cls: u32, bytes: u32): void {
  account(cls, bytes);
}

// OpenFlow meters (OpenFlow Switch Specification 1.3.5 §5.7 "Meter Table", §7.2.3.9/§7.3.4.4
// meter bands): per meter a list of bands, each a token bucket refilled at its rate; a packet
// that finds a band's bucket short exceeds it, and the exceeded band with the highest rate
// applies: OFPMBT_DROP drops, OFPMBT_DSCP_REMARK raises the drop precedence of an Assured
// Forwarding code point (RFC 2597) by prec_level, capped at 3. Operation for operation the
// arithmetic of src/switch/meters.ts (f64 tokens in bits or packets, refilled per ms of the
// host clock), so the two datapaths colour every packet alike. The RFC 2697/2698 markers of
// assembly/meter.ts keep integer nano-byte buckets with two fixed colours: OpenFlow bands
// (any number, any rates, per-band counters) are a different model, so they are not reused.
import {
  SWB_BYTES, SWB_DEPTH, SWB_OCTETS, SWB_PACKETS, SWB_PER_MS, SWB_PREC, SWB_TOKENS, SWB_TYPE,
  SWM_BAND, SWM_BANDS, SWM_BYTES, SWM_FLAGS, SWM_LAST, SWM_OCTETS, SWM_PACKETS, SWMF_PKTPS, SWMF_USED, SW_MAX_BANDS,
  ERR_BAD_ARGUMENT, ERR_BAD_ID, ERR_NOT_CONFIGURED, E_OK,
} from '../layout';

export const METER_PASS: u32 = 0;
export const METER_DROP: u32 = 1;
export const METER_REMARK: u32 = 2;
const BAND_DROP: u32 = 1;

export let meters: usize = 0;
export let meterCapacity: u32 = 0;
/** DSCP after the last METER_REMARK */
export let remarkedDscp: u32 = 0;

export function metersInit(capacity: u32): void {
  meterCapacity = capacity;
  meters = heap.alloc(capacity * SWM_BYTES); // never written before, so zero (tablesInit says why)
}

/** Marks meter slot in use once the host has written its record. */
export function meterSet(slot: u32): i32 {
  if (meters == 0) return ERR_NOT_CONFIGURED;
  if (slot >= meterCapacity) return ERR_BAD_ID;
  const m = meters + slot * SWM_BYTES;
  const n = load<u32>(m + SWM_BANDS);
  if (n == 0 || n > SW_MAX_BANDS) return ERR_BAD_ARGUMENT;
  store<u32>(m + SWM_FLAGS, load<u32>(m + SWM_FLAGS) | SWMF_USED);
  return E_OK;
}

export function meterRemove(slot: u32): i32 {
  if (meters == 0) return ERR_NOT_CONFIGURED;
  if (slot >= meterCapacity) return ERR_BAD_ID;
  store<u32>(meters + slot * SWM_BYTES + SWM_FLAGS, 0);
  return E_OK;
}

@inline export function meterInUse(slot: u32): bool {
  return slot < meterCapacity && (load<u32>(meters + slot * SWM_BYTES + SWM_FLAGS) & SWMF_USED) != 0;
}

/** Meters one packet of len bytes with IP DSCP dscp at nowMs: METER_PASS, METER_DROP or METER_REMARK (remarkedDscp). */
export function meterApply(slot: u32, len: u32, dscp: u32, nowMs: f64): u32 {
  const m = meters + slot * SWM_BYTES;
  store<u64>(m + SWM_PACKETS, load<u64>(m + SWM_PACKETS) + 1);
  store<u64>(m + SWM_OCTETS, load<u64>(m + SWM_OCTETS) + len);
  const elapsed = nowMs - load<f64>(m + SWM_LAST);
  store<f64>(m + SWM_LAST, nowMs);
  const cost: f64 = (load<u32>(m + SWM_FLAGS) & SWMF_PKTPS) != 0 ? 1.0 : <f64>(len * 8);
  const n = load<u32>(m + SWM_BANDS);
  let exceeded: usize = 0;
  let exceededRate: f64 = -1.0;
  for (let i: u32 = 0; i < n; i++) {
    const b = m + SWM_BAND + i * SWB_BYTES;
    const perMs = load<f64>(b + SWB_PER_MS);
    let tokens = load<f64>(b + SWB_TOKENS);
    if (elapsed > 0) tokens = min<f64>(load<f64>(b + SWB_DEPTH), tokens + elapsed * perMs);
    if (tokens >= cost) tokens -= cost;
    else if (perMs > exceededRate) {
      exceeded = b;
      exceededRate = perMs;
    }
    store<f64>(b + SWB_TOKENS, tokens);
  }
  if (exceeded == 0) return METER_PASS;
  store<u64>(exceeded + SWB_PACKETS, load<u64>(exceeded + SWB_PACKETS) + 1);
  store<u64>(exceeded + SWB_OCTETS, load<u64>(exceeded + SWB_OCTETS) + len);
  if (load<u32>(exceeded + SWB_TYPE) == BAND_DROP) return METER_DROP;
  const afClass = dscp >> 3;
  const drop = (dscp >> 1) & 3;
  if ((dscp & 1) != 0 || afClass < 1 || afClass > 4 || drop < 1) return METER_PASS;
  const raised = drop + load<u32>(exceeded + SWB_PREC);
  remarkedDscp = (afClass << 3) | ((raised < 3 ? raised : 3) << 1);
  return METER_REMARK;
}

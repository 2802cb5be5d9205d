// Token-bucket meters: RFC 2697 (srTCM, single rate three colour marker) and RFC 2698 (trTCM,
// two rate three colour marker), colour-blind and colour-aware. Mirrored operation for
// operation by src/dataplane/reference/meter.ts (the plain-TypeScript twin); docs/pricing-meters.md
// describes the units and error codes.
//
// Exact integer arithmetic. A bucket holds tokens in NANO-BYTES (1e-9 byte): over one
// nanosecond a rate of R bytes/s adds exactly R nano-bytes, so refilling is `dt * R` with no
// rounding at all, and a bucket of B bytes holds B * 1e9. Limits that keep every product
// inside a u64: rates below 2^34 bytes/s (137 Gbit/s), bursts below 2^32 bytes. A refill
// multiplies only when dt < 2^30 ns (then dt * R < 2^64); after a longer gap it divides once to
// see whether the bucket is full, so idle gaps of days (or years) never overflow.
//
// Per meter: METER_BYTES (48) bytes, no pointers (DPDK lib/meter splits per-profile constants from per-meter
// state; here both live in one record, addressed by meter id). The constants meterSet stores are
// the rates and bursts as the hot path uses them; the bucket sizes in nano-bytes (burst * 1e9)
// are one multiply per packet rather than two more u64 fields, which keeps a flow entry plus
// its meter within the data plane's 200-byte budget per flow:
//   0  u64  lastNs   time of the last refill
//   8  u64  tc       committed bucket, nano-bytes
//  16  u64  te       srTCM: excess bucket / trTCM: peak bucket (Tp), nano-bytes
//  24  u64  cirWord  CIR in bytes/s in bits 0..33; mode, colour-aware and "set" flags above
//  32  u64  rate2    trTCM: PIR in bytes/s (srTCM: unused, 0)
//  40  u32  cbs      bytes
//  44  u32  ebsOrPbs bytes

import { METER_BYTES, METER_ERR_BAD_OP, METER_RECORD_BYTES, MOP_DELETE, MOP_SET, MR_CBS, MR_CIR, MR_COLOR_AWARE, MR_EBS_OR_PBS, MR_EIR_OR_PIR, MR_ID, MR_MODE, MR_NOW, MR_OP, MR_STATUS } from './layout';

const M_LAST: u32 = 0;
const M_TC: u32 = 8;
const M_TE: u32 = 16;
const M_CIR: u32 = 24;
const M_RATE2: u32 = 32;
const M_CBS: u32 = 40;
const M_EBS: u32 = 44;

const NANO: u64 = 1_000_000_000;
const RATE_BITS_MASK: u64 = (<u64>1 << 34) - 1;
const FLAG_SET: u64 = <u64>1 << 63;
const FLAG_TRTCM: u64 = <u64>1 << 62;
const FLAG_AWARE: u64 = <u64>1 << 61;
/** dt below this many ns: dt * rate cannot overflow a u64 (rate < 2^34). */
const FAST_DT: u64 = <u64>1 << 30;

/** Largest accepted rate (bytes/s): 2^34 - 1, about 137 Gbit/s. */
export const METER_MAX_RATE: u64 = (<u64>1 << 34) - 1;
/** Largest accepted burst (bytes). */
export const METER_MAX_BURST: u64 = 0xffffffff;

export const METER_MODE_SRTCM: u32 = 0;
export const METER_MODE_TRTCM: u32 = 1;

export const COLOR_GREEN: u32 = 0;
export const COLOR_YELLOW: u32 = 1;
export const COLOR_RED: u32 = 2;

// Error codes of meterSet (0 = success). -1..-3 have the same meaning as the engine's
// ERR_NOT_CONFIGURED / ERR_BAD_ID / ERR_BAD_ARGUMENT; the rest name the parameter problem.
export const METER_OK: i32 = 0;
export const METER_ERR_NOT_INITIALISED: i32 = -1; // meterInit was not called
export const METER_ERR_BAD_ID: i32 = -2; //          id >= capacity
export const METER_ERR_BAD_MODE: i32 = -3; //        mode not 0/1 or colorAware not 0/1
export const METER_ERR_ZERO_RATE: i32 = -20; //      CIR == 0 (trTCM: or PIR == 0)
export const METER_ERR_PIR_BELOW_CIR: i32 = -21; //  trTCM with PIR < CIR
export const METER_ERR_ZERO_BURSTS: i32 = -22; //    CBS == 0 and EBS/PBS == 0
export const METER_ERR_RATE_TOO_HIGH: i32 = -23; //  a rate above METER_MAX_RATE
export const METER_ERR_BURST_TOO_LARGE: i32 = -24; // a burst above METER_MAX_BURST

let meters: usize = 0;
let meterCapacity: u32 = 0;

/** Allocates zeroed state for meter ids [0, capacity). Only the first call allocates. */
export function meterInit(capacity: u32): void {
  if (meters != 0) return;
  const size = (capacity as usize) * METER_BYTES;
  meters = heap.alloc(size > 0 ? size : 8);
  memory.fill(meters, 0, size);
  meterCapacity = capacity;
}

export function meterCount(): u32 {
  return meterCapacity;
}

@inline function meterAt(id: u32): usize {
  return meters + (id as usize) * METER_BYTES;
}

/**
 * Configures meter `id` (both buckets full at nowNs). mode 0 = srTCM (RFC 2697 §2: CIR, CBS,
 * EBS; eirOrPir is ignored), 1 = trTCM (RFC 2698 §2: CIR, CBS, PIR, PBS). Rates in bytes/s,
 * bursts in bytes. Returns METER_OK or a METER_ERR_* code; on error nothing changes.
 */
export function meterSet(id: u32, mode: u32, colorAware: u32, cir: u64, cbs: u64, eirOrPir: u64, ebsOrPbs: u64, nowNs: u64): i32 {
  if (meters == 0) return METER_ERR_NOT_INITIALISED;
  if (id >= meterCapacity) return METER_ERR_BAD_ID;
  if (mode > 1 || colorAware > 1) return METER_ERR_BAD_MODE;
  const trtcm = mode == METER_MODE_TRTCM;
  const pir: u64 = trtcm ? eirOrPir : 0;
  if (cir == 0 || (trtcm && pir == 0)) return METER_ERR_ZERO_RATE;
  if (cir > METER_MAX_RATE || pir > METER_MAX_RATE) return METER_ERR_RATE_TOO_HIGH;
  if (trtcm && pir < cir) return METER_ERR_PIR_BELOW_CIR;
  if (cbs > METER_MAX_BURST || ebsOrPbs > METER_MAX_BURST) return METER_ERR_BURST_TOO_LARGE;
  if (cbs == 0 && ebsOrPbs == 0) return METER_ERR_ZERO_BURSTS;
  const m = meterAt(id);
  let word = cir | FLAG_SET;
  if (trtcm) word |= FLAG_TRTCM;
  if (colorAware != 0) word |= FLAG_AWARE;
  store<u64>(m + M_LAST, nowNs);
  // RFC 2697 §3 / RFC 2698 §3: "both token buckets are initially full".
  store<u64>(m + M_TC, cbs * NANO);
  store<u64>(m + M_TE, ebsOrPbs * NANO);
  store<u64>(m + M_CIR, word);
  store<u64>(m + M_RATE2, pir);
  store<u32>(m + M_CBS, cbs as u32);
  store<u32>(m + M_EBS, ebsOrPbs as u32);
  return METER_OK;
}

/** Unsets meter `id`: afterwards it colours every packet green. Bad ids are ignored. */
export function meterDelete(id: u32): void {
  if (id >= meterCapacity) return;
  memory.fill(meterAt(id), 0, METER_BYTES);
}

/**
 * Applies the n meter records at `records` (layout.ts MR_*) in order: MOP_SET configures the
 * meter as meterSet does, MOP_DELETE unsets it. Each record gets its status in MR_STATUS
 * (METER_OK or a METER_ERR_* code; a failed record changes nothing). Returns how many failed.
 */
export function metersApply(records: usize, n: u32): u32 {
  let failed: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const r = records + (i as usize) * METER_RECORD_BYTES;
    const op = load<u32>(r + MR_OP);
    let status = METER_OK;
    if (op == MOP_SET) {
      status = meterSet(load<u32>(r + MR_ID), load<u32>(r + MR_MODE), load<u32>(r + MR_COLOR_AWARE), load<u64>(r + MR_CIR),
        load<u64>(r + MR_CBS), load<u64>(r + MR_EIR_OR_PIR), load<u64>(r + MR_EBS_OR_PBS), load<u64>(r + MR_NOW));
    } else if (op == MOP_DELETE) {
      meterDelete(load<u32>(r + MR_ID));
    } else {
      status = METER_ERR_BAD_OP;
    }
    store<i32>(r + MR_STATUS, status);
    if (status != METER_OK) failed++;
  }
  return failed;
}

/** Nano-bytes that `rate` adds over dt ns, or u64 max when that exceeds `room` (bucket full). */
@inline function refillAmount(dt: u64, rate: u64, room: u64): u64 {
  if (dt < FAST_DT) return dt * rate; // < 2^30 * 2^34
  // dt > floor(room / rate) implies dt * rate > room: the bucket fills up.
  return dt > room / rate ? U64.MAX_VALUE : dt * rate;
}

/** Adds `amount` to the bucket at p (capacity full); returns what did not fit. */
@inline function fillBucket(p: usize, full: u64, amount: u64): u64 {
  const tokens = load<u64>(p);
  const room = full - tokens;
  if (amount <= room) {
    store<u64>(p, tokens + amount);
    return 0;
  }
  store<u64>(p, full);
  return amount - room;
}

/**
 * Colour of a packet of `bytes` arriving at nowNs on meter `id` (0 green, 1 yellow, 2 red),
 * consuming its tokens. preColor is read only by colour-aware meters. Unset ids are green.
 * A time before the last refill adds no tokens (the clock never runs backwards).
 */
@inline export function meterColor(id: u32, nowNs: u64, bytes: u32, preColor: u32): u32 {
  if (id >= meterCapacity) return COLOR_GREEN;
  const m = meterAt(id);
  const word = load<u64>(m + M_CIR);
  if (word == 0) return COLOR_GREEN;
  const cir = word & RATE_BITS_MASK;
  const cbsN = (load<u32>(m + M_CBS) as u64) * NANO;
  const ebsN = (load<u32>(m + M_EBS) as u64) * NANO;
  const last = load<u64>(m + M_LAST);
  const need = (bytes as u64) * NANO;
  const aware = (word & FLAG_AWARE) != 0;
  if ((word & FLAG_TRTCM) == 0) {
    // RFC 2697 §3 (srTCM): CIR times a second Tc grows by one token while Tc < CBS, else
    // Te grows while Te < EBS. Here dt * CIR nano-bytes go to Tc, the overflow to Te.
    if (nowNs > last) {
      const dt = nowNs - last;
      const room = (cbsN - load<u64>(m + M_TC)) + (ebsN - load<u64>(m + M_TE));
      const add = refillAmount(dt, cir, room);
      const spill = fillBucket(m + M_TC, cbsN, add);
      if (spill != 0) fillBucket(m + M_TE, ebsN, spill);
      store<u64>(m + M_LAST, nowNs);
    }
    const tc = load<u64>(m + M_TC);
    // RFC 2697 §4.1 (colour-blind) / §4.2 (colour-aware): green from Tc, yellow from Te.
    if ((!aware || preColor == COLOR_GREEN) && tc >= need) {
      store<u64>(m + M_TC, tc - need);
      return COLOR_GREEN;
    }
    const te = load<u64>(m + M_TE);
    if ((!aware || preColor <= COLOR_YELLOW) && te >= need) {
      store<u64>(m + M_TE, te - need);
      return COLOR_YELLOW;
    }
    return COLOR_RED;
  }
  // RFC 2698 §3 (trTCM): Tp grows PIR times a second up to PBS, Tc CIR times up to CBS.
  if (nowNs > last) {
    const dt = nowNs - last;
    const pir = load<u64>(m + M_RATE2);
    const tp = load<u64>(m + M_TE);
    fillBucket(m + M_TE, ebsN, refillAmount(dt, pir, ebsN - tp));
    const tc = load<u64>(m + M_TC);
    fillBucket(m + M_TC, cbsN, refillAmount(dt, cir, cbsN - tc));
    store<u64>(m + M_LAST, nowNs);
  }
  // RFC 2698 §4 (colour-blind) / colour-aware: red if Tp is short (or pre-red), yellow if Tc
  // is short (or pre-yellow) taking from Tp only, else green taking from both.
  const tp = load<u64>(m + M_TE);
  if ((aware && preColor >= COLOR_RED) || tp < need) return COLOR_RED;
  const tc = load<u64>(m + M_TC);
  if ((aware && preColor == COLOR_YELLOW) || tc < need) {
    store<u64>(m + M_TE, tp - need);
    return COLOR_YELLOW;
  }
  store<u64>(m + M_TE, tp - need);
  store<u64>(m + M_TC, tc - need);
  return COLOR_GREEN;
}

/** Tokens (nano-bytes) in bucket 0 (Tc) or 1 (Te / Tp) of meter id; 0 for an unset id. For tests. */
export function meterTokens(id: u32, bucket: u32): u64 {
  if (id >= meterCapacity) return 0;
  return load<u64>(meterAt(id) + (bucket == 0 ? M_TC : M_TE));
}

/** Time of the last refill of meter id. For tests. */
export function meterLastNs(id: u32): u64 {
  if (id >= meterCapacity) return 0;
  return load<u64>(meterAt(id) + M_LAST);
}

// Per-class prices: the dynamic pricing model of the pricing seed (004, section 5, after Li,
// Iraqi and Boutaba 2003). Mirrored by
// src/dataplane/reference/pricing.ts; docs/pricing-meters.md gives the formulas and a worked
// example with the seed's three classes.
//
// Per class i: base price Pbase, maximum capacity Cmax, target capacity T (bits/s), fill
// factor f = T / Cmax, price limit Pmax, convergence factor
//   alpha = ln(Pmax / Pbase) * f / (1 - f)          (f = 1, best effort: alpha = 0, Pmax = Pbase)
// Exponential price:  P = Pbase if D <= T, else Pbase * exp(alpha * (D / T - 1)), capped at Pmax
// (Pmax is the price at D = Cmax; above Cmax the price stays at its limit).
// Tatonnement:        P(t) = P(t-1) + alpha * (D - T) / T, kept within [Pbase, Pmax].
// Demand D = max(reserved, measured); measured is the rate of the bytes accounted between two
// ticks (bits/s), smoothed by a time-based EWMA: m += (1 - exp(-dt / window)) * (sample - m),
// whose weight does not depend on how regularly the host ticks. The first sample primes m.
//
// Nothing allocates after instantiation: the class table is a set of fixed arrays. The host
// reads prices and demands straight from two of them (regionTable: RG_PRICES, RG_DEMANDS) and
// configures classes through staged records (classesApply).
import {
  CLASS_ERR_BAD_OP, CLASS_IGNORED, CLASS_RECORD_BYTES, COP_RESERVED, COP_SET, CR_BASE_PRICE, CR_CLASS, CR_CMAX, CR_MAX_PRICE, CR_MODE, CR_OP, CR_RESERVED,
  CR_STATUS, CR_TARGET, CR_WINDOW, MAX_CLASSES,
} from './layout';

export const PRICING_MODE_EXPONENTIAL: u32 = 0;
export const PRICING_MODE_TATONNEMENT: u32 = 1;

// Error codes of classSet (0 = success). On error nothing changes.
export const CLASS_OK: i32 = 0;
export const CLASS_ERR_BAD_ID: i32 = -2; //          cls >= MAX_CLASSES
export const CLASS_ERR_BAD_MODE: i32 = -3; //        mode not 0/1
export const CLASS_ERR_BAD_BASE: i32 = -30; //       basePrice <= 0 or not finite
export const CLASS_ERR_BAD_CAPACITY: i32 = -31; //   cmaxBps <= 0 or not finite
export const CLASS_ERR_BAD_TARGET: i32 = -32; //     targetBps <= 0, not finite, or > cmaxBps
export const CLASS_ERR_BAD_MAX_PRICE: i32 = -33; //  maxPrice < basePrice or not finite

const configured = new StaticArray<u8>(MAX_CLASSES);
const modeOf = new StaticArray<u8>(MAX_CLASSES);
const primed = new StaticArray<u8>(MAX_CLASSES);
const basePrice = new StaticArray<f64>(MAX_CLASSES);
const targetBps = new StaticArray<f64>(MAX_CLASSES);
const maxPrice = new StaticArray<f64>(MAX_CLASSES);
const alpha = new StaticArray<f64>(MAX_CLASSES);
const windowNs = new StaticArray<u64>(MAX_CLASSES);
const price = new StaticArray<f64>(MAX_CLASSES);
const measuredBps = new StaticArray<f64>(MAX_CLASSES);
const reservedBps = new StaticArray<f64>(MAX_CLASSES);
const demandBps = new StaticArray<f64>(MAX_CLASSES);
const pendingBytes = new StaticArray<u64>(MAX_CLASSES);
let lastTickNs: u64 = 0;
let ticked: bool = false;

@inline function finite(x: f64): bool {
  return x - x == 0; // false for NaN and +-Infinity
}

/** Exponential price of class cls at demand d, capped at Pmax. */
@inline function exponentialPrice(cls: u32, d: f64): f64 {
  const base = unchecked(basePrice[cls]);
  const t = unchecked(targetBps[cls]);
  if (!(d > t)) return base; // also for NaN
  const p = base * Math.exp(unchecked(alpha[cls]) * (d / t - 1));
  const pmax = unchecked(maxPrice[cls]);
  return p < pmax ? p : pmax;
}

@inline function updatePrice(cls: u32, tatonnementStep: bool): void {
  const d = unchecked(demandBps[cls]);
  if (unchecked(modeOf[cls]) == PRICING_MODE_EXPONENTIAL) {
    unchecked((price[cls] = exponentialPrice(cls, d)));
  } else if (tatonnementStep) {
    const t = unchecked(targetBps[cls]);
    let p = unchecked(price[cls]) + (unchecked(alpha[cls]) * (d - t)) / t;
    const lo = unchecked(basePrice[cls]);
    const hi = unchecked(maxPrice[cls]);
    if (!(p >= lo)) p = lo;
    if (p > hi) p = hi;
    unchecked((price[cls] = p));
  }
}

@inline function refreshDemand(cls: u32): void {
  const r = unchecked(reservedBps[cls]);
  const m = unchecked(measuredBps[cls]);
  unchecked((demandBps[cls] = r > m ? r : m));
}

/**
 * Configures class cls: prices per megabit, capacities in bits/s, mode 0 exponential /
 * 1 tatonnement, EWMA window in ns (0 = no smoothing). Computes alpha and Pmax. A first
 * configuration starts at the base price with no demand; a reconfiguration keeps the reserved
 * and measured demand (and, in tatonnement mode, the current price clamped to the new range).
 */
export function classSet(cls: u32, base: f64, cmaxBps: f64, target: f64, maxP: f64, mode: u32, ewmaWindowNs: u64): i32 {
  if (cls >= MAX_CLASSES) return CLASS_ERR_BAD_ID;
  if (mode > 1) return CLASS_ERR_BAD_MODE;
  if (!finite(base) || !(base > 0)) return CLASS_ERR_BAD_BASE;
  if (!finite(cmaxBps) || !(cmaxBps > 0)) return CLASS_ERR_BAD_CAPACITY;
  if (!finite(target) || !(target > 0) || target > cmaxBps) return CLASS_ERR_BAD_TARGET;
  if (!finite(maxP) || !(maxP >= base)) return CLASS_ERR_BAD_MAX_PRICE;
  const f = target / cmaxBps;
  let a: f64 = 0;
  let pmax = base;
  if (f < 1) {
    a = (Math.log(maxP / base) * f) / (1 - f);
    pmax = maxP;
  }
  const fresh = unchecked(configured[cls]) == 0;
  unchecked((configured[cls] = 1));
  unchecked((modeOf[cls] = mode as u8));
  unchecked((basePrice[cls] = base));
  unchecked((targetBps[cls] = target));
  unchecked((maxPrice[cls] = pmax));
  unchecked((alpha[cls] = a));
  unchecked((windowNs[cls] = ewmaWindowNs));
  if (fresh) {
    unchecked((price[cls] = base));
    unchecked((measuredBps[cls] = 0));
    unchecked((reservedBps[cls] = 0));
    unchecked((pendingBytes[cls] = 0));
    unchecked((primed[cls] = 0));
  }
  refreshDemand(cls);
  if (mode == PRICING_MODE_EXPONENTIAL || fresh) {
    unchecked((price[cls] = base));
    updatePrice(cls, false);
  } else {
    let p = unchecked(price[cls]);
    if (p < base) p = base;
    if (p > pmax) p = pmax;
    unchecked((price[cls] = p));
  }
  return CLASS_OK;
}

/** Hot path: `bytes` forwarded in class cls since the last tick. Bad classes are ignored. */
@inline export function classAccount(cls: u32, bytes: u32): void {
  if (cls < MAX_CLASSES) unchecked((pendingBytes[cls] += bytes as u64));
}

/**
 * Demand committed by reservations in class cls (bits/s). Takes effect at once on the demand
 * and, in exponential mode, on the price; tatonnement moves only at ticks. Ignored for an
 * unconfigured class or a negative / non-finite value.
 */
export function classSetReserved(cls: u32, reserved: f64): i32 {
  if (cls >= MAX_CLASSES || unchecked(configured[cls]) == 0) return CLASS_IGNORED;
  if (!finite(reserved) || reserved < 0) return CLASS_IGNORED;
  unchecked((reservedBps[cls] = reserved));
  refreshDemand(cls);
  updatePrice(cls, false);
  return CLASS_OK;
}

/**
 * Applies the n class records at `records` (layout.ts CR_*) in order: COP_SET configures the
 * class as classSet does, COP_RESERVED sets its reserved demand as classSetReserved does. Each
 * record gets its status in CR_STATUS (CLASS_OK, CLASS_IGNORED, or a CLASS_ERR_* code; a failed
 * record changes nothing). Returns how many records got an error code.
 */
export function classesApply(records: usize, n: u32): u32 {
  let failed: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const r = records + (i as usize) * CLASS_RECORD_BYTES;
    const op = load<u32>(r + CR_OP);
    const cls = load<u32>(r + CR_CLASS);
    let status = CLASS_OK;
    if (op == COP_SET) {
      status = classSet(cls, load<f64>(r + CR_BASE_PRICE), load<f64>(r + CR_CMAX), load<f64>(r + CR_TARGET), load<f64>(r + CR_MAX_PRICE),
        load<u32>(r + CR_MODE), load<u64>(r + CR_WINDOW));
    } else if (op == COP_RESERVED) {
      status = classSetReserved(cls, load<f64>(r + CR_RESERVED));
    } else {
      status = CLASS_ERR_BAD_OP;
    }
    store<i32>(r + CR_STATUS, status);
    if (status < 0) failed++;
  }
  return failed;
}

/** Address of the price table: MAX_CLASSES × f64, 0 for an unconfigured class. */
export function pricesAddress(): usize {
  return changetype<usize>(price);
}

/** Address of the demand table: MAX_CLASSES × f64, bits/s. */
export function demandsAddress(): usize {
  return changetype<usize>(demandBps);
}

/**
 * One pricing interval ends at nowNs. The first call only starts the clock (bytes accounted
 * before it are dropped). Later calls with nowNs > the previous tick: per configured class,
 * sample = bytes * 8e9 / dt bits/s, EWMA over the class's window, demand = max(reserved,
 * measured), price updated (exponential: P(demand); tatonnement: one step). A tick whose
 * time is not after the previous one changes nothing.
 */
export function pricingTick(nowNs: u64): void {
  if (!ticked) {
    ticked = true;
    lastTickNs = nowNs;
    for (let c: u32 = 0; c < MAX_CLASSES; c++) unchecked((pendingBytes[c] = 0));
    return;
  }
  if (nowNs <= lastTickNs) return;
  const dt = nowNs - lastTickNs;
  lastTickNs = nowNs;
  const dtF = dt as f64;
  for (let c: u32 = 0; c < MAX_CLASSES; c++) {
    if (unchecked(configured[c]) == 0) {
      unchecked((pendingBytes[c] = 0));
      continue;
    }
    const sample = ((unchecked(pendingBytes[c]) as f64) * 8e9) / dtF;
    unchecked((pendingBytes[c] = 0));
    if (unchecked(primed[c]) == 0) {
      unchecked((measuredBps[c] = sample));
      unchecked((primed[c] = 1));
    } else {
      const w = unchecked(windowNs[c]);
      const weight = w == 0 ? 1.0 : 1 - Math.exp(-dtF / (w as f64));
      const m = unchecked(measuredBps[c]);
      unchecked((measuredBps[c] = m + weight * (sample - m)));
    }
    refreshDemand(c);
    updatePrice(c, true);
  }
}

/** Current price of class cls (per megabit); 0 for an unconfigured class. */
export function classPrice(cls: u32): f64 {
  if (cls >= MAX_CLASSES) return 0;
  return unchecked(configured[cls]) != 0 ? unchecked(price[cls]) : 0;
}

/** Current demand (bits/s): max(reserved, measured). */
export function classDemand(cls: u32): f64 {
  return cls < MAX_CLASSES ? unchecked(demandBps[cls]) : 0;
}

/** Measured rate (bits/s, EWMA). */
export function classMeasured(cls: u32): f64 {
  return cls < MAX_CLASSES ? unchecked(measuredBps[cls]) : 0;
}

export function classAlpha(cls: u32): f64 {
  return cls < MAX_CLASSES ? unchecked(alpha[cls]) : 0;
}

/** Effective price limit Pmax (equals Pbase for a class with f = 1). */
export function classMaxPrice(cls: u32): f64 {
  return cls < MAX_CLASSES ? unchecked(maxPrice[cls]) : 0;
}

/** Exponential price of class cls at a hypothetical demand (quotes); 0 if unconfigured. */
export function priceAtDemand(cls: u32, demand: f64): f64 {
  if (cls >= MAX_CLASSES || unchecked(configured[cls]) == 0) return 0;
  return exponentialPrice(cls, demand);
}

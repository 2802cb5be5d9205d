// Per-class prices in plain TypeScript: the dynamic pricing model of the pricing seed (004,
// section 5, after Li, Iraqi and Boutaba 2003) — the twin of
// assembly/pricing.ts, operation for operation (prices may differ from the wasm ones in the
// last ulp, where Math.exp / Math.log do). docs/pricing-meters.md has the formulas.
//
//   f = T / Cmax, alpha = ln(Pmax / Pbase) * f / (1 - f)  (f = 1: alpha = 0, Pmax = Pbase)
//   exponential:  P = Pbase if D <= T else min(Pmax, Pbase * exp(alpha * (D / T - 1)))
//   tatonnement:  P(t) = clamp(P(t-1) + alpha * (D - T) / T, Pbase, Pmax)
//   D = max(reserved, measured); measured = EWMA of bytes * 8e9 / dt with weight 1 - exp(-dt / window)

import { MAX_CLASSES } from '../layout.js';

export { MAX_CLASSES };

export const CLASS_OK = 0;
export const CLASS_ERR_BAD_ID = -2;
export const CLASS_ERR_BAD_MODE = -3;
export const CLASS_ERR_BAD_BASE = -30;
export const CLASS_ERR_BAD_CAPACITY = -31;
export const CLASS_ERR_BAD_TARGET = -32;
export const CLASS_ERR_BAD_MAX_PRICE = -33;
/** TypeScript only: ewmaWindowNs is not a non-negative safe integer. */
export const CLASS_ERR_BAD_WINDOW = -34;

export interface ClassParams {
  /** price per megabit at or below the target load */
  basePrice: number;
  /** maximum capacity of the class, bits/s */
  cmaxBps: number;
  /** target capacity, bits/s (fill factor = targetBps / cmaxBps) */
  targetBps: number;
  /** price limit Pmax: the price when demand reaches cmaxBps */
  maxPrice: number;
  mode: 'exponential' | 'tatonnement';
  /** EWMA time constant of the measured rate, ns (0 = the last interval's rate) */
  ewmaWindowNs: number;
}

interface ClassState {
  tatonnement: boolean;
  base: number;
  target: number;
  maxPrice: number;
  alpha: number;
  windowNs: number;
  price: number;
  measured: number;
  reserved: number;
  demand: number;
  primed: boolean;
}

export class ReferencePricing {
  private readonly classes: (ClassState | undefined)[] = new Array<ClassState | undefined>(MAX_CLASSES).fill(undefined);
  private readonly pending = new Float64Array(MAX_CLASSES);
  private lastTickNs = 0;
  private ticked = false;

  /** Configures class cls; returns CLASS_OK or a CLASS_ERR_* code (nothing changes then). */
  setClass(cls: number, p: ClassParams): number {
    if (!Number.isInteger(cls) || cls < 0 || cls >= MAX_CLASSES) return CLASS_ERR_BAD_ID;
    if (p.mode !== 'exponential' && p.mode !== 'tatonnement') return CLASS_ERR_BAD_MODE;
    if (!Number.isFinite(p.basePrice) || !(p.basePrice > 0)) return CLASS_ERR_BAD_BASE;
    if (!Number.isFinite(p.cmaxBps) || !(p.cmaxBps > 0)) return CLASS_ERR_BAD_CAPACITY;
    if (!Number.isFinite(p.targetBps) || !(p.targetBps > 0) || p.targetBps > p.cmaxBps) return CLASS_ERR_BAD_TARGET;
    if (!Number.isFinite(p.maxPrice) || !(p.maxPrice >= p.basePrice)) return CLASS_ERR_BAD_MAX_PRICE;
    if (!Number.isSafeInteger(p.ewmaWindowNs) || p.ewmaWindowNs < 0) return CLASS_ERR_BAD_WINDOW;
    const f = p.targetBps / p.cmaxBps;
    let alpha = 0;
    let pmax = p.basePrice;
    if (f < 1) {
      alpha = (Math.log(p.maxPrice / p.basePrice) * f) / (1 - f);
      pmax = p.maxPrice;
    }
    const old = this.classes[cls];
    const tatonnement = p.mode === 'tatonnement';
    const c: ClassState = {
      tatonnement,
      base: p.basePrice,
      target: p.targetBps,
      maxPrice: pmax,
      alpha,
      windowNs: p.ewmaWindowNs,
      price: p.basePrice,
      measured: old?.measured ?? 0,
      reserved: old?.reserved ?? 0,
      demand: 0,
      primed: old?.primed ?? false,
    };
    if (!old) this.pending[cls] = 0;
    c.demand = Math.max(c.reserved, c.measured);
    if (!tatonnement) c.price = this.exponential(c, c.demand);
    else if (old) c.price = Math.min(Math.max(old.price, c.base), pmax);
    this.classes[cls] = c;
    return CLASS_OK;
  }

  /** Hot path: bytes forwarded in class cls since the last tick. */
  account(cls: number, bytes: number): void {
    if (cls >= 0 && cls < MAX_CLASSES) this.pending[cls] = this.pending[cls]! + bytes;
  }

  /** Demand committed by reservations (bits/s); immediate effect on demand and exponential prices. */
  setReserved(cls: number, reservedBps: number): void {
    const c = this.classes[cls];
    if (!c || !Number.isFinite(reservedBps) || reservedBps < 0) return;
    c.reserved = reservedBps;
    c.demand = Math.max(c.reserved, c.measured);
    if (!c.tatonnement) c.price = this.exponential(c, c.demand);
  }

  /** Ends a pricing interval at nowNs (see assembly/pricing.ts pricingTick). */
  tick(nowNs: number): void {
    if (!this.ticked) {
      this.ticked = true;
      this.lastTickNs = nowNs;
      this.pending.fill(0);
      return;
    }
    if (!(nowNs > this.lastTickNs)) return;
    const dt = nowNs - this.lastTickNs;
    this.lastTickNs = nowNs;
    for (let cls = 0; cls < MAX_CLASSES; cls++) {
      const c = this.classes[cls];
      const bytes = this.pending[cls]!;
      this.pending[cls] = 0;
      if (!c) continue;
      const sample = (bytes * 8e9) / dt;
      if (!c.primed) {
        c.measured = sample;
        c.primed = true;
      } else {
        const weight = c.windowNs === 0 ? 1 : 1 - Math.exp(-dt / c.windowNs);
        c.measured = c.measured + weight * (sample - c.measured);
      }
      c.demand = c.reserved > c.measured ? c.reserved : c.measured;
      if (!c.tatonnement) {
        c.price = this.exponential(c, c.demand);
      } else {
        let next = c.price + (c.alpha * (c.demand - c.target)) / c.target;
        if (!(next >= c.base)) next = c.base;
        if (next > c.maxPrice) next = c.maxPrice;
        c.price = next;
      }
    }
  }

  price(cls: number): number {
    return this.classes[cls]?.price ?? 0;
  }
  demand(cls: number): number {
    return this.classes[cls]?.demand ?? 0;
  }
  measured(cls: number): number {
    return this.classes[cls]?.measured ?? 0;
  }
  alpha(cls: number): number {
    return this.classes[cls]?.alpha ?? 0;
  }
  maxPrice(cls: number): number {
    return this.classes[cls]?.maxPrice ?? 0;
  }
  /** Exponential price at a hypothetical demand (quotes); 0 for an unconfigured class. */
  priceAtDemand(cls: number, demandBps: number): number {
    const c = this.classes[cls];
    return c ? this.exponential(c, demandBps) : 0;
  }

  private exponential(c: ClassState, d: number): number {
    if (!(d > c.target)) return c.base;
    const p = c.base * Math.exp(c.alpha * (d / c.target - 1));
    return p < c.maxPrice ? p : c.maxPrice;
  }
}

const CLASS_ERROR_NAMES: Record<number, string> = {
  [CLASS_ERR_BAD_ID]: `class id outside [0, ${MAX_CLASSES})`,
  [CLASS_ERR_BAD_MODE]: 'bad pricing mode',
  [CLASS_ERR_BAD_BASE]: 'base price not a positive number',
  [CLASS_ERR_BAD_CAPACITY]: 'maximum capacity not a positive number',
  [CLASS_ERR_BAD_TARGET]: 'target not a positive number at most the maximum capacity',
  [CLASS_ERR_BAD_MAX_PRICE]: 'price limit below the base price',
  [CLASS_ERR_BAD_WINDOW]: 'EWMA window not a non-negative integer of ns',
};

/** Text for a classSet / ReferencePricing.setClass error code. */
export function classErrorText(code: number): string {
  return CLASS_ERROR_NAMES[code] ?? (code === CLASS_OK ? 'ok' : `unknown class error ${code}`);
}

// Dynamic pricing (seed 004 section 5): alpha, Pmax and the exponential
// price of the seed's three classes on 1 Mbit/s links at loads from 0 to 120 %, against
// values worked out by hand below; tatonnement steps; EWMA demand; bad parameters — for the
// wasm module (the bench build: classes configured through the production classesConfigure
// records, prices and demands read from the module's tables, probes for the rest) and the
// TypeScript twin.
// Needs `npm run build:wasm` first.
import { describe, expect, it } from 'vitest';
import {
  CLASS_ERR_BAD_BASE, CLASS_ERR_BAD_CAPACITY, CLASS_ERR_BAD_ID, CLASS_ERR_BAD_MAX_PRICE, CLASS_ERR_BAD_MODE, CLASS_ERR_BAD_TARGET,
  CLASS_OK, ReferencePricing, type ClassParams,
} from '../../src/dataplane/reference/pricing.js';
import { mulberry32Below } from '../../src/util/random.js';
import { CLASS_ERR_BAD_OP, CLASS_IGNORED, COP_RESERVED, COP_SET } from '../../src/dataplane/layout.js';
import { benchInstance } from './bench-module.js';

interface Pricing {
  name: string;
  setClass(cls: number, p: ClassParams): number;
  account(cls: number, bytes: number): void;
  setReserved(cls: number, bps: number): void;
  tick(nowNs: number): void;
  price(cls: number): number;
  demand(cls: number): number;
  measured(cls: number): number;
  alpha(cls: number): number;
  maxPrice(cls: number): number;
  priceAtDemand(cls: number, d: number): number;
}

/** 0 exponential, 1 tatonnement, anything else an invalid code the module must refuse */
function modeCode(mode: string): number {
  return mode === 'exponential' ? 0 : mode === 'tatonnement' ? 1 : 7;
}

function wasmPricing(build: 'release' | 'debug' = 'release', name = 'wasm'): Pricing {
  const w = benchInstance(build);
  const x = w.x;
  return {
    name,
    setClass: (c, p) =>
      w.cls({ cls: c, op: COP_SET, mode: modeCode(p.mode), basePrice: p.basePrice, cmaxBps: p.cmaxBps, targetBps: p.targetBps, maxPrice: p.maxPrice, windowNs: BigInt(p.ewmaWindowNs) }),
    account: (c, b) => x.classAccount(c, b),
    setReserved: (c, b) => void w.cls({ cls: c, op: COP_RESERVED, reservedBps: b }),
    tick: (t) => x.pricingTick(BigInt(t)),
    price: (c) => w.price(c),
    demand: (c) => w.demand(c),
    measured: (c) => x.classMeasured(c),
    alpha: (c) => x.classAlpha(c),
    maxPrice: (c) => x.classMaxPrice(c),
    priceAtDemand: (c, d) => x.priceAtDemand(c, d),
  };
}

function tsPricing(): Pricing {
  const r = new ReferencePricing();
  return {
    name: 'ts',
    setClass: (c, p) => r.setClass(c, p),
    account: (c, b) => r.account(c, b),
    setReserved: (c, b) => r.setReserved(c, b),
    tick: (t) => r.tick(t),
    price: (c) => r.price(c),
    demand: (c) => r.demand(c),
    measured: (c) => r.measured(c),
    alpha: (c) => r.alpha(c),
    maxPrice: (c) => r.maxPrice(c),
    priceAtDemand: (c, d) => r.priceAtDemand(c, d),
  };
}

const LINK = 1_000_000; // 1 Mbit/s
const SECOND = 1_000_000_000;
// The seed's classes; Pmax chosen as 10 x base (the seed leaves it to configuration).
const FID15: ClassParams = { basePrice: 0.16, cmaxBps: LINK, targetBps: 0.5 * LINK, maxPrice: 1.6, mode: 'exponential', ewmaWindowNs: SECOND };
const FID12: ClassParams = { basePrice: 0.09, cmaxBps: LINK, targetBps: 0.7 * LINK, maxPrice: 0.9, mode: 'exponential', ewmaWindowNs: SECOND };
const FID8: ClassParams = { basePrice: 0.04, cmaxBps: LINK, targetBps: LINK, maxPrice: 0.4, mode: 'exponential', ewmaWindowNs: SECOND };

// alpha = ln(Pmax / Pbase) * f / (1 - f) with Pmax / Pbase = 10, ln 10 = 2.302585092994046:
//   FID 15: f = 0.5 -> ln 10 * 0.5 / 0.5 = 2.302585092994046
//   FID 12: f = 0.7 -> ln 10 * 0.7 / 0.3 = 2.302585092994046 * 2.3333... = 5.372698550319441
//   FID 8:  f = 1   -> best effort: alpha = 0 and Pmax = Pbase = 0.04
const LN10 = 2.302585092994046;

// With Pmax = 10 Pbase, Pbase * exp(alpha (D/T - 1)) = Pbase * 10^(f/(1-f) * (D-T)/T) = Pbase * 10^((D-T)/(Cmax-T)),
// so the prices by hand, load L as a fraction of the 1 Mbit/s link:
//   FID 15 (T = 0.5): L <= 0.5 -> 0.16;  0.6 -> 0.16 * 10^0.2 = 0.16 * 1.584893192461114 = 0.2535829107937782
//                     0.7 -> 0.16 * 10^0.4 = 0.16 * 2.511886431509580 = 0.4019018290415328
//                     0.8 -> 0.16 * 10^0.6 = 0.16 * 3.981071705534972 = 0.6369714728855956
//                     0.9 -> 0.16 * 10^0.8 = 0.16 * 6.309573444801933 = 1.009531751168309
//                     1.0 -> 0.16 * 10 = 1.6 (= Pmax); 1.1, 1.2 -> held at Pmax 1.6
//   FID 12 (T = 0.7): L <= 0.7 -> 0.09;  0.8 -> 0.09 * 10^(1/3) = 0.09 * 2.154434690031884 = 0.1938991221028696
//                     0.9 -> 0.09 * 10^(2/3) = 0.09 * 4.641588833612779 = 0.4177429950251501
//                     1.0 -> 0.9 (= Pmax); 1.1, 1.2 -> 0.9
//   FID 8 (T = 1.0):  0.04 at every load
const LOADS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2];
const EXPECTED: Record<string, number[]> = {
  fid15: [0.16, 0.16, 0.16, 0.16, 0.16, 0.16, 0.2535829107937782, 0.4019018290415328, 0.6369714728855956, 1.009531751168309, 1.6, 1.6, 1.6],
  fid12: [0.09, 0.09, 0.09, 0.09, 0.09, 0.09, 0.09, 0.09, 0.1938991221028696, 0.4177429950251501, 0.9, 0.9, 0.9],
  fid8: LOADS.map(() => 0.04),
};

describe.each([wasmPricing, () => wasmPricing('debug', 'wasm debug'), tsPricing].map((f) => [f().name, f] as const))('pricing (%s)', (_name, make) => {
  it('alpha and Pmax of the seed classes', () => {
    const p = make();
    expect(p.setClass(15, FID15)).toBe(CLASS_OK);
    expect(p.setClass(12, FID12)).toBe(CLASS_OK);
    expect(p.setClass(8, FID8)).toBe(CLASS_OK);
    expect(p.alpha(15)).toBeCloseTo(LN10, 14);
    expect(p.alpha(12)).toBeCloseTo(5.372698550319441, 13);
    expect(p.alpha(8)).toBe(0);
    expect(p.maxPrice(15)).toBe(1.6);
    expect(p.maxPrice(12)).toBe(0.9);
    expect(p.maxPrice(8)).toBe(0.04);
    // unconfigured classes have no price
    expect(p.price(3)).toBe(0);
    expect(p.priceAtDemand(3, LINK)).toBe(0);
  });

  it('exponential prices at loads 0..120 % of a 1 Mbit/s link, by reserved demand and by quote', () => {
    const p = make();
    p.setClass(15, FID15);
    p.setClass(12, FID12);
    p.setClass(8, FID8);
    LOADS.forEach((load, i) => {
      const d = load * LINK;
      expect(p.priceAtDemand(15, d), `FID 15 at ${load}`).toBeCloseTo(EXPECTED['fid15']![i]!, 12);
      expect(p.priceAtDemand(12, d), `FID 12 at ${load}`).toBeCloseTo(EXPECTED['fid12']![i]!, 12);
      expect(p.priceAtDemand(8, d), `FID 8 at ${load}`).toBe(0.04);
      // the same through reservations: demand = max(reserved, measured), price follows at once
      for (const cls of [15, 12, 8]) p.setReserved(cls, d);
      expect(p.demand(15)).toBe(d);
      expect(p.price(15)).toBeCloseTo(EXPECTED['fid15']![i]!, 12);
      expect(p.price(12)).toBeCloseTo(EXPECTED['fid12']![i]!, 12);
      expect(p.price(8)).toBe(0.04);
    });
    // the closed form by another route: Pbase * 10^((D - T) / (Cmax - T))
    expect(p.priceAtDemand(12, 0.85 * LINK)).toBeCloseTo(0.09 * Math.pow(10, 0.15 / 0.3), 12);
  });

  it('EWMA demand from accounted bytes', () => {
    const p = make();
    p.setClass(15, FID15); // window 1 s
    p.tick(0); // starts the clock
    p.account(15, 62_500); // 500 kbit in the first second
    p.tick(SECOND);
    // first sample primes the average: 62 500 B * 8 / 1 s = 500 000 bit/s
    expect(p.measured(15)).toBe(500_000);
    expect(p.price(15)).toBe(0.16); // at the target
    p.account(15, 100_000);
    p.account(15, 25_000); // 1 Mbit in the next second
    p.account(99, 1_000_000); // a bad class is ignored
    p.tick(2 * SECOND);
    // weight 1 - e^-1 = 0.6321205588285577: 500 000 + 0.6321205588285577 * 500 000 = 816 060.2794142788
    expect(p.measured(15)).toBeCloseTo(816_060.2794142788, 6);
    expect(p.demand(15)).toBeCloseTo(816_060.2794142788, 6);
    // price 0.16 * 10^((816 060.28 - 500 000) / 500 000) = 0.16 * 10^0.6321205588 = 0.6862393...
    expect(p.price(15)).toBeCloseTo(0.16 * Math.pow(10, 0.6321205588285577), 10);
    // half a second with nothing: weight 1 - e^-0.5 = 0.3934693402873666 -> 816 060.28 * 0.6065306597126334 = 494 965.6...
    p.tick(2.5 * SECOND);
    expect(p.measured(15)).toBeCloseTo(816_060.2794142788 * 0.6065306597126334, 6);
    expect(p.price(15)).toBe(0.16);
    // a tick at the same instant changes nothing
    p.account(15, 1_000_000);
    p.tick(2.5 * SECOND);
    expect(p.measured(15)).toBeCloseTo(494_965.5, 0);
    // reserved demand above the measured rate wins
    p.setReserved(15, 600_000);
    expect(p.demand(15)).toBe(600_000);
    expect(p.price(15)).toBeCloseTo(0.2535829107937782, 12);
  });

  it('a window of 0 takes the last interval rate as it is', () => {
    const p = make();
    p.setClass(1, { ...FID12, ewmaWindowNs: 0 });
    p.tick(1000);
    p.account(1, 1000);
    p.tick(1000 + SECOND / 1000); // 1000 B in 1 ms = 8 Mbit/s
    expect(p.measured(1)).toBe(8_000_000);
    p.account(1, 10);
    p.tick(1000 + SECOND / 500); // 10 B in 1 ms = 80 kbit/s
    expect(p.measured(1)).toBe(80_000);
    expect(p.price(1)).toBe(0.09);
  });

  it('tatonnement: one step per tick, kept within [Pbase, Pmax]', () => {
    const p = make();
    p.setClass(15, { ...FID15, mode: 'tatonnement' });
    p.setClass(8, { ...FID8, mode: 'tatonnement' });
    expect(p.price(15)).toBe(0.16);
    p.setReserved(15, 750_000); // 150 % of target
    p.setReserved(8, 1_200_000);
    expect(p.price(15)).toBe(0.16); // tatonnement moves only at ticks
    p.tick(0);
    p.tick(SECOND);
    // P = 0.16 + alpha * (750 000 - 500 000) / 500 000 = 0.16 + 2.302585092994046 * 0.5 = 1.311292546497023
    expect(p.price(15)).toBeCloseTo(1.311292546497023, 12);
    expect(p.price(8)).toBe(0.04); // alpha = 0: best effort keeps its base price
    p.tick(2 * SECOND);
    // 1.3113 + 1.1513 = 2.4626 > Pmax: held at 1.6
    expect(p.price(15)).toBe(1.6);
    p.setReserved(15, 250_000); // half the target
    p.tick(3 * SECOND);
    // 1.6 + 2.302585092994046 * (250 000 - 500 000) / 500 000 = 1.6 - 1.151292546497023 = 0.448707453502977
    expect(p.price(15)).toBeCloseTo(0.448707453502977, 12);
    p.tick(4 * SECOND);
    expect(p.price(15)).toBe(0.16); // 0.4487 - 1.1513 < Pbase: held at 0.16
    // the quote function is the exponential price whatever the mode
    expect(p.priceAtDemand(15, 0.6 * LINK)).toBeCloseTo(0.2535829107937782, 12);
  });

  it('bad parameters return their code and change nothing', () => {
    const p = make();
    expect(p.setClass(15, FID15)).toBe(CLASS_OK);
    p.setReserved(15, 800_000);
    const price = p.price(15);
    const cases: [number, ClassParams, number][] = [
      [64, FID15, CLASS_ERR_BAD_ID],
      [15, { ...FID15, mode: 'other' as 'exponential' }, CLASS_ERR_BAD_MODE],
      [15, { ...FID15, basePrice: 0 }, CLASS_ERR_BAD_BASE],
      [15, { ...FID15, basePrice: Number.NaN }, CLASS_ERR_BAD_BASE],
      [15, { ...FID15, cmaxBps: 0 }, CLASS_ERR_BAD_CAPACITY],
      [15, { ...FID15, cmaxBps: Infinity }, CLASS_ERR_BAD_CAPACITY],
      [15, { ...FID15, targetBps: 2 * LINK }, CLASS_ERR_BAD_TARGET],
      [15, { ...FID15, targetBps: 0 }, CLASS_ERR_BAD_TARGET],
      [15, { ...FID15, maxPrice: 0.1 }, CLASS_ERR_BAD_MAX_PRICE],
    ];
    for (const [cls, params, code] of cases) expect(p.setClass(cls, params), JSON.stringify(params)).toBe(code);
    expect(p.price(15)).toBe(price);
    expect(p.alpha(15)).toBeCloseTo(LN10, 14);
    expect(p.maxPrice(15)).toBe(1.6);
    expect(p.demand(15)).toBe(800_000);
    // reconfiguring keeps the demand: Pmax 10x -> 100x base, f = 0.5: alpha = ln 100 = 4.605170185988092
    expect(p.setClass(15, { ...FID15, maxPrice: 16 })).toBe(CLASS_OK);
    expect(p.demand(15)).toBe(800_000);
    expect(p.alpha(15)).toBeCloseTo(4.605170185988092, 13);
    // 0.16 * 100^((800 000 - 500 000) / 500 000) = 0.16 * 100^0.6 = 0.16 * 15.848931924611133 = 2.5358291079377813
    expect(p.price(15)).toBeCloseTo(2.5358291079377813, 11);
  });
});

describe('pricing: wasm and twin agree', () => {
  it('over random traffic, ticks and reservations', () => {
    const w = wasmPricing();
    const t = tsPricing();
    for (const impl of [w, t]) {
      impl.setClass(0, FID15);
      impl.setClass(1, { ...FID12, mode: 'tatonnement' });
      impl.setClass(2, FID8);
    }
    // mulberry32: every bit well mixed (a plain LCG's low bits cycle, which starves `% n`)
    const rnd = mulberry32Below(7);
    let now = 0;
    for (let i = 0; i < 2000; i++) {
      const op = rnd(10);
      if (op < 7) {
        const cls = rnd(3);
        const bytes = rnd(20_000);
        w.account(cls, bytes);
        t.account(cls, bytes);
      } else if (op < 9) {
        now += rnd(200_000_000);
        w.tick(now);
        t.tick(now);
      } else {
        const cls = rnd(3);
        const r = rnd(1_500_000);
        w.setReserved(cls, r);
        t.setReserved(cls, r);
      }
      for (let cls = 0; cls < 3; cls++) {
        expect(w.demand(cls)).toBeCloseTo(t.demand(cls), 6);
        expect(w.price(cls)).toBeCloseTo(t.price(cls), 12);
      }
    }
  });
});

describe('pricing: the staged class records of the wasm module', () => {
  it('reports CLASS_IGNORED for a reservation on an unconfigured class and CLASS_ERR_BAD_OP for an unknown op', () => {
    const w = benchInstance();
    expect(w.cls({ cls: 5, op: COP_RESERVED, reservedBps: 1000 })).toBe(CLASS_IGNORED);
    expect(w.cls({ cls: 5, op: 7 })).toBe(CLASS_ERR_BAD_OP);
    expect(w.cls({ cls: 5, op: COP_SET, mode: 0, basePrice: 1, cmaxBps: 10, targetBps: 5, maxPrice: 2, windowNs: 0n })).toBe(CLASS_OK);
    expect(w.cls({ cls: 5, op: COP_RESERVED, reservedBps: -1 })).toBe(CLASS_IGNORED);
    expect(w.cls({ cls: 5, op: COP_RESERVED, reservedBps: 5 })).toBe(CLASS_OK);
    expect([w.price(5), w.demand(5), w.price(64), w.price(-1)]).toEqual([1, 5, 0, 0]);
  });
});

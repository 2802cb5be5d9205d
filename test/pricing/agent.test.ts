// The pricing agent (pricing seed 004 section 5) on the real wasm engine
// (src/dataplane/engine.ts): demand from admission control and from LoadSamples, prices by
// the exponential model and the tatonnement update, history persisted in a real SQLite
// file. Expected prices are computed here from the seed's formulas (docs/design.md, "Pricing").
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/defaults.js';
import type { PricingConfig } from '../../src/config/types.js';
import { CONTROLLER_COMPONENT, controllerMigrations } from '../../src/reservations/migrations.js';
import { Engine } from '../../src/dataplane/engine.js';
import { PricingAgent } from '../../src/pricing/agent.js';
import { AdmissionControl } from '../../src/qos/admission.js';
import { ServiceClasses } from '../../src/qos/classes.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from '../reservations/helpers.js';

const LN10 = Math.log(10);
/** The seed's exponential price with Pmax = 10 · Pbase: alpha = ln 10 · f / (1 − f). */
function expPrice(base: number, f: number, cmax: number, d: number): number {
  const t = f * cmax;
  if (d <= t) return base;
  return Math.min(base * 10, base * Math.exp(((LN10 * f) / (1 - f)) * (d / t - 1)));
}

describe('pricing agent', () => {
  let t: ReturnType<typeof tempDir>;
  let store: Store;
  let admission: AdmissionControl;
  let clock: { now: number };
  const classes = new ServiceClasses(defaultConfig().classes);

  const agentWith = (pricing: Partial<PricingConfig> = {}): PricingAgent =>
    new PricingAgent({
      store,
      classes,
      admission,
      pricing: { mode: 'exponential', demand: 'max', demandWindowMs: 0, ...pricing },
      defaultCapacityBps: 1e9,
      createEngine: () => new Engine({ flowCapacity: 4, ruleCapacity: 4, meterCapacity: 4 }),
      now: () => clock.now,
    });
  const price = (a: PricingAgent, id: string): number => a.prices().find((p) => p.classId === id)!.price;

  beforeEach(() => {
    t = tempDir();
    store = Store.open(join(t.dir, 'payflow.db'));
    store.migrate(CONTROLLER_COMPONENT, controllerMigrations);
    admission = new AdmissionControl(classes);
    // the seed's scenario: 1 Mbit/s links
    admission.capacity.setCapacity('s1:1', 1e6);
    admission.capacity.setCapacity('s2:1', 1e6);
    clock = { now: 1_000_000 };
  });
  afterEach(() => {
    store.close();
    t.cleanup();
  });

  it('starts every class at its base price', () => {
    const a = agentWith();
    expect(a.prices().map((p) => [p.classId, p.price])).toEqual([
      ['gold', 0.16],
      ['silver', 0.09],
      ['best-effort', 0.04],
    ]);
    // Cmax_i = share × the smallest known link; T_i = f_i · Cmax_i
    expect(a.prices()[0]).toMatchObject({ cmaxBps: 400_000, targetBps: 200_000, resource: 's1:1' });
  });

  it('exponential: reserved demand on the most loaded link sets the price at once; best effort never moves', () => {
    const a = agentWith({ demand: 'reserved' });
    expect(admission.admit({ id: 'g1', classId: 'gold', rateBps: 300_000, resources: ['s2:1'] }).ok).toBe(true);
    expect(admission.admit({ id: 's1', classId: 'silver', rateBps: 270_000, resources: ['s1:1'] }).ok).toBe(true);
    expect(admission.admit({ id: 'b1', classId: 'best-effort', rateBps: 300_000, resources: ['s1:1'] }).ok).toBe(true);
    a.reservationsChanged();
    expect(price(a, 'gold')).toBeCloseTo(expPrice(0.16, 0.5, 400_000, 300_000), 9);
    expect(price(a, 'gold')).toBeCloseTo(0.16 * Math.sqrt(10), 9);
    expect(a.prices()[0]).toMatchObject({ resource: 's2:1', reservedBps: 300_000, demandBps: 300_000 });
    expect(price(a, 'silver')).toBeCloseTo(expPrice(0.09, 0.7, 300_000, 270_000), 9);
    expect(price(a, 'best-effort')).toBe(0.04);
    admission.release('g1');
    a.reservationsChanged();
    expect(price(a, 'gold')).toBe(0.16);
  });

  it('measured demand from LoadSamples counts after a tick (demand: measured / max), not with demand: reserved', () => {
    for (const demand of ['measured', 'max', 'reserved'] as const) {
      const a = agentWith({ demand });
      a.tick();
      a.onLoad({ atMs: clock.now, classRateBps: { gold: 350_000, silver: 0 } });
      clock.now += 1000;
      a.tick();
      const expected = demand === 'reserved' ? 0.16 : expPrice(0.16, 0.5, 400_000, 350_000);
      expect(price(a, 'gold')).toBeCloseTo(expected, 9);
    }
  });

  it('smooths measured samples with the configured window (EWMA, weight 1 − e^(−dt/W))', () => {
    const a = agentWith({ demand: 'measured', demandWindowMs: 1000 });
    a.onLoad({ atMs: 0, classRateBps: { gold: 0 } });
    a.onLoad({ atMs: 1000, classRateBps: { gold: 400_000 } });
    const m = 400_000 * (1 - Math.exp(-1));
    expect(a.prices()[0]!.measuredBps).toBeCloseTo(m, 6);
    a.onLoad({ atMs: 1000, classRateBps: { gold: Number.NaN } }); // dt 0: no weight; bad values count as 0
    expect(a.prices()[0]!.measuredBps).toBeCloseTo(m, 6);
  });

  it('degraded traffic (from a switch that accounts it) is kept apart: not demand, not revenue', () => {
    const a = agentWith({ demand: 'measured', demandWindowMs: 0 });
    // silver's reservations: 150 kbit/s in profile, 90 kbit/s beyond it delivered degraded
    a.onLoad({ atMs: clock.now, classRateBps: { gold: 0, silver: 150_000, 'best-effort': 0 }, classDegradedBps: { silver: 90_000 } });
    clock.now += 1000;
    a.tick();
    const silver = a.prices().find((p) => p.classId === 'silver')!;
    expect(silver.measuredBps).toBe(150_000);
    expect(silver.degradedBps).toBe(90_000);
    expect(silver.demandBps).toBeCloseTo(150_000, 6);
    expect(a.prices().find((p) => p.classId === 'gold')!.degradedBps).toBe(0);
    // revenue is the payments for reserved rates: nothing was paid, so nothing was earned
    expect(a.revenue().total).toBe('0');
    // a sample without degraded rates (Open vSwitch) lets them decay to 0
    a.onLoad({ atMs: clock.now, classRateBps: { silver: 150_000 } });
    expect(a.prices().find((p) => p.classId === 'silver')!.degradedBps).toBe(0);
  });

  it('tatonnement: P ← P + alpha·(D − T)/T at each tick, kept within [Pbase, Pmax]', () => {
    const a = agentWith({ mode: 'tatonnement', demand: 'reserved' });
    admission.admit({ id: 'g1', classId: 'gold', rateBps: 300_000, resources: ['s1:1'] });
    a.reservationsChanged();
    a.tick(); // the engine's first tick starts its clock
    expect(price(a, 'gold')).toBe(0.16);
    clock.now += 1000;
    a.tick();
    expect(price(a, 'gold')).toBeCloseTo(0.16 + LN10 * (100_000 / 200_000), 9);
    clock.now += 1000;
    a.tick();
    expect(price(a, 'gold')).toBeCloseTo(1.6, 9);
    admission.release('g1');
    a.reservationsChanged();
    clock.now += 1000;
    a.tick();
    expect(price(a, 'gold')).toBeCloseTo(Math.max(0.16, 1.6 - LN10), 9);
    // a quote in tatonnement mode gets the class's current price
    expect(a.priceFn('gold', 390_000, { classIndex: 0, resource: 's1:1', cmaxBps: 400_000, targetBps: 200_000 })).toBe(price(a, 'gold'));
  });

  it("prices a quote at the quote's demand and link without moving the current price", () => {
    const a = agentWith();
    const p = a.priceFn('gold', 300_000, { classIndex: 0, resource: 's1:1', cmaxBps: 400_000, targetBps: 200_000 });
    expect(p).toBeCloseTo(0.16 * Math.sqrt(10), 9);
    expect(a.priceFn('gold', 100_000, { classIndex: 0, resource: 's1:1', cmaxBps: 400_000, targetBps: 200_000 })).toBe(0.16);
    expect(price(a, 'gold')).toBe(0.16);
    expect(() => a.priceFn('platinum', 1, { classIndex: 9, resource: 'x', cmaxBps: 1, targetBps: 1 })).toThrow(/platinum/);
  });

  it('stores each price change with its time and demand, and serves the history', () => {
    const a = agentWith({ demand: 'reserved' });
    const first = a.history();
    expect(first.map((p) => p.classId)).toEqual(['gold', 'silver', 'best-effort']);
    a.tick();
    expect(a.history()).toHaveLength(3); // nothing moved, nothing stored
    clock.now += 5000;
    admission.admit({ id: 'g1', classId: 'gold', rateBps: 300_000, resources: ['s1:1'] });
    a.reservationsChanged();
    const h = a.history({ classId: 'gold' });
    expect(h).toHaveLength(2);
    expect(h[1]).toEqual({ at: clock.now, classId: 'gold', price: price(a, 'gold'), demandBps: 300_000 });
    expect(a.history({ limit: 1 })).toEqual([h[1]]);
    const rows = store.db.prepare('SELECT COUNT(*) AS n FROM controller_prices').get() as { n: number };
    expect(rows.n).toBe(4);
    expect(a.revenue()).toEqual({ classes: [{ classId: 'gold', amount: '0', unsettled: '0', payments: 0 }, { classId: 'silver', amount: '0', unsettled: '0', payments: 0 }, { classId: 'best-effort', amount: '0', unsettled: '0', payments: 0 }], total: '0', unsettled: '0' });
  });
});

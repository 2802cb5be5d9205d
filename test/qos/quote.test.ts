import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { ServiceClasses } from '../../src/qos/classes.js';
import { AdmissionControl } from '../../src/qos/admission.js';
import { quoteReservation, type PriceFn, type PriceContext } from '../../src/qos/quote.js';

function setup(): AdmissionControl {
  const a = new AdmissionControl(new ServiceClasses(defaultConfig().classes));
  a.capacity.setCapacity('x', 1e6);
  a.capacity.setCapacity('y', 2e6);
  return a;
}

describe('quotes (the preorder)', () => {
  it('prices at the most loaded link and changes nothing', () => {
    const a = setup();
    a.admit({ id: 'r1', classId: 'gold', rateBps: 100_000, resources: ['y'] });
    const calls: [string, number, PriceContext][] = [];
    const price: PriceFn = (classId, demandBps, ctx) => {
      calls.push([classId, demandBps, ctx]);
      return 0.2;
    };
    const r = quoteReservation(a, { classId: 'gold', rateBps: 200_000, durationMs: 60_000, resources: ['x', 'y'] }, price);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // x: (0 + 200k) / 400k = 0.5; y: (100k + 200k) / 800k = 0.375 → priced at x
    expect(calls).toEqual([['gold', 200_000, { classIndex: 0, resource: 'x', cmaxBps: 400_000, targetBps: 200_000 }]]);
    expect(r.quote).toMatchObject({ available: true, maxFitBps: 400_000, unitPrice: 0.2, pricedAt: { resource: 'x', demandBps: 200_000 } });
    expect(r.quote.totalPrice).toBeCloseTo(0.2 * 0.2 * 60, 12);
    expect(a.capacity.reservedOf('x', a.classes.get('gold')!)).toBe(0);
    expect(a.list()).toHaveLength(1);
  });

  it('an unavailable rate still gets the max-fit rate and a price', () => {
    const a = setup();
    a.admit({ id: 'r1', classId: 'gold', rateBps: 300_000, resources: ['x'] });
    const r = quoteReservation(a, { classId: 'gold', rateBps: 500_000, durationMs: 1000, resources: ['x', 'y'] }, () => 1);
    expect(r).toMatchObject({ ok: true, quote: { available: false, maxFitBps: 100_000, bottleneck: { resource: 'x' }, pricedAt: { demandBps: 400_000 } } });
  });

  it('refuses bad durations, bad requests and broken price functions', () => {
    const a = setup();
    const req = { classId: 'gold', rateBps: 1000, durationMs: 1000, resources: ['x'] };
    for (const durationMs of [0, -1, Number.NaN, Infinity]) {
      expect(quoteReservation(a, { ...req, durationMs }, () => 1)).toMatchObject({ ok: false, refusal: { code: 'invalid-duration' } });
    }
    expect(quoteReservation(a, { ...req, classId: 'nope' }, () => 1)).toMatchObject({ ok: false, refusal: { code: 'unknown-class' } });
    expect(quoteReservation(a, { ...req, resources: ['zz'] }, () => 1)).toMatchObject({ ok: false, refusal: { code: 'unknown-capacity' } });
    expect(quoteReservation(a, req, () => Number.NaN)).toMatchObject({ ok: false, refusal: { code: 'price-unavailable' } });
    expect(quoteReservation(a, req, () => -1)).toMatchObject({ ok: false, refusal: { code: 'price-unavailable' } });
    expect(
      quoteReservation(a, req, () => {
        throw new Error('engine not loaded');
      }),
    ).toMatchObject({ ok: false, refusal: { code: 'price-unavailable', message: /engine not loaded/ } });
  });
});

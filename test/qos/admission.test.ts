import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { ServiceClasses, ServiceClassError } from '../../src/qos/classes.js';
import { CapacityModel, CapacityError } from '../../src/qos/capacity.js';
import { AdmissionControl, type AdmitResult } from '../../src/qos/admission.js';
import { mulberry32 } from '../../src/util/random.js';

/** The default classes: gold 40 %, silver 30 %, best effort 30 % of every link. */
function setup(capacities: Record<string, number>): AdmissionControl {
  const classes = new ServiceClasses(defaultConfig().classes);
  const a = new AdmissionControl(classes);
  for (const [r, c] of Object.entries(capacities)) a.capacity.setCapacity(r, c);
  return a;
}

function refusalOf(r: AdmitResult) {
  if (r.ok) throw new Error('expected a refusal');
  return r.refusal;
}


describe('service classes', () => {
  it('index the configured classes and compute Cmax_i', () => {
    const classes = new ServiceClasses(defaultConfig().classes);
    expect(classes.list().map((c) => [c.id, c.index])).toEqual([['gold', 0], ['silver', 1], ['best-effort', 2]]);
    expect(classes.bestEffort.id).toBe('best-effort');
    expect(classes.cmaxBps(classes.get('gold')!, 10_000_000)).toBe(4_000_000);
    expect(classes.cmaxBps(classes.get('silver')!, 1_000_001)).toBe(300_000); // floored
    expect(classes.get('platinum')).toBeUndefined();
  });

  it('refuse inconsistent class lists', () => {
    const c = defaultConfig().classes;
    expect(() => new ServiceClasses([])).toThrow(ServiceClassError);
    expect(() => new ServiceClasses([c[0]!, c[0]!, c[2]!])).toThrow(/duplicate/);
    expect(() => new ServiceClasses([c[0]!, c[1]!])).toThrow(/best effort/);
    expect(() => new ServiceClasses([{ ...c[0]!, share: 0.8 }, c[1]!, c[2]!])).toThrow(/sum/);
  });

  it('capacity model refuses bad capacities', () => {
    const m = new CapacityModel(new ServiceClasses(defaultConfig().classes));
    expect(() => m.setCapacity('x', -1)).toThrow(CapacityError);
    expect(() => m.setCapacity('x', Number.NaN)).toThrow(CapacityError);
    expect(() => m.setCapacity('', 1)).toThrow(CapacityError);
    expect(m.capacityOf('x')).toBeUndefined();
  });
});

describe('admission control', () => {
  it('admits while every link has room below Cmax, then refuses with the bottleneck and the max-fit rate', () => {
    // the seed's scenario: 1 Mbit/s links; gold Cmax = 400 kbit/s
    const a = setup({ 'A:1': 1e6, 'B:2': 1e6, 'C:3': 1e6 });
    const path = ['A:1', 'B:2', 'C:3'];
    const first = a.admit({ id: 'r1', classId: 'gold', rateBps: 250_000, resources: path });
    expect(first).toEqual({ ok: true, reservation: { id: 'r1', classId: 'gold', rateBps: 250_000, resources: path } });
    // other traffic has loaded B:2 more
    expect(a.admit({ id: 'r2', classId: 'gold', rateBps: 100_000, resources: ['B:2'] }).ok).toBe(true);
    const refused = refusalOf(a.admit({ id: 'r3', classId: 'gold', rateBps: 100_000, resources: path }));
    expect(refused).toEqual({
      code: 'insufficient-capacity',
      classId: 'gold',
      requestedBps: 100_000,
      maxFitBps: 50_000,
      bottleneck: { resource: 'B:2', capacityBps: 1e6, cmaxBps: 400_000, reservedBps: 350_000, availableBps: 50_000 },
      message: expect.stringContaining('B:2'),
    });
    // exactly the max-fit rate is admitted; then nothing fits
    expect(a.admit({ id: 'r3', classId: 'gold', rateBps: 50_000, resources: path }).ok).toBe(true);
    expect(refusalOf(a.admit({ id: 'r4', classId: 'gold', rateBps: 1, resources: path }))).toMatchObject({ code: 'insufficient-capacity', maxFitBps: 0 });
    // classes are independent: silver still has its 300 kbit/s
    expect(a.admit({ id: 's1', classId: 'silver', rateBps: 300_000, resources: path }).ok).toBe(true);
    expect(a.stats()).toEqual({ admitted: 4, refused: 2, released: 0, active: 4 });
  });

  it('release frees the rate on every link of the path', () => {
    const a = setup({ x: 1e6, y: 1e6 });
    a.admit({ id: 'r1', classId: 'gold', rateBps: 400_000, resources: ['x', 'y'] });
    expect(a.capacity.availableOf('y', a.classes.get('gold')!)).toBe(0);
    expect(a.release('r1')).toEqual({ id: 'r1', classId: 'gold', rateBps: 400_000, resources: ['x', 'y'] });
    expect(a.release('r1')).toBeUndefined();
    for (const r of ['x', 'y']) expect(a.capacity.reservedOf(r, a.classes.get('gold')!)).toBe(0);
    expect(a.admit({ id: 'r2', classId: 'gold', rateBps: 400_000, resources: ['x', 'y'] }).ok).toBe(true);
    expect(a.stats()).toMatchObject({ released: 1, active: 1 });
  });

  it('a refusal changes nothing anywhere on the path (atomicity)', () => {
    const a = setup({ p: 1e6, q: 1e6, r: 1e5 });
    const before = ['p', 'q', 'r'].map((x) => a.capacity.usage(x));
    const refusal = refusalOf(a.admit({ id: 'big', classId: 'gold', rateBps: 100_000, resources: ['p', 'q', 'r'] }));
    expect(refusal).toMatchObject({ code: 'insufficient-capacity', bottleneck: { resource: 'r', cmaxBps: 40_000 }, maxFitBps: 40_000 });
    expect(['p', 'q', 'r'].map((x) => a.capacity.usage(x))).toEqual(before);
    expect(a.get('big')).toBeUndefined();
    expect(a.classReservedBps('gold')).toBe(0);
    // a path through a link of unknown capacity is refused without touching the others
    expect(refusalOf(a.admit({ id: 'u', classId: 'gold', rateBps: 1000, resources: ['p', 'nowhere'] }))).toMatchObject({ code: 'unknown-capacity', resource: 'nowhere' });
    expect(a.capacity.reservedOf('p', a.classes.get('gold')!)).toBe(0);
  });

  it('typed refusals for bad requests', () => {
    const a = setup({ x: 1e6 });
    a.admit({ id: 'dup', classId: 'gold', rateBps: 1000, resources: ['x'] });
    const cases: [unknown, string][] = [
      [{ id: 'a', classId: 'platinum', rateBps: 1000, resources: ['x'] }, 'unknown-class'],
      [{ id: 'a', classId: 'gold', rateBps: 0, resources: ['x'] }, 'invalid-rate'],
      [{ id: 'a', classId: 'gold', rateBps: -5, resources: ['x'] }, 'invalid-rate'],
      [{ id: 'a', classId: 'gold', rateBps: 1.5, resources: ['x'] }, 'invalid-rate'],
      [{ id: 'a', classId: 'gold', rateBps: Number.NaN, resources: ['x'] }, 'invalid-rate'],
      [{ id: 'a', classId: 'gold', rateBps: Infinity, resources: ['x'] }, 'invalid-rate'],
      [{ id: 'a', classId: 'gold', rateBps: 1e300, resources: ['x'] }, 'invalid-rate'],
      [{ id: 'a', classId: 'gold', rateBps: '1000', resources: ['x'] }, 'invalid-rate'],
      [{ id: 'a', classId: 'gold', rateBps: 1000, resources: [] }, 'empty-path'],
      [{ id: 'a', classId: 'gold', rateBps: 1000, resources: 'x' }, 'invalid-request'],
      [{ id: 'a', classId: 'gold', rateBps: 1000, resources: ['x', 7] }, 'invalid-request'],
      [{ id: '', classId: 'gold', rateBps: 1000, resources: ['x'] }, 'invalid-request'],
      [{ id: 'dup', classId: 'gold', rateBps: 1000, resources: ['x'] }, 'duplicate-id'],
      [null, 'invalid-request'],
    ];
    for (const [req, code] of cases) {
      expect(refusalOf(a.admit(req as never)).code, JSON.stringify(req)).toBe(code);
    }
    expect(a.list()).toHaveLength(1);
    expect(a.capacity.reservedOf('x', a.classes.get('gold')!)).toBe(1000);
  });

  it('a resource listed twice carries the flow twice', () => {
    const a = setup({ x: 1e6, y: 1e6 });
    const r = refusalOf(a.admit({ id: 'h', classId: 'gold', rateBps: 300_000, resources: ['x', 'y', 'x'] }));
    expect(r).toMatchObject({ code: 'insufficient-capacity', maxFitBps: 200_000, bottleneck: { resource: 'x' } });
    expect(a.admit({ id: 'h', classId: 'gold', rateBps: 200_000, resources: ['x', 'y', 'x'] }).ok).toBe(true);
    expect(a.capacity.reservedOf('x', a.classes.get('gold')!)).toBe(400_000);
    a.release('h');
    expect(a.capacity.reservedOf('x', a.classes.get('gold')!)).toBe(0);
  });

  it('check is a dry run', () => {
    const a = setup({ x: 1e6 });
    expect(a.check({ classId: 'silver', rateBps: 100_000, resources: ['x'] })).toMatchObject({ ok: true, maxFitBps: 300_000, bottleneck: { resource: 'x' } });
    expect(a.capacity.reservedOf('x', a.classes.get('silver')!)).toBe(0);
    expect(a.check({ classId: 'silver', rateBps: 400_000, resources: ['x'] })).toMatchObject({ ok: true, maxFitBps: 300_000 });
    expect(a.check({ classId: 'nope', rateBps: 1, resources: ['x'] })).toMatchObject({ ok: false, refusal: { code: 'unknown-class' } });
  });

  it('capacity drops leave reservations in force but block new ones; restore puts paid reservations back', () => {
    const a = setup({ x: 1e6 });
    a.admit({ id: 'r1', classId: 'gold', rateBps: 400_000, resources: ['x'] });
    a.capacity.setCapacity('x', 5e5);
    expect(a.capacity.overcommitted()).toEqual([{ resource: 'x', classId: 'gold', cmaxBps: 200_000, reservedBps: 400_000 }]);
    expect(refusalOf(a.admit({ id: 'r2', classId: 'gold', rateBps: 1, resources: ['x'] }))).toMatchObject({ maxFitBps: 0 });
    expect(a.reservationsUsing('x')).toEqual(['r1']);
    // after a restart, before any switch connected: capacity unknown, reservation restored anyway
    const b = setup({});
    expect(b.restore({ id: 'r1', classId: 'gold', rateBps: 400_000, resources: ['x', 'y'] }).ok).toBe(true);
    expect(b.restore({ id: 'r1', classId: 'gold', rateBps: 1, resources: ['x'] })).toMatchObject({ ok: false, refusal: { code: 'duplicate-id' } });
    expect(b.capacity.overcommitted().map((o) => o.resource)).toEqual(['x', 'y']);
    b.capacity.setCapacity('x', 1e6);
    b.capacity.setCapacity('y', 1e6);
    expect(b.capacity.overcommitted()).toEqual([]);
    expect(b.capacity.availableOf('x', b.classes.get('gold')!)).toBe(0);
    b.release('r1');
    b.capacity.clearCapacity('y');
    expect(b.capacity.listResources()).toEqual(['x']);
  });

  it('property: under random admit/release, reserved never exceeds Cmax and equals the sum of active rates', () => {
    const random = mulberry32(20261123);
    const resources = Array.from({ length: 12 }, (_, i) => `link${i}`);
    const caps: Record<string, number> = {};
    for (const r of resources) caps[r] = [1e6, 1e7, 1e8][Math.floor(random() * 3)]!;
    const a = setup(caps);
    const classes = a.classes.list();
    const live: string[] = [];
    let admitted = 0;
    let refused = 0;
    for (let step = 0; step < 5000; step++) {
      if (live.length > 0 && random() < 0.35) {
        const i = Math.floor(random() * live.length);
        const id = live.splice(i, 1)[0]!;
        expect(a.release(id)).toBeDefined();
      } else {
        const len = 1 + Math.floor(random() * 5);
        const path = Array.from({ length: len }, () => resources[Math.floor(random() * resources.length)]!);
        const cls = classes[Math.floor(random() * classes.length)]!;
        const rate = 1 + Math.floor(random() * 3e6);
        const check = a.check({ classId: cls.id, rateBps: rate, resources: path });
        const r = a.admit({ id: `r${step}`, classId: cls.id, rateBps: rate, resources: path });
        expect(check.ok).toBe(true);
        if (check.ok) expect(r.ok).toBe(rate <= check.maxFitBps);
        if (r.ok) {
          live.push(`r${step}`);
          admitted++;
        } else {
          refused++;
          expect(r.refusal.code).toBe('insufficient-capacity');
          if (r.refusal.code === 'insufficient-capacity') {
            expect(r.refusal.maxFitBps).toBeLessThan(rate);
            expect(path).toContain(r.refusal.bottleneck.resource);
          }
        }
      }
      if (step % 50 === 0 || step === 4999) {
        const expected = new Map<string, number>();
        for (const res of a.list()) for (const link of res.resources) expected.set(`${link}/${res.classId}`, (expected.get(`${link}/${res.classId}`) ?? 0) + res.rateBps);
        for (const link of resources) {
          for (const c of classes) {
            const reserved = a.capacity.reservedOf(link, c);
            expect(reserved).toBeLessThanOrEqual(a.capacity.cmaxOf(link, c)!);
            expect(reserved).toBe(expected.get(`${link}/${c.id}`) ?? 0);
          }
        }
        expect(a.capacity.overcommitted()).toEqual([]);
      }
    }
    expect(admitted).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(100);
    for (const c of classes) expect(a.classReservedBps(c.id)).toBe(a.list().filter((r) => r.classId === c.id).reduce((s, r) => s + r.rateBps, 0));
  });
});

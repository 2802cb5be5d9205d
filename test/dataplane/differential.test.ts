// Differential test: 100k random frames (all header combinations, IPsec AH/ESP included,
// truncations, corrupted bytes), random wildcard rules, srTCM/trTCM meters (colour-blind and colour-aware), priced
// classes, rule changes, pricing ticks and idle expiry mid-stream, random batch sizes → the
// wasm Engine and the ReferenceEngine must give byte-identical verdicts and output frames, and
// identical counters and flow tables (charges equal to within float rounding of exp()).
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/dataplane/engine.js';
import { ReferenceEngine } from '../../src/dataplane/reference/engine.js';
import { Rng } from '../../src/dataplane/synthetic.js';
import type { DataPlane, MeterParams, WildcardRule } from '../../src/dataplane/types.js';
import { buildFrame, type Ext, type FrameSpec } from './frames.js';

const V4 = ['10.0.0.1', '10.0.1.7', '10.1.0.9', '192.168.1.1', '192.168.2.200', '172.16.5.4'];
const V6 = ['2001:db8::1', '2001:db8:0:1::5', '2001:db8:ff::9', 'fe80::1', '2001:db9::77'];
const DSCPS = [0, 0, 10, 12, 14, 18, 26, 34, 46, 8];

function randomSpec(rng: Rng): FrameSpec {
  const pick = <T>(a: readonly T[]): T => a[rng.below(a.length)]!;
  const vlans = rng.below(4) === 0 ? (rng.below(3) === 0 ? [rng.below(4096), rng.below(4096)] : [rng.below(4096)]) : undefined;
  const l4 = { sport: pick([53, 80, 443, 1000, 1500, 5000, 5001, 40000]), dport: pick([53, 80, 443, 1000, 1500, 5000, 5001, 40000]), type: rng.below(256), code: rng.below(4) };
  const kind = rng.below(10);
  if (kind === 0) return { vlans, ethertype: 0x0806 };
  if (kind < 6) {
    const proto = pick([6, 17, 17, 1, 47, 50]);
    // one in six behind AH (RFC 4302), sometimes two, with an ICV of 0..3 words
    const ah = rng.below(6) === 0 ? Array.from({ length: 1 + (rng.below(4) === 0 ? 1 : 0) }, () => ({ extraUnits: rng.below(4) })) : undefined;
    return { vlans, ip: { v: 4, src: pick(V4), dst: pick(V4), proto, tos: (pick(DSCPS) << 2) | rng.below(4), optionWords: rng.below(4) === 0 ? 1 + rng.below(3) : 0, fragOffset: rng.below(8) === 0 ? 1 + rng.below(100) : 0, mf: rng.below(6) === 0, ah }, l4, payload: rng.below(40) };
  }
  const nh = pick([6, 17, 17, 58, 59, 50]);
  const ext: Ext[] = [];
  if (rng.below(3) === 0) {
    if (rng.below(2)) ext.push({ type: 0, extraUnits: rng.below(2) });
    for (const t of [60, 43, 44, 51] as const) if (rng.below(3) === 0) ext.push({ type: t, extraUnits: rng.below(2), fragOffset: t === 44 && rng.below(3) === 0 ? 5 : 0 });
  }
  return { vlans, ip: { v: 6, src: pick(V6), dst: pick(V6), nh, tc: (pick(DSCPS) << 2) | rng.below(4), flowLabel: pick([0, 1, 0x12345, 0xabcde, 0x10000]), ext }, l4, payload: rng.below(40) };
}

function randomFrame(rng: Rng, pool: Uint8Array[]): Uint8Array {
  const f = pool[rng.below(pool.length)]!;
  const r = rng.below(20);
  if (r === 0) return f.slice(0, rng.below(f.length + 1)); // truncated
  if (r === 1) {
    const g = f.slice();
    g[rng.below(g.length)] = rng.below(256); // one corrupted byte
    return g;
  }
  return f.slice();
}

function randomRule(rng: Rng): WildcardRule {
  const pick = <T>(a: readonly T[]): T => a[rng.below(a.length)]!;
  const v6 = rng.below(3) === 0;
  const addr = (list: string[]) => (v6 ? pick(V6) : pick(V4));
  const len = v6 ? pick([16, 32, 48, 64, 128]) : pick([8, 16, 24, 32]);
  const rule: WildcardRule = {
    priority: rng.below(50),
    action: rng.below(6) === 0 ? { action: 'drop' } : { action: 'forward', class: rng.below(4), queue: rng.below(8), ...(rng.below(2) ? { dscp: pick(DSCPS) } : {}), ...(rng.below(4) ? { meter: rng.below(8) } : {}) },
  };
  if (rng.below(2)) rule.src = `${addr(V4)}/${len}`;
  if (rng.below(3) === 0) rule.dst = `${addr(V4)}/${len}`;
  if (rng.below(3) === 0) rule.proto = pick([6, 17, 1, 58, 50, 51]);
  if (rng.below(3) === 0) rule.dport = rng.below(2) ? pick([53, 80, 443, 5000]) : ([pick([0, 80, 1000]), pick([1500, 5001, 65535])] as const);
  if (rng.below(4) === 0) rule.sport = [0, pick([100, 1000, 40000])];
  if (rng.below(5) === 0) rule.dscp = pick(DSCPS);
  if (v6 && rng.below(3) === 0) rule.flowLabel = rng.below(2) ? 0x12345 : { value: 0x10000, mask: 0xf0000 };
  if (rng.below(8) === 0) rule.inPort = rng.below(3);
  return rule;
}

function randomMeter(rng: Rng): MeterParams {
  const cir = 1000 + rng.below(200000);
  if (rng.below(2)) return { mode: 'srTCM', colorAware: rng.below(2) === 1, cir, cbs: 200 + rng.below(3000), ebs: rng.below(3000) };
  return { mode: 'trTCM', colorAware: rng.below(2) === 1, cir, cbs: 200 + rng.below(3000), pir: cir + rng.below(100000), pbs: 200 + rng.below(4000) };
}

describe('differential: Engine (wasm) vs ReferenceEngine (ts)', () => {
  it('100k random frames give identical verdicts, frames, counters and flows', () => {
    const rng = new Rng(20261123);
    const options = { flowCapacity: 4096, ruleCapacity: 256, meterCapacity: 8 };
    const engines: DataPlane[] = [new Engine(options), new ReferenceEngine(options)];
    const classes = [
      { basePrice: 0.04, cmaxBps: 1e6, targetBps: 1e6, maxPrice: 0.04, mode: 'exponential' as const, ewmaWindowNs: 1e7 },
      { basePrice: 0.16, cmaxBps: 1e6, targetBps: 5e5, maxPrice: 1.6, mode: 'exponential' as const, ewmaWindowNs: 1e7 },
      { basePrice: 0.09, cmaxBps: 1e6, targetBps: 7e5, maxPrice: 0.9, mode: 'tatonnement' as const, ewmaWindowNs: 2e7 },
      { basePrice: 0.12, cmaxBps: 2e6, targetBps: 1e6, maxPrice: 2, mode: 'exponential' as const, ewmaWindowNs: 5e6 },
    ];
    const both = (fn: (e: DataPlane) => void) => engines.forEach(fn);
    classes.forEach((c, i) => both((e) => e.setClass(i, c)));
    both((e) => e.setBestEffort(0, 0, 0));
    for (let m = 0; m < 8; m++) {
      const p = randomMeter(rng);
      both((e) => e.setMeter(m, p, 0));
    }
    for (let r = 0; r < 200; r++) {
      const rule = randomRule(rng);
      both((e) => e.setRule(r, rule));
    }
    const pool: Uint8Array[] = [];
    const ipsec = { ah4: 0, esp4: 0, ah6: 0, esp6: 0 };
    for (let i = 0; i < 3000; i++) {
      const spec = randomSpec(rng);
      const ip = spec.ip;
      if (ip?.v === 4) {
        if (ip.ah?.length) ipsec.ah4++;
        if (ip.proto === 50) ipsec.esp4++;
      } else if (ip?.v === 6) {
        if (ip.ext?.some((e) => e.type === 51)) ipsec.ah6++;
        if (ip.nh === 50) ipsec.esp6++;
      }
      pool.push(buildFrame(spec).bytes);
    }
    // the pool must hold enough of each IPsec shape to matter
    for (const n of Object.values(ipsec)) expect(n).toBeGreaterThan(30);

    let t = 1_000_000;
    let sent = 0;
    let mismatches = 0;
    let firstMismatch = '';
    while (sent < 100_000) {
      const n = Math.min(1 + rng.below(rng.below(4) === 0 ? 1024 : 64), 100_000 - sent);
      const frames: Uint8Array[] = [];
      const times: number[] = [];
      const ports: number[] = [];
      for (let i = 0; i < n; i++) {
        frames.push(randomFrame(rng, pool));
        t += rng.below(30000);
        times.push(t);
        ports.push(rng.below(3));
      }
      const [a, b] = engines.map((e) => e.process(frames, times, ports));
      if (Buffer.compare(a!.raw, b!.raw) !== 0) {
        mismatches++;
        if (!firstMismatch) {
          const i = [...Array(n).keys()].find((k) => Buffer.compare(a!.raw.subarray(16 * k, 16 * k + 16), b!.raw.subarray(16 * k, 16 * k + 16)) !== 0)!;
          firstMismatch = `batch at ${sent}, frame ${i}: wasm ${JSON.stringify(a!.verdict(i))} ts ${JSON.stringify(b!.verdict(i))}`;
        }
      }
      for (let i = 0; i < n; i++) if (Buffer.compare(a!.frame(i), b!.frame(i)) !== 0) mismatches++;
      sent += n;
      // control-plane events mid-stream
      const ev = rng.below(40);
      if (ev === 0) {
        const id = rng.below(256), rule = randomRule(rng);
        both((e) => e.setRule(id, rule));
      } else if (ev === 1) {
        const id = rng.below(256);
        both((e) => e.deleteRule(id));
      } else if (ev === 2) {
        both((e) => e.tick(t));
      } else if (ev === 3) {
        both((e) => e.expireIdle(t, 5_000_000));
      } else if (ev === 4) {
        const m = rng.below(8), p = randomMeter(rng);
        both((e) => e.setMeter(m, p, t));
      } else if (ev === 5) {
        const cls = rng.below(4), bps = rng.below(1_200_000);
        both((e) => e.setReserved(cls, bps));
      }
    }
    expect(firstMismatch).toBe('');
    expect(mismatches).toBe(0);
    const [ca, cb] = engines.map((e) => e.counters());
    expect(ca).toEqual(cb);
    expect(ca!.packets).toBe(100_000);
    // the mix must exercise every colour, action and several drop reasons
    expect(Math.min(...ca!.colors)).toBeGreaterThan(100);
    expect(Math.min(...ca!.actions)).toBeGreaterThan(100);
    expect(ca!.reasons.filter((x) => x > 0).length).toBeGreaterThan(8);
    expect(ca!.cacheHits).toBeGreaterThan(10_000);
    const [fa, fb] = engines.map((e) => e.flows());
    expect(fa!.length).toBe(fb!.length);
    expect(fa!.length).toBeGreaterThan(100);
    for (let i = 0; i < fa!.length; i++) {
      const x = fa![i]!, y = fb![i]!;
      expect({ ...x, charge: 0 }).toEqual({ ...y, charge: 0 });
      expect(Math.abs(x.charge - y.charge)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(y.charge)));
    }
    for (let c = 0; c < 4; c++) expect(engines[0]!.price(c)).toBeCloseTo(engines[1]!.price(c), 9);
  });
});

// Fuzz: 1M random byte strings (half of them behind plausible Ethernet/VLAN/IPv4/IPv6
// headers, so the deeper parsers are reached) through the batch API of the wasm Engine, with
// rules and a meter installed: no trap, one verdict for every frame, every verdict well formed,
// counters adding up. 100k of the same through the TypeScript twin, compared with the Engine.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/dataplane/engine.js';
import { ReferenceEngine } from '../../src/dataplane/reference/engine.js';
import { Rng } from '../../src/dataplane/synthetic.js';
import type { DataPlane } from '../../src/dataplane/types.js';

const SLOT = 192;

function fillBatch(rng: Rng, scratch: Uint8Array, frames: Uint8Array[], n: number): void {
  frames.length = 0;
  const ethertypes = [0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x05dc];
  for (let i = 0; i < n; i++) {
    const at = i * SLOT;
    for (let k = 0; k < SLOT; k += 4) {
      const r = rng.next();
      scratch[at + k] = r;
      scratch[at + k + 1] = r >>> 8;
      scratch[at + k + 2] = r >>> 16;
      scratch[at + k + 3] = r >>> 24;
    }
    if (rng.below(2)) {
      let o = at + 12;
      let et = ethertypes[rng.below(ethertypes.length)]!;
      for (let tags = rng.below(3); tags > 0 && (et === 0x8100 || et === 0x88a8); tags--) {
        scratch[o] = et >> 8;
        scratch[o + 1] = et & 255;
        o += 4;
        et = ethertypes[rng.below(2)]!;
      }
      scratch[o] = et >> 8;
      scratch[o + 1] = et & 255;
      if (et === 0x0800) scratch[o + 2] = 0x45 + rng.below(3) * (rng.below(2) ? 1 : 0);
      if (et === 0x86dd) {
        scratch[o + 2] = 0x60;
        scratch[o + 2 + 6] = [0, 43, 44, 60, 51, 6, 17, 58][rng.below(8)]!;
      }
    }
    frames.push(scratch.subarray(at, at + rng.below(SLOT + 1)));
  }
}

function setup(e: DataPlane): void {
  e.setMeter(0, { mode: 'srTCM', colorAware: true, cir: 100000, cbs: 3000, ebs: 3000 }, 0);
  e.setRule(0, { priority: 1, proto: 17, action: { action: 'forward', class: 1, dscp: 46, meter: 0 } });
  e.setRule(1, { priority: 2, src: '2000::/3', action: { action: 'forward', class: 2, dscp: 10 } });
  e.setRule(2, { priority: 3, dport: [0, 1023], action: { action: 'drop' } });
}

describe('fuzz: random byte strings through the batch API', () => {
  it('1M random frames through the wasm Engine: no trap, a verdict each', () => {
    const e = new Engine({ flowCapacity: 1 << 16, ruleCapacity: 16, meterCapacity: 4 });
    setup(e);
    const rng = new Rng(7);
    const scratch = new Uint8Array(1024 * SLOT);
    const frames: Uint8Array[] = [];
    let total = 0;
    let bad = 0;
    let t = 0;
    while (total < 1_000_000) {
      const n = Math.min(1 + rng.below(1024), 1_000_000 - total);
      fillBatch(rng, scratch, frames, n);
      const r = e.process(frames, (t += 1000));
      if (r.count !== n) bad++;
      const raw = r.raw;
      for (let i = 0; i < n; i++) if (raw[16 * i]! > 2 || raw[16 * i + 1]! > 2 || raw[16 * i + 2]! > 14) bad++;
      total += n;
      if ((total & 0xfffff) < n) e.expireIdle(t, 1e6);
    }
    expect(bad).toBe(0);
    const c = e.counters();
    expect(c.packets).toBe(1_000_000);
    expect(c.actions.reduce((a, b) => a + b)).toBe(1_000_000);
    expect(c.reasons.reduce((a, b) => a + b)).toBe(1_000_000);
    expect(c.reasons[0]).toBeGreaterThan(10_000); // some frames parse
  });

  it('100k random frames: the TypeScript twin agrees with the Engine', () => {
    const options = { flowCapacity: 1 << 14, ruleCapacity: 16, meterCapacity: 4 };
    const engines: DataPlane[] = [new Engine(options), new ReferenceEngine(options)];
    engines.forEach(setup);
    const rng = new Rng(99);
    const scratch = new Uint8Array(1024 * SLOT);
    const frames: Uint8Array[] = [];
    let total = 0;
    let diff = 0;
    while (total < 100_000) {
      const n = Math.min(1 + rng.below(1024), 100_000 - total);
      fillBatch(rng, scratch, frames, n);
      const [a, b] = engines.map((e) => e.process(frames, total * 10));
      if (Buffer.compare(a!.raw, b!.raw) !== 0) diff++;
      total += n;
    }
    expect(diff).toBe(0);
    expect(engines[0]!.counters()).toEqual(engines[1]!.counters());
  });
});

describe('debug build', () => {
  it('build/payflow.debug.wasm loads and agrees with the release build on 20k random frames', () => {
    const options = { flowCapacity: 4096, ruleCapacity: 16, meterCapacity: 4 };
    const engines: DataPlane[] = [new Engine(options), new Engine({ ...options, debug: true })];
    engines.forEach(setup);
    const rng = new Rng(5);
    const scratch = new Uint8Array(1024 * SLOT);
    const frames: Uint8Array[] = [];
    let diff = 0;
    for (let total = 0; total < 20_000; total += frames.length) {
      fillBatch(rng, scratch, frames, 1 + rng.below(1024));
      const [a, b] = engines.map((e) => e.process(frames, total * 10));
      if (Buffer.compare(a!.raw, b!.raw) !== 0) diff++;
    }
    expect(diff).toBe(0);
    expect(engines[1]!.counters().packets).toBeGreaterThanOrEqual(20_000);
  });
});

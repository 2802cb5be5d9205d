// Data-plane benchmarks: each case at batch 1, 32 and 256, for the wasm Engine (on the bench
// module, build/payflow.bench.wasm) and its TypeScript twin, through bench/support/partial-engine.ts. Frames are resident: an arena of pre-built frames is copied into the
// engine's input buffer once (as a NIC would have placed them) and each operation writes the
// batch's descriptors (offset, length, time, port: host work, measured) and makes one call.
// Cases: parse (parse only), exact.{1k,100k,1m} (parse + exact-match lookup; flows were
// learned in a scattered order, so traffic walking the frames in order hits entries all over
// the table and the large cases miss the CPU caches),
// parse_lookup_hot (the same on a hot set of 1024 flows), wildcard.{100,10k} (parse + tuple-space
// search, cache bypassed), meter (meterColor over 1024 meters), pipeline (parse → exact
// cache of 100k flows in front of 1k wildcard rules → meter → action → accounting).
// Engines are shared between the cases of one scenario and dropped when the next scenario is
// built, so filling the 1M-flow table happens once per implementation.
import type { BenchCase, BenchOperation, BenchOptions, BenchSuite, Impl } from './harness.js';
import { Rng, udpFrame } from '../src/dataplane/synthetic.js';
import type { WildcardRule } from '../src/dataplane/types.js';
import {
  PARTIAL_EXACT, PARTIAL_METER, PARTIAL_PARSE, PARTIAL_WILDCARD, PartialEngine, makePartialEngine, type PartialDataPlane,
} from './support/partial-engine.js';

const BATCHES = [1, 32, 256] as const;
const SLOT = 96; // arena slot: the frame plus Ethernet padding
const STRIDE = 7919 * 131; // coprime with 1000, 1e5 and powers of two: a scattered visiting order

type Scenario = 'parse' | 'exact1k' | 'flows100k' | 'exact1m' | 'wild100' | 'wild10k' | 'meter';

interface State {
  engine: PartialDataPlane;
  flows: number;
  extra: Record<string, number>;
}

let current: { key: string; state: State } | undefined;

function arena(count: number, mix: boolean): Uint8Array {
  const out = new Uint8Array(count * SLOT);
  const base4 = udpFrame(0);
  for (let i = 0; i < count; i++) {
    if (mix && i % 4 !== 0) {
      out.set(udpFrame(i, { v6: i % 4 >= 2, ...(i % 2 ? { vlan: i & 0xfff } : {}) }), i * SLOT);
      continue;
    }
    const at = i * SLOT;
    out.set(base4, at);
    out[at + 27] = (i >>> 16) & 255; // source address 10.x.y.z = flow number
    out[at + 28] = (i >>> 8) & 255;
    out[at + 29] = i & 255;
  }
  return out;
}

/**
 * Runs every arena frame once through the full pipeline, visiting the arena with a large
 * stride: one flow per frame, and entry order (insertion order) unrelated to arena order, so
 * that traffic walking the arena sequentially (frames streaming in, as from a NIC ring) hits
 * flow entries and slots scattered over the whole table.
 */
function learn(e: PartialDataPlane, count: number): void {
  const stride = STRIDE % count;
  for (let done = 0, first = 0; done < count; done += 1024) {
    const n = Math.min(1024, count - done);
    e.selectArena(first, n, stride, count, done * 100, 100);
    first = (first + n * stride) % count;
    e.run();
  }
}

function rules(count: number, withMeters: boolean, rng: Rng): WildcardRule[] {
  const out: WildcardRule[] = [];
  for (let j = 0; j < count; j++) {
    const len = [8, 16, 24][j % 3]!;
    const a = rng.below(256), b = rng.below(256);
    const src = len === 8 ? '10.0.0.0/8' : len === 16 ? `10.${a}.0.0/16` : `10.${a}.${b}.0/24`;
    const r: WildcardRule = { priority: rng.below(1000), src, action: { action: 'forward', class: j % 4, queue: j % 8, dscp: [46, 34, 10, 0][j % 4]!, ...(withMeters ? { meter: j % 1024 } : {}) } };
    const shape = (j >> 2) % 6;
    if (shape === 1) r.proto = 17;
    if (shape === 2) r.dport = 5000 + (j % 7);
    if (shape === 3) r.dport = [5000, 5003];
    if (shape === 4) { r.proto = 17; r.sport = [1024, 30000]; }
    if (shape === 5) r.dst = '192.168.0.0/16';
    out.push(r);
  }
  return out;
}

function build(impl: Impl, scenario: Scenario, quick: boolean): State {
  const rng = new Rng(42);
  switch (scenario) {
    case 'parse': {
      const e = makePartialEngine(impl, { flowCapacity: 1024, ruleCapacity: 1, meterCapacity: 1 });
      e.loadArena(arena(4096, true), SLOT);
      return { engine: e, flows: 4096, extra: {} };
    }
    case 'exact1k':
    case 'flows100k':
    case 'exact1m': {
      const flows = scenario === 'exact1k' ? 1000 : scenario === 'flows100k' ? 100_000 : quick && impl === 'ts' ? 1 << 18 : 1 << 20;
      const capacity = scenario === 'exact1k' ? 1024 : scenario === 'flows100k' ? 1 << 17 : 1 << 20;
      const withRules = scenario === 'flows100k';
      const e = makePartialEngine(impl, { flowCapacity: capacity, ruleCapacity: withRules ? 1024 : 1, meterCapacity: 1024 });
      if (withRules) {
        for (let c = 0; c < 4; c++) e.setClass(c, { basePrice: [0.04, 0.16, 0.09, 0.12][c]!, cmaxBps: 1e9, targetBps: [1e9, 5e8, 7e8, 5e8][c]!, maxPrice: 1.6, mode: 'exponential', ewmaWindowNs: 1e8 });
        for (let m = 0; m < 1024; m++) e.setMeter(m, m % 2 ? { mode: 'trTCM', colorAware: false, cir: 400_000, cbs: 3000, pir: 800_000, pbs: 6000 } : { mode: 'srTCM', colorAware: false, cir: 500_000, cbs: 3000, ebs: 6000 }, 0);
        rules(1000, true, rng).forEach((r, i) => e.setRule(i, r));
      }
      e.loadArena(arena(flows, false), SLOT);
      learn(e, flows);
      const extra: Record<string, number> = { flows, capacity, tableBytesPerFlow: round(e.flowTableBytesPerFlow()) };
      if (e instanceof PartialEngine) extra['bytesPerFlow'] = round(e.flowTableBytesPerFlow() + e.meterBytesPerMeter());
      return { engine: e, flows, extra };
    }
    case 'wild100':
    case 'wild10k': {
      const count = scenario === 'wild100' ? 100 : 10_000;
      const e = makePartialEngine(impl, { flowCapacity: 1024, ruleCapacity: count, meterCapacity: 1 });
      rules(count, false, rng).forEach((r, i) => e.setRule(i, r));
      const extra = { rules: count, tuples: e.tupleCount };
      e.loadArena(arena(65536, false), SLOT);
      return { engine: e, flows: 65536, extra };
    }
    case 'meter': {
      const e = makePartialEngine(impl, { flowCapacity: 1024, ruleCapacity: 1, meterCapacity: 1024 });
      for (let m = 0; m < 1024; m++) e.setMeter(m, m % 2 ? { mode: 'trTCM', colorAware: m % 4 === 1, cir: 1e6, cbs: 3000, pir: 2e6, pbs: 6000 } : { mode: 'srTCM', colorAware: false, cir: 1e6, cbs: 3000, ebs: 6000 }, 0);
      e.loadArena(arena(1024, false), SLOT);
      return { engine: e, flows: 1024, extra: { meters: 1024 } };
    }
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function state(impl: Impl, scenario: Scenario, quick: boolean): State {
  const key = `${impl}/${scenario}`;
  if (current?.key !== key) {
    current = undefined; // let the previous engine (and its memory) go before building the next
    current = { key, state: build(impl, scenario, quick) };
  }
  return current.state;
}

interface CaseDef {
  name: string;
  scenario: Scenario;
  op(s: State, batch: number): () => void;
}

/** Walks the arena sequentially, batch after batch, with time advancing stepNs per frame. */
function walker(s: State, batch: number, modulo: number, run: (e: PartialDataPlane) => void, stepNs = 100): () => void {
  let first = 0;
  let t = 1e9;
  return () => {
    s.engine.selectArena(first, batch, 1, modulo, t, stepNs);
    first = (first + batch) % modulo;
    t += batch * stepNs;
    run(s.engine);
  };
}

const CASES: CaseDef[] = [
  { name: 'dataplane.parse', scenario: 'parse', op: (s, b) => walker(s, b, s.flows, (e) => e.runPartial(PARTIAL_PARSE)) },
  { name: 'dataplane.exact.1k', scenario: 'exact1k', op: (s, b) => walker(s, b, s.flows, (e) => e.runPartial(PARTIAL_EXACT)) },
  { name: 'dataplane.exact.100k', scenario: 'flows100k', op: (s, b) => walker(s, b, s.flows, (e) => e.runPartial(PARTIAL_EXACT)) },
  { name: 'dataplane.parse_lookup_hot', scenario: 'flows100k', op: (s, b) => walker(s, b, 1024, (e) => e.runPartial(PARTIAL_EXACT)) },
  { name: 'dataplane.pipeline', scenario: 'flows100k', op: (s, b) => walker(s, b, s.flows, (e) => e.run()) },
  { name: 'dataplane.exact.1m', scenario: 'exact1m', op: (s, b) => walker(s, b, s.flows, (e) => e.runPartial(PARTIAL_EXACT)) },
  { name: 'dataplane.wildcard.100', scenario: 'wild100', op: (s, b) => walker(s, b, s.flows, (e) => e.runPartial(PARTIAL_WILDCARD)) },
  { name: 'dataplane.wildcard.10k', scenario: 'wild10k', op: (s, b) => walker(s, b, s.flows, (e) => e.runPartial(PARTIAL_WILDCARD)) },
  { name: 'dataplane.meter', scenario: 'meter', op: (s, b) => walker(s, b, 1024, (e) => e.runPartial(PARTIAL_METER, 1024), 50) },
];

export const dataplaneSuite: BenchSuite = {
  name: 'dataplane',
  cases(options: BenchOptions): BenchCase[] {
    const out: BenchCase[] = [];
    const scenarios = [...new Set(CASES.map((c) => c.scenario))];
    for (const scenario of scenarios) {
      for (const impl of ['wasm', 'ts'] as const) {
        for (const def of CASES.filter((c) => c.scenario === scenario)) {
          for (const batch of BATCHES) {
            out.push({
              name: def.name,
              impl,
              batch,
              setup(): BenchOperation {
                const s = state(impl, scenario, options.quick);
                const run = def.op(s, batch);
                run(); // warm the path once
                return { run, extra: () => ({ ...s.extra }) };
              },
            });
          }
        }
      }
    }
    return out;
  },
};

// RFC 2697 srTCM and RFC 2698 trTCM: the colour of every packet on hand-computed arrival
// sequences, colour-blind and colour-aware, for the wasm module (the bench build, whose
// meterColor probe runs the meter step alone; meters configured through the production
// metersConfigure records) and the TypeScript twin; overflow edges (idle gaps of days, 100 Gbit/s,
// the largest rates and bursts); bad parameters return their code and change nothing.
// Needs `npm run build:wasm` first.
import { describe, expect, it } from 'vitest';
import {
  Color, METER_ERR_BAD_ID, METER_ERR_BAD_MODE, METER_ERR_BURST_TOO_LARGE, METER_ERR_PIR_BELOW_CIR, METER_ERR_RATE_TOO_HIGH,
  METER_ERR_ZERO_BURSTS, METER_ERR_ZERO_RATE, METER_MAX_BURST, METER_MAX_RATE, METER_OK, ReferenceMeters, type MeterParams,
} from '../../src/dataplane/reference/meter.js';
import { mulberry32Below } from '../../src/util/random.js';
import { METER_ERR_BAD_OP, METER_RECORD_BYTES, MOP_SET, REGION_BYTES, RG_METER_STAGING } from '../../src/dataplane/layout.js';
import { meterRecordStatus, writeMeterRecord } from '../../src/dataplane/staging.js';

import { benchInstance } from './bench-module.js';

/** The operations both implementations offer, in the twin's units (numbers). */
interface Meters {
  name: string;
  set(id: number, p: MeterParams, nowNs: number): number;
  color(id: number, nowNs: number, bytes: number, pre?: number): number;
  tokens(id: number, bucket: 0 | 1): bigint;
  remove(id: number): void;
}

function wasmMeters(capacity: number, build: 'release' | 'debug' = 'release', name = 'wasm'): Meters {
  const w = benchInstance(build);
  w.x.engineInit(1, 1, capacity, 0);
  return {
    name,
    set: (id, p, now) =>
      w.meter({ id, mode: p.mode === 'trTCM' ? 1 : 0, colorAware: p.colorAware ? 1 : 0, cir: BigInt(p.cir), cbs: BigInt(p.cbs),
        eirOrPir: BigInt(p.mode === 'trTCM' ? (p.pir ?? 0) : (p.eir ?? 0)), ebsOrPbs: BigInt(p.mode === 'trTCM' ? (p.pbs ?? 0) : (p.ebs ?? 0)), nowNs: BigInt(now) }),
    color: (id, now, bytes, pre = 0) => w.x.meterColor(id, BigInt(now), bytes, pre),
    tokens: (id, b) => w.x.meterTokens(id, b),
    remove: (id) => w.meterDelete(id),
  };
}

function tsMeters(capacity: number): Meters {
  const m = new ReferenceMeters(capacity);
  return {
    name: 'ts',
    set: (id, p, now) => m.set(id, p, now),
    color: (id, now, bytes, pre = 0) => m.color(id, now, bytes, pre),
    tokens: (id, b) => m.tokens(id, b),
    remove: (id) => m.delete(id),
  };
}

const impls = [wasmMeters, (capacity: number) => wasmMeters(capacity, 'debug', 'wasm debug'), tsMeters];
const G = Color.Green;
const Y = Color.Yellow;
const R = Color.Red;
const MS = 1_000_000; // ns
const NANO = 1_000_000_000n; // nano-bytes per byte
const DAY = 86_400 * 1e9;

/** [time ns, bytes, pre-colour, expected colour] */
type Arrival = [number, number, number, Color];

function run(m: Meters, id: number, arrivals: Arrival[]): Color[] {
  return arrivals.map(([t, bytes, pre]) => m.color(id, t, bytes, pre));
}

describe.each(impls.map((f) => [f(0).name, f] as const))('meters (%s)', (_name, make) => {
  it('srTCM colour-blind, RFC 2697 §4.1: hand-computed sequence', () => {
    const m = make(4);
    // CIR 1000 bytes/s = one byte per ms; CBS 300, EBS 200; buckets full at t = 0.
    expect(m.set(1, { mode: 'srTCM', colorAware: false, cir: 1000, cbs: 300, ebs: 200 }, 0)).toBe(METER_OK);
    const seq: Arrival[] = [
      [0, 200, 0, G], //            Tc 300 -> 100
      [0, 200, 0, Y], //            Tc 100 < 200; Te 200 -> 0
      [0, 50, 0, G], //             Tc 100 -> 50
      [100 * MS, 200, 0, R], //     +100 bytes: Tc 150 < 200, Te 0 < 200
      [100 * MS, 150, 0, G], //     Tc 150 -> 0
      [500 * MS, 350, 0, R], //     +400: Tc 0 -> 300 (full), 100 spill to Te; 350 fits neither
      [500 * MS, 250, 0, G], //     Tc 300 -> 50
      [500 * MS, 100, 0, Y], //     Tc 50 < 100; Te 100 -> 0
      [500.5 * MS, 51, 0, R], //    +0.5 byte: Tc 50.5 < 51, Te 0
      [500.5 * MS, 50, 0, G], //    Tc 50.5 -> 0.5
      [501 * MS, 1, 0, G], //       +0.5: Tc 1 -> 0
    ];
    expect(run(m, 1, seq)).toEqual(seq.map((a) => a[3]));
    expect(m.tokens(1, 0)).toBe(0n);
    expect(m.tokens(1, 1)).toBe(0n);
    // three days idle: both buckets full again, no overflow
    const t = 501 * MS + 3 * DAY;
    expect(run(m, 1, [[t, 300, 0, G], [t, 200, 0, Y], [t, 1, 0, R]])).toEqual([G, Y, R]);
  });

  it('srTCM colour-aware, RFC 2697 §4.2: pre-coloured packets', () => {
    const m = make(2);
    expect(m.set(0, { mode: 'srTCM', colorAware: true, cir: 1000, cbs: 300, ebs: 200 }, 0)).toBe(METER_OK);
    const seq: Arrival[] = [
      [0, 100, G, G], //  Tc 300 -> 200
      [0, 100, Y, Y], //  pre-yellow never takes Tc: Te 200 -> 100
      [0, 100, R, R], //  pre-red stays red, nothing consumed
      [0, 250, G, R], //  Tc 200 < 250, Te 100 < 250
      [0, 200, G, G], //  Tc 200 -> 0
      [0, 100, G, Y], //  Tc 0; Te 100 -> 0
      [0, 1, Y, R], //    Te 0
    ];
    expect(run(m, 0, seq)).toEqual(seq.map((a) => a[3]));
    expect(m.tokens(0, 0)).toBe(0n);
    expect(m.tokens(0, 1)).toBe(0n);
  });

  it('srTCM colour-blind ignores the pre-colour', () => {
    const m = make(1);
    m.set(0, { mode: 'srTCM', colorAware: false, cir: 1000, cbs: 100, ebs: 0 }, 0);
    expect(run(m, 0, [[0, 100, R, G], [0, 1, G, R]])).toEqual([G, R]);
  });

  it('trTCM colour-blind, RFC 2698 §4: hand-computed sequence', () => {
    const m = make(3);
    // CIR 1000 B/s, CBS 200; PIR 2000 B/s, PBS 400.
    expect(m.set(2, { mode: 'trTCM', colorAware: false, cir: 1000, cbs: 200, pir: 2000, pbs: 400 }, 0)).toBe(METER_OK);
    const seq: Arrival[] = [
      [0, 150, 0, G], //            Tp 400 -> 250, Tc 200 -> 50
      [0, 100, 0, Y], //            Tc 50 < 100: Tp 250 -> 150
      [0, 200, 0, R], //            Tp 150 < 200
      [0, 150, 0, Y], //            Tp 150 -> 0
      [50 * MS, 100, 0, G], //      +100 Tp, +50 Tc: Tp 100 -> 0, Tc 100 -> 0
      [250 * MS, 300, 0, Y], //     +400 Tp (full 400), +200 Tc (full 200): Tc < 300, Tp 400 -> 100
      [250 * MS, 101, 0, R], //     Tp 100 < 101
      [250 * MS + 500, 100, 0, G], // 500 ns: Tp + 1e6 nano-bytes (0.001 B), Tc full: Tp 100.001 -> 0.001, Tc 200 -> 100
    ];
    expect(run(m, 2, seq)).toEqual(seq.map((a) => a[3]));
    expect(m.tokens(2, 1)).toBe(1_000_000n); // Tp: 0.001 byte
    expect(m.tokens(2, 0)).toBe(100n * NANO); // Tc: 100 bytes
  });

  it('trTCM colour-aware, RFC 2698 §4: pre-coloured packets', () => {
    const m = make(1);
    expect(m.set(0, { mode: 'trTCM', colorAware: true, cir: 1000, cbs: 200, pir: 2000, pbs: 400 }, 0)).toBe(METER_OK);
    const seq: Arrival[] = [
      [0, 100, Y, Y], // pre-yellow: Tp 400 -> 300, Tc untouched
      [0, 100, R, R], // pre-red: red
      [0, 200, G, G], // Tp 300 -> 100, Tc 200 -> 0
      [0, 50, G, Y], //  Tc 0 < 50: Tp 100 -> 50
      [0, 60, G, R], //  Tp 50 < 60
    ];
    expect(run(m, 0, seq)).toEqual(seq.map((a) => a[3]));
    expect(m.tokens(0, 1)).toBe(50n * NANO);
    expect(m.tokens(0, 0)).toBe(0n);
  });

  it('a clock that runs backwards adds no tokens', () => {
    const m = make(1);
    m.set(0, { mode: 'srTCM', colorAware: false, cir: 1000, cbs: 100, ebs: 0 }, 10 * MS);
    expect(m.color(0, 10 * MS, 100)).toBe(G);
    expect(m.color(0, 5 * MS, 1)).toBe(R); // earlier than the last refill: nothing added
    expect(m.color(0, 11 * MS, 1)).toBe(G); // 1 ms after 10 ms: one byte
    expect(m.tokens(0, 0)).toBe(0n);
  });

  it('100 Gbit/s: exact refill over nanoseconds and after days idle', () => {
    const m = make(1);
    const cir = 12_500_000_000; // 100 Gbit/s in bytes/s = 12.5 bytes per ns
    expect(m.set(0, { mode: 'srTCM', colorAware: false, cir, cbs: 1_000_000, ebs: 1_000_000 }, 0)).toBe(METER_OK);
    expect(run(m, 0, [[0, 1_000_000, 0, G], [0, 1_000_000, 0, Y]])).toEqual([G, Y]);
    expect(m.color(0, 80, 1001)).toBe(R); // 80 ns -> 1000 bytes
    expect(m.color(0, 80, 1000)).toBe(G);
    expect(m.color(0, 81, 12)).toBe(G); // 12.5 bytes in 1 ns
    expect(m.tokens(0, 0)).toBe(500_000_000n); // half a byte left
    const t = 5 * DAY;
    expect(run(m, 0, [[t, 1_000_000, 0, G], [t, 1_000_000, 0, Y], [t, 1, 0, R]])).toEqual([G, Y, R]);
    // trTCM at 100 Gbit/s committed and the largest peak rate
    expect(m.set(0, { mode: 'trTCM', colorAware: false, cir, cbs: 9000, pir: METER_MAX_RATE, pbs: 9000 }, 0)).toBe(METER_OK);
    expect(run(m, 0, [[0, 9000, 0, G], [DAY, 9000, 0, G], [DAY, 1, 0, R]])).toEqual([G, G, R]);
  });

  it('largest rate and burst: saturates without overflow at every gap length', () => {
    const m = make(1);
    expect(m.set(0, { mode: 'srTCM', colorAware: false, cir: METER_MAX_RATE, cbs: METER_MAX_BURST, ebs: METER_MAX_BURST }, 0)).toBe(METER_OK);
    expect(run(m, 0, [[0, METER_MAX_BURST, 0, G], [0, METER_MAX_BURST, 0, Y]])).toEqual([G, Y]);
    // 2^30 - 1 ns: the multiply path, (2^30 - 1)(2^34 - 1) < 2^64, fills both buckets
    const t1 = 2 ** 30 - 1;
    expect(run(m, 0, [[t1, METER_MAX_BURST, 0, G], [t1, METER_MAX_BURST, 0, Y]])).toEqual([G, Y]);
    // a gap of 2^40 ns: the dividing path
    const t2 = t1 + 2 ** 40;
    expect(run(m, 0, [[t2, METER_MAX_BURST, 0, G], [t2, METER_MAX_BURST, 0, Y], [t2, 1, 0, R]])).toEqual([G, Y, R]);
  });

  it('slow refill over gaps longer than 2^30 ns is exact', () => {
    const m = make(2);
    // 1 byte/s with a 4 GB bucket: after 2^30 + 5 ns the bucket holds exactly 2^30 + 5 nano-bytes
    m.set(0, { mode: 'srTCM', colorAware: false, cir: 1, cbs: METER_MAX_BURST, ebs: 0 }, 0);
    expect(m.color(0, 0, METER_MAX_BURST)).toBe(G);
    expect(m.color(0, 2 ** 30 + 5, 2)).toBe(R); // 1.073741829 bytes < 2, no excess bucket
    expect(m.tokens(0, 0)).toBe(2n ** 30n + 5n);
    expect(m.color(0, 2 ** 30 + 5, 1)).toBe(G);
    expect(m.tokens(0, 0)).toBe(2n ** 30n + 5n - NANO);
    // trTCM, 1 MB/s committed with a 4 GB bucket, one hour idle: 3.6e9 bytes, not yet full
    m.set(1, { mode: 'trTCM', colorAware: false, cir: 1_000_000, cbs: METER_MAX_BURST, pir: 1_000_000, pbs: METER_MAX_BURST }, 0);
    expect(m.color(1, 0, METER_MAX_BURST)).toBe(G);
    const hour = 3600 * 1e9;
    expect(m.tokens(1, 0)).toBe(0n);
    expect(m.color(1, hour, 3_600_000_001)).toBe(R);
    expect(m.tokens(1, 0)).toBe(3_600_000_000n * NANO);
    expect(m.tokens(1, 1)).toBe(3_600_000_000n * NANO);
    expect(m.color(1, hour, 3_600_000_000)).toBe(G);
    expect(m.tokens(1, 0)).toBe(0n);
  });

  it('unset and deleted meters colour green; bad ids are ignored', () => {
    const m = make(2);
    expect(m.color(0, 0, 1_000_000, R)).toBe(G);
    expect(m.color(7, 0, 1_000_000, R)).toBe(G);
    m.set(1, { mode: 'srTCM', colorAware: false, cir: 1, cbs: 1, ebs: 0 }, 0);
    expect(m.color(1, 0, 2)).toBe(R);
    m.remove(1);
    expect(m.color(1, 0, 2)).toBe(G);
    expect(m.tokens(1, 0)).toBe(0n);
    m.remove(99);
  });

  it('bad parameters return their code and change no state', () => {
    const m = make(2);
    const good: MeterParams = { mode: 'trTCM', colorAware: false, cir: 1000, cbs: 200, pir: 2000, pbs: 400 };
    expect(m.set(0, good, 0)).toBe(METER_OK);
    expect(m.color(0, 0, 150)).toBe(G); // Tp 250, Tc 50
    const before = [m.tokens(0, 0), m.tokens(0, 1)];
    const bad: [MeterParams, number, number][] = [
      [good, 2, METER_ERR_BAD_ID],
      [{ ...good, cir: 0 }, 0, METER_ERR_ZERO_RATE],
      [{ ...good, pir: 0 }, 0, METER_ERR_ZERO_RATE],
      [{ ...good, pir: 999 }, 0, METER_ERR_PIR_BELOW_CIR],
      [{ ...good, cbs: 0, pbs: 0 }, 0, METER_ERR_ZERO_BURSTS],
      [{ ...good, pir: METER_MAX_RATE + 1 }, 0, METER_ERR_RATE_TOO_HIGH],
      [{ ...good, cbs: METER_MAX_BURST + 1 }, 0, METER_ERR_BURST_TOO_LARGE],
      [{ mode: 'srTCM', colorAware: false, cir: 0, cbs: 10, ebs: 10 }, 0, METER_ERR_ZERO_RATE],
      [{ mode: 'srTCM', colorAware: false, cir: 10, cbs: 0, ebs: 0 }, 0, METER_ERR_ZERO_BURSTS],
      [{ mode: 'srTCM', colorAware: false, cir: 2 ** 34, cbs: 10, ebs: 10 }, 0, METER_ERR_RATE_TOO_HIGH],
    ];
    for (const [p, id, code] of bad) expect(m.set(id, p, 5 * MS), JSON.stringify(p)).toBe(code);
    expect([m.tokens(0, 0), m.tokens(0, 1)]).toEqual(before);
    // still the same trTCM: Tc 50 + 0 (same instant) < 100 -> yellow from Tp 250
    expect(m.color(0, 0, 100)).toBe(Y);
    expect(m.tokens(0, 1)).toBe(150n * NANO);
  });
});

describe('meters: twin-only checks', () => {
  it('the twin rejects a bad mode and non-integer numbers, changing nothing', () => {
    const m = new ReferenceMeters(1);
    expect(m.set(0, { mode: 'xx' as 'srTCM', colorAware: false, cir: 1, cbs: 1 }, 0)).toBe(METER_ERR_BAD_MODE);
    expect(m.set(0, { mode: 'srTCM', colorAware: false, cir: 1.5, cbs: 1 }, 0)).toBeLessThan(0);
    expect(m.set(0, { mode: 'srTCM', colorAware: false, cir: -1, cbs: 1 }, 0)).toBeLessThan(0);
    expect(m.isSet(0)).toBe(false);
  });

  it('the wasm module returns METER_ERR_BAD_MODE for mode 2 and does nothing before engineInit', () => {
    const w = benchInstance();
    const record = { id: 0, mode: 0, colorAware: 0, cir: 1n, cbs: 1n, eirOrPir: 0n, ebsOrPbs: 0n, nowNs: 0n };
    expect(w.meter(record)).toBe(-1);
    expect(w.x.meterColor(0, 0n, 100, 0)).toBe(G);
    w.x.engineInit(1, 1, 1, 0);
    expect(w.meter({ ...record, mode: 2 })).toBe(METER_ERR_BAD_MODE);
    expect(w.meter({ ...record, colorAware: 2 })).toBe(METER_ERR_BAD_MODE);
    expect(w.meter({ ...record, op: 9 })).toBe(METER_ERR_BAD_OP);
    expect(w.meter({ ...record, nowNs: 7n })).toBe(METER_OK);
    expect(w.x.meterLastNs(0)).toBe(7n);
  });

  it('metersConfigure applies several staged records in order, each with its own status', () => {
    const w = benchInstance();
    w.x.engineInit(1, 1, 4, 0);
    const staging = new Uint32Array(w.x.memory.buffer, w.x.regionTable(), REGION_BYTES >> 2)[RG_METER_STAGING >> 2]!;
    const view = new DataView(w.x.memory.buffer);
    const good = { op: MOP_SET, mode: 0, colorAware: 0, cir: 1000n, cbs: 100n, eirOrPir: 0n, ebsOrPbs: 0n, nowNs: 0n };
    writeMeterRecord(view, staging, { ...good, id: 0 });
    writeMeterRecord(view, staging + METER_RECORD_BYTES, { ...good, id: 9 }); // beyond the 4 meters
    writeMeterRecord(view, staging + 2 * METER_RECORD_BYTES, { ...good, id: 3 });
    expect(w.x.metersConfigure(3)).toBe(1);
    expect([0, 1, 2].map((i) => meterRecordStatus(view, staging + i * METER_RECORD_BYTES))).toEqual([METER_OK, METER_ERR_BAD_ID, METER_OK]);
    expect([w.x.meterTokens(0, 0), w.x.meterTokens(3, 0)]).toEqual([100n * NANO, 100n * NANO]);
  });

  it('wasm and twin agree on colours and token counts over random traffic', () => {
    const w = wasmMeters(8);
    const t = tsMeters(8);
    // mulberry32: every bit well mixed (a plain LCG's low bits cycle, which starves `% n`)
    const rnd = mulberry32Below(12345);
    for (let id = 0; id < 8; id++) {
      const tr = id % 2 === 1;
      const cir = 1 + rnd(2_000_000);
      const p: MeterParams = tr
        ? { mode: 'trTCM', colorAware: id >= 4, cir, cbs: rnd(20_000), pir: cir + rnd(2_000_000), pbs: 1 + rnd(20_000) }
        : { mode: 'srTCM', colorAware: id >= 4, cir, cbs: 1 + rnd(20_000), ebs: rnd(20_000) };
      expect(w.set(id, p, 0)).toBe(t.set(id, p, 0));
    }
    let now = 0;
    for (let i = 0; i < 20_000; i++) {
      now += rnd(3) === 0 ? rnd(50_000_000) : rnd(20_000);
      const id = rnd(8);
      const bytes = 40 + rnd(1500);
      const pre = rnd(3);
      expect(w.color(id, now, bytes, pre)).toBe(t.color(id, now, bytes, pre));
    }
    for (let id = 0; id < 8; id++) {
      expect(w.tokens(id, 0)).toBe(t.tokens(id, 0));
      expect(w.tokens(id, 1)).toBe(t.tokens(id, 1));
    }
  });
});

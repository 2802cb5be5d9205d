// The switch's egress queues on their own (no sockets): the token bucket lets out the port
// rate, deficit round robin shares it by weight, strict priority serves the highest queue
// id first, a full port drops from the lowest class first, and at random from a queue's
// tail window, so that senders in phase with the port share it by what they offer.
import { describe, expect, it } from 'vitest';
import { MAX_LIMIT_BYTES, PortEgress, portShape, type PortScheduler } from '../../src/switch/egress-queues.js';
import { WasmPortEgress } from '../../src/switch/egress-wasm.js';

const frame = new Uint8Array(2048);

/** Offers `offered` bytes/ms per queue for `ms` ms of 1 ms steps; returns bytes sent per queue. */
function run(egress: PortEgress, offered: Record<number, number>, ms: number, len = 1000): Map<number, number> {
  const sent = new Map<number, number>();
  const owed = new Map<number, number>();
  for (let t = 1; t <= ms; t++) {
    for (const [id, rate] of Object.entries(offered)) {
      const q = Number(id);
      let due = (owed.get(q) ?? 0) + rate;
      while (due >= len) {
        egress.enqueue(q, frame, 0, len, t);
        due -= len;
      }
      owed.set(q, due);
    }
    egress.service(t, (_bytes, _at, len) => {
      // which queue it came from is in the counters; count totals here
      sent.set(-1, (sent.get(-1) ?? 0) + len);
    });
  }
  for (const c of egress.stats(0xffffffff)) sent.set(c.queueId, c.txBytes);
  return sent;
}

describe('egress queues', () => {
  it('bounds a port at 50 ms of its rate, between ten full-size frames and 4 MiB', () => {
    expect(portShape(10e6).limitBytes).toBe(62_500);
    expect(portShape(1e6).limitBytes).toBe(10 * 1514);
    expect(portShape(10e9).limitBytes).toBe(MAX_LIMIT_BYTES);
    expect(portShape(10e9, 123_456).limitBytes).toBe(123_456); // an explicit bound is kept
  });

  it('shapes to the port rate', () => {
    const e = new PortEgress(20e6, new Map(), 'drr', 0); // 2500 bytes/ms
    const sent = run(e, { 0: 5000 }, 2000);
    expect(sent.get(-1)! / 2000).toBeGreaterThan(2500 * 0.98);
    expect(sent.get(-1)! / 2000).toBeLessThan(2500 * 1.02);
    expect(e.stats(0)[0]!.txErrors).toBeGreaterThan(0);
    expect(e.backlog).toBeLessThanOrEqual(e.limitBytes);
  });

  it('shares the port 3:1 by weight under deficit round robin', () => {
    const e = new PortEgress(20e6, new Map([[1, 3], [2, 1]]), 'drr', 0);
    const sent = run(e, { 1: 3750, 2: 3750 }, 3000);
    const ratio = sent.get(1)! / sent.get(2)!;
    expect(ratio).toBeGreaterThan(2.9);
    expect(ratio).toBeLessThan(3.1);
  });

  it('gives a queue idle below its share all it offers', () => {
    const e = new PortEgress(20e6, new Map(), 'drr', 0);
    const sent = run(e, { 1: 500, 2: 5000 }, 2000);
    expect(sent.get(1)!).toBeGreaterThan(500 * 2000 * 0.98);
  });

  it('serves the highest queue id first under strict priority and drops from the lowest', () => {
    const e = new PortEgress(20e6, new Map(), 'strict', 0);
    const sent = run(e, { 0: 3000, 5: 2000 }, 2000);
    expect(sent.get(5)!).toBeGreaterThan(2000 * 2000 * 0.98);
    const stats = new Map(e.stats(0xffffffff).map((s) => [s.queueId, s]));
    expect(stats.get(5)!.txErrors).toBe(0);
    expect(stats.get(0)!.txErrors).toBeGreaterThan(0);
  });

  it('creates flow queues on demand and reports them', () => {
    const e = new PortEgress(0, new Map([[100, 5]]), 'drr', 0);
    e.countDirect(100, 64, 1);
    const q = e.stats(100)[0]!;
    expect([q.queueId, q.weight, q.txPackets, q.txBytes]).toEqual([100, 5, 1, 64]);
    expect(e.stats(0xffffffff).map((s) => s.queueId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100]);
  });
});

// Two senders periodic against the port's own clock, as when a flood is shaped upstream to
// exactly the port's rate: the flood sends one frame per departure time, the other one every
// second departure time at some phase. The datapath services the port and then queues each
// frame as it arrives. Under drop-tail the second sender's share of the overloaded queue
// would be set by its phase (from nothing at a phase just before the flood's frames, to all
// it offers just after them); random drop from the queue's tail window keeps it near its
// share of the offered load (1/3) at every phase.
describe('egress queues under senders locked in phase with the port', () => {
  const RATE = 10e6;
  const LEN = 1250; // one frame per ms at 10 Mbit/s
  const phases = [0.02, 0.25, 0.5, 0.75, 0.98];

  /** The second sender's share of the bytes sent over 10 s of simulated time, at `phase` (of a departure time). */
  function shareAtPhase(make: () => PortScheduler, phase: number): number {
    const e = make();
    const flood = new Uint8Array(LEN).fill(1);
    const paced = new Uint8Array(LEN).fill(2);
    const sent = [0, 0, 0];
    const send = (bytes: Uint8Array, at: number, len: number): void => {
      sent[bytes[at]!]! += len;
    };
    for (let ms = 0; ms < 10_000; ms++) {
      e.service(ms, send);
      e.enqueue(0, flood, 0, LEN, ms);
      if (ms % 2 === 0) {
        e.service(ms + phase, send);
        e.enqueue(0, paced, 0, LEN, ms + phase);
      }
    }
    return sent[2]! / (sent[1]! + sent[2]!);
  }

  for (const [name, make] of [
    ['TypeScript', () => new PortEgress(RATE, new Map(), 'drr', 0)],
    ['WebAssembly', () => new WasmPortEgress(RATE, new Map(), 'drr', 0)],
  ] as const) {
    it(`${name}: the paced sender keeps about its share of the offered load at every phase`, () => {
      const shares = phases.map((phase) => shareAtPhase(make, phase));
      console.log(`${name}: paced sender's share at phases ${phases.join(', ')}: ${shares.map((s) => s.toFixed(3)).join(', ')} (offered 0.333)`);
      for (const s of shares) {
        expect(s).toBeGreaterThan(0.25);
        expect(s).toBeLessThan(0.4);
      }
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThan(0.06);
    });
  }
});

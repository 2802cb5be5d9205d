// The egress scheduler in WebAssembly against its TypeScript twin: the same frames offered
// to the same port at the same times must leave in the same order, and every queue must
// count the same packets, bytes and drops — under deficit round robin with class queues,
// configured weights and rate-encoded flow queues, and under strict priority, with the
// port overloaded so that the byte bound picks victims.
import { describe, expect, it } from 'vitest';
import { PortEgress, type PortScheduler } from '../../src/switch/egress-queues.js';
import { WasmPortEgress } from '../../src/switch/egress-wasm.js';
import { encodeFlowQueueId } from '../../src/util/flow-queues.js';
import { Rng } from '../../src/dataplane/synthetic.js';

interface Trace {
  sent: number[];
  counters: string;
  backlog: number;
}

/** Offers `steps` ms of random traffic (about `load` × the port rate) on `queues`; frames carry their serial number. */
function drive(e: PortScheduler, queues: number[], seed: number, steps: number, rateBps: number, load: number): Trace {
  const rng = new Rng(seed);
  const next = (): number => rng.next() / 0x100000000;
  const frame = new Uint8Array(1514);
  const view = new DataView(frame.buffer);
  const sent: number[] = [];
  let serial = 0;
  const bytesPerMs = rateBps / 8000;
  for (let t = 1; t <= steps; t++) {
    let offered = 0;
    while (offered < bytesPerMs * load * next() * 2) {
      const len = next() < 0.3 ? 64 + Math.floor(next() * 200) : 1000 + Math.floor(next() * 515);
      const q = queues[Math.floor(next() * queues.length)]!;
      view.setUint32(0, serial);
      for (let i = 4; i < len; i++) frame[i] = (serial + i) & 0xff;
      serial++;
      e.enqueue(q, frame, 0, len, t);
      offered += len;
    }
    const at = t + (next() < 0.1 ? 0.5 : 0); // sometimes a service within the same ms
    e.service(at, (bytes, from, len) => {
      const n = new DataView(bytes.buffer, bytes.byteOffset + from).getUint32(0);
      sent.push(intact(bytes, from, len, n) ? n : -n);
    });
  }
  const counters = e
    .stats(0xffffffff)
    .map((c) => `${c.queueId}:${c.weight}:${c.txPackets}/${c.txBytes}/${c.txErrors}`)
    .join(' ');
  return { sent, counters, backlog: e.backlog };
}

/** Whether a frame sent still carries the bytes it was offered with (serial n). */
function intact(bytes: Uint8Array, at: number, len: number, n: number): boolean {
  for (let i = 4; i < len; i++) if (bytes[at + i] !== ((n + i) & 0xff)) return false;
  return true;
}

const RATE = 10e6;
const flowQueues = [encodeFlowQueueId(250e3, 0), encodeFlowQueueId(500e3, 0), encodeFlowQueueId(500e3, 1), encodeFlowQueueId(2e6, 0), encodeFlowQueueId(4e6, 0)];

describe('egress scheduler: WebAssembly vs TypeScript twin', () => {
  const cases: [string, 'drr' | 'strict', number[], [number, number][], number][] = [
    ['DRR, class queues with configured weights, 150 % load', 'drr', [0, 1, 2, 5], [[1, 3], [5, 2]], 1.5],
    ['DRR, rate-encoded flow queues and best effort, 300 % load', 'drr', [0, ...flowQueues], [], 3],
    ['DRR, under the port rate (no drops)', 'drr', [0, 3, ...flowQueues.slice(0, 2)], [], 0.6],
    ['strict priority, 200 % load', 'strict', [0, 1, 4, 7, 9000], [], 2],
  ];
  for (const [name, sched, queues, weights, load] of cases) {
    it(`${name}: same frames in the same order, same counters`, () => {
      for (const seed of [1, 7, 12345]) {
        const ts = drive(new PortEgress(RATE, new Map(weights), sched, 0), queues, seed, 1500, RATE, load);
        const wasm = drive(new WasmPortEgress(RATE, new Map(weights), sched, 0), queues, seed, 1500, RATE, load);
        expect(ts.sent.length).toBeGreaterThan(1000);
        expect(wasm.sent.length).toBe(ts.sent.length);
        expect(wasm.sent).toEqual(ts.sent);
        expect(wasm.counters).toBe(ts.counters);
        expect(wasm.backlog).toBe(ts.backlog);
        if (load > 1) expect(ts.counters).toMatch(/\/[1-9]\d*( |$)/); // the bound dropped something
      }
    });
  }

  it('keeps the frames of a starved queue intact while the ring turns over many times', () => {
    // strict priority: queue 7 is offered a little more than the 100 Mbit/s port for 2 s (its
    // backlog stays under the bound) while queue 0 holds frames it cannot send; the ring the
    // module keeps them in is rewritten several times over
    const rate = 100e6;
    const e = new WasmPortEgress(rate, new Map(), 'strict', 0);
    const frame = new Uint8Array(1514);
    const view = new DataView(frame.buffer);
    const offer = (q: number, serial: number, len: number, t: number): void => {
      view.setUint32(0, serial);
      for (let i = 4; i < len; i++) frame[i] = (serial + i) & 0xff;
      e.enqueue(q, frame, 0, len, t);
    };
    const low: number[] = [];
    const seen: number[] = [];
    const check = (bytes: Uint8Array, at: number, len: number): void => {
      const n = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0);
      if (!intact(bytes, at, len, n)) throw new Error(`frame ${n} changed in the ring`);
      if (n >= 1_000_000) low.push(n);
      else seen.push(n);
    };
    let serial = 0;
    let owed = 100_000; // a head start over the full token bucket (50 000 bytes)
    for (let t = 1; t <= 2000; t++) {
      owed += 12_600; // bytes per ms; the port sends 12 500
      for (let len = 60 + ((serial * 97) % 1455); owed >= len; len = 60 + ((serial * 97) % 1455)) {
        offer(7, serial++, len, t);
        owed -= len;
      }
      // between frames that leave, so that the ring's sweep moves these ones
      if (t <= 40) offer(0, 1_000_000 + t - 1, 100 + t * 30, t);
      e.service(t, check);
    }
    expect(low).toEqual([]); // starved so far
    expect(seen.length).toBeGreaterThan(10000);
    for (let t = 2001; t <= 2100; t++) e.service(t, check);
    expect(low).toEqual(Array.from({ length: 40 }, (_, k) => 1_000_000 + k));
    expect(e.backlog).toBe(0);
  });

  it('gives rate-encoded flow queues their paid shares (bytes within 5 %) when all are backlogged', () => {
    const e = new WasmPortEgress(RATE, new Map(), 'drr', 0);
    const frame = new Uint8Array(1514);
    for (let t = 1; t <= 4000; t++) {
      for (const q of flowQueues) for (let k = 0; k < 3; k++) e.enqueue(q, frame, 0, 1200, t);
      e.service(t, () => {});
    }
    const by = new Map(e.stats(0xffffffff).map((c) => [c.queueId, c]));
    const total = flowQueues.reduce((s, q) => s + by.get(q)!.txBytes, 0);
    const weights = flowQueues.reduce((s, q) => s + by.get(q)!.weight, 0);
    for (const q of flowQueues) {
      const share = by.get(q)!.txBytes / total;
      const want = by.get(q)!.weight / weights;
      expect(Math.abs(share / want - 1)).toBeLessThan(0.05);
    }
  });
});

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
      view.setUint32(0, serial++);
      e.enqueue(q, frame, 0, len, t);
      offered += len;
    }
    const at = t + (next() < 0.1 ? 0.5 : 0); // sometimes a service within the same ms
    e.service(at, (f) => sent.push(new DataView(f.buffer, f.byteOffset).getUint32(0)));
  }
  const counters = e
    .stats(0xffffffff)
    .map((c) => `${c.queueId}:${c.weight}:${c.txPackets}/${c.txBytes}/${c.txErrors}`)
    .join(' ');
  return { sent, counters, backlog: e.backlog };
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

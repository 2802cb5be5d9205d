// Egress scheduler benchmark: the cost per packet of `payflow switch`'s egress scheduling
// (token-bucket shaping, deficit round robin or strict priority, drops from the lowest
// class at the byte bound) in WebAssembly (src/switch/egress-wasm.ts, assembly/switch/
// egress.ts) and in its TypeScript twin (src/switch/egress-queues.ts). Each keeps its own
// copy of every frame: the module in a byte ring in its linear memory (one copy in, frames
// handed out as addresses in that memory, one call per batch), the twin in pooled buffers.
// A frame sent is read as the datapath would copy it out (its first and last byte). One
// operation offers a batch of 64 frames of 1000 bytes, spread over best effort and 8
// rate-encoded flow queues (DRR) or 8 classes (strict), to a 1 Gbit/s port, then lets the
// shaper send for 0.35 ms: the port stays overloaded (about 70 % of what is offered
// goes out, the rest is dropped at the bound), so every path of the scheduler runs.
// Besides the rate, each case reports the time per packet it measured itself (nsPerPacket).
import type { BenchCase, BenchOperation, BenchOptions, BenchSuite, Impl } from './harness.js';
import { PortEgress, type PortScheduler, type Scheduler } from '../src/switch/egress-queues.js';
import { WasmPortEgress } from '../src/switch/egress-wasm.js';
import { encodeFlowQueueId } from '../src/util/flow-queues.js';

const BATCH = 64;
const FRAME = 1000;
const RATE_BPS = 1e9;
const STEP_MS = 0.35;

function queuesOf(scheduler: Scheduler): number[] {
  if (scheduler === 'strict') return [0, 1, 2, 3, 4, 5, 6, 7];
  return [0, ...[1, 2, 5, 10, 20, 50, 100, 200].map((mbit) => encodeFlowQueueId(mbit * 1e6, 0))];
}

function operation(impl: Impl, scheduler: Scheduler): BenchOperation {
  const egress: PortScheduler = impl === 'wasm' ? new WasmPortEgress(RATE_BPS, new Map(), scheduler, 0) : new PortEgress(RATE_BPS, new Map(), scheduler, 0);
  const queues = queuesOf(scheduler);
  const order = Array.from({ length: BATCH }, (_, i) => queues[(i * 7) % queues.length]!);
  const frame = new Uint8Array(FRAME);
  let now = 0;
  let sent = 0;
  let offered = 0;
  let elapsedNs = 0;
  let checksum = 0;
  const count = (bytes: Uint8Array, at: number, len: number): void => {
    checksum += bytes[at]! + bytes[at + len - 1]!;
    sent++;
  };
  const run = (): void => {
    const t0 = performance.now();
    now += STEP_MS;
    for (let i = 0; i < BATCH; i++) egress.enqueue(order[i]!, frame, 0, FRAME, now);
    egress.service(now, count);
    offered += BATCH;
    elapsedNs += (performance.now() - t0) * 1e6;
  };
  for (let i = 0; i < 200; i++) run(); // fill the queues up to the bound
  if (sent === 0 || egress.backlog === 0) throw new Error(`schedule bench: ${impl} ${scheduler} sent ${sent}, backlog ${egress.backlog}`);
  sent = 0;
  offered = 0;
  elapsedNs = 0;
  return {
    run,
    extra: () => ({ queues: queues.length, frameBytes: FRAME, sentShare: Math.round((100 * sent) / Math.max(1, offered)) / 100, nsPerPacket: Math.round((10 * elapsedNs) / Math.max(1, offered)) / 10 }),
  };
}

export const switchScheduleSuite: BenchSuite = {
  name: 'switch.schedule',
  cases(_options: BenchOptions): BenchCase[] {
    return (['drr', 'strict'] as const).flatMap((scheduler) =>
      (['wasm', 'ts'] as const).map((impl): BenchCase => ({ name: `switch.schedule.${scheduler}`, impl, batch: BATCH, setup: () => operation(impl, scheduler) })),
    );
  },
};

// A port's egress scheduler in WebAssembly (assembly/switch/egress.ts, in its own instance
// of build/payflow-switch.wasm): the module decides — token bucket, deficit round robin or
// strict priority, which frame goes when the port's byte bound is reached — and this host
// keeps the frames and the OpenFlow queue counters. Frames offered between two services
// are written as (queue slot, length) requests and handed over in one call with the
// service; the module's event list is then replayed on the frames in order. Decision for
// decision the same as PortEgress (egress-queues.ts), its twin and oracle.
import { readFileSync } from 'node:fs';
import { MAX_QUEUES_PER_PORT, N_CLASS_QUEUES, PortQueues, portShape, type EgressQueue, type PortScheduler, type Scheduler } from './egress-queues.js';
import { switchWasmPath } from './wasm-pipeline.js';

interface EgressExports {
  memory: WebAssembly.Memory;
  egressInit(rateBytesPerMs: number, bucketBytes: number, limitBytes: number, strict: number, queues: number, frames: number, requestCapacity: number, nowMs: number): number;
  egressQueue(slot: number, queueId: number, quantum: number, weight: number): number;
  egressRun(n: number, nowMs: number, serve: number): number;
  egressBacklog(): number;
  egressRequests(): number;
  egressEvents(): number;
}

/** Requests one run takes; more between two services are handed over without a service. */
const REQUEST_CAPACITY = 4096;
/** The smallest frame the length pool is sized for (an Ethernet header). */
const MIN_FRAME_BYTES = 14;
const EV_ACCEPT = 0;
const EV_REJECT = 1;
const EV_POP = 2;

const modules = new Map<string, WebAssembly.Module>();

function instantiate(path: string): EgressExports {
  let mod = modules.get(path);
  if (!mod) {
    mod = new WebAssembly.Module(readFileSync(path));
    modules.set(path, mod);
  }
  const instance = new WebAssembly.Instance(mod, {
    env: {
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`egress scheduler aborted at ${line}:${col}`);
      },
    },
  });
  return instance.exports as unknown as EgressExports;
}

export class WasmPortEgress extends PortQueues implements PortScheduler {
  readonly shaped = true;
  readonly limitBytes: number;
  private readonly w: EgressExports;
  private readonly requests: Uint32Array;
  private readonly events: Uint32Array;
  /** queue by module slot */
  private readonly slots: EgressQueue[] = [];
  private readonly slotOf = new Map<EgressQueue, number>();
  /** copies of the frames offered since the last run, in request order */
  private pending: Uint8Array[] = [];

  constructor(
    readonly rateBps: number,
    weights: ReadonlyMap<number, number>,
    readonly scheduler: Scheduler,
    now: number,
    limitBytes?: number,
    wasmPath: string = switchWasmPath(),
  ) {
    super(weights);
    if (!(rateBps > 0)) throw new RangeError('the wasm egress scheduler serves shaped ports only');
    const shape = portShape(rateBps, limitBytes);
    this.limitBytes = shape.limitBytes;
    this.w = instantiate(wasmPath);
    const frames = Math.ceil(shape.limitBytes / MIN_FRAME_BYTES) + 1;
    if (this.w.egressInit(shape.bytesPerMs, shape.bucketBytes, shape.limitBytes, scheduler === 'strict' ? 1 : 0, MAX_QUEUES_PER_PORT, frames, REQUEST_CAPACITY, now) !== 0) {
      throw new Error('egressInit failed');
    }
    const buf = this.w.memory.buffer;
    this.requests = new Uint32Array(buf, this.w.egressRequests(), REQUEST_CAPACITY * 2);
    this.events = new Uint32Array(buf, this.w.egressEvents());
    for (let id = 0; id < N_CLASS_QUEUES; id++) this.queue(id, now);
  }

  get backlog(): number {
    return this.w.egressBacklog();
  }

  enqueue(queueId: number, frame: Uint8Array, at: number, len: number, now: number): void {
    const q = this.queue(queueId, now);
    if (this.pending.length === REQUEST_CAPACITY) this.run(now, false, undefined);
    const k = this.pending.length;
    this.requests[2 * k] = this.slotOf.get(q)!;
    this.requests[2 * k + 1] = len;
    this.pending.push(this.copy(frame, at, len));
  }

  service(now: number, send: (frame: Uint8Array) => void): number {
    return this.run(now, true, send);
  }

  /** Hands the pending requests (and, with serve, the service) to the module and replays its events. */
  private run(now: number, serve: boolean, send: ((frame: Uint8Array) => void) | undefined): number {
    const pending = this.pending;
    const count = this.w.egressRun(pending.length, now, serve ? 1 : 0);
    const events = this.events;
    let next = 0;
    let sent = 0;
    for (let i = 0; i < count; i++) {
      const e = events[i]!;
      const q = this.slots[e & 0x3fffffff]!;
      switch (e >>> 30) {
        case EV_ACCEPT:
          q.push(pending[next++]!);
          break;
        case EV_REJECT:
          q.txErrors++;
          this.recycle(pending[next++]!);
          break;
        case EV_POP:
          this.recycle(q.pop());
          q.txErrors++;
          break;
        default: {
          const f = q.shift();
          q.txPackets++;
          q.txBytes += f.length;
          send?.(f);
          this.recycle(f);
          sent++;
        }
      }
    }
    this.pending = [];
    return sent;
  }

  /** A new queue takes the module's next slot with its id, quantum and weight. */
  protected override created(q: EgressQueue): boolean {
    const slot = this.slots.length;
    if (this.w.egressQueue(slot, q.queueId >>> 0, q.quantum, q.weight) !== 0) return false;
    this.slots.push(q);
    this.slotOf.set(q, slot);
    return true;
  }
}

// A port's egress scheduler in WebAssembly (assembly/switch/egress.ts, in its own instance
// of build/payflow-switch.wasm): the module decides — token bucket, deficit round robin or
// strict priority, which frame goes when the port's byte bound is reached — and keeps the
// queued frames themselves, in a byte ring in its linear memory, and the OpenFlow queue
// counters. Each offered frame is copied once, straight into the ring's write region, and
// noted as a (queue slot, length) request; all requests since the last service are handed
// over in one call with the service, which answers with the frames sent as (address,
// length) pairs in the module's memory: the datapath copies each once into its socket's
// send slots. Nothing is allocated per frame. Decision for decision the same as PortEgress
// (egress-queues.ts), its twin and oracle.
import { readFileSync } from 'node:fs';
import { MAX_QUEUES_PER_PORT, N_CLASS_QUEUES, PortQueues, portShape, type EgressQueue, type FrameSender, type PortScheduler, type QueueCounters, type Scheduler } from './egress-queues.js';
import { switchWasmPath } from './wasm-pipeline.js';

interface EgressExports {
  memory: WebAssembly.Memory;
  egressInit(rateBytesPerMs: number, bucketBytes: number, limitBytes: number, strict: number, queues: number, frames: number, requestCapacity: number, nowMs: number): number;
  egressQueue(slot: number, queueId: number, quantum: number, weight: number): number;
  egressRun(n: number, nowMs: number, serve: number): number;
  egressBacklog(): number;
  egressRequests(): number;
  egressSends(): number;
  egressState(): number;
  egressCounters(): number;
}

/** Requests one run takes; more between two services are handed over without a service. */
const REQUEST_CAPACITY = 4096;
/** The smallest frame the length pool is sized for (an Ethernet header). */
const MIN_FRAME_BYTES = 14;
/** A frame record's header in the ring (u32 length, i32 node), written by the module. */
const RECORD_HEADER = 8;
/** Marks a request whose bytes are not in the ring (too long for it): the module drops it. */
const NOT_STORED = 0x80000000;

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
  /** the module's whole memory: frames are copied in and read out through it */
  private readonly bytes: Uint8Array;
  private readonly requests: Uint32Array;
  private readonly sends: Uint32Array;
  /** [write address, bytes free there], as the last run left them */
  private readonly state: Uint32Array;
  private readonly counters: Float64Array;
  /** module slot by queue id, for the queues created so far */
  private readonly slotById = new Map<number, number>();
  private readonly slots: EgressQueue[] = [];
  private pending = 0;
  private writeAt: number;
  private writeRoom: number;

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
    // egressInit was the last call that grows the memory: these views stay valid
    const buf = this.w.memory.buffer;
    this.bytes = new Uint8Array(buf);
    this.requests = new Uint32Array(buf, this.w.egressRequests(), REQUEST_CAPACITY * 2);
    this.sends = new Uint32Array(buf, this.w.egressSends(), frames * 2);
    this.state = new Uint32Array(buf, this.w.egressState(), 2);
    this.counters = new Float64Array(buf, this.w.egressCounters(), MAX_QUEUES_PER_PORT * 3);
    this.writeAt = this.state[0]!;
    this.writeRoom = this.state[1]!;
    for (let id = 0; id < N_CLASS_QUEUES; id++) this.queue(id, now);
  }

  get backlog(): number {
    return this.w.egressBacklog();
  }

  /** Copies the frame into the module's ring and notes the request; the module decides at the next run. */
  enqueue(queueId: number, frame: Uint8Array, at: number, len: number, now: number): void {
    let slot = this.slotById.get(queueId);
    if (slot === undefined) slot = this.slotById.get(this.queue(queueId, now).queueId)!;
    if (this.pending === REQUEST_CAPACITY) this.run(now, false);
    const record = RECORD_HEADER + ((len + 7) & ~7);
    let stored = len <= this.limitBytes;
    if (stored && record > this.writeRoom) {
      this.run(now, false);
      stored = record <= this.writeRoom;
    }
    if (stored) {
      this.bytes.set(frame.subarray(at, at + len), this.writeAt + RECORD_HEADER);
      this.writeAt += record;
      this.writeRoom -= record;
    }
    const k = this.pending++;
    this.requests[2 * k] = slot;
    this.requests[2 * k + 1] = stored ? len : (len | NOT_STORED) >>> 0;
  }

  /** Hands the pending requests to the module with the service; each frame sent is passed to `send` as (memory, address, length). */
  service(now: number, send: FrameSender): number {
    const sent = this.run(now, true);
    const sends = this.sends;
    for (let i = 0; i < sent; i++) send(this.bytes, sends[2 * i]!, sends[2 * i + 1]!);
    return sent;
  }

  /** Queue counters as the module keeps them. */
  override stats(queueId: number): QueueCounters[] {
    const c = this.counters;
    for (let s = 0; s < this.slots.length; s++) {
      const q = this.slots[s]!;
      q.txPackets = c[3 * s]!;
      q.txBytes = c[3 * s + 1]!;
      q.txErrors = c[3 * s + 2]!;
    }
    return super.stats(queueId);
  }

  /** One call: the pending requests in order, then (serve) the service. Returns the frames sent. */
  private run(now: number, serve: boolean): number {
    const sent = this.w.egressRun(this.pending, now, serve ? 1 : 0);
    this.pending = 0;
    this.writeAt = this.state[0]!;
    this.writeRoom = this.state[1]!;
    return sent;
  }

  /** A new queue takes the module's next slot with its id, quantum and weight. */
  protected override created(q: EgressQueue): boolean {
    const slot = this.slots.length;
    if (this.w.egressQueue(slot, q.queueId >>> 0, q.quantum, q.weight) !== 0) return false;
    this.slots.push(q);
    this.slotById.set(q.queueId, slot);
    return true;
  }
}

// Egress queues of one switch port: the switch shapes its own output to the port's rate, so
// the queue forms here and not in a kernel qdisc. A token bucket (rate in bytes per ms,
// depth BUCKET_MS of the rate) lets frames out; frames not yet allowed out wait in the
// port's queues, which are scheduled by deficit round robin (Shreedhar & Varghese,
// "Efficient Fair Queuing using Deficit Round Robin", SIGCOMM 1995: each active queue's
// deficit grows by a quantum proportional to its weight per round, and it sends while
// the deficit covers its head frame) or by strict priority (the highest queue id first).
//
// Queue ids follow OpenFlow's set_queue (1.3.5 §7.2.5): 0..7 are classes (0, best effort,
// takes every frame without set_queue), ids of 8 and above are per-flow queues created on
// demand the first time a frame names them. A queue's weight is the one configured for
// its id (`--queue ID:WEIGHT`), else the rate a rate-encoded id carries (ids of 1024 and
// up, util/flow-queues.ts: the flow's paid rate in Mbit/s), else 1. The queue ids also rank the queues: a higher id is
// a higher class. That rank decides strict priority, and which frames go when the port's
// occupancy bound (bytes, all queues together) would be exceeded: the lowest class first,
// and the arriving frame's own queue when nothing lower can lose one. Under DRR a queue
// keeps its weight's share of the bound (limit × weight / Σ weights of the backlogged
// queues, at least two full-size frames): only bytes above that share can be pushed out,
// so a higher class under overload cannot empty a lower one and undo the weights.
// The queue that must give way loses one of its last DROP_WINDOW frames chosen at random
// (the arriving frame among them when it is the queue's own): random drop, not drop-tail.
// Under drop-tail, senders that are periodic at the port's rate (a flood shaped upstream to
// the same rate by the same clock) lock into a phase in which whoever arrives just after a
// departure takes every freed place, and one flow's share of an overloaded queue can be
// anything from nothing to all it offers (Floyd & Jacobson, "On Traffic Phase Effects in
// Packet-Switched Gateways", 1992). Random drop spreads the losses over the flows in the
// queue by what they hold of it, whatever their phase; a window at the tail keeps it O(1).
//
// The same scheduler runs in WebAssembly (assembly/switch/egress.ts, egress-wasm.ts), which
// keeps its frames in a byte ring in its linear memory; this one keeps copies in pooled
// buffers. It is the twin and the oracle of test/switch/egress-differential.test.ts.
//
// Lengths are Ethernet frame bytes without the FCS, as the port counters, the meters and
// tc count them. Nothing here throws on a frame.

import { encodedQueueWeight } from '../util/flow-queues.js';

/** How many bytes the token bucket holds, in ms of the port rate (at least MIN_BUCKET_BYTES). */
const BUCKET_MS = 4;
const MIN_BUCKET_BYTES = 2 * 1514;
/** A queue of weight 1 may send this many bytes per round (one full-size frame). */
export const DRR_QUANTUM_BYTES = 1514;
/** Default occupancy bound of a port: this much of its rate (from MIN_LIMIT_BYTES to MAX_LIMIT_BYTES). */
export const QUEUE_LIMIT_MS = 50;
const MIN_LIMIT_BYTES = 10 * 1514;
/**
 * The default bound never exceeds this (50 ms up to 671 Mbit/s, 3.4 ms at 10 Gbit/s): the
 * WebAssembly scheduler's frame ring is a few times the bound and is paged in at start, so a
 * fast port would otherwise hold hundreds of MB for a queue that only adds delay.
 */
export const MAX_LIMIT_BYTES = 4 << 20;
/**
 * Under DRR a queue may always keep this much of the bound, whatever its weight: a queue of
 * a small weight that could hold only one frame would empty on every turn, lose its turn in
 * the round and get less than its share.
 */
export const MIN_SHARE_BYTES = 2 * 1514;
/** A port keeps at most this many queues; frames naming more go to queue 0. */
export const MAX_QUEUES_PER_PORT = 1024;
/** Frame buffers of this size (any Ethernet frame up to a VLAN-tagged 1518 bytes) are pooled; at most POOL_MAX of them. */
const POOL_FRAME_BYTES = 2048;
const POOL_MAX = 16384;
/** Queue ids 0..N_CLASS_QUEUES-1 are classes and exist on every port from the start. */
export const N_CLASS_QUEUES = 8;
/** A queue that gives way loses one of its last this many frames (the arriving one counted). */
export const DROP_WINDOW = 16;
/** Seed of each port's drop choices (xorshift32), the same in the WebAssembly twin. */
export const DROP_SEED = 0x9e3779b9;

/** Marsaglia's xorshift32 step on an unsigned 32-bit state (nonzero). */
export function xorshift32(state: number): number {
  let x = state | 0;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

export type Scheduler = 'drr' | 'strict';

/** How the datapath shapes and schedules a port. */
export interface EgressConfig {
  /** port rate in bits/s, per port in port order; 0 means not shaped (frames go straight out) */
  ratesBps: number[];
  /** queue weights by queue id; ids not listed weigh 1 */
  weights: [number, number][];
  scheduler: Scheduler;
  /** per-port occupancy bound in bytes; default QUEUE_LIMIT_MS of the rate */
  limitBytes?: number;
}

export interface QueueCounters {
  queueId: number;
  weight: number;
  txPackets: number;
  txBytes: number;
  /** frames dropped because the port's queues were full */
  txErrors: number;
  createdAt: number;
}

/** One queue: its frames (copies, in order), DRR state and counters. */
export class EgressQueue implements QueueCounters {
  txPackets = 0;
  txBytes = 0;
  txErrors = 0;
  deficit = 0;
  active = false;
  bytes = 0;
  private frames: Uint8Array[] = [];
  private head = 0;
  readonly quantum: number;

  constructor(
    readonly queueId: number,
    readonly weight: number,
    readonly createdAt: number,
  ) {
    this.quantum = drrQuantum(weight);
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  peek(): Uint8Array | undefined {
    return this.frames[this.head];
  }

  push(frame: Uint8Array): void {
    this.frames.push(frame);
    this.bytes += frame.length;
  }

  shift(): Uint8Array {
    const f = this.frames[this.head]!;
    this.frames[this.head++] = EMPTY;
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    this.bytes -= f.length;
    return f;
  }

  /** Takes out the `k`-th frame from the tail (1: the tail itself); 1 <= k <= length. */
  remove(k: number): Uint8Array {
    const at = this.frames.length - k;
    const f = this.frames[at]!;
    this.frames.splice(at, 1);
    this.bytes -= f.length;
    if (this.head === this.frames.length) {
      this.frames = [];
      this.head = 0;
    }
    return f;
  }
}

const EMPTY = new Uint8Array(0);

/** A queue's DRR weight: configured, else carried by a rate-encoded id, else 1. */
export function queueWeight(weights: ReadonlyMap<number, number>, queueId: number): number {
  return weights.get(queueId) ?? encodedQueueWeight(queueId) ?? 1;
}

/** Bytes a queue of `weight` may send per DRR round (at least 1). */
export function drrQuantum(weight: number): number {
  return Math.max(1, Math.round(weight * DRR_QUANTUM_BYTES));
}

/** A port's shaping: token bucket rate and depth, and the occupancy bound, all in bytes. */
export function portShape(rateBps: number, limitBytes?: number): { bytesPerMs: number; bucketBytes: number; limitBytes: number } {
  const bytesPerMs = rateBps / 8 / 1000;
  return {
    bytesPerMs,
    bucketBytes: Math.max(MIN_BUCKET_BYTES, bytesPerMs * BUCKET_MS),
    limitBytes: limitBytes ?? Math.min(MAX_LIMIT_BYTES, Math.max(MIN_LIMIT_BYTES, Math.ceil(bytesPerMs * QUEUE_LIMIT_MS))),
  };
}

/**
 * Takes a frame the shaper lets out: `len` bytes at `at` in `bytes`, valid only during the
 * call (the datapath copies them into its socket's send slots).
 */
export type FrameSender = (bytes: Uint8Array, at: number, len: number) => void;

/** What the datapath asks of a port's egress: the TypeScript scheduler below or its WebAssembly twin (egress-wasm.ts). */
export interface PortScheduler {
  readonly shaped: boolean;
  readonly scheduler: Scheduler;
  readonly limitBytes: number;
  readonly backlog: number;
  countDirect(queueId: number, len: number, now: number): void;
  enqueue(queueId: number, frame: Uint8Array, at: number, len: number, now: number): void;
  service(now: number, send: FrameSender): number;
  stats(queueId: number): QueueCounters[];
}

/** A port's queues by id, created on demand, with their counters: what both schedulers share. */
export abstract class PortQueues {
  protected readonly queues = new Map<number, EgressQueue>();
  /** queues ordered by id, for strict priority and overflow (lowest first) */
  protected ranked: EgressQueue[] = [];
  private readonly pool: ArrayBuffer[] = [];

  constructor(protected readonly weights: ReadonlyMap<number, number>) {}

  /** Counts a frame that goes straight out of an unshaped port. */
  countDirect(queueId: number, len: number, now: number): void {
    const q = this.queue(queueId, now);
    q.txPackets++;
    q.txBytes += len;
  }

  /** Counters of the queues, by id; `queueId` 0xffffffff (OFPQ_ALL) selects all. */
  stats(queueId: number): QueueCounters[] {
    if (queueId === 0xffffffff) return this.ranked;
    const q = this.queues.get(queueId);
    return q ? [q] : [];
  }

  /** The queue of an id, created on first use; queue 0 when the port has no room for another. */
  protected queue(queueId: number, now: number): EgressQueue {
    let q = this.queues.get(queueId);
    if (q) return q;
    if (this.queues.size >= MAX_QUEUES_PER_PORT) return this.queues.get(0)!;
    q = new EgressQueue(queueId, queueWeight(this.weights, queueId), now);
    if (!this.created(q)) return this.queues.get(0)!;
    this.queues.set(queueId, q);
    const at = this.ranked.findIndex((r) => r.queueId > queueId);
    if (at < 0) this.ranked.push(q);
    else this.ranked.splice(at, 0, q);
    return q;
  }

  /**
   * A queued frame's copy, in a buffer from the port's pool: allocating an ArrayBuffer per
   * frame costs more than all the scheduling. A frame handed to `send` is valid only
   * during that call; its buffer then goes back to the pool.
   */
  protected copy(frame: Uint8Array, at: number, len: number): Uint8Array {
    const buf = len <= POOL_FRAME_BYTES ? (this.pool.pop() ?? new ArrayBuffer(POOL_FRAME_BYTES)) : new ArrayBuffer(len);
    const f = new Uint8Array(buf, 0, len);
    f.set(frame.subarray(at, at + len));
    return f;
  }

  protected recycle(f: Uint8Array): void {
    if (f.buffer.byteLength === POOL_FRAME_BYTES && this.pool.length < POOL_MAX) this.pool.push(f.buffer as ArrayBuffer);
  }

  /** A new queue is about to join the port; false refuses it. */
  protected created(_q: EgressQueue): boolean {
    return true;
  }
}

/** The queues of one port; `send` is called with each frame the shaper lets out. */
export class PortEgress extends PortQueues implements PortScheduler {
  /** whether frames wait here (a rate is set) or go straight out */
  readonly shaped: boolean;
  readonly limitBytes: number;
  private readonly bytesPerMs: number;
  private readonly bucketBytes: number;
  private tokens: number;
  private lastRefill: number;
  /** active queues in DRR order */
  private readonly round: EgressQueue[] = [];
  private queuedBytes = 0;
  /** whether the queue at the head of the round has had its quantum for this turn */
  private turnStarted = false;
  /** state of the drop choices */
  private random = DROP_SEED;

  constructor(
    readonly rateBps: number,
    weights: ReadonlyMap<number, number>,
    readonly scheduler: Scheduler,
    now: number,
    limitBytes?: number,
  ) {
    super(weights);
    this.shaped = rateBps > 0;
    const shape = portShape(rateBps, limitBytes);
    this.bytesPerMs = shape.bytesPerMs;
    this.bucketBytes = shape.bucketBytes;
    this.tokens = this.bucketBytes;
    this.lastRefill = now;
    this.limitBytes = shape.limitBytes;
    for (let id = 0; id < N_CLASS_QUEUES; id++) this.queue(id, now);
  }

  /** Bytes waiting in all queues. */
  get backlog(): number {
    return this.queuedBytes;
  }

  /** Queues a copy of a frame; on overflow drops from the lowest class first. */
  enqueue(queueId: number, frame: Uint8Array, at: number, len: number, now: number): void {
    const q = this.queue(queueId, now);
    if (len > this.limitBytes) {
      q.txErrors++;
      return;
    }
    while (this.queuedBytes + len > this.limitBytes) {
      const lowest = this.victim(q);
      // k-th frame from the tail; 0 is the arriving frame, a candidate in its own queue
      this.random = xorshift32(this.random);
      const k = lowest === q ? this.random % (Math.min(q.length, DROP_WINDOW - 1) + 1) : 1 + (this.random % Math.min(lowest.length, DROP_WINDOW));
      if (k === 0) {
        q.txErrors++;
        return;
      }
      const dropped = lowest.remove(k);
      this.recycle(dropped);
      lowest.txErrors++;
      this.queuedBytes -= dropped.length;
      if (lowest.length === 0) this.deactivate(lowest);
    }
    q.push(this.copy(frame, at, len));
    this.queuedBytes += len;
    if (!q.active) {
      q.active = true;
      q.deficit = 0;
      this.round.push(q);
    }
  }

  /** Lets out what the token bucket allows at `now`, in scheduler order. Returns the frames sent. */
  service(now: number, send: FrameSender): number {
    if (this.queuedBytes === 0) {
      this.refill(now);
      return 0;
    }
    this.refill(now);
    let sent = 0;
    while (this.tokens > 0 && this.queuedBytes > 0) {
      const q = this.scheduler === 'strict' ? this.highestBacklogged() : this.nextDrr();
      if (!q) break;
      const f = q.shift();
      this.queuedBytes -= f.length;
      this.tokens -= f.length;
      q.txPackets++;
      q.txBytes += f.length;
      if (this.scheduler === 'drr') q.deficit -= f.length;
      if (q.length === 0) this.deactivate(q);
      send(f, 0, f.length);
      this.recycle(f);
      sent++;
    }
    return sent;
  }

  private refill(now: number): void {
    const elapsed = now - this.lastRefill;
    this.lastRefill = now;
    if (elapsed > 0) this.tokens = Math.min(this.bucketBytes, this.tokens + elapsed * this.bytesPerMs);
  }

  /**
   * DRR: the queue at the head of the round adds its quantum when its turn starts and
   * sends while its deficit covers its head frame; then it goes to the tail. Weights are
   * at least 1, so a quantum covers a full-size frame and a turn sends at least one; a
   * rate-encoded queue below 1 Mbit/s has a smaller quantum and sends once its deficit
   * has grown over several rounds.
   */
  private nextDrr(): EgressQueue | undefined {
    while (this.round.length > 0) {
      const q = this.round[0]!;
      if (!this.turnStarted) {
        q.deficit += q.quantum;
        this.turnStarted = true;
      }
      if (q.deficit >= q.peek()!.length) return q;
      this.round.push(this.round.shift()!);
      this.turnStarted = false;
    }
    return undefined;
  }

  private highestBacklogged(): EgressQueue | undefined {
    for (let i = this.ranked.length - 1; i >= 0; i--) if (this.ranked[i]!.length > 0) return this.ranked[i];
    return undefined;
  }

  /**
   * The queue that loses a frame so that a frame for `arriving` fits: the lowest-ranked one
   * below `arriving` (under DRR: the lowest one above its share, or `arriving` itself when
   * it is above its share first); `arriving` (its own frames or the new one) when none.
   */
  private victim(arriving: EgressQueue): EgressQueue {
    if (this.scheduler === 'strict') {
      for (const q of this.ranked) if (q.length > 0) return q.queueId < arriving.queueId ? q : arriving;
      return arriving;
    }
    let weights = arriving.active ? 0 : arriving.weight;
    for (const q of this.round) weights += q.weight;
    const share = (q: EgressQueue, extra: number): boolean => q.bytes + extra > Math.max(MIN_SHARE_BYTES, (this.limitBytes * q.weight) / weights);
    for (const q of this.ranked) {
      if (q === arriving ? share(q, 1) : q.length > 0 && share(q, 0)) return q;
    }
    return arriving;
  }

  private deactivate(q: EgressQueue): void {
    q.active = false;
    q.deficit = 0;
    const i = this.round.indexOf(q);
    if (i === 0) this.turnStarted = false;
    if (i >= 0) this.round.splice(i, 1);
  }
}

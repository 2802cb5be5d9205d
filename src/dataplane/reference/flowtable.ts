// The twin of assembly/flowtable.ts: exact-match table, linear probing over a power-of-two
// slot array at most half full (4-byte slots: entry index + 1 in the low bits, a tag of the
// hash's high bits above), backward-shift deletion, entries of
// 128 bytes in one ArrayBuffer (layout.ts E_*; the u64 counters are float64 numbers here),
// free entries threaded through E_GEN. No allocation after construction.
import { E_CLASS, E_DSCP, E_GEN, E_LAST_SEEN, EB_PINNED, EB_USED, ENTRY_BYTES } from '../layout.js';
import { hashKey, wordsEqual } from './hash.js';

const W = ENTRY_BYTES >> 2; // u32 words per entry
const F = ENTRY_BYTES >> 3; // f64 slots per entry

export function slotCountFor(cap: number): number {
  let n = 16;
  while (n < cap * 2) n *= 2;
  return n;
}

export class FlowTable {
  readonly capacity: number;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly slots: Uint32Array;
  private readonly slotMask: number;
  private readonly indexMask: number;
  private freeHead = -1;
  private nextFresh = 0;
  count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    const buf = new ArrayBuffer(capacity * ENTRY_BYTES);
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    const n = slotCountFor(capacity);
    this.slotMask = n - 1;
    let m = 1;
    while (m < capacity) m = m * 2 + 1; // index + 1 <= capacity fits
    this.indexMask = m;
    this.slots = new Uint32Array(n);
  }

  bytes(): number {
    return this.capacity * ENTRY_BYTES + this.slots.byteLength;
  }

  /** Index of the entry holding key[at .. at + 13) with hash h, or -1. */
  find(key: Uint32Array, at: number, h: number): number {
    const slots = this.slots, im = this.indexMask;
    const tag = (h & ~im) >>> 0;
    let s = h & this.slotMask;
    for (;;) {
      const v = slots[s]!;
      if (v === 0) return -1;
      if (((v & ~im) >>> 0) === tag && wordsEqual(this.u32, ((v & im) - 1) * W, key, at)) return (v & im) - 1;
      s = (s + 1) & this.slotMask;
    }
  }

  /** Adds an entry for an absent key; -1 when full. */
  add(key: Uint32Array, at: number, h: number, nowNs: number): number {
    let idx: number;
    if (this.freeHead >= 0) {
      idx = this.freeHead;
      this.freeHead = this.i32[idx * W + (E_GEN >> 2)]!;
    } else if (this.nextFresh < this.capacity) {
      idx = this.nextFresh++;
    } else {
      return -1;
    }
    this.u8.fill(0, idx * ENTRY_BYTES, (idx + 1) * ENTRY_BYTES);
    for (let i = 0; i < 13; i++) this.u32[idx * W + i] = key[at + i]!;
    this.f64[idx * F + (E_LAST_SEEN >> 3)] = nowNs;
    this.u8[idx * ENTRY_BYTES + E_DSCP] = EB_USED;
    let s = h & this.slotMask;
    while (this.slots[s] !== 0) s = (s + 1) & this.slotMask;
    this.slots[s] = ((h & ~this.indexMask) | (idx + 1)) >>> 0;
    this.count++;
    return idx;
  }

  remove(idx: number): void {
    const slots = this.slots, mask = this.slotMask, im = this.indexMask;
    let i = hashKey(this.u32, idx * W, 0) & mask;
    while ((slots[i]! & im) !== idx + 1) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = slots[j]!;
      if (v === 0) break;
      const k = hashKey(this.u32, ((v & im) - 1) * W, 0) & mask; // home slot of the key there
      const move = j > i ? k <= i || k > j : k <= i && k > j;
      if (move) {
        slots[i] = v;
        i = j;
      }
    }
    slots[i] = 0;
    this.u8[idx * ENTRY_BYTES + E_CLASS] = 0;
    this.u8[idx * ENTRY_BYTES + E_DSCP] = 0;
    this.i32[idx * W + (E_GEN >> 2)] = this.freeHead;
    this.freeHead = idx;
    this.count--;
  }

  used(idx: number): boolean {
    return idx >= 0 && idx < this.nextFresh && (this.u8[idx * ENTRY_BYTES + E_DSCP]! & EB_USED) !== 0;
  }

  next(from: number): number {
    for (let i = from; i < this.nextFresh; i++) if (this.used(i)) return i;
    return -1;
  }

  expire(nowNs: number, idleNs: number): number {
    let removed = 0;
    for (let i = 0; i < this.nextFresh; i++) {
      if ((this.u8[i * ENTRY_BYTES + E_DSCP]! & EB_USED) === 0 || (this.u8[i * ENTRY_BYTES + E_CLASS]! & EB_PINNED) !== 0) continue;
      const last = this.f64[i * F + (E_LAST_SEEN >> 3)]!;
      if (nowNs > last && nowNs - last > idleNs) {
        this.remove(i);
        removed++;
      }
    }
    return removed;
  }
}

// The twin of assembly/rules.ts: tuple-space search over wildcard rules (one hash table per
// distinct mask, sharing one slot array, the tuple index seeding the hash), bucket chains in
// priority order with port ranges checked along the chain, tuples visited by decreasing best
// priority. Rule changes mark the index dirty and bump the generation; rebuild() runs before
// the next batch.
import {
  K_DPORT, K_SPORT, RA_DROP, RL_ACTION, RL_ACTIVE, RL_DPORT_HI, RL_DPORT_LO, RL_MASK, RL_NEXT, RL_PRIORITY,
  RL_SPORT_HI, RL_SPORT_LO, RL_TUPLE, RL_VALUE, RULE_BYTES,
} from '../layout.js';
import { hashMasked, wordsEqual } from './hash.js';
import { slotCountFor } from './flowtable.js';

const W = RULE_BYTES >> 2;
const VAL = RL_VALUE >> 2;
const MSK = RL_MASK >> 2;

export class RuleSet {
  readonly capacity: number;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  private readonly tupleMasks: Uint32Array;
  private readonly tupleMaxPri: Int32Array;
  private readonly tupleOrder: Uint32Array;
  tupleCount = 0;
  private readonly slots: Uint32Array;
  private readonly slotMask: number;
  private readonly masked = new Uint32Array(13);
  generation = 1;
  private dirty = false;

  constructor(capacity: number) {
    this.capacity = capacity;
    const c = Math.max(1, capacity);
    const buf = new ArrayBuffer(c * RULE_BYTES);
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.tupleMasks = new Uint32Array(c * 13);
    this.tupleMaxPri = new Int32Array(c);
    this.tupleOrder = new Uint32Array(c);
    const n = slotCountFor(c);
    this.slotMask = n - 1;
    this.slots = new Uint32Array(2 * n);
  }

  /** Stores an encoded rule record (keys.ts encodeRule) in slot id; returns 0 or an error code. */
  set(id: number, record: Uint8Array): number {
    if (!(id >= 0 && id < this.capacity)) return -2;
    const s = new DataView(record.buffer, record.byteOffset, RULE_BYTES);
    const sLo = s.getUint16(RL_SPORT_LO, true), sHi = s.getUint16(RL_SPORT_HI, true);
    const dLo = s.getUint16(RL_DPORT_LO, true), dHi = s.getUint16(RL_DPORT_HI, true);
    if (sLo > sHi || dLo > dHi) return -3;
    const act = s.getUint8(RL_ACTION);
    if (act !== 0 && act !== RA_DROP) return -3;
    this.u8.set(record.subarray(0, RULE_BYTES), id * RULE_BYTES);
    const b = id * W;
    this.u16[(id * RULE_BYTES + RL_MASK + K_SPORT) >> 1] = sLo === sHi ? 0xffff : 0;
    this.u16[(id * RULE_BYTES + RL_MASK + K_DPORT) >> 1] = dLo === dHi ? 0xffff : 0;
    this.u16[(id * RULE_BYTES + RL_VALUE + K_SPORT) >> 1] = sLo;
    this.u16[(id * RULE_BYTES + RL_VALUE + K_DPORT) >> 1] = dLo;
    for (let i = 0; i < 13; i++) this.u32[b + VAL + i] = this.u32[b + VAL + i]! & this.u32[b + MSK + i]!;
    this.i32[b + (RL_NEXT >> 2)] = -1;
    this.i32[b + (RL_TUPLE >> 2)] = -1;
    this.u32[b + (RL_ACTIVE >> 2)] = 1;
    this.dirty = true;
    this.generation = (this.generation + 1) >>> 0;
    return 0;
  }

  delete(id: number): number {
    if (!(id >= 0 && id < this.capacity)) return -2;
    const a = id * W + (RL_ACTIVE >> 2);
    if (this.u32[a] === 0) return 0;
    this.u32[a] = 0;
    this.dirty = true;
    this.generation = (this.generation + 1) >>> 0;
    return 0;
  }

  private pri(id: number): number {
    return this.i32[id * W + (RL_PRIORITY >> 2)]!;
  }

  private better(a: number, b: number): boolean {
    const pa = this.pri(a), pb = this.pri(b);
    return pa > pb || (pa === pb && a < b);
  }

  rebuild(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.tupleCount = 0;
    this.slots.fill(0);
    const u32 = this.u32, i32 = this.i32, slots = this.slots;
    for (let id = 0; id < this.capacity; id++) {
      const b = id * W;
      if (u32[b + (RL_ACTIVE >> 2)] === 0) continue;
      const pri = i32[b + (RL_PRIORITY >> 2)]!;
      let t = 0;
      while (t < this.tupleCount && !wordsEqual(this.tupleMasks, t * 13, u32, b + MSK)) t++;
      if (t === this.tupleCount) {
        this.tupleMasks.set(u32.subarray(b + MSK, b + MSK + 13), t * 13);
        this.tupleMaxPri[t] = pri;
        this.tupleCount++;
      } else if (pri > this.tupleMaxPri[t]!) {
        this.tupleMaxPri[t] = pri;
      }
      i32[b + (RL_TUPLE >> 2)] = t;
      i32[b + (RL_NEXT >> 2)] = -1;
      const h = hashMasked(u32, b + VAL, u32, b + MSK, this.masked, t + 1);
      let s = h & this.slotMask;
      for (;;) {
        const ref = slots[2 * s + 1]!;
        if (ref === 0) {
          slots[2 * s] = h;
          slots[2 * s + 1] = id + 1;
          break;
        }
        const head = ref - 1;
        if (slots[2 * s] === h && i32[head * W + (RL_TUPLE >> 2)] === t && wordsEqual(u32, head * W + VAL, u32, b + VAL)) {
          if (this.better(id, head)) {
            i32[b + (RL_NEXT >> 2)] = head;
            slots[2 * s + 1] = id + 1;
          } else {
            let prev = head;
            let nx = i32[prev * W + (RL_NEXT >> 2)]!;
            while (nx >= 0 && this.better(nx, id)) {
              prev = nx;
              nx = i32[prev * W + (RL_NEXT >> 2)]!;
            }
            i32[b + (RL_NEXT >> 2)] = nx;
            i32[prev * W + (RL_NEXT >> 2)] = id;
          }
          break;
        }
        s = (s + 1) & this.slotMask;
      }
    }
    const order = this.tupleOrder, maxPri = this.tupleMaxPri;
    for (let i = 0; i < this.tupleCount; i++) {
      const pri = maxPri[i]!;
      let j = i;
      while (j > 0 && maxPri[order[j - 1]!]! < pri) {
        order[j] = order[j - 1]!;
        j--;
      }
      order[j] = i;
    }
  }

  /** Best rule for the key words key[0 .. 13) (ports read from keyU16), or -1. */
  classify(key: Uint32Array, keyU16: Uint16Array): number {
    const u32 = this.u32, u16 = this.u16, i32 = this.i32, slots = this.slots, masked = this.masked;
    const sport = keyU16[K_SPORT >> 1]!, dport = keyU16[K_DPORT >> 1]!;
    let best = -1;
    let bestPri = -0x80000000;
    for (let i = 0; i < this.tupleCount; i++) {
      const t = this.tupleOrder[i]!;
      if (best >= 0 && this.tupleMaxPri[t]! < bestPri) break;
      const h = hashMasked(key, 0, this.tupleMasks, t * 13, masked, t + 1);
      let s = h & this.slotMask;
      for (;;) {
        const ref = slots[2 * s + 1]!;
        if (ref === 0) break;
        const head = ref - 1;
        if (slots[2 * s] === h && i32[head * W + (RL_TUPLE >> 2)] === t && wordsEqual(u32, head * W + VAL, masked, 0)) {
          let id = head;
          while (id >= 0) {
            const pri = i32[id * W + (RL_PRIORITY >> 2)]!;
            if (best >= 0 && (pri < bestPri || (pri === bestPri && id > best))) break;
            const h16 = (id * RULE_BYTES) >> 1;
            if (sport >= u16[h16 + (RL_SPORT_LO >> 1)]! && sport <= u16[h16 + (RL_SPORT_HI >> 1)]! &&
                dport >= u16[h16 + (RL_DPORT_LO >> 1)]! && dport <= u16[h16 + (RL_DPORT_HI >> 1)]!) {
              best = id;
              bestPri = pri;
              break;
            }
            id = i32[id * W + (RL_NEXT >> 2)]!;
          }
          break;
        }
        s = (s + 1) & this.slotMask;
      }
    }
    return best;
  }
}

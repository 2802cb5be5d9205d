// Exact-match flow table: open addressing with linear probing over a power-of-two slot
// array, at most half full, with backward-shift deletion (no tombstones, so lookups never slow
// down with churn). A slot is 4 bytes: entry index + 1 in the low `indexBits` bits (0 = empty)
// and the high bits of the key's hash as a tag above them, so most probes that would hit a
// different key are rejected without touching its entry, and the slot array of a 100k-flow
// table (1 MB) stays in the L2 cache. Entries (layout.ts, 128 bytes) live in a dense array
// allocated once at creation; free entries are threaded through E_GEN. Nothing allocates
// after flowTableInit.
import { hashKey, keyEquals } from './hash';
import {
  E_CLASS, E_DSCP, E_GEN, E_KEY, E_LAST_SEEN, EB_PINNED, EB_USED, ENTRY_BYTES, KEY_BYTES,
} from './layout';

export let entries: usize = 0;
export let capacity: u32 = 0;
let slots: usize = 0;
let slotMask: u32 = 0;
let indexMask: u32 = 0; // low bits of a slot: entry index + 1
let freeHead: i32 = -1;
let nextFresh: u32 = 0;
export let flowCount: u32 = 0;

export function slotCountFor(cap: u32): u32 {
  let n: u32 = 16;
  while (n < cap * 2) n <<= 1;
  return n;
}

export function flowTableInit(cap: u32): void {
  capacity = cap;
  const n = slotCountFor(cap);
  slotMask = n - 1;
  indexMask = 1;
  while (indexMask < cap) indexMask = (indexMask << 1) | 1; // index + 1 <= cap fits
  entries = heap.alloc((cap as usize) * ENTRY_BYTES);
  memory.fill(entries, 0, (cap as usize) * ENTRY_BYTES);
  slots = heap.alloc((n as usize) << 2);
  memory.fill(slots, 0, (n as usize) << 2);
  freeHead = -1;
  nextFresh = 0;
  flowCount = 0;
}

/** Bytes held by the table (entries + slots). */
export function flowTableBytes(): u32 {
  return capacity * ENTRY_BYTES + ((slotMask + 1) << 2);
}

@inline export function entryAt(idx: u32): usize {
  return entries + (idx as usize) * ENTRY_BYTES;
}

@inline function slotAt(s: u32): usize {
  return slots + ((s as usize) << 2);
}

/** Loads the home slot of hash h (a prefetch by touch: the miss overlaps with other work). */
@inline export function slotTouch(h: u32): u32 {
  return load<u32>(slotAt(h & slotMask));
}

/** Touches the entry the home slot of h points to (if any): both of its cache lines. */
@inline export function entryTouch(h: u32): u32 {
  const ref = load<u32>(slotAt(h & slotMask)) & indexMask;
  if (ref == 0) return 0;
  const e = entries + ((ref - 1) as usize) * ENTRY_BYTES;
  return load<u32>(e) + load<u32>(e, 64);
}

/** Index of the entry holding the key (hash h), or -1. */
export function flowFind(key: usize, h: u32): i32 {
  const tag = h & ~indexMask;
  let s = h & slotMask;
  while (true) {
    const v = load<u32>(slotAt(s));
    if (v == 0) return -1;
    if ((v & ~indexMask) == tag) {
      const idx = (v & indexMask) - 1;
      if (keyEquals(entryAt(idx), key)) return idx as i32;
    }
    s = (s + 1) & slotMask;
  }
}

/** Adds a new entry for the key (the caller has checked it is absent); -1 when full. */
export function flowAdd(key: usize, h: u32, nowNs: u64): i32 {
  let idx: u32;
  if (freeHead >= 0) {
    idx = freeHead as u32;
    freeHead = load<i32>(entryAt(idx) + E_GEN);
  } else if (nextFresh < capacity) {
    idx = nextFresh++;
  } else {
    return -1;
  }
  const e = entryAt(idx);
  memory.fill(e, 0, ENTRY_BYTES);
  memory.copy(e + E_KEY, key, KEY_BYTES);
  store<u64>(e + E_LAST_SEEN, nowNs);
  store<u8>(e + E_DSCP, EB_USED as u8);
  let s = h & slotMask;
  while (load<u32>(slotAt(s)) != 0) s = (s + 1) & slotMask;
  store<u32>(slotAt(s), (h & ~indexMask) | (idx + 1));
  flowCount++;
  return idx as i32;
}

/** Home slot of the entry a slot value points to (its key is hashed again: deletes are rare). */
@inline function homeOf(v: u32): u32 {
  return hashKey(entryAt((v & indexMask) - 1) + E_KEY, 0) & slotMask;
}

/** Removes entry idx (must be in use). */
export function flowRemove(idx: u32): void {
  const e = entryAt(idx);
  let i = hashKey(e + E_KEY, 0) & slotMask;
  while ((load<u32>(slotAt(i)) & indexMask) != idx + 1) i = (i + 1) & slotMask;
  // backward-shift deletion
  let j = i;
  while (true) {
    j = (j + 1) & slotMask;
    const v = load<u32>(slotAt(j));
    if (v == 0) break;
    const k = homeOf(v);
    const move = j > i ? (k <= i || k > j) : (k <= i && k > j);
    if (move) {
      store<u32>(slotAt(i), v);
      i = j;
    }
  }
  store<u32>(slotAt(i), 0);
  store<u16>(e + E_CLASS, 0); // class and DSCP bytes: not used, not pinned
  store<i32>(e + E_GEN, freeHead);
  freeHead = idx as i32;
  flowCount--;
}

/** Next used entry index >= from, or -1: the host's iterator for dumps. */
export function flowNext(from: u32): i32 {
  for (let i = from; i < nextFresh; i++) {
    if (((load<u8>(entryAt(i) + E_DSCP) as u32) & EB_USED) != 0) return i as i32;
  }
  return -1;
}

/** Removes unpinned flows idle for more than idleNs at nowNs; returns how many. */
export function flowExpire(nowNs: u64, idleNs: u64): u32 {
  let removed: u32 = 0;
  for (let i: u32 = 0; i < nextFresh; i++) {
    const e = entryAt(i);
    if (((load<u8>(e + E_DSCP) as u32) & EB_USED) == 0 || ((load<u8>(e + E_CLASS) as u32) & EB_PINNED) != 0) continue;
    const last = load<u64>(e + E_LAST_SEEN);
    if (nowNs > last && nowNs - last > idleNs) {
      flowRemove(i);
      removed++;
    }
  }
  return removed;
}

// OpenFlow flow tables (OpenFlow Switch Specification 1.3.5 §5.1–5.4 "Pipeline Processing",
// "Flow Table", "Matching", "Table-miss"): SW_TABLES tables of masked rules with priorities,
// searched by tuple space: the rules of a table are grouped by mask (a tuple), each tuple is
// a hash of masked field vectors, and a table's tuples are kept in descending order of the
// highest priority they hold, so a lookup stops at the first tuple that cannot beat the best
// match found. Among equal priorities the older rule (lower sequence number) wins, as in the
// TypeScript twin's ordered lists. Rules are added and removed one at a time (a flow-mod
// touches only its own rule); each carries its instruction program (§5.9), stored as op
// blocks, and its counters (§7.3.5.2). All memory is allocated by tablesInit.
import {
  SW_BLOCK_OPS, SW_TABLES, SW_TUPLES_PER_TABLE, SWC_BYTES, SWC_LAST_USED, SWC_OCTETS, SWC_PACKETS, SWF_BYTES, SWF_WORDS,
  SWOP_BYTES, SWOP_END, SWOP_NEXT, SWOP_ARG,
  SWR_APPLY_COUNT, SWR_FLAGS, SWR_GOTO, SWR_MASK, SWR_META_MASK, SWR_META_VALUE, SWR_METER, SWR_OPS, SWR_PRIORITY, SWR_SEQ,
  SWR_STAGING_BYTES, SWR_TABLE, SWR_VALUE, SWR_WRITE_COUNT, SW_STAGING_OPS,
  ERR_BAD_ARGUMENT, ERR_BAD_ID, ERR_NOT_CONFIGURED, ERR_NOT_FOUND, ERR_TABLE_FULL, E_OK,
} from '../layout';

// A stored rule (inside the module only).
export const RULE_BYTES: u32 = 160;
const R_VALUE: u32 = 0; // 88 bytes, masked
const R_TUPLE: u32 = 88; // i32, -1 unused
const R_PRIORITY: u32 = 92;
const R_SEQ: u32 = 96;
const R_NEXT: u32 = 100; // i32: next rule id in the hash bucket, -1 end
export const R_METER: u32 = 104; // meter slot + 1
export const R_GOTO: u32 = 108; // i32
export const R_FLAGS: u32 = 112; // SWRF_*
export const R_APPLY: u32 = 116; // i32: first op block, -1 none
export const R_WRITE: u32 = 120; // i32
export const R_TABLE: u32 = 124;
export const R_META_VALUE: u32 = 128; // u64
export const R_META_MASK: u32 = 136; // u64

// A tuple: one mask within one table.
const TUPLE_BYTES: u32 = 128;
const T_MASK: u32 = 0; // 88 bytes
const T_TABLE: u32 = 88;
const T_COUNT: u32 = 92; // rules in it; 0 = free
const T_MAX_PRI: u32 = 96; // an upper bound of its rules' priorities
const T_NWORDS: u32 = 100; // mask words that are not zero
const T_WORDS: u32 = 104; // their indices, one byte each

const BLOCK_BYTES: u32 = SW_BLOCK_OPS * SWOP_BYTES;

export let rules: usize = 0;
export let ruleCapacity: u32 = 0;
export let ruleCounters: usize = 0;
export let blocks: usize = 0;
/** u64 lookups then u64 matched, per table */
export let tableCounters: usize = 0;
export const ruleStaging: usize = memory.data(SWR_STAGING_BYTES, 16);

let tuples: usize = 0;
let tupleCapacity: u32 = 0;
let tableTuples: usize = 0; // SW_TABLES × SW_TUPLES_PER_TABLE u16 tuple ids, by T_MAX_PRI descending
let tableTupleCount: usize = 0; // SW_TABLES × u32
let buckets: usize = 0; // u32 rule id + 1, 0 empty
let bucketMask: u32 = 0;
let freeBlock: i32 = -1; // freed blocks, linked through their first word
let freshBlock: u32 = 0; // blocks from here on were never used
let freeBlockCount: u32 = 0; // freed + never used
let blockCapacity: u32 = 0;
let rulesReady: u32 = 0; // rules below this id have R_TUPLE set; the memory of the rest is untouched

/**
 * Allocates the tables for ruleCap rules. AssemblyScript's `--runtime stub` (a bump
 * allocator, no collector) hands out memory that has never been written (fresh from
 * memory.grow, so zero), and this writes none of it:
 * rule slots are marked unused as ids come into use (ruleAdd), and op blocks are taken from
 * the never-used end until some are freed. A switch then starts without touching tens of MB
 * (each page costs a fault when first written), and pages only for the rules it holds.
 */
export function tablesInit(ruleCap: u32): void {
  ruleCapacity = ruleCap;
  rules = heap.alloc(ruleCap * RULE_BYTES);
  rulesReady = 0;
  ruleCounters = heap.alloc(ruleCap * SWC_BYTES);
  tupleCapacity = SW_TABLES * SW_TUPLES_PER_TABLE < ruleCap + SW_TABLES ? SW_TABLES * SW_TUPLES_PER_TABLE : ruleCap + SW_TABLES;
  tuples = heap.alloc(tupleCapacity * TUPLE_BYTES);
  tableTuples = heap.alloc(SW_TABLES * SW_TUPLES_PER_TABLE * 2);
  tableTupleCount = heap.alloc(SW_TABLES * 4);
  tableCounters = heap.alloc(SW_TABLES * 16);
  let nb: u32 = 16;
  while (nb < ruleCap * 2) nb <<= 1;
  buckets = heap.alloc(nb * 4);
  bucketMask = nb - 1;
  blockCapacity = ruleCap * 2 + 64;
  blocks = heap.alloc(blockCapacity * BLOCK_BYTES);
  freeBlock = -1;
  freshBlock = 0;
  freeBlockCount = blockCapacity;
}

@inline function mix(h: u64, w: u64): u64 {
  h = (h ^ w) * 0x9e3779b97f4a7c15;
  return h ^ (h >> 29);
}

/** Hash of `fields` under tuple t (only its non-zero mask words). */
@inline function tupleHash(t: u32, fields: usize): u32 {
  const tp = tuples + t * TUPLE_BYTES;
  const n = load<u32>(tp + T_NWORDS);
  let h: u64 = (t as u64 + 1) * 0xff51afd7ed558ccd;
  for (let i: u32 = 0; i < n; i++) {
    const w = (load<u8>(tp + T_WORDS + i) as u32) << 3;
    h = mix(h, load<u64>(fields + w) & load<u64>(tp + T_MASK + w));
  }
  return (h ^ (h >> 32)) as u32;
}

@inline function sameMasked(t: u32, fields: usize, ruleValue: usize): bool {
  const tp = tuples + t * TUPLE_BYTES;
  const n = load<u32>(tp + T_NWORDS);
  for (let i: u32 = 0; i < n; i++) {
    const w = (load<u8>(tp + T_WORDS + i) as u32) << 3;
    if ((load<u64>(fields + w) & load<u64>(tp + T_MASK + w)) != load<u64>(ruleValue + w)) return false;
  }
  return true;
}

/** The highest-priority rule of `table` matching the field vector, or -1 (§5.3). */
export function tableLookup(table: u32, fields: usize): i32 {
  let best: i32 = -1;
  let bestPri: u32 = 0;
  let bestSeq: u32 = 0;
  const list = tableTuples + table * SW_TUPLES_PER_TABLE * 2;
  const n = load<u32>(tableTupleCount + (table << 2));
  for (let i: u32 = 0; i < n; i++) {
    const t = load<u16>(list + (i << 1)) as u32;
    if (best >= 0 && load<u32>(tuples + t * TUPLE_BYTES + T_MAX_PRI) < bestPri) break;
    let r = (load<u32>(buckets + ((tupleHash(t, fields) & bucketMask) << 2)) as i32) - 1;
    while (r >= 0) {
      const rp = rules + (r as u32) * RULE_BYTES;
      if (load<i32>(rp + R_TUPLE) == t as i32 && sameMasked(t, fields, rp + R_VALUE)) {
        const pri = load<u32>(rp + R_PRIORITY);
        const seq = load<u32>(rp + R_SEQ);
        if (best < 0 || pri > bestPri || (pri == bestPri && seq < bestSeq)) {
          best = r;
          bestPri = pri;
          bestSeq = seq;
        }
      }
      r = load<i32>(rp + R_NEXT);
    }
  }
  return best;
}

/** Counts one packet of `len` bytes on rule r at time nowMs. */
@inline export function ruleHit(r: u32, len: u32, nowMs: f64): void {
  const c = ruleCounters + r * SWC_BYTES;
  store<u64>(c + SWC_PACKETS, load<u64>(c + SWC_PACKETS) + 1);
  store<u64>(c + SWC_OCTETS, load<u64>(c + SWC_OCTETS) + len);
  store<f64>(c + SWC_LAST_USED, nowMs);
}

// ---- op blocks ----------------------------------------------------------------------------

export function blocksFree(first: i32): void {
  let b = first;
  while (b >= 0) {
    const base = blocks + (b as u32) * BLOCK_BYTES;
    const last = base + (SW_BLOCK_OPS - 1) * SWOP_BYTES;
    const next: i32 = load<u8>(last) == SWOP_NEXT ? load<i32>(last + SWOP_ARG) : -1;
    store<i32>(base, freeBlock);
    freeBlock = b;
    freeBlockCount++;
    b = next;
  }
}

/** A free block: a freed one if any, else the next never used. Room was checked (freeBlocks). */
function blockTake(): i32 {
  freeBlockCount--;
  const b = freeBlock;
  if (b >= 0) {
    freeBlock = load<i32>(blocks + (b as u32) * BLOCK_BYTES);
    return b;
  }
  return (freshBlock++) as i32;
}

export function blocksNeeded(count: u32): u32 {
  if (count == 0) return 0;
  if (count <= SW_BLOCK_OPS) return 1;
  return (count - 1 + (SW_BLOCK_OPS - 2)) / (SW_BLOCK_OPS - 1);
}

export function freeBlocks(): u32 {
  return freeBlockCount;
}

/** Copies `count` ops from `src` into a chain of blocks; returns its first block (-1 none). Room was checked. */
export function blocksStore(src: usize, count: u32): i32 {
  if (count == 0) return -1;
  let b = blockTake();
  const first = b;
  let slot: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    let at = blocks + (b as u32) * BLOCK_BYTES + slot * SWOP_BYTES;
    if (slot == SW_BLOCK_OPS - 1 && count - i > 1) {
      const nb = blockTake();
      memory.fill(at, 0, SWOP_BYTES);
      store<u8>(at, SWOP_NEXT);
      store<i32>(at + SWOP_ARG, nb);
      b = nb;
      slot = 0;
      at = blocks + (b as u32) * BLOCK_BYTES;
    }
    memory.copy(at, src + i * SWOP_BYTES, SWOP_BYTES);
    slot++;
  }
  if (slot < SW_BLOCK_OPS) {
    const base = blocks + (b as u32) * BLOCK_BYTES;
    store<u8>(base + slot * SWOP_BYTES, SWOP_END);
    // blocksFree follows a chain by the kind in the last slot: a reused block must not keep a
    // link from its last life there.
    store<u8>(base + (SW_BLOCK_OPS - 1) * SWOP_BYTES, SWOP_END);
  }
  return first;
}

/** Stores the staged program (meter, goto, flags, metadata, ops) into rule r. */
function programStore(rp: usize): i32 {
  const s = ruleStaging;
  const na = load<u32>(s + SWR_APPLY_COUNT);
  const nw = load<u32>(s + SWR_WRITE_COUNT);
  if (na + nw > SW_STAGING_OPS) return ERR_BAD_ARGUMENT;
  if (blocksNeeded(na) + blocksNeeded(nw) > freeBlocks()) return ERR_TABLE_FULL;
  store<u32>(rp + R_METER, load<u32>(s + SWR_METER));
  store<i32>(rp + R_GOTO, load<i32>(s + SWR_GOTO));
  store<u32>(rp + R_FLAGS, load<u32>(s + SWR_FLAGS));
  store<u64>(rp + R_META_VALUE, load<u64>(s + SWR_META_VALUE));
  store<u64>(rp + R_META_MASK, load<u64>(s + SWR_META_MASK));
  store<i32>(rp + R_APPLY, blocksStore(s + SWR_OPS, na));
  store<i32>(rp + R_WRITE, blocksStore(s + SWR_OPS + na * SWOP_BYTES, nw));
  return E_OK;
}

// ---- tuples ---------------------------------------------------------------------------------

function tupleFind(table: u32, mask: usize): i32 {
  const list = tableTuples + table * SW_TUPLES_PER_TABLE * 2;
  const n = load<u32>(tableTupleCount + (table << 2));
  for (let i: u32 = 0; i < n; i++) {
    const t = load<u16>(list + (i << 1)) as u32;
    if (memory.compare(tuples + t * TUPLE_BYTES + T_MASK, mask, SWF_BYTES) == 0) return t as i32;
  }
  return -1;
}

function tupleCreate(table: u32, mask: usize): i32 {
  const n = load<u32>(tableTupleCount + (table << 2));
  if (n >= SW_TUPLES_PER_TABLE) return -1;
  for (let t: u32 = 0; t < tupleCapacity; t++) {
    const tp = tuples + t * TUPLE_BYTES;
    if (load<u32>(tp + T_COUNT) != 0) continue;
    memory.copy(tp + T_MASK, mask, SWF_BYTES);
    store<u32>(tp + T_TABLE, table);
    store<u32>(tp + T_MAX_PRI, 0);
    let nw: u32 = 0;
    for (let w: u32 = 0; w < SWF_WORDS; w++) {
      if (load<u64>(mask + (w << 3)) != 0) store<u8>(tp + T_WORDS + nw++, w as u8);
    }
    store<u32>(tp + T_NWORDS, nw);
    store<u16>(tableTuples + table * SW_TUPLES_PER_TABLE * 2 + (n << 1), t as u16);
    store<u32>(tableTupleCount + (table << 2), n + 1);
    return t as i32;
  }
  return -1;
}

/** Keeps a table's tuple list in descending order of T_MAX_PRI (insertion sort; ≤ 64 entries). */
function tableSort(table: u32): void {
  const list = tableTuples + table * SW_TUPLES_PER_TABLE * 2;
  const n = load<u32>(tableTupleCount + (table << 2));
  for (let i: u32 = 1; i < n; i++) {
    const t = load<u16>(list + (i << 1));
    const pri = load<u32>(tuples + (t as u32) * TUPLE_BYTES + T_MAX_PRI);
    let j = i;
    while (j > 0) {
      const u = load<u16>(list + ((j - 1) << 1));
      if (load<u32>(tuples + (u as u32) * TUPLE_BYTES + T_MAX_PRI) >= pri) break;
      store<u16>(list + (j << 1), u);
      j--;
    }
    store<u16>(list + (j << 1), t);
  }
}

function tupleRelease(t: u32): void {
  const tp = tuples + t * TUPLE_BYTES;
  const count = load<u32>(tp + T_COUNT) - 1;
  store<u32>(tp + T_COUNT, count);
  if (count != 0) return; // T_MAX_PRI stays an upper bound: lookups stay correct, pruning a little weaker
  const table = load<u32>(tp + T_TABLE);
  const list = tableTuples + table * SW_TUPLES_PER_TABLE * 2;
  const n = load<u32>(tableTupleCount + (table << 2));
  let j: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const u = load<u16>(list + (i << 1));
    if (u as u32 != t) store<u16>(list + (j++ << 1), u);
  }
  store<u32>(tableTupleCount + (table << 2), j);
}

// ---- rules (flow-mod, §6.4) ------------------------------------------------------------------

/** Adds the staged rule as rule id. 0, or ERR_BAD_ID / ERR_BAD_ARGUMENT / ERR_TABLE_FULL (nothing changed). */
export function ruleAdd(id: u32): i32 {
  if (rules == 0) return ERR_NOT_CONFIGURED;
  if (id >= ruleCapacity) return ERR_BAD_ID;
  for (; rulesReady <= id; rulesReady++) store<i32>(rules + rulesReady * RULE_BYTES + R_TUPLE, -1);
  const rp = rules + id * RULE_BYTES;
  if (load<i32>(rp + R_TUPLE) >= 0) return ERR_BAD_ID;
  const s = ruleStaging;
  const table = load<u32>(s + SWR_TABLE);
  if (table >= SW_TABLES) return ERR_BAD_ARGUMENT;
  for (let w: u32 = 0; w < SWF_WORDS; w++) {
    if ((load<u64>(s + SWR_VALUE + (w << 3)) & ~load<u64>(s + SWR_MASK + (w << 3))) != 0) return ERR_BAD_ARGUMENT;
  }
  let t = tupleFind(table, s + SWR_MASK);
  const created = t < 0;
  if (created) {
    t = tupleCreate(table, s + SWR_MASK);
    if (t < 0) return ERR_TABLE_FULL;
  }
  const status = programStore(rp);
  if (status != E_OK) {
    if (created) {
      store<u32>(tuples + (t as u32) * TUPLE_BYTES + T_COUNT, 1);
      tupleRelease(t as u32);
    }
    return status;
  }
  memory.copy(rp + R_VALUE, s + SWR_VALUE, SWF_BYTES);
  const pri = load<u32>(s + SWR_PRIORITY);
  store<u32>(rp + R_PRIORITY, pri);
  store<u32>(rp + R_SEQ, load<u32>(s + SWR_SEQ));
  store<u32>(rp + R_TABLE, table);
  store<i32>(rp + R_TUPLE, t);
  const b = buckets + ((tupleHash(t as u32, rp + R_VALUE) & bucketMask) << 2);
  store<i32>(rp + R_NEXT, (load<u32>(b) as i32) - 1);
  store<u32>(b, id + 1);
  const tp = tuples + (t as u32) * TUPLE_BYTES;
  store<u32>(tp + T_COUNT, load<u32>(tp + T_COUNT) + 1);
  if (created || pri > load<u32>(tp + T_MAX_PRI)) {
    store<u32>(tp + T_MAX_PRI, pri);
    tableSort(table);
  }
  return E_OK;
}

/** Replaces rule id's instruction program with the staged one (modify keeps match, priority, counters). */
export function ruleProgram(id: u32): i32 {
  if (rules == 0) return ERR_NOT_CONFIGURED;
  if (id >= ruleCapacity) return ERR_BAD_ID;
  if (id >= rulesReady) return ERR_NOT_FOUND;
  const rp = rules + id * RULE_BYTES;
  if (load<i32>(rp + R_TUPLE) < 0) return ERR_NOT_FOUND;
  const oldApply = load<i32>(rp + R_APPLY);
  const oldWrite = load<i32>(rp + R_WRITE);
  // Room is checked against the free blocks alone, so that a failure leaves the old program.
  const status = programStore(rp);
  if (status != E_OK) return status;
  blocksFree(oldApply);
  blocksFree(oldWrite);
  return E_OK;
}

/** Removes rule id; its counters stay readable until the id is used again. */
export function ruleRemove(id: u32): i32 {
  if (rules == 0) return ERR_NOT_CONFIGURED;
  if (id >= ruleCapacity) return ERR_BAD_ID;
  if (id >= rulesReady) return ERR_NOT_FOUND;
  const rp = rules + id * RULE_BYTES;
  const t = load<i32>(rp + R_TUPLE);
  if (t < 0) return ERR_NOT_FOUND;
  const b = buckets + ((tupleHash(t as u32, rp + R_VALUE) & bucketMask) << 2);
  let prev: i32 = -1;
  let r = (load<u32>(b) as i32) - 1;
  while (r >= 0 && r != id as i32) {
    prev = r;
    r = load<i32>(rules + (r as u32) * RULE_BYTES + R_NEXT);
  }
  const next = load<i32>(rp + R_NEXT);
  if (prev < 0) store<u32>(b, (next + 1) as u32);
  else store<i32>(rules + (prev as u32) * RULE_BYTES + R_NEXT, next);
  blocksFree(load<i32>(rp + R_APPLY));
  blocksFree(load<i32>(rp + R_WRITE));
  store<i32>(rp + R_TUPLE, -1);
  tupleRelease(t as u32);
  return E_OK;
}

// Wildcard rules by tuple-space search (Srinivasan, Suri, Varghese, SIGCOMM 1999; the shape
// of Open vSwitch lib/classifier.c). A rule is a masked flow key plus a priority, port ranges
// and an action. Rules whose masks are identical form a tuple; each tuple is one hash table
// of masked keys (here all tuples share one open-addressing slot array, the tuple index
// seeding the hash, which is the same thing without per-tuple allocation). A bucket holds the
// rules with the same masked key as a chain in priority order; an exact port (lo == hi) is
// part of the mask, a port range is not and is checked along the chain (the "small range-check
// list per tuple"). Lookup visits tuples in decreasing order of their best priority and stops
// once no remaining tuple can beat the match in hand.
//
// Rule changes only mark the index dirty and bump `ruleGeneration`; the index is rebuilt once
// before the next batch (so loading 10k rules costs one rebuild), and every exact-match entry
// whose cached decision carries an older generation is classified again on its next packet.
import { hashMasked, keyEquals } from './hash';
import {
  ERR_BAD_ARGUMENT, ERR_BAD_ID, E_OK, K_DPORT, K_SPORT, KEY_BYTES, KEY_WORDS, RL_ACTIVE, RL_DPORT_HI, RL_DPORT_LO,
  RL_MASK, RL_NEXT, RL_PRIORITY, RL_SPORT_HI, RL_SPORT_LO, RL_TUPLE, RL_VALUE, RULE_BYTES, T_MASK, T_MAX_PRI,
  TUPLE_BYTES, RL_ACTION, RA_DROP,
} from './layout';
import { slotCountFor } from './flowtable';

export let ruleCapacity: u32 = 0;
export let rules: usize = 0;
export let ruleStaging: usize = 0;
let tuples: usize = 0;
let tupleOrder: usize = 0;
export let tupleCount: u32 = 0;
let slots: usize = 0;
let slotMask: u32 = 0;
let masked: usize = 0;
export let ruleGeneration: u32 = 1;
let dirty: bool = false;

export function rulesInit(cap: u32): void {
  ruleCapacity = cap;
  const c = cap == 0 ? 1 : cap;
  rules = heap.alloc((c as usize) * RULE_BYTES);
  memory.fill(rules, 0, (c as usize) * RULE_BYTES);
  ruleStaging = heap.alloc(RULE_BYTES);
  memory.fill(ruleStaging, 0, RULE_BYTES);
  tuples = heap.alloc((c as usize) * TUPLE_BYTES);
  tupleOrder = heap.alloc((c as usize) << 2);
  const n = slotCountFor(c);
  slotMask = n - 1;
  slots = heap.alloc((n as usize) << 3);
  memory.fill(slots, 0, (n as usize) << 3);
  masked = heap.alloc(KEY_BYTES + 12);
  tupleCount = 0;
}

@inline function ruleAt(id: u32): usize {
  return rules + (id as usize) * RULE_BYTES;
}

@inline function tupleAt(t: u32): usize {
  return tuples + (t as usize) * TUPLE_BYTES;
}

/** Copies the staged rule into slot id; the ports' mask bits follow from the ranges. */
export function ruleSet(id: u32): i32 {
  if (id >= ruleCapacity) return ERR_BAD_ID;
  const s = ruleStaging;
  const sLo = load<u16>(s + RL_SPORT_LO), sHi = load<u16>(s + RL_SPORT_HI);
  const dLo = load<u16>(s + RL_DPORT_LO), dHi = load<u16>(s + RL_DPORT_HI);
  if (sLo > sHi || dLo > dHi) return ERR_BAD_ARGUMENT;
  const act = load<u8>(s + RL_ACTION);
  if (act != 0 && act != RA_DROP) return ERR_BAD_ARGUMENT;
  store<u16>(s + RL_MASK + K_SPORT, sLo == sHi ? 0xffff : 0);
  store<u16>(s + RL_MASK + K_DPORT, dLo == dHi ? 0xffff : 0);
  store<u16>(s + RL_VALUE + K_SPORT, sLo);
  store<u16>(s + RL_VALUE + K_DPORT, dLo);
  for (let i: u32 = 0; i < KEY_WORDS; i++) {
    const o = i << 2;
    store<u32>(s + RL_VALUE + o, load<u32>(s + RL_VALUE + o) & load<u32>(s + RL_MASK + o));
  }
  const r = ruleAt(id);
  memory.copy(r, s, RULE_BYTES);
  store<i32>(r + RL_NEXT, -1);
  store<i32>(r + RL_TUPLE, -1);
  store<u32>(r + RL_ACTIVE, 1);
  dirty = true;
  ruleGeneration++;
  return E_OK;
}

export function ruleDelete(id: u32): i32 {
  if (id >= ruleCapacity) return ERR_BAD_ID;
  const r = ruleAt(id);
  if (load<u32>(r + RL_ACTIVE) == 0) return E_OK;
  store<u32>(r + RL_ACTIVE, 0);
  dirty = true;
  ruleGeneration++;
  return E_OK;
}

/** true when rule a beats rule b: higher priority, then lower id. */
@inline function better(a: u32, b: u32): bool {
  const pa = load<i32>(ruleAt(a) + RL_PRIORITY), pb = load<i32>(ruleAt(b) + RL_PRIORITY);
  return pa > pb || (pa == pb && a < b);
}

function maskEquals(a: usize, b: usize): bool {
  return keyEquals(a, b);
}

/** Rebuilds tuples and buckets from the active rules (only when something changed). */
export function rulesRebuild(): void {
  if (!dirty) return;
  dirty = false;
  tupleCount = 0;
  memory.fill(slots, 0, ((slotMask + 1) as usize) << 3);
  for (let id: u32 = 0; id < ruleCapacity; id++) {
    const r = ruleAt(id);
    if (load<u32>(r + RL_ACTIVE) == 0) continue;
    const pri = load<i32>(r + RL_PRIORITY);
    let t: u32 = 0;
    while (t < tupleCount && !maskEquals(tupleAt(t) + T_MASK, r + RL_MASK)) t++;
    if (t == tupleCount) {
      memory.copy(tupleAt(t) + T_MASK, r + RL_MASK, KEY_BYTES);
      store<i32>(tupleAt(t) + T_MAX_PRI, pri);
      tupleCount++;
    } else if (pri > load<i32>(tupleAt(t) + T_MAX_PRI)) {
      store<i32>(tupleAt(t) + T_MAX_PRI, pri);
    }
    store<i32>(r + RL_TUPLE, t as i32);
    store<i32>(r + RL_NEXT, -1);
    const h = hashMasked(r + RL_VALUE, r + RL_MASK, masked, t + 1);
    let s = h & slotMask;
    while (true) {
      const sp = slots + ((s as usize) << 3);
      const ref = load<u32>(sp, 4);
      if (ref == 0) {
        store<u32>(sp, h);
        store<u32>(sp, id + 1, 4);
        break;
      }
      const head = ref - 1;
      if (load<u32>(sp) == h && load<i32>(ruleAt(head) + RL_TUPLE) == (t as i32) && keyEquals(ruleAt(head) + RL_VALUE, r + RL_VALUE)) {
        if (better(id, head)) {
          store<i32>(r + RL_NEXT, head as i32);
          store<u32>(sp, id + 1, 4);
        } else {
          let prev = head;
          let nx = load<i32>(ruleAt(prev) + RL_NEXT);
          while (nx >= 0 && better(nx as u32, id)) {
            prev = nx as u32;
            nx = load<i32>(ruleAt(prev) + RL_NEXT);
          }
          store<i32>(r + RL_NEXT, nx);
          store<i32>(ruleAt(prev) + RL_NEXT, id as i32);
        }
        break;
      }
      s = (s + 1) & slotMask;
    }
  }
  // tuple order: best priority first (insertion sort, stable on the tuple index)
  for (let i: u32 = 0; i < tupleCount; i++) {
    const pri = load<i32>(tupleAt(i) + T_MAX_PRI);
    let j = i;
    while (j > 0 && load<i32>(tupleAt(load<u32>(tupleOrder + ((j - 1) << 2))) + T_MAX_PRI) < pri) {
      store<u32>(tupleOrder + (j << 2), load<u32>(tupleOrder + ((j - 1) << 2)));
      j--;
    }
    store<u32>(tupleOrder + (j << 2), i);
  }
}

/** The best rule matching the key, or -1. The index must be current (rulesRebuild). */
export function classify(key: usize): i32 {
  let best: i32 = -1;
  let bestPri: i32 = i32.MIN_VALUE;
  const sport = load<u16>(key + K_SPORT), dport = load<u16>(key + K_DPORT);
  for (let i: u32 = 0; i < tupleCount; i++) {
    const t = load<u32>(tupleOrder + (i << 2));
    const tp = tupleAt(t);
    if (best >= 0 && load<i32>(tp + T_MAX_PRI) < bestPri) break;
    const h = hashMasked(key, tp + T_MASK, masked, t + 1);
    let s = h & slotMask;
    while (true) {
      const sp = slots + ((s as usize) << 3);
      const ref = load<u32>(sp, 4);
      if (ref == 0) break;
      const head = ref - 1;
      if (load<u32>(sp) == h && load<i32>(ruleAt(head) + RL_TUPLE) == (t as i32) && keyEquals(ruleAt(head) + RL_VALUE, masked)) {
        let id = head as i32;
        while (id >= 0) {
          const r = ruleAt(id as u32);
          const pri = load<i32>(r + RL_PRIORITY);
          if (best >= 0 && (pri < bestPri || (pri == bestPri && id > best))) break;
          if (sport >= load<u16>(r + RL_SPORT_LO) && sport <= load<u16>(r + RL_SPORT_HI) &&
              dport >= load<u16>(r + RL_DPORT_LO) && dport <= load<u16>(r + RL_DPORT_HI)) {
            best = id;
            bestPri = pri;
            break;
          }
          id = load<i32>(r + RL_NEXT);
        }
        break;
      }
      s = (s + 1) & slotMask;
    }
  }
  return best;
}

export function ruleRecord(id: u32): usize {
  return ruleAt(id);
}

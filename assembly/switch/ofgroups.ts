// OpenFlow groups (OpenFlow Switch Specification 1.3.5 §5.6 "Group Table", §7.3.4.2 group
// mod): per slot a group type and its buckets, each bucket an op list (stored in the op
// blocks of oftables.ts) with a weight and counters. Types: all (every bucket runs on its own
// clone of the packet), select (one bucket chosen by a hash of the flow's fields, in
// proportion to the weights, §5.6.1), indirect (its single bucket). Chaining and fast
// failover are refused by the host, so a bucket never holds a group op. The host stages a
// group (SWGS_*, ops in the rule staging area) and calls groupSet; all memory is allocated
// by groupsInit.
import {
  SW_MAX_BUCKETS, SWG_BUCKET, SWG_BUCKETS, SWG_BYTES, SWG_FLAGS, SWG_OCTETS, SWG_PACKETS, SWG_TOTAL_WEIGHT, SWG_TYPE,
  SWGB_BYTES, SWGB_FLAGS, SWGB_OCTETS, SWGB_OPS, SWGB_PACKETS, SWGB_WEIGHT, SWGBF_REWRITES, SWGF_USED,
  SWGS_BUCKETS, SWGS_BYTES, SWGS_COUNTS, SWGS_TYPE, SWGS_WEIGHTS, SWOP_BYTES, SWOP_KIND, SWOP_OUTPUT, SWOP_SET_QUEUE, SWR_OPS, SW_STAGING_OPS,
  ERR_BAD_ARGUMENT, ERR_BAD_ID, ERR_NOT_CONFIGURED, ERR_NOT_FOUND, ERR_TABLE_FULL, E_OK,
} from '../layout';
import { blocksFree, blocksNeeded, blocksStore, freeBlocks, ruleStaging } from './oftables';

export let groups: usize = 0;
export let groupCapacity: u32 = 0;
export const groupStaging: usize = memory.data(SWGS_BYTES, 16);

export function groupsInit(capacity: u32): void {
  groupCapacity = capacity;
  groups = heap.alloc(capacity * SWG_BYTES); // never written before, so zero (tablesInit says why)
}

function bucketsFree(g: usize): void {
  const n = load<u32>(g + SWG_BUCKETS);
  for (let i: u32 = 0; i < n; i++) {
    const b = g + SWG_BUCKET + i * SWGB_BYTES;
    blocksFree(load<i32>(b + SWGB_OPS));
    store<i32>(b + SWGB_OPS, -1);
  }
}

/** Stores the staged group in slot (replacing its buckets; the group's counters stay). */
export function groupSet(slot: u32): i32 {
  if (groups == 0) return ERR_NOT_CONFIGURED;
  if (slot >= groupCapacity) return ERR_BAD_ID;
  const s = groupStaging;
  const n = load<u32>(s + SWGS_BUCKETS);
  if (n > SW_MAX_BUCKETS) return ERR_BAD_ARGUMENT;
  let total: u32 = 0;
  let needed: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    total += load<u32>(s + SWGS_COUNTS + (i << 2));
    needed += blocksNeeded(load<u32>(s + SWGS_COUNTS + (i << 2)));
  }
  if (total > SW_STAGING_OPS) return ERR_BAD_ARGUMENT;
  const g = groups + slot * SWG_BYTES;
  const used = (load<u32>(g + SWG_FLAGS) & SWGF_USED) != 0;
  // Room is checked against the free blocks alone, so that a failure leaves the old buckets.
  if (needed > freeBlocks()) return ERR_TABLE_FULL;
  if (used) bucketsFree(g);
  else {
    store<u64>(g + SWG_PACKETS, 0);
    store<u64>(g + SWG_OCTETS, 0);
  }
  store<u32>(g + SWG_TYPE, load<u32>(s + SWGS_TYPE));
  store<u32>(g + SWG_BUCKETS, n);
  let weights: u32 = 0;
  let op = ruleStaging + SWR_OPS;
  for (let i: u32 = 0; i < n; i++) {
    const b = g + SWG_BUCKET + i * SWGB_BYTES;
    const count = load<u32>(s + SWGS_COUNTS + (i << 2));
    const weight = load<u32>(s + SWGS_WEIGHTS + (i << 2));
    weights += weight;
    let flags: u32 = 0;
    for (let k: u32 = 0; k < count; k++) {
      const kind = load<u8>(op + k * SWOP_BYTES + SWOP_KIND);
      if (kind != SWOP_OUTPUT && kind != SWOP_SET_QUEUE) flags |= SWGBF_REWRITES;
    }
    store<u32>(b + SWGB_WEIGHT, weight);
    store<u32>(b + SWGB_FLAGS, flags);
    store<i32>(b + SWGB_OPS, blocksStore(op, count));
    store<u64>(b + SWGB_PACKETS, 0);
    store<u64>(b + SWGB_OCTETS, 0);
    op += count * SWOP_BYTES;
  }
  store<u32>(g + SWG_TOTAL_WEIGHT, weights);
  store<u32>(g + SWG_FLAGS, SWGF_USED);
  return E_OK;
}

/** Takes slot out of service and frees its buckets. */
export function groupRemove(slot: u32): i32 {
  if (groups == 0) return ERR_NOT_CONFIGURED;
  if (slot >= groupCapacity) return ERR_BAD_ID;
  const g = groups + slot * SWG_BYTES;
  if ((load<u32>(g + SWG_FLAGS) & SWGF_USED) == 0) return ERR_NOT_FOUND;
  bucketsFree(g);
  store<u32>(g + SWG_FLAGS, 0);
  store<u32>(g + SWG_BUCKETS, 0);
  return E_OK;
}

/** The group record of slot if it is in service, else 0. */
@inline export function groupAt(slot: u32): usize {
  if (slot >= groupCapacity) return 0;
  const g = groups + slot * SWG_BYTES;
  return (load<u32>(g + SWG_FLAGS) & SWGF_USED) != 0 ? g : 0;
}

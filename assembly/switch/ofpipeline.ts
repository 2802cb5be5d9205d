// The OpenFlow pipeline over a batch (OpenFlow Switch Specification 1.3.5 §5.1 "Pipeline
// Processing", §5.9 "Instructions", §5.10 "Action Set"): for each frame, from its first
// table, find the matching rule (§5.3; none and no table-miss rule: dropped, §5.4), count
// it, run the meter instruction (a drop band ends the packet, a dscp_remark band rewrites
// the DSCP), apply-actions, clear-actions, write-actions into the action set,
// write-metadata, goto-table; at the end execute the action set in the order of §5.10
// (pop, push, set-field, set_queue, group, output — output only when there is no group).
// A group action runs the group's buckets (§5.6, ofgroups.ts). One call per batch; one
// verdict per frame and its output records; nothing allocates.
import {
  R_OK, R_BAD_DESCRIPTOR, SW_BLOCK_OPS, SW_MAX_BATCH, SWD_BYTES, SWD_IN_PORT, SWD_LENGTH, SWD_OFFSET, SWD_TABLE, SW_TABLES, SWF_IP_DSCP, SWF_METADATA,
  SWOP_ARG, SWOP_BYTES, SWOP_END, SWOP_KIND, SWOP_NEXT, SWOP_OUTPUT, SWOP_GROUP, SWOP_POP_VLAN, SWOP_PUSH_VLAN, SWOP_SET_QUEUE,
  SWOP_SET_VLAN_VID, SWOP_SET_VLAN_PCP, SW_ACTION_SET_SLOTS,
  SWG_BUCKET, SWG_BUCKETS, SWG_OCTETS, SWG_PACKETS, SWG_TOTAL_WEIGHT, SWG_TYPE, SWGB_BYTES, SWGB_FLAGS, SWGB_OCTETS, SWGB_OPS, SWGB_PACKETS, SWGB_WEIGHT, SWGBF_REWRITES,
  SWRF_CLEAR, SWRF_METADATA, SWRF_TABLE_MISS,
  SWV_BYTES, SWV_COUNT, SWV_FIRST, SWV_FLAGS, SWV_QUEUE, SWV_REASON, SWV_TABLE, SWVF_METER_DROP, SWVF_NO_MATCH, SWVF_OVERFLOW, SWVF_REWRITTEN,
} from '../layout';
import { extractFields, fieldHash, fieldVector } from './fields';
import { bucketBegin, bucketEnd, currentLength, executeOp, frameOutputs, frameRewritten, frameStart, batchStart, outputCount, overflow, queueId, setTos } from './ofactions';
import { groupAt } from './ofgroups';
import { METER_DROP, METER_REMARK, meterApply, meterInUse, remarkedDscp } from './ofmeters';
import { blocks, R_APPLY, R_FLAGS, R_GOTO, R_META_MASK, R_META_VALUE, R_METER, R_WRITE, RULE_BYTES, ruleHit, rules, tableCounters, tableLookup } from './oftables';

const BLOCK_BYTES: u32 = SW_BLOCK_OPS * SWOP_BYTES;
const ACTION_SET_SIZE: u32 = SW_ACTION_SET_SLOTS;
const GROUP_ALL: u32 = 0;
const GROUP_SELECT: u32 = 1;
const SLOT_GROUP: u32 = 17;
const SLOT_OUTPUT: u32 = 18;

export let input: usize = 0;
export let inputSize: u32 = 0;
export let descriptors: usize = 0;
export let verdicts: usize = 0;
/** op address per action-set slot (0 empty), in execution order */
const actionSet: usize = memory.data(ACTION_SET_SIZE * 8, 8);

export function pipelineInit(initialInput: u32): void {
  descriptors = heap.alloc(SW_MAX_BATCH * SWD_BYTES);
  memory.fill(descriptors, 0, SW_MAX_BATCH * SWD_BYTES);
  verdicts = heap.alloc(SW_MAX_BATCH * SWV_BYTES);
  inputReserve(initialInput);
}

/** Makes the input buffer at least `bytes` long (4 KiB steps; the old one is abandoned). */
export function inputReserve(bytes: u32): usize {
  if (bytes > inputSize || input == 0) {
    const size = bytes == 0 ? 4096 : (bytes + 4095) & ~4095;
    input = heap.alloc(size);
    inputSize = size;
  }
  return input;
}

/**
 * The action-set slot of an op kind, in §5.10 order: pop_vlan, push_vlan, the set-fields (DSCP,
 * ECN, eth_dst, eth_src, vlan_vid, vlan_pcp, IPv4 src/dst, IPv6 src/dst, L4 src/dst, ICMP
 * type/code), set_queue, group, output. src/switch/pipeline.ts ACTION_SET_SLOT is the same.
 */
@inline function slotOf(kind: u8): u32 {
  if (kind == SWOP_POP_VLAN) return 0;
  if (kind == SWOP_PUSH_VLAN) return 1;
  if (kind == SWOP_SET_QUEUE) return 16;
  if (kind == SWOP_GROUP) return SLOT_GROUP;
  if (kind == SWOP_OUTPUT) return SLOT_OUTPUT;
  if (kind == SWOP_SET_VLAN_VID || kind == SWOP_SET_VLAN_PCP) return (kind as u32) - 1;
  const k = kind as u32;
  return k < (SWOP_SET_QUEUE as u32) ? k : k - 1;
}

/** Runs one bucket on its own copy of the packet (when it rewrites), then restores the packet. */
function runBucket(b: usize, rule: i32, table: u32, tableMiss: bool): void {
  store<u64>(b + SWGB_PACKETS, load<u64>(b + SWGB_PACKETS) + 1);
  store<u64>(b + SWGB_OCTETS, load<u64>(b + SWGB_OCTETS) + currentLength());
  const copy = (load<u32>(b + SWGB_FLAGS) & SWGBF_REWRITES) != 0;
  if (bucketBegin(copy)) {
    const ops = load<i32>(b + SWGB_OPS);
    if (ops >= 0) runOps(ops, rule, table, tableMiss);
  }
  bucketEnd(copy);
}

/** The group action (§5.6.1): all buckets, the one a select picks, or the indirect one. */
function runGroup(slot: u32, rule: i32, table: u32, tableMiss: bool): void {
  const g = groupAt(slot);
  if (g == 0) return;
  store<u64>(g + SWG_PACKETS, load<u64>(g + SWG_PACKETS) + 1);
  store<u64>(g + SWG_OCTETS, load<u64>(g + SWG_OCTETS) + currentLength());
  const type = load<u32>(g + SWG_TYPE);
  const n = load<u32>(g + SWG_BUCKETS);
  if (type == GROUP_ALL) {
    for (let i: u32 = 0; i < n; i++) runBucket(g + SWG_BUCKET + i * SWGB_BYTES, rule, table, tableMiss);
    return;
  }
  if (type == GROUP_SELECT) {
    const total = load<u32>(g + SWG_TOTAL_WEIGHT);
    if (total == 0) return;
    let pick = fieldHash() % total;
    for (let i: u32 = 0; i < n; i++) {
      const b = g + SWG_BUCKET + i * SWGB_BYTES;
      const w = load<u32>(b + SWGB_WEIGHT);
      if (pick < w) {
        runBucket(b, rule, table, tableMiss);
        return;
      }
      pick -= w;
    }
    return;
  }
  if (n > 0) runBucket(g + SWG_BUCKET, rule, table, tableMiss);
}

function runOps(first: i32, rule: i32, table: u32, tableMiss: bool): void {
  let op = blocks + (first as u32) * BLOCK_BYTES;
  let slot: u32 = 0;
  while (slot < SW_BLOCK_OPS) {
    const kind = load<u8>(op + SWOP_KIND);
    if (kind == SWOP_END) return;
    if (kind == SWOP_NEXT) {
      op = blocks + load<u32>(op + SWOP_ARG) * BLOCK_BYTES;
      slot = 0;
      continue;
    }
    if (kind == SWOP_GROUP) runGroup(load<u32>(op + SWOP_ARG), rule, table, tableMiss);
    else executeOp(op, rule, table, tableMiss);
    op += SWOP_BYTES;
    slot++;
  }
}

function writeActions(first: i32): void {
  let op = blocks + (first as u32) * BLOCK_BYTES;
  let slot: u32 = 0;
  while (slot < SW_BLOCK_OPS) {
    const kind = load<u8>(op);
    if (kind == SWOP_END) return;
    if (kind == SWOP_NEXT) {
      op = blocks + load<u32>(op + SWOP_ARG) * BLOCK_BYTES;
      slot = 0;
      continue;
    }
    store<usize>(actionSet + slotOf(kind) * 8, op);
    op += SWOP_BYTES;
    slot++;
  }
}

@inline function clearActionSet(): void {
  for (let i: u32 = 0; i < ACTION_SET_SIZE; i++) store<usize>(actionSet + i * 8, 0);
}

/** Runs one frame through the tables from startTable; returns SWVF_* flags and the last table. */
function switchFrame(p: usize, len: u32, port: u32, startTable: u32, nowMs: f64, v: usize): void {
  frameStart(p, len, port);
  const reason = extractFields(p, len, port);
  let flags: u8 = 0;
  let table = startTable < SW_TABLES ? startTable : 0;
  let setUsed = false;
  for (;;) {
    const tc = tableCounters + (table << 4);
    store<u64>(tc, load<u64>(tc) + 1);
    const r = tableLookup(table, fieldVector);
    if (r < 0) {
      flags |= SWVF_NO_MATCH;
      setUsed = false;
      break;
    }
    store<u64>(tc + 8, load<u64>(tc + 8) + 1);
    ruleHit(r as u32, currentLength(), nowMs);
    const rp = rules + (r as u32) * RULE_BYTES;
    const meter = load<u32>(rp + R_METER);
    if (meter != 0 && meterInUse(meter - 1)) {
      const m = meterApply(meter - 1, currentLength(), load<u8>(fieldVector + SWF_IP_DSCP), nowMs);
      if (m == METER_DROP) {
        flags |= SWVF_METER_DROP;
        setUsed = false;
        break;
      }
      if (m == METER_REMARK) setTos(remarkedDscp as i32, -1);
    }
    const rflags = load<u32>(rp + R_FLAGS);
    const apply = load<i32>(rp + R_APPLY);
    if (apply >= 0) runOps(apply, r, table, (rflags & SWRF_TABLE_MISS) != 0);
    if ((rflags & SWRF_CLEAR) != 0 && setUsed) clearActionSet();
    const write = load<i32>(rp + R_WRITE);
    if (write >= 0) {
      writeActions(write);
      setUsed = true;
    }
    if ((rflags & SWRF_METADATA) != 0) {
      const mask = load<u64>(rp + R_META_MASK);
      const cur = load<u64>(fieldVector + SWF_METADATA);
      store<u64>(fieldVector + SWF_METADATA, (cur & ~mask) | (load<u64>(rp + R_META_VALUE) & mask));
    }
    const next = load<i32>(rp + R_GOTO);
    if (next < 0) break;
    table = next as u32;
  }
  if (setUsed) {
    const group = load<usize>(actionSet + SLOT_GROUP * 8);
    for (let i: u32 = 0; i < SLOT_GROUP; i++) {
      const op = load<usize>(actionSet + i * 8);
      if (op != 0) executeOp(op, -1, 0, false);
    }
    if (group != 0) runGroup(load<u32>(group + SWOP_ARG), -1, 0, false);
    else {
      const out = load<usize>(actionSet + SLOT_OUTPUT * 8);
      if (out != 0) executeOp(out, -1, 0, false);
    }
  }
  clearActionSet();
  if (frameRewritten()) flags |= SWVF_REWRITTEN;
  if (overflow) flags |= SWVF_OVERFLOW;
  const count = frameOutputs();
  store<u32>(v + SWV_FIRST, outputCount - count);
  store<u16>(v + SWV_COUNT, count as u16);
  store<u8>(v + SWV_REASON, reason);
  store<u8>(v + SWV_FLAGS, flags);
  store<u32>(v + SWV_QUEUE, queueId);
  store<u8>(v + SWV_TABLE, table as u8);
}

/** Switches descriptors 0..n-1 at host time nowMs (ms); returns the output records written. */
export function switchBatch(n: u32, nowMs: f64): u32 {
  batchStart();
  if (n > SW_MAX_BATCH) n = SW_MAX_BATCH;
  for (let i: u32 = 0; i < n; i++) {
    const d = descriptors + i * SWD_BYTES;
    const v = verdicts + i * SWV_BYTES;
    const off = load<u32>(d + SWD_OFFSET);
    const len = load<u32>(d + SWD_LENGTH);
    if ((off as u64) + (len as u64) > (inputSize as u64)) {
      store<u32>(v + SWV_FIRST, outputCount);
      store<u16>(v + SWV_COUNT, 0);
      store<u8>(v + SWV_REASON, R_BAD_DESCRIPTOR);
      store<u8>(v + SWV_FLAGS, SWVF_NO_MATCH);
      store<u32>(v + SWV_QUEUE, 0);
      store<u8>(v + SWV_TABLE, 0);
      continue;
    }
    switchFrame(input + off, len, load<u32>(d + SWD_IN_PORT), load<u32>(d + SWD_TABLE), nowMs, v);
  }
  return outputCount;
}

export { R_OK };

// The OpenFlow pipeline over a batch (OpenFlow Switch Specification 1.3.5 §5.1 "Pipeline
// Processing", §5.9 "Instructions", §5.10 "Action Set"): for each frame, from its first
// table, find the matching rule (§5.3; none and no table-miss rule: dropped, §5.4), count
// it, run the meter instruction (a drop band ends the packet, a dscp_remark band rewrites
// the DSCP), apply-actions, clear-actions, write-actions into the action set,
// write-metadata, goto-table; at the end execute the action set in the order of §5.10
// (set-field, set_queue, output). One call per batch; one verdict per frame and its output
// records; nothing allocates.
import {
  R_OK, R_BAD_DESCRIPTOR, SW_BLOCK_OPS, SW_MAX_BATCH, SWD_BYTES, SWD_IN_PORT, SWD_LENGTH, SWD_OFFSET, SWD_TABLE, SW_TABLES, SWF_IP_DSCP, SWF_METADATA,
  SWOP_ARG, SWOP_BYTES, SWOP_END, SWOP_KIND, SWOP_NEXT, SWOP_OUTPUT,
  SWRF_CLEAR, SWRF_METADATA, SWRF_TABLE_MISS,
  SWV_BYTES, SWV_COUNT, SWV_FIRST, SWV_FLAGS, SWV_QUEUE, SWV_REASON, SWV_TABLE, SWVF_METER_DROP, SWVF_NO_MATCH, SWVF_OVERFLOW, SWVF_REWRITTEN,
} from '../layout';
import { extractFields, fieldVector } from './fields';
import { executeOp, frameOutputs, frameRewritten, frameStart, batchStart, outputCount, overflow, queueId, setTos } from './ofactions';
import { METER_DROP, METER_REMARK, meterApply, meterInUse, remarkedDscp } from './ofmeters';
import { blocks, R_APPLY, R_FLAGS, R_GOTO, R_META_MASK, R_META_VALUE, R_METER, R_WRITE, RULE_BYTES, ruleHit, rules, tableCounters, tableLookup } from './oftables';

const BLOCK_BYTES: u32 = SW_BLOCK_OPS * SWOP_BYTES;
const ACTION_SET_SIZE: u32 = 6;

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

/** The action-set slot of an op kind (§5.10 order: set-field DSCP, ECN, eth_dst, eth_src, set_queue, output). */
@inline function slotOf(kind: u8): u32 {
  return kind == SWOP_OUTPUT ? 5 : (kind as u32) - 2;
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
    executeOp(op, rule, table, tableMiss);
    op += SWOP_BYTES;
    slot++;
  }
}

function writeActions(first: i32): void {
  let op = blocks + (first as u32) * BLOCK_BYTES;
  for (let slot: u32 = 0; slot < SW_BLOCK_OPS; slot++) {
    const kind = load<u8>(op);
    if (kind == SWOP_END) return;
    store<usize>(actionSet + slotOf(kind) * 8, op); // an action set holds at most 7 ops: one block
    op += SWOP_BYTES;
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
    ruleHit(r as u32, len, nowMs);
    const rp = rules + (r as u32) * RULE_BYTES;
    const meter = load<u32>(rp + R_METER);
    if (meter != 0 && meterInUse(meter - 1)) {
      const m = meterApply(meter - 1, len, load<u8>(fieldVector + SWF_IP_DSCP), nowMs);
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
    for (let i: u32 = 0; i < ACTION_SET_SIZE; i++) {
      const op = load<usize>(actionSet + i * 8);
      if (op != 0) executeOp(op, -1, 0, false);
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

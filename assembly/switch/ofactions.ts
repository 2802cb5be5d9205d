// OpenFlow actions on one frame (OpenFlow Switch Specification 1.3.5 §5.12 "Actions",
// §7.2.5 action structures): output (a port, IN_PORT, FLOOD, ALL, CONTROLLER), set_queue,
// and set_field on ip_dscp / ip_ecn (IPv4 TOS with the header checksum updated
// incrementally, RFC 1624 eqn. 3; IPv6 traffic class) and eth_dst / eth_src. Outputs are
// recorded in the batch's output records (layout.ts SWO_*), each naming the bytes it sends:
// the frame as received, the rewritten frame, or a snapshot taken when a rewrite follows an
// output of an already rewritten frame — so every output carries the bytes the frame had
// when it ran, as the TypeScript twin's copy-on-write does. A packet leaves through its
// ingress port only by OFPP_IN_PORT (§5.12).
import {
  SW_OUTPUTS, SW_SNAPSHOT_BYTES, SWF_ETH_DST, SWF_ETH_SRC, SWF_IP_DSCP, SWF_IP_ECN,
  SWO_BYTES, SWO_FRAME, SWO_MAX_LEN, SWO_PIN_REASON, SWO_PORT, SWO_QUEUE, SWO_RULE, SWO_TABLE,
  SWOP_ARG, SWOP_KIND, SWOP_MAC, SWOP_MAX_LEN, SWOP_OUTPUT, SWOP_SET_DSCP, SWOP_SET_ECN, SWOP_SET_ETH_DST, SWOP_SET_ETH_SRC, SWOP_SET_QUEUE,
} from '../layout';
import { fieldVector, ipVersion, l3Offset } from './fields';

const OFPP_IN_PORT: u32 = 0xfffffff8;
const OFPP_CONTROLLER: u32 = 0xfffffffd;
const OFPR_NO_MATCH: u8 = 0;
const OFPR_ACTION: u8 = 1;

export let outputs: usize = 0;
export let snapshots: usize = 0;
export let outputCount: u32 = 0;
let snapshotUsed: u32 = 0;

// The frame being switched.
let frame: usize = 0;
let frameLen: u32 = 0;
let inPort: u32 = 0;
/** first output record of this frame */
let firstOutput: u32 = 0;
/** 0 while the frame is as received; then its address (rewritten in place) */
let current: usize = 0;
/** an output of this frame refers to `current` (non-zero), so a rewrite must snapshot first */
let currentReferenced = false;
export let queueId: u32 = 0;
export let overflow = false;

export function actionsInit(): void {
  outputs = heap.alloc(SW_OUTPUTS * SWO_BYTES);
  snapshots = heap.alloc(SW_SNAPSHOT_BYTES);
}

export function batchStart(): void {
  outputCount = 0;
  snapshotUsed = 0;
}

export function frameStart(p: usize, len: u32, port: u32): void {
  frame = p;
  frameLen = len;
  inPort = port;
  firstOutput = outputCount;
  current = 0;
  currentReferenced = false;
  queueId = 0;
  overflow = false;
}

export function frameOutputs(): u32 {
  return outputCount - firstOutput;
}

export function frameRewritten(): bool {
  return current != 0;
}

function record(port: u32, maxLen: u32, table: u32, reason: u8, rule: i32): void {
  if (outputCount >= SW_OUTPUTS) {
    overflow = true;
    return;
  }
  const o = outputs + outputCount * SWO_BYTES;
  store<u32>(o + SWO_PORT, port);
  store<u16>(o + SWO_MAX_LEN, maxLen as u16);
  store<u8>(o + SWO_TABLE, table as u8);
  store<u8>(o + SWO_PIN_REASON, reason);
  store<i32>(o + SWO_RULE, rule);
  store<u32>(o + SWO_FRAME, current as u32);
  store<u32>(o + SWO_QUEUE, queueId);
  outputCount++;
  if (current != 0) currentReferenced = true;
}

/** Before the frame changes: outputs already made of the current bytes keep them. */
function beginRewrite(): void {
  if (current == 0) {
    current = frame; // outputs so far send the frame as received
    return;
  }
  if (!currentReferenced) return;
  currentReferenced = false;
  const size = (frameLen + 7) & ~7;
  if (snapshotUsed + size > SW_SNAPSHOT_BYTES) {
    // No room: the outputs that would see later bytes are cancelled rather than sent wrong.
    for (let k = firstOutput; k < outputCount; k++) {
      const o = outputs + k * SWO_BYTES;
      if (load<u32>(o + SWO_FRAME) == current as u32) store<u32>(o + SWO_PORT, 0);
    }
    overflow = true;
    return;
  }
  const snap = snapshots + snapshotUsed;
  memory.copy(snap, frame, frameLen);
  snapshotUsed += size;
  for (let k = firstOutput; k < outputCount; k++) {
    const o = outputs + k * SWO_BYTES;
    if (load<u32>(o + SWO_FRAME) == current as u32) store<u32>(o + SWO_FRAME, snap as u32);
  }
}

/** Sets DSCP and/or ECN (-1 keeps one) in the IPv4 TOS or the IPv6 traffic class. */
export function setTos(dscp: i32, ecn: i32): void {
  if (ipVersion == 0) return;
  const ip = frame + l3Offset;
  const b0 = load<u8>(ip) as u32;
  const b1 = load<u8>(ip + 1) as u32;
  const oldTos = ipVersion == 4 ? b1 : ((b0 & 0x0f) << 4) | (b1 >> 4);
  const newTos = ((dscp >= 0 ? dscp as u32 : oldTos >> 2) << 2) | (ecn >= 0 ? ecn as u32 : oldTos & 3);
  if (newTos == oldTos) return;
  beginRewrite();
  if (ipVersion == 4) {
    store<u8>(ip + 1, newTos as u8);
    const oldWord = (b0 << 8) | oldTos;
    const newWord = (b0 << 8) | newTos;
    const hc = ((load<u8>(ip + 10) as u32) << 8) | (load<u8>(ip + 11) as u32);
    let sum = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    const check = ~sum & 0xffff;
    store<u8>(ip + 10, (check >> 8) as u8);
    store<u8>(ip + 11, (check & 0xff) as u8);
  } else {
    store<u8>(ip, ((b0 & 0xf0) | (newTos >> 4)) as u8);
    store<u8>(ip + 1, (((newTos & 0x0f) << 4) | (b1 & 0x0f)) as u8);
  }
  store<u8>(fieldVector + SWF_IP_DSCP, (newTos >> 2) as u8);
  store<u8>(fieldVector + SWF_IP_ECN, (newTos & 3) as u8);
}

/** Runs one op; rule/table/tableMiss say where it came from (rule -1: the action set). */
export function executeOp(op: usize, rule: i32, table: u32, tableMiss: bool): void {
  const kind = load<u8>(op + SWOP_KIND);
  const arg = load<u32>(op + SWOP_ARG);
  if (kind == SWOP_OUTPUT) {
    if (arg == OFPP_CONTROLLER) {
      record(arg, load<u16>(op + SWOP_MAX_LEN), rule >= 0 ? table : 0, rule >= 0 && tableMiss ? OFPR_NO_MATCH : OFPR_ACTION, rule);
    } else if (arg == OFPP_IN_PORT) {
      record(inPort, 0, table, OFPR_ACTION, rule);
    } else if (arg != inPort) {
      record(arg, 0, table, OFPR_ACTION, rule); // FLOOD and ALL are expanded by the host, which knows the ports
    }
  } else if (kind == SWOP_SET_DSCP) {
    setTos(arg as i32, -1);
  } else if (kind == SWOP_SET_ECN) {
    setTos(-1, arg as i32);
  } else if (kind == SWOP_SET_ETH_DST || kind == SWOP_SET_ETH_SRC) {
    if (frameLen < 14) return;
    beginRewrite();
    const at: u32 = kind == SWOP_SET_ETH_DST ? 0 : 6;
    memory.copy(frame + at, op + SWOP_MAC, 6);
    memory.copy(fieldVector + (kind == SWOP_SET_ETH_DST ? SWF_ETH_DST : SWF_ETH_SRC), op + SWOP_MAC, 6);
  } else if (kind == SWOP_SET_QUEUE) {
    queueId = arg;
  }
}

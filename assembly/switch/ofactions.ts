// OpenFlow actions on one frame (OpenFlow Switch Specification 1.3.5 §5.12 "Actions",
// §7.2.5 action structures): output (a port, IN_PORT, FLOOD, ALL, CONTROLLER), set_queue,
// push_vlan / pop_vlan (IEEE 802.1Q tags: 0x8100, 0x88a8), and set_field on ip_dscp / ip_ecn,
// eth_dst / eth_src, vlan_vid / vlan_pcp, ipv4 and ipv6 addresses, TCP / UDP ports and ICMP
// type / code. Every rewrite keeps the checksums right incrementally (RFC 1624 eqn. 3): the
// IPv4 header checksum, the TCP and UDP checksums over the pseudo-header (RFC 9293 §3.1,
// RFC 768; a UDP/IPv4 checksum of 0 means "none" and stays 0, a computed 0 is sent as
// 0xffff), and the ICMPv6 checksum, which covers the pseudo-header too (RFC 4443 §2.3).
// Outputs are recorded in the batch's output records (layout.ts SWO_*), each naming the bytes
// it sends and their length: the frame as received, the rewritten frame, or a snapshot taken
// when a rewrite follows an output of an already rewritten frame — so every output carries
// the bytes the frame had when it ran, as the TypeScript twin's copy-on-write does. A pushed
// tag moves the frame into the snapshot area (4 more bytes); a group bucket that rewrites
// works on its own copy there (§5.6.1: each bucket gets a clone of the packet). A packet
// leaves through its ingress port only by OFPP_IN_PORT (§5.12).
import {
  SW_OUTPUTS, SW_SNAPSHOT_BYTES, SWF_ETH_DST, SWF_ETH_SRC, SWF_IP_DSCP, SWF_IP_ECN, SWF_IP_PROTO, SWF_ICMP_CODE, SWF_ICMP_TYPE,
  SWF_IPV4_DST, SWF_IPV4_SRC, SWF_IPV6_DST, SWF_IPV6_SRC, SWF_L4_DST, SWF_L4_SRC, SWF_VLAN_VID,
  SWO_BYTES, SWO_FRAME, SWO_LEN, SWO_MAX_LEN, SWO_PIN_REASON, SWO_PORT, SWO_QUEUE, SWO_RULE, SWO_TABLE,
  SWOP_ARG, SWOP_KIND, SWOP_MAC, SWOP_MAX_LEN, SWOP_OUTPUT, SWOP_SET_DSCP, SWOP_SET_ECN, SWOP_SET_ETH_DST, SWOP_SET_ETH_SRC, SWOP_SET_QUEUE,
  SWOP_SET_VLAN_VID, SWOP_SET_VLAN_PCP, SWOP_SET_IPV4_SRC, SWOP_SET_IPV4_DST, SWOP_SET_IPV6_SRC, SWOP_SET_IPV6_DST,
  SWOP_SET_L4_SRC, SWOP_SET_L4_DST, SWOP_SET_ICMP_TYPE, SWOP_SET_ICMP_CODE, SWOP_PUSH_VLAN, SWOP_POP_VLAN, SWOP_VALUE,
} from '../layout';
import { fieldVector, ipVersion, l3Offset, l4Offset, refreshFields, restoreFields, saveFields } from './fields';

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
/** no room to push a tag: the frame goes nowhere rather than out without it */
let abandoned = false;
const word: usize = memory.data(16, 8);

// The packet outside the group bucket being run (bucketBegin / bucketEnd).
let savedFrame: usize = 0;
let savedLen: u32 = 0;
let savedCurrent: usize = 0;
let savedReferenced = false;
let savedQueue: u32 = 0;
let savedAbandoned = false;

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
  abandoned = false;
}

export function currentLength(): u32 {
  return frameLen;
}

export function frameOutputs(): u32 {
  return outputCount - firstOutput;
}

export function frameRewritten(): bool {
  return current != 0;
}

function record(port: u32, maxLen: u32, table: u32, reason: u8, rule: i32): void {
  if (abandoned) return;
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
  store<u32>(o + SWO_LEN, frameLen);
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

/** Room for `bytes` in the snapshot area for this batch, or 0. */
function snapshotAlloc(bytes: u32): usize {
  const size = (bytes + 7) & ~7;
  if (snapshotUsed + size > SW_SNAPSHOT_BYTES) {
    overflow = true;
    return 0;
  }
  const at = snapshots + snapshotUsed;
  snapshotUsed += size;
  return at;
}

@inline function be16(p: usize): u32 {
  return ((load<u8>(p) as u32) << 8) | (load<u8>(p + 1) as u32);
}

@inline function storeBe16(p: usize, v: u32): void {
  store<u8>(p, (v >> 8) as u8);
  store<u8>(p + 1, (v & 0xff) as u8);
}

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word m changed to m'. */
@inline function checksumAdjust(check: u32, oldWord: u32, newWord: u32): u32 {
  let sum = (~check & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/**
 * Writes n bytes (n even, at an even offset of its header) from src over at, updating the
 * checksums at ipCheck and l4Check (0: none) word by word. udp: a checksum of 0 stays 0 and
 * a result of 0 is written as 0xffff (RFC 768).
 */
function replaceWords(at: usize, src: usize, n: u32, ipCheck: usize, l4Check: usize, udp: bool): void {
  let ic: u32 = ipCheck != 0 ? be16(ipCheck) : 0;
  let lc: u32 = l4Check != 0 ? be16(l4Check) : 0;
  const l4 = l4Check != 0 && !(udp && lc == 0);
  for (let i: u32 = 0; i < n; i += 2) {
    const o = be16(at + i);
    const w = be16(src + i);
    if (ipCheck != 0) ic = checksumAdjust(ic, o, w);
    if (l4) lc = checksumAdjust(lc, o, w);
    store<u16>(at + i, load<u16>(src + i));
  }
  if (ipCheck != 0) storeBe16(ipCheck, ic);
  if (l4) storeBe16(l4Check, udp && lc == 0 ? 0xffff : lc);
}

/** The transport checksum an address change touches (TCP, UDP; ICMPv6 over IPv6), or 0. */
function pseudoHeaderChecksum(): usize {
  if (l4Offset == 0) return 0;
  const proto = load<u8>(fieldVector + SWF_IP_PROTO) as u32;
  const l4 = frame + l4Offset;
  if (proto == 6) return l4 + 16;
  if (proto == 17) return l4 + 6;
  if (proto == 58 && ipVersion == 6) return l4 + 2;
  return 0;
}

@inline function tagged(): bool {
  if (frameLen < 18) return false;
  const et = be16(frame + 12);
  return et == 0x8100 || et == 0x88a8 || et == 0x9100;
}

/** push_vlan: a new outer tag with this ethertype, VID and PCP copied from the old outer tag (else 0). */
function pushVlan(ethertype: u32): void {
  if (frameLen < 14) return;
  const buf = snapshotAlloc(frameLen + 4);
  if (buf == 0) {
    abandoned = true;
    return;
  }
  const tci = tagged() ? be16(frame + 14) : 0;
  memory.copy(buf, frame, 12);
  storeBe16(buf + 12, ethertype);
  storeBe16(buf + 14, tci);
  memory.copy(buf + 16, frame + 12, frameLen - 12);
  frame = buf;
  frameLen += 4;
  current = buf;
  currentReferenced = false;
  refreshFields(frame, frameLen);
}

/** pop_vlan: removes the outer tag (a frame without one is left alone). */
function popVlan(): void {
  if (!tagged()) return;
  beginRewrite();
  memory.copy(frame + 4, frame, 12);
  frame += 4;
  frameLen -= 4;
  current = frame;
  refreshFields(frame, frameLen);
}

/** A group bucket starts: the packet is kept aside; with copy the bucket works on its own copy. */
export function bucketBegin(copy: bool): bool {
  savedFrame = frame;
  savedLen = frameLen;
  savedCurrent = current;
  savedReferenced = currentReferenced;
  savedQueue = queueId;
  savedAbandoned = abandoned;
  saveFields();
  if (!copy) return true;
  const buf = snapshotAlloc(frameLen);
  if (buf == 0) return false;
  memory.copy(buf, frame, frameLen);
  frame = buf;
  current = buf;
  currentReferenced = false;
  return true;
}

/** The bucket is done: the packet is as it was before it. */
export function bucketEnd(copied: bool): void {
  frame = savedFrame;
  frameLen = savedLen;
  current = savedCurrent;
  if (copied) currentReferenced = savedReferenced;
  queueId = savedQueue;
  abandoned = savedAbandoned;
  restoreFields();
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
  } else if (kind == SWOP_SET_VLAN_VID || kind == SWOP_SET_VLAN_PCP) {
    if (!tagged()) return;
    beginRewrite();
    const tci = be16(frame + 14);
    if (kind == SWOP_SET_VLAN_VID) {
      storeBe16(frame + 14, (tci & 0xf000) | (arg & 0x0fff));
      store<u16>(fieldVector + SWF_VLAN_VID, bswap<u16>((0x1000 | (arg & 0x0fff)) as u16));
    } else storeBe16(frame + 14, (tci & 0x1fff) | ((arg & 7) << 13));
  } else if (kind == SWOP_SET_IPV4_SRC || kind == SWOP_SET_IPV4_DST) {
    if (ipVersion != 4) return;
    beginRewrite();
    const ip = frame + l3Offset;
    const src = kind == SWOP_SET_IPV4_SRC;
    replaceWords(ip + (src ? 12 : 16), op + SWOP_VALUE, 4, ip + 10, pseudoHeaderChecksum(), load<u8>(fieldVector + SWF_IP_PROTO) == 17);
    memory.copy(fieldVector + (src ? SWF_IPV4_SRC : SWF_IPV4_DST), op + SWOP_VALUE, 4);
  } else if (kind == SWOP_SET_IPV6_SRC || kind == SWOP_SET_IPV6_DST) {
    if (ipVersion != 6) return;
    beginRewrite();
    const src = kind == SWOP_SET_IPV6_SRC;
    replaceWords(frame + l3Offset + (src ? 8 : 24), op + SWOP_VALUE, 16, 0, pseudoHeaderChecksum(), load<u8>(fieldVector + SWF_IP_PROTO) == 17);
    memory.copy(fieldVector + (src ? SWF_IPV6_SRC : SWF_IPV6_DST), op + SWOP_VALUE, 16);
  } else if (kind == SWOP_SET_L4_SRC || kind == SWOP_SET_L4_DST) {
    const proto = load<u8>(fieldVector + SWF_IP_PROTO) as u32;
    if (ipVersion == 0 || l4Offset == 0 || proto != (load<u16>(op + SWOP_MAX_LEN) as u32)) return;
    beginRewrite();
    const l4 = frame + l4Offset;
    const src = kind == SWOP_SET_L4_SRC;
    storeBe16(word, arg);
    replaceWords(l4 + (src ? 0 : 2), word, 2, 0, l4 + (proto == 6 ? 16 : 6), proto == 17);
    store<u16>(fieldVector + (src ? SWF_L4_SRC : SWF_L4_DST), bswap<u16>(arg as u16));
  } else if (kind == SWOP_SET_ICMP_TYPE || kind == SWOP_SET_ICMP_CODE) {
    const proto = load<u8>(fieldVector + SWF_IP_PROTO) as u32;
    if (ipVersion == 0 || l4Offset == 0 || proto != (load<u16>(op + SWOP_MAX_LEN) as u32)) return;
    beginRewrite();
    const l4 = frame + l4Offset;
    const type = kind == SWOP_SET_ICMP_TYPE;
    store<u8>(word, type ? arg as u8 : load<u8>(l4));
    store<u8>(word + 1, type ? load<u8>(l4 + 1) : arg as u8);
    replaceWords(l4, word, 2, 0, l4 + 2, false);
    store<u8>(fieldVector + (type ? SWF_ICMP_TYPE : SWF_ICMP_CODE), arg as u8);
  } else if (kind == SWOP_PUSH_VLAN) {
    pushVlan(arg);
  } else if (kind == SWOP_POP_VLAN) {
    popVlan();
  }
}

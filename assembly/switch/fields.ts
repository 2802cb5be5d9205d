// The header fields an OpenFlow rule matches (OpenFlow Switch Specification 1.3.5 §7.2.3.8
// "Header Match Fields"), as one fixed 88-byte vector in network byte order (layout.ts
// SWF_*), filled from the data plane's parser (assembly/parser.ts) plus the Ethernet
// addresses. The same vector as src/switch/fields.ts: a frame the parser refuses keeps the
// fields it got to (Ethernet always), so it is still switched on them.
import {
  K_DPORT, K_DST, K_ETHERTYPE, K_FLOW_LABEL, K_PROTO, K_SPORT, K_SRC, K_TOS, K_VLAN_OUTER, KEY_BYTES,
  SWF_BYTES, SWF_ETH_DST, SWF_ETH_TYPE, SWF_ICMP_CODE, SWF_ICMP_TYPE, SWF_IN_PORT, SWF_IP_DSCP, SWF_IP_ECN, SWF_IP_PROTO,
  SWF_IPV4_DST, SWF_IPV4_SRC, SWF_IPV6_DST, SWF_IPV6_FLABEL, SWF_IPV6_SRC, SWF_L4_DST, SWF_L4_SRC, SWF_METADATA, SWF_VLAN_VID, SWF_WORDS,
} from '../layout';
import { parseFrame, parsedIpVersion, parsedL3, parsedL4 } from '../parser';

/** The field vector of the frame being switched. */
export const fieldVector: usize = memory.data(SWF_BYTES, 16);
const key: usize = memory.data(KEY_BYTES + 12, 16);

/** IP version (4, 6, 0 not IP) and IP header offset of the frame being switched. */
export let ipVersion: u32 = 0;
export let l3Offset: u32 = 0;
/** Offset of the TCP / UDP / ICMP header when the frame holds it whole (0: none). */
export let l4Offset: u32 = 0;

const saved: usize = memory.data(SWF_BYTES, 16);
let savedIpVersion: u32 = 0;
let savedL3: u32 = 0;
let savedL4: u32 = 0;

/** Fills fieldVector from the frame at p; returns the parser's reason code (R_OK or why it stopped). */
export function extractFields(p: usize, len: u32, inPort: u32): u8 {
  const f = fieldVector;
  for (let i: u32 = 0; i < SWF_WORDS; i++) store<u64>(f + (i << 3), 0);
  store<u32>(f + SWF_IN_PORT, bswap<u32>(inPort));
  const reason = parseFrame(p, len, inPort, key);
  ipVersion = parsedIpVersion;
  l3Offset = parsedL3;
  l4Offset = parsedL4;
  if (len < 14) return reason;
  store<u64>(f + SWF_ETH_DST, load<u64>(p)); // destination and the first 2 bytes of the source
  store<u32>(f + SWF_ETH_DST + 8, load<u32>(p + 8));
  store<u16>(f + SWF_ETH_TYPE, bswap<u16>(load<u16>(key + K_ETHERTYPE)));
  store<u16>(f + SWF_VLAN_VID, bswap<u16>(load<u16>(key + K_VLAN_OUTER)));
  if (ipVersion == 0) return reason;
  const tos = load<u8>(key + K_TOS);
  store<u8>(f + SWF_IP_DSCP, tos >> 2);
  store<u8>(f + SWF_IP_ECN, tos & 3);
  const proto = load<u8>(key + K_PROTO);
  store<u8>(f + SWF_IP_PROTO, proto);
  const sport = load<u16>(key + K_SPORT);
  const dport = load<u16>(key + K_DPORT);
  if (proto == 1 || proto == 58) {
    store<u8>(f + SWF_ICMP_TYPE, sport as u8);
    store<u8>(f + SWF_ICMP_CODE, dport as u8);
  } else {
    store<u16>(f + SWF_L4_SRC, bswap<u16>(sport));
    store<u16>(f + SWF_L4_DST, bswap<u16>(dport));
  }
  if (ipVersion == 4) {
    store<u32>(f + SWF_IPV4_SRC, load<u32>(key + K_SRC));
    store<u32>(f + SWF_IPV4_DST, load<u32>(key + K_DST));
  } else {
    store<u64>(f + SWF_IPV6_SRC, load<u64>(key + K_SRC));
    store<u64>(f + SWF_IPV6_SRC + 8, load<u64>(key + K_SRC + 8));
    store<u64>(f + SWF_IPV6_DST, load<u64>(key + K_DST));
    store<u64>(f + SWF_IPV6_DST + 8, load<u64>(key + K_DST + 8));
    store<u32>(f + SWF_IPV6_FLABEL, bswap<u32>(load<u32>(key + K_FLOW_LABEL) & 0xfffff));
  }
  return reason;
}

/** Re-reads the headers after a tag was pushed or popped; in_port and metadata stay. */
export function refreshFields(p: usize, len: u32): void {
  const inPort = bswap<u32>(load<u32>(fieldVector + SWF_IN_PORT));
  const metadata = load<u64>(fieldVector + SWF_METADATA);
  extractFields(p, len, inPort);
  store<u64>(fieldVector + SWF_METADATA, metadata);
}

/** Keeps the fields (and header offsets) aside while a group bucket works on its copy of the packet. */
export function saveFields(): void {
  memory.copy(saved, fieldVector, SWF_BYTES);
  savedIpVersion = ipVersion;
  savedL3 = l3Offset;
  savedL4 = l4Offset;
}

export function restoreFields(): void {
  memory.copy(fieldVector, saved, SWF_BYTES);
  ipVersion = savedIpVersion;
  l3Offset = savedL3;
  l4Offset = savedL4;
}

/**
 * FNV-1a over the fields that name a flow (Ethernet, VLAN, IP protocol, addresses, ports,
 * flow label), not in_port, DSCP/ECN or metadata: a select group keeps a flow on one bucket
 * even when a meter re-marks some of its packets. src/switch/groups.ts computes the same.
 */
export function fieldHash(): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = SWF_ETH_DST; i < SWF_METADATA; i++) {
    if (i == SWF_IP_DSCP || i == SWF_IP_ECN) continue;
    h = (h ^ (load<u8>(fieldVector + i) as u32)) * 16777619;
  }
  return h;
}

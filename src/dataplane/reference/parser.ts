// The plain-TypeScript twin of assembly/parser.ts (same checks, same order, same reason
// codes): Ethernet II, 802.1Q/802.1ad, IPv4 with options (RFC 791), IPv6 extension headers
// (RFC 8200), AH (RFC 4302) after IPv6 and after IPv4, TCP, UDP, ICMP, ICMPv6; ESP (RFC 4303)
// is keyed on protocol 50 with no ports. Writes the 52-byte key through typed-array views;
// allocates nothing per frame.
import {
  K_DPORT, K_DST, K_ETHERTYPE, K_FLOW_LABEL, K_IN_PORT, K_PROTO, K_SPORT, K_SRC, K_TOS, K_VLAN_INNER, K_VLAN_OUTER,
  R_BAD_EXT, R_BAD_IPV4, R_BAD_IPV6, R_BAD_L4, R_NOT_ETHERNET_II, R_OK, R_TOO_MANY_TAGS, R_TRUNC_ETH, R_TRUNC_EXT,
  R_TRUNC_IPV4, R_TRUNC_IPV6, R_TRUNC_L4, R_TRUNC_PAYLOAD, R_TRUNC_VLAN,
} from '../layout.js';

const MAX_EXT_HEADERS = 8;
const IP_PROTO_AH = 51;

/** A reusable key buffer with its views (the key is 13 aligned u32 words). */
export class KeyBuffer {
  readonly u8 = new Uint8Array(52);
  readonly u16 = new Uint16Array(this.u8.buffer);
  readonly u32 = new Uint32Array(this.u8.buffer);
  /** set by parse: IP header offset in the frame and IP version (0: not IP) */
  l3 = 0;
  ipVersion = 0;
  /** offset of the TCP, UDP, ICMP or ICMPv6 header when the frame holds it whole (0: none) */
  l4 = 0;
}

/** Byte copy without creating subarray views (no objects per frame). */
function copyBytes(from: Uint8Array, at: number, to: Uint8Array, toAt: number, n: number): void {
  for (let i = 0; i < n; i++) to[toAt + i] = from[at + i]!;
}

function be16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** Parses buf[p .. p + len) into key; returns a reason code (layout.ts R_*). */
export function parseFrame(buf: Uint8Array, p: number, len: number, inPort: number, key: KeyBuffer): number {
  key.u32.fill(0);
  key.u32[K_IN_PORT >> 2] = inPort;
  key.l3 = 0;
  key.ipVersion = 0;
  key.l4 = 0;
  if (len < 14) return R_TRUNC_ETH;
  let et = be16(buf, p + 12);
  let off = 14;
  let tags = 0;
  while (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
    if (tags === 2) return R_TOO_MANY_TAGS;
    if (off + 4 > len) return R_TRUNC_VLAN;
    key.u16[(tags === 0 ? K_VLAN_OUTER : K_VLAN_INNER) >> 1] = (be16(buf, p + off) & 0x0fff) | 0x1000;
    et = be16(buf, p + off + 2);
    off += 4;
    tags++;
  }
  if (et < 0x0600) return R_NOT_ETHERNET_II;
  key.u16[K_ETHERTYPE >> 1] = et;
  if (et === 0x0800) return parseIPv4(buf, p, off, len, key);
  if (et === 0x86dd) return parseIPv6(buf, p, off, len, key);
  return R_OK;
}

function parseIPv4(buf: Uint8Array, p: number, off: number, len: number, key: KeyBuffer): number {
  if (off + 20 > len) return R_TRUNC_IPV4;
  const b0 = buf[p + off]!;
  if (b0 >> 4 !== 4) return R_BAD_IPV4;
  const ihl = (b0 & 15) << 2;
  if (ihl < 20) return R_BAD_IPV4;
  if (off + ihl > len) return R_TRUNC_IPV4;
  const total = be16(buf, p + off + 2);
  if (total < ihl) return R_BAD_IPV4;
  const proto = buf[p + off + 9]!;
  const k = key.u8;
  k[K_TOS] = buf[p + off + 1]!;
  k[K_PROTO] = proto;
  copyBytes(buf, p + off + 12, k, K_SRC, 4);
  copyBytes(buf, p + off + 16, k, K_DST, 4);
  key.l3 = off;
  key.ipVersion = 4;
  const ipEnd = off + total;
  // A non-first fragment has no upper-layer header, and not its AH either (AH is applied
  // before fragmentation), so it keeps the IP protocol, 51 included, and no ports.
  if ((be16(buf, p + off + 6) & 0x1fff) !== 0) return ipEnd > len ? R_TRUNC_PAYLOAD : R_OK;
  if (proto === IP_PROTO_AH) return parseIPv4AuthHeaders(buf, p, off + ihl, ipEnd, len, key);
  return parseL4(buf, p, off + ihl, ipEnd, len, proto, key);
}

/**
 * Walks the AH headers ((payload length + 2) × 4 bytes each) after an IPv4 header and parses
 * the upper layer behind them; the key carries the protocol after AH, as for IPv6. Reasons as
 * for IPv6 extension headers: TruncatedExtension when the frame ends inside one,
 * BadExtension when one overruns the IP total length or there are more than MAX_EXT_HEADERS.
 */
function parseIPv4AuthHeaders(buf: Uint8Array, p: number, cur: number, ipEnd: number, len: number, key: KeyBuffer): number {
  const end = Math.min(ipEnd, len);
  const truncated = ipEnd > len;
  let nh = IP_PROTO_AH;
  for (let i = 0; nh === IP_PROTO_AH; i++) {
    if (i === MAX_EXT_HEADERS) return R_BAD_EXT;
    if (cur + 2 > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    const next = buf[p + cur]!;
    const payloadLen = buf[p + cur + 1]!;
    if (payloadLen === 0) return R_BAD_EXT; // shorter than AH's own 12-byte fixed part (RFC 4302 §2.2)
    const size = (payloadLen + 2) << 2;
    if (cur + size > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    nh = next;
    cur += size;
  }
  key.u8[K_PROTO] = nh;
  return parseL4(buf, p, cur, ipEnd, len, nh, key);
}

function parseIPv6(buf: Uint8Array, p: number, off: number, len: number, key: KeyBuffer): number {
  if (off + 40 > len) return R_TRUNC_IPV6;
  const b0 = buf[p + off]!;
  if (b0 >> 4 !== 6) return R_BAD_IPV6;
  const b1 = buf[p + off + 1]!;
  const k = key.u8;
  k[K_TOS] = ((b0 & 15) << 4) | (b1 >> 4);
  key.u32[K_FLOW_LABEL >> 2] = ((b1 & 15) << 16) | be16(buf, p + off + 2);
  const plen = be16(buf, p + off + 4);
  let nh = buf[p + off + 6]!;
  copyBytes(buf, p + off + 8, k, K_SRC, 16);
  copyBytes(buf, p + off + 24, k, K_DST, 16);
  key.l3 = off;
  key.ipVersion = 6;
  let ipEnd = off + 40 + plen;
  if (plen === 0 && nh === 0) ipEnd = len; // jumbogram (RFC 2675)
  const end = Math.min(ipEnd, len);
  const truncated = ipEnd > len;
  let cur = off + 40;
  for (let i = 0; ; i++) {
    // Anything else is the upper layer, ESP (50) included: its payload is encrypted.
    if (nh !== 0 && nh !== 43 && nh !== 44 && nh !== 60 && nh !== IP_PROTO_AH) break;
    if (i === MAX_EXT_HEADERS) return R_BAD_EXT;
    if (nh === 0 && i !== 0) return R_BAD_EXT; // hop-by-hop must come first
    if (cur + 2 > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    const next = buf[p + cur]!;
    const hl = buf[p + cur + 1]!;
    if (nh === IP_PROTO_AH && hl === 0) return R_BAD_EXT; // AH shorter than its fixed part (RFC 4302 §2.2)
    const size = nh === 44 ? 8 : nh === IP_PROTO_AH ? (hl + 2) << 2 : (hl + 1) << 3;
    if (cur + size > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    if (nh === 44 && (be16(buf, p + cur + 2) & 0xfff8) !== 0) {
      k[K_PROTO] = next; // non-first fragment: no upper-layer header here
      return truncated ? R_TRUNC_PAYLOAD : R_OK;
    }
    nh = next;
    cur += size;
  }
  k[K_PROTO] = nh;
  return parseL4(buf, p, cur, ipEnd, len, nh, key);
}

function parseL4(buf: Uint8Array, p: number, l4: number, ipEnd: number, len: number, proto: number, key: KeyBuffer): number {
  const end = Math.min(ipEnd, len);
  const truncated = ipEnd > len;
  if (proto === 6) {
    if (l4 + 20 > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    const doff = (buf[p + l4 + 12]! >> 4) << 2;
    if (doff < 20) return R_BAD_L4;
    if (l4 + doff > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    key.u16[K_SPORT >> 1] = be16(buf, p + l4);
    key.u16[K_DPORT >> 1] = be16(buf, p + l4 + 2);
    key.l4 = l4;
  } else if (proto === 17) {
    if (l4 + 8 > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    key.u16[K_SPORT >> 1] = be16(buf, p + l4);
    key.u16[K_DPORT >> 1] = be16(buf, p + l4 + 2);
    key.l4 = l4;
  } else if (proto === 1 || proto === 58) {
    if (l4 + 4 > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    key.u16[K_SPORT >> 1] = buf[p + l4]!;
    key.u16[K_DPORT >> 1] = buf[p + l4 + 1]!;
    key.l4 = l4;
  }
  // Other protocols (ESP, GRE, …) are keyed on addresses and protocol alone, ports 0.
  return truncated ? R_TRUNC_PAYLOAD : R_OK;
}

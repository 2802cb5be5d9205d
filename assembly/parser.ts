// Header parser: Ethernet II, 802.1Q/802.1ad (one or two tags), IPv4 with options (RFC 791;
// non-first fragments carry no ports), IPv6 (RFC 8200) through the extension headers
// hop-by-hop, routing, fragment, destination options and AH (RFC 4302) up to the upper-layer
// header, IPv4 through AH (RFC 4302) the same way, then TCP (RFC 9293), UDP (RFC 768), ICMP
// (RFC 792) and ICMPv6 (RFC 4443). ESP (RFC 4303) ends the walk: what follows its SPI and
// sequence number is encrypted, so an ESP flow is keyed on protocol 50 with ports 0.
// It fills the flow key and never reads past the frame: every bound is checked before the
// load, and a frame that fails a check gets a reason code (layout.ts) instead of a trap.
// A truncated frame is named after the header that holds its first missing byte.
import {
  K_DPORT, K_DST, K_ETHERTYPE, K_FLOW_LABEL, K_IN_PORT, K_PROTO, K_SPORT, K_SRC, K_TOS, K_VLAN_INNER, K_VLAN_OUTER,
  R_BAD_EXT, R_BAD_IPV4, R_BAD_IPV6, R_BAD_L4, R_NOT_ETHERNET_II, R_OK, R_TOO_MANY_TAGS, R_TRUNC_ETH, R_TRUNC_EXT,
  R_TRUNC_IPV4, R_TRUNC_IPV6, R_TRUNC_L4, R_TRUNC_PAYLOAD, R_TRUNC_VLAN,
} from './layout';

/** Offset of the IP header inside the last parsed frame, and its version (0: not IP). */
export let parsedL3: u32 = 0;
export let parsedIpVersion: u32 = 0;
/** Offset of the TCP, UDP, ICMP or ICMPv6 header when the frame holds it whole (0: none), for rewrites. */
export let parsedL4: u32 = 0;

const MAX_EXT_HEADERS: u32 = 8;
const IP_PROTO_AH: u32 = 51;

@inline function be16(p: usize): u32 {
  return bswap<u16>(load<u16>(p)) as u32;
}

@inline function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** Parses the frame at p (len bytes) into the key at `key`; returns a reason code. */
export function parseFrame(p: usize, len: u32, inPort: u32, key: usize): u8 {
  store<u64>(key, 0);
  store<u64>(key, 0, 8);
  store<u64>(key, 0, 16);
  store<u64>(key, 0, 24);
  store<u64>(key, 0, 32);
  store<u64>(key, 0, 40);
  store<u32>(key, 0, 48);
  store<u32>(key + K_IN_PORT, inPort);
  parsedL3 = 0;
  parsedIpVersion = 0;
  parsedL4 = 0;
  if (len < 14) return R_TRUNC_ETH;
  let et = be16(p + 12);
  let off: u32 = 14;
  let tags: u32 = 0;
  while (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
    if (tags == 2) return R_TOO_MANY_TAGS;
    if (off + 4 > len) return R_TRUNC_VLAN;
    const vid = (be16(p + off) & 0x0fff) | 0x1000;
    store<u16>(key + (tags == 0 ? K_VLAN_OUTER : K_VLAN_INNER), vid as u16);
    et = be16(p + off + 2);
    off += 4;
    tags++;
  }
  if (et < 0x0600) return R_NOT_ETHERNET_II;
  store<u16>(key + K_ETHERTYPE, et as u16);
  if (et == 0x0800) return parseIPv4(p, off, len, key);
  if (et == 0x86dd) return parseIPv6(p, off, len, key);
  return R_OK;
}

function parseIPv4(p: usize, off: u32, len: u32, key: usize): u8 {
  if (off + 20 > len) return R_TRUNC_IPV4;
  const b0 = load<u8>(p + off) as u32;
  if (b0 >> 4 != 4) return R_BAD_IPV4;
  const ihl = (b0 & 15) << 2;
  if (ihl < 20) return R_BAD_IPV4;
  if (off + ihl > len) return R_TRUNC_IPV4;
  const total = be16(p + off + 2);
  if (total < ihl) return R_BAD_IPV4;
  const proto = load<u8>(p + off + 9);
  store<u8>(key + K_TOS, load<u8>(p + off + 1));
  store<u8>(key + K_PROTO, proto);
  store<u32>(key + K_SRC, load<u32>(p + off + 12));
  store<u32>(key + K_DST, load<u32>(p + off + 16));
  parsedL3 = off;
  parsedIpVersion = 4;
  const ipEnd = off + total;
  // A non-first fragment has no upper-layer header, and not its AH either (AH is applied
  // before fragmentation), so it keeps the IP protocol, 51 included, and no ports.
  if ((be16(p + off + 6) & 0x1fff) != 0) return ipEnd > len ? R_TRUNC_PAYLOAD : R_OK;
  if (proto as u32 == IP_PROTO_AH) return parseIPv4AuthHeaders(p, off + ihl, ipEnd, len, key);
  return parseL4(p, off + ihl, ipEnd, len, proto as u32, key);
}

/**
 * Walks the AH headers (RFC 4302 §2.2: (payload length + 2) × 4 bytes) that follow an IPv4
 * header and parses the upper layer behind them. The key carries the protocol after AH, as
 * the IPv6 walk does, so one rule on TCP port 22 covers authenticated and plain IPv4 and IPv6
 * alike. Reason codes are those of the IPv6 extension headers, AH being one there: cut short
 * by the frame → TruncatedExtension; longer than the IP total length, payload length 0 (not
 * even AH's 12-byte fixed part), or more than MAX_EXT_HEADERS of them → BadExtension. Non-AH traffic pays one comparison for it (the
 * optimiser inlines this walk into parseFrame; measured within the parse benchmark's noise).
 */
function parseIPv4AuthHeaders(p: usize, cur: u32, ipEnd: u32, len: u32, key: usize): u8 {
  const end = ipEnd < len ? ipEnd : len;
  const truncated = ipEnd > len;
  let nh = IP_PROTO_AH;
  for (let i: u32 = 0; nh == IP_PROTO_AH; i++) {
    if (i == MAX_EXT_HEADERS) return R_BAD_EXT;
    if (cur + 2 > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    const next = load<u8>(p + cur) as u32;
    const payloadLen = load<u8>(p + cur + 1) as u32;
    if (payloadLen == 0) return R_BAD_EXT; // shorter than AH's own 12-byte fixed part (RFC 4302 §2.2)
    const size = (payloadLen + 2) << 2;
    if (cur + size > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    nh = next;
    cur += size;
  }
  store<u8>(key + K_PROTO, nh as u8);
  return parseL4(p, cur, ipEnd, len, nh, key);
}

function parseIPv6(p: usize, off: u32, len: u32, key: usize): u8 {
  if (off + 40 > len) return R_TRUNC_IPV6;
  const w = be32(p + off);
  if (w >> 28 != 6) return R_BAD_IPV6;
  store<u8>(key + K_TOS, ((w >> 20) & 0xff) as u8);
  store<u32>(key + K_FLOW_LABEL, w & 0xfffff);
  const plen = be16(p + off + 4);
  let nh = load<u8>(p + off + 6) as u32;
  store<u64>(key + K_SRC, load<u64>(p + off + 8));
  store<u64>(key + K_SRC + 8, load<u64>(p + off + 16));
  store<u64>(key + K_DST, load<u64>(p + off + 24));
  store<u64>(key + K_DST + 8, load<u64>(p + off + 32));
  parsedL3 = off;
  parsedIpVersion = 6;
  let ipEnd = off + 40 + plen;
  if (plen == 0 && nh == 0) ipEnd = len; // jumbogram (RFC 2675): the length is in a hop-by-hop option
  const end = ipEnd < len ? ipEnd : len;
  const truncated = ipEnd > len;
  let cur = off + 40;
  for (let i: u32 = 0; ; i++) {
    // Anything else is the upper layer, ESP (50) included: its payload is encrypted.
    if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != IP_PROTO_AH) break;
    if (i == MAX_EXT_HEADERS) return R_BAD_EXT;
    if (nh == 0 && i != 0) return R_BAD_EXT; // hop-by-hop must come first
    if (cur + 2 > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    const next = load<u8>(p + cur) as u32;
    const hl = load<u8>(p + cur + 1) as u32;
    if (nh == IP_PROTO_AH && hl == 0) return R_BAD_EXT; // AH shorter than its fixed part (RFC 4302 §2.2)
    const size = nh == 44 ? 8 : nh == IP_PROTO_AH ? (hl + 2) << 2 : (hl + 1) << 3;
    if (cur + size > end) return truncated ? R_TRUNC_EXT : R_BAD_EXT;
    if (nh == 44 && (be16(p + cur + 2) & 0xfff8) != 0) {
      store<u8>(key + K_PROTO, next as u8); // non-first fragment: no upper-layer header here
      return truncated ? R_TRUNC_PAYLOAD : R_OK;
    }
    nh = next;
    cur += size;
  }
  store<u8>(key + K_PROTO, nh as u8);
  return parseL4(p, cur, ipEnd, len, nh, key);
}

function parseL4(p: usize, l4: u32, ipEnd: u32, len: u32, proto: u32, key: usize): u8 {
  const end = ipEnd < len ? ipEnd : len;
  const truncated = ipEnd > len;
  if (proto == 6) {
    if (l4 + 20 > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    const doff = ((load<u8>(p + l4 + 12) as u32) >> 4) << 2;
    if (doff < 20) return R_BAD_L4;
    if (l4 + doff > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    store<u16>(key + K_SPORT, be16(p + l4) as u16);
    store<u16>(key + K_DPORT, be16(p + l4 + 2) as u16);
    parsedL4 = l4;
  } else if (proto == 17) {
    if (l4 + 8 > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    store<u16>(key + K_SPORT, be16(p + l4) as u16);
    store<u16>(key + K_DPORT, be16(p + l4 + 2) as u16);
    parsedL4 = l4;
  } else if (proto == 1 || proto == 58) {
    if (l4 + 4 > end) return truncated ? R_TRUNC_L4 : R_BAD_L4;
    store<u16>(key + K_SPORT, load<u8>(p + l4) as u16);
    store<u16>(key + K_DPORT, load<u8>(p + l4 + 1) as u16);
    parsedL4 = l4;
  }
  // Other protocols (ESP, GRE, …) are keyed on addresses and protocol alone, ports 0.
  return truncated ? R_TRUNC_PAYLOAD : R_OK;
}

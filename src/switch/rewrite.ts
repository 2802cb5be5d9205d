// Header rewrites of set_field (OpenFlow Switch Specification 1.3.5 §7.2.5 OFPAT_SET_FIELD)
// on IPv4 and IPv6 addresses, TCP / UDP ports and ICMP type / code, with the checksums kept
// right incrementally (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') per 16-bit word): the IPv4
// header checksum, the TCP and UDP checksums, which cover the addresses through the
// pseudo-header (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1), and the ICMPv6 checksum, which
// does too (RFC 4443 §2.3); the ICMPv4 checksum covers only the ICMP message. A UDP checksum
// of 0 means "none" (RFC 768) and stays 0; a result of 0 is sent as 0xffff. The TypeScript
// twin of the rewrites in assembly/switch/ofactions.ts: the same words in the same order.
// Callers give the frame, its base offset and the parser's header offsets; nothing throws
// and nothing allocates.

/** RFC 1624 eqn. 3 for one 16-bit word changed from oldWord to newWord. */
export function checksumAdjust(check: number, oldWord: number, newWord: number): number {
  let sum = (~check & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const be16 = (f: Uint8Array, at: number): number => (f[at]! << 8) | f[at + 1]!;

function storeBe16(f: Uint8Array, at: number, v: number): void {
  f[at] = v >> 8;
  f[at + 1] = v & 0xff;
}

/**
 * Writes n bytes (n even, at an even offset of its header) of src[srcAt..] over f[at..],
 * updating the checksums at ipCheck and l4Check (−1: none) word by word.
 */
export function replaceWords(f: Uint8Array, at: number, src: Uint8Array, srcAt: number, n: number, ipCheck: number, l4Check: number, udp: boolean): void {
  let ic = ipCheck >= 0 ? be16(f, ipCheck) : 0;
  let lc = l4Check >= 0 ? be16(f, l4Check) : 0;
  const l4 = l4Check >= 0 && !(udp && lc === 0);
  for (let i = 0; i < n; i += 2) {
    const o = be16(f, at + i);
    const w = be16(src, srcAt + i);
    if (ipCheck >= 0) ic = checksumAdjust(ic, o, w);
    if (l4) lc = checksumAdjust(lc, o, w);
    f[at + i] = src[srcAt + i]!;
    f[at + i + 1] = src[srcAt + i + 1]!;
  }
  if (ipCheck >= 0) storeBe16(f, ipCheck, ic);
  if (l4) storeBe16(f, l4Check, udp && lc === 0 ? 0xffff : lc);
}

/** Where the headers of the frame being rewritten are (absolute offsets into its buffer; l4 −1 when absent). */
export interface HeaderPlace {
  ipVersion: number;
  l3: number;
  l4: number;
  proto: number;
}

/** The transport checksum an address change touches (TCP, UDP; ICMPv6 over IPv6), or −1. */
function pseudoHeaderChecksum(h: HeaderPlace): number {
  if (h.l4 < 0) return -1;
  if (h.proto === 6) return h.l4 + 16;
  if (h.proto === 17) return h.l4 + 6;
  if (h.proto === 58 && h.ipVersion === 6) return h.l4 + 2;
  return -1;
}

/** Sets the IPv4 source (offset 12) or destination (16) address. */
export function setIpv4Address(f: Uint8Array, h: HeaderPlace, offset: 12 | 16, addr: Uint8Array): void {
  replaceWords(f, h.l3 + offset, addr, 0, 4, h.l3 + 10, pseudoHeaderChecksum(h), h.proto === 17);
}

/** Sets the IPv6 source (offset 8) or destination (24) address. */
export function setIpv6Address(f: Uint8Array, h: HeaderPlace, offset: 8 | 24, addr: Uint8Array): void {
  replaceWords(f, h.l3 + offset, addr, 0, 16, -1, pseudoHeaderChecksum(h), h.proto === 17);
}

const word = new Uint8Array(2);

/** Sets the TCP or UDP source (offset 0) or destination (2) port. */
export function setTransportPort(f: Uint8Array, h: HeaderPlace, offset: 0 | 2, port: number): void {
  storeBe16(word, 0, port);
  replaceWords(f, h.l4 + offset, word, 0, 2, -1, h.l4 + (h.proto === 6 ? 16 : 6), h.proto === 17);
}

/** Sets the ICMP / ICMPv6 type (offset 0) or code (1). */
export function setIcmp(f: Uint8Array, h: HeaderPlace, offset: 0 | 1, value: number): void {
  word[0] = offset === 0 ? value : f[h.l4]!;
  word[1] = offset === 1 ? value : f[h.l4 + 1]!;
  replaceWords(f, h.l4, word, 0, 2, -1, h.l4 + 2, false);
}

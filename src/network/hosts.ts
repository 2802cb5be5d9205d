// Host tracking's packet side: a minimal, bounds-checked reader for the
// Ethernet frames switches hand the controller in packet-ins — ARP (RFC 826), IPv6
// Neighbor Discovery (RFC 4861 §4.3/§4.4, Neighbor Solicitation / Advertisement), and the
// source addresses of any other IPv4 / IPv6 packet — and builders for the proxy answers the
// controller sends back (an ARP reply; a Neighbor Advertisement with its ICMPv6 checksum,
// RFC 4443 §2.3 / RFC 8200 §8.1). Parsing never throws: hostile bytes give `undefined` or a
// frame with fewer fields.
import { formatIpv6 } from '../openflow/codec/index.js';

export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_VLAN = 0x8100;
export const ETH_TYPE_QINQ = 0x88a8;
export const IP_PROTO_ICMPV6 = 58;
export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;

export interface ArpPacket {
  /** 1 request, 2 reply */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export interface NdPacket {
  /** 135 solicitation, 136 advertisement */
  icmpType: number;
  target: string;
  /** source / target link-layer address option, when present */
  linkAddress?: string;
  /** NA flags: router, solicited, override */
  flags?: { router: boolean; solicited: boolean; override: boolean };
}

export interface ParsedFrame {
  dstMac: string;
  srcMac: string;
  /** the ethertype after at most two VLAN tags */
  ethType: number;
  vlan?: number;
  arp?: ArpPacket;
  /** IPv4 or IPv6 source and destination of an IP packet */
  ip?: { family: 4 | 6; src: string; dst: string; proto: number; dscp: number };
  nd?: NdPacket;
}

function mac(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[o + i]!.toString(16).padStart(2, '0');
  return s;
}

function ipv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ipv6(b: Uint8Array, o: number): string {
  return formatIpv6(b.subarray(o, o + 16));
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Reads an Ethernet II frame (optionally 802.1Q / 802.1ad tagged); undefined when too short. Never throws. */
export function parseFrame(input: Uint8Array): ParsedFrame | undefined {
  try {
    return parseFrameUnsafe(input);
  } catch {
    return undefined; // belt and braces: every read below is bounds-checked first
  }
}

function parseFrameUnsafe(b: Uint8Array): ParsedFrame | undefined {
  if (!(b instanceof Uint8Array) || b.length < 14) return undefined;
  let o = 12;
  let ethType = u16(b, o);
  let vlan: number | undefined;
  for (let tags = 0; tags < 2 && (ethType === ETH_TYPE_VLAN || ethType === ETH_TYPE_QINQ); tags++) {
    if (b.length < o + 6) return undefined;
    vlan = u16(b, o + 2) & 0x0fff;
    o += 4;
    ethType = u16(b, o);
  }
  o += 2;
  const frame: ParsedFrame = { dstMac: mac(b, 0), srcMac: mac(b, 6), ethType, ...(vlan !== undefined ? { vlan } : {}) };
  if (ethType === ETH_TYPE_ARP) {
    // RFC 826 for Ethernet/IPv4: htype 1, ptype 0x0800, hlen 6, plen 4.
    if (b.length >= o + 28 && u16(b, o) === 1 && u16(b, o + 2) === ETH_TYPE_IPV4 && b[o + 4] === 6 && b[o + 5] === 4) {
      frame.arp = { op: u16(b, o + 6), senderMac: mac(b, o + 8), senderIp: ipv4(b, o + 14), targetMac: mac(b, o + 18), targetIp: ipv4(b, o + 24) };
    }
  } else if (ethType === ETH_TYPE_IPV4) {
    if (b.length >= o + 20 && b[o]! >> 4 === 4) {
      const ihl = (b[o]! & 0x0f) * 4;
      if (ihl >= 20) frame.ip = { family: 4, src: ipv4(b, o + 12), dst: ipv4(b, o + 16), proto: b[o + 9]!, dscp: b[o + 1]! >> 2 };
    }
  } else if (ethType === ETH_TYPE_IPV6) {
    if (b.length >= o + 40 && b[o]! >> 4 === 6) {
      const tclass = ((b[o]! & 0x0f) << 4) | (b[o + 1]! >> 4);
      const next = b[o + 6]!;
      frame.ip = { family: 6, src: ipv6(b, o + 8), dst: ipv6(b, o + 24), proto: next, dscp: tclass >> 2 };
      const payloadLen = u16(b, o + 4);
      const p = o + 40;
      const end = Math.min(b.length, p + payloadLen);
      // ND messages carry no extension headers and hop limit 255 (RFC 4861 §7.1.1).
      if (next === IP_PROTO_ICMPV6 && b[o + 7] === 255 && end >= p + 24) {
        const type = b[p]!;
        if ((type === ICMPV6_NS || type === ICMPV6_NA) && b[p + 1] === 0) {
          const nd: NdPacket = { icmpType: type, target: ipv6(b, p + 8) };
          if (type === ICMPV6_NA) nd.flags = { router: (b[p + 4]! & 0x80) !== 0, solicited: (b[p + 4]! & 0x40) !== 0, override: (b[p + 4]! & 0x20) !== 0 };
          // Options (RFC 4861 §4.6): type, length in 8-byte units (0 is invalid).
          for (let q = p + 24; q + 2 <= end; ) {
            const optType = b[q]!;
            const optLen = b[q + 1]! * 8;
            if (optLen === 0 || q + optLen > end) break;
            if (optLen >= 8 && ((type === ICMPV6_NS && optType === 1) || (type === ICMPV6_NA && optType === 2))) nd.linkAddress = mac(b, q + 2);
            q += optLen;
          }
          frame.nd = nd;
        }
      }
    }
  }
  return frame;
}

function macToBytes(m: string): number[] {
  const parts = m.split(':');
  if (parts.length !== 6) throw new RangeError(`bad MAC ${m}`);
  return parts.map((p) => {
    const v = parseInt(p, 16);
    if (!/^[0-9a-fA-F]{2}$/.test(p)) throw new RangeError(`bad MAC ${m}`);
    return v;
  });
}

function ipv4ToBytes(ip: string): number[] {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new RangeError(`bad IPv4 ${ip}`);
  return parts;
}

/** 16 bytes of an IPv6 address in hex-group form (no embedded IPv4, no zone index); throws RangeError otherwise. */
export function ipv6ToBytes(ip: string): Uint8Array {
  const out = new Uint8Array(16);
  const text = ip;
  const halves = text.split('::');
  if (halves.length > 2) throw new RangeError(`bad IPv6 ${ip}`);
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new RangeError(`bad IPv6 ${ip}`);
    return parseInt(g, 16);
  }));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 && fill < 1) throw new RangeError(`bad IPv6 ${ip}`);
  const groups = halves.length === 2 ? [...head, ...new Array<number>(fill).fill(0), ...rest] : head;
  if (groups.length !== 8) throw new RangeError(`bad IPv6 ${ip}`);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** An ARP reply (RFC 826) from `senderMac`/`senderIp` to `targetMac`/`targetIp`, padded to 60 bytes. */
export function buildArpReply(a: { senderMac: string; senderIp: string; targetMac: string; targetIp: string }): Uint8Array {
  const f = new Uint8Array(60);
  f.set(macToBytes(a.targetMac), 0);
  f.set(macToBytes(a.senderMac), 6);
  f.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 2], 12);
  f.set(macToBytes(a.senderMac), 22);
  f.set(ipv4ToBytes(a.senderIp), 28);
  f.set(macToBytes(a.targetMac), 32);
  f.set(ipv4ToBytes(a.targetIp), 38);
  return f;
}

/** A broadcast ARP request (RFC 826) asking who has `targetIp`, on behalf of `senderMac`/`senderIp`. */
export function buildArpRequest(a: { senderMac: string; senderIp: string; targetIp: string }): Uint8Array {
  const f = new Uint8Array(60);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  f.set(macToBytes(a.senderMac), 6);
  f.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1], 12);
  f.set(macToBytes(a.senderMac), 22);
  f.set(ipv4ToBytes(a.senderIp), 28);
  f.set(ipv4ToBytes(a.targetIp), 38);
  return f;
}

/** Internet checksum (RFC 1071) over the IPv6 pseudo-header and an ICMPv6 message. */
function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  let sum = 0;
  const add = (b: Uint8Array): void => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  };
  add(src);
  add(dst);
  sum += icmp.length;
  sum += IP_PROTO_ICMPV6;
  add(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * A solicited Neighbor Advertisement (RFC 4861 §4.4, §7.2.4) that `targetMac` owns
 * `target`, sent to the soliciting host (`toMac`, `toIp`), with the target link-layer
 * address option and override set.
 */
export function buildNeighborAdvertisement(a: { target: string; targetMac: string; toMac: string; toIp: string }): Uint8Array {
  const src = ipv6ToBytes(a.target);
  const dst = ipv6ToBytes(a.toIp);
  const icmp = new Uint8Array(32);
  icmp[0] = ICMPV6_NA;
  icmp[4] = 0x60; // solicited + override
  icmp.set(src, 8);
  icmp[24] = 2; // target link-layer address
  icmp[25] = 1;
  icmp.set(macToBytes(a.targetMac), 26);
  return ndFrame(macToBytes(a.toMac), macToBytes(a.targetMac), src, dst, icmp);
}

/** An Ethernet + IPv6 (hop limit 255, RFC 4861 §7.1) frame around a neighbour discovery message; fills in its checksum. */
function ndFrame(dstMac: ArrayLike<number>, srcMac: ArrayLike<number>, src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): Uint8Array {
  const sum = icmpv6Checksum(src, dst, icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  const f = new Uint8Array(14 + 40 + icmp.length);
  f.set(dstMac, 0);
  f.set(srcMac, 6);
  f.set([0x86, 0xdd], 12);
  f.set([0x60, 0, 0, 0, 0, icmp.length, IP_PROTO_ICMPV6, 255], 14);
  f.set(src, 22);
  f.set(dst, 38);
  f.set(icmp, 54);
  return f;
}

/**
 * A Neighbor Solicitation for `target` from the unspecified address (RFC 4861 §4.3, the
 * form duplicate address detection uses, RFC 4862 §5.4.2), to the target's solicited-node
 * multicast group. A host that owns `target` answers with a Neighbor Advertisement to all
 * nodes (RFC 4861 §7.2.4) and keeps no neighbour entry for the asker: the IPv6 form of an
 * ARP probe (RFC 5227).
 */
export function buildNeighborProbe(a: { target: string; srcMac: string }): Uint8Array {
  const src = new Uint8Array(16);
  const targetBytes = ipv6ToBytes(a.target);
  const dst = ipv6ToBytes('ff02::1:ff00:0');
  dst.set(targetBytes.subarray(13), 13);
  const icmp = new Uint8Array(24);
  icmp[0] = ICMPV6_NS;
  icmp.set(targetBytes, 8);
  return ndFrame([0x33, 0x33, 0xff, targetBytes[13]!, targetBytes[14]!, targetBytes[15]!], macToBytes(a.srcMac), src, dst, icmp);
}

/** Verifies an ICMPv6 checksum in a parsed IPv6 frame (for tests). */
export function icmpv6ChecksumOk(frame: Uint8Array): boolean {
  if (frame.length < 54 + 4) return false;
  const len = u16(frame, 18);
  if (frame.length < 54 + len) return false;
  return icmpv6Checksum(frame.subarray(22, 38), frame.subarray(38, 54), frame.subarray(54, 54 + len)) === 0;
}

// The header fields one packet is matched on (OpenFlow Switch Specification 1.3.5 §7.2.3.8
// "Header Match Fields"), laid out as one fixed byte vector in network byte order, and the
// compiled form of an OXM match against it: for every vector byte a value and a mask, so
// matching is `(fields[i] & mask[i]) === value[i]` over the bytes a flow constrains, and
// the flow-mod relations of §6.4 (identical, covered-by for non-strict commands, overlap for
// OFPFF_CHECK_OVERLAP) are byte-wise mask arithmetic.
//
// The packet's fields are filled from the project's parser (the TypeScript twin of the
// engine's parser, src/dataplane/reference/parser.ts) plus the Ethernet addresses; a frame
// the parser rejects keeps the fields it got to (Ethernet always), so it is still switched
// on them, and the caller counts it as malformed.
import { checkPrerequisites, OFPBMC, type Match, type Oxm } from '../openflow/codec/index.js';
import { parseIpv4 } from '../util/addresses.js';
import { K_DPORT, K_DST, K_ETHERTYPE, K_FLOW_LABEL, K_PROTO, K_SPORT, K_SRC, K_TOS, K_VLAN_OUTER, R_OK } from '../dataplane/layout.js';
import { KeyBuffer, parseFrame } from '../dataplane/reference/parser.js';

export const F_IN_PORT = 0; // 4
export const F_ETH_DST = 4; // 6
export const F_ETH_SRC = 10; // 6
export const F_ETH_TYPE = 16; // 2
export const F_VLAN_VID = 18; // 2: OFPVID_PRESENT | vid, 0 when untagged
export const F_IP_DSCP = 20; // 1
export const F_IP_ECN = 21; // 1
export const F_IP_PROTO = 22; // 1
export const F_ICMP_TYPE = 23; // 1: ICMPv4 or ICMPv6 type (ip_proto tells which)
export const F_ICMP_CODE = 24; // 1
export const F_L4_SRC = 26; // 2: TCP, UDP or SCTP source port (ip_proto tells which)
export const F_L4_DST = 28; // 2
export const F_IPV4_SRC = 32; // 4
export const F_IPV4_DST = 36; // 4
export const F_IPV6_SRC = 40; // 16
export const F_IPV6_DST = 56; // 16
export const F_IPV6_FLABEL = 72; // 4
export const F_METADATA = 76; // 8
export const FIELDS_LEN = 84;

/** Where each supported OXM field lives in the vector, and how many bytes it takes there. */
const SLOTS: Partial<Record<Oxm['field'], { at: number; size: number }>> = {
  in_port: { at: F_IN_PORT, size: 4 },
  metadata: { at: F_METADATA, size: 8 },
  eth_dst: { at: F_ETH_DST, size: 6 },
  eth_src: { at: F_ETH_SRC, size: 6 },
  eth_type: { at: F_ETH_TYPE, size: 2 },
  vlan_vid: { at: F_VLAN_VID, size: 2 },
  ip_dscp: { at: F_IP_DSCP, size: 1 },
  ip_ecn: { at: F_IP_ECN, size: 1 },
  ip_proto: { at: F_IP_PROTO, size: 1 },
  ipv4_src: { at: F_IPV4_SRC, size: 4 },
  ipv4_dst: { at: F_IPV4_DST, size: 4 },
  tcp_src: { at: F_L4_SRC, size: 2 },
  tcp_dst: { at: F_L4_DST, size: 2 },
  udp_src: { at: F_L4_SRC, size: 2 },
  udp_dst: { at: F_L4_DST, size: 2 },
  sctp_src: { at: F_L4_SRC, size: 2 },
  sctp_dst: { at: F_L4_DST, size: 2 },
  icmpv4_type: { at: F_ICMP_TYPE, size: 1 },
  icmpv4_code: { at: F_ICMP_CODE, size: 1 },
  icmpv6_type: { at: F_ICMP_TYPE, size: 1 },
  icmpv6_code: { at: F_ICMP_CODE, size: 1 },
  ipv6_src: { at: F_IPV6_SRC, size: 16 },
  ipv6_dst: { at: F_IPV6_DST, size: 16 },
  ipv6_flabel: { at: F_IPV6_FLABEL, size: 4 },
};

export function isMatchable(field: Oxm['field']): boolean {
  return SLOTS[field] !== undefined;
}

/** A match compiled against the field vector. */
export interface CompiledMatch {
  value: Uint8Array;
  mask: Uint8Array;
  /** the vector bytes the match constrains (mask not zero), for the per-packet test */
  bytes: Uint8Array;
}

export type MatchError = { errorType: 'BAD_MATCH'; code: number; reason: string };

/** Writes an OXM value (number, bigint, MAC, IPv4 or IPv6 text) big-endian into `out`. */
export function writeOxmValue(field: Oxm['field'], value: unknown, out: Uint8Array, at: number, size: number): boolean {
  if (typeof value === 'number') {
    for (let i = size - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[at + i] = v & 0xff;
    return true;
  }
  if (typeof value === 'bigint') {
    for (let i = size - 1, v = value; i >= 0; i--, v >>= 8n) out[at + i] = Number(v & 0xffn);
    return true;
  }
  if (typeof value !== 'string') return false;
  if (size === 6) {
    const parts = value.split(':');
    if (parts.length !== 6) return false;
    for (let i = 0; i < 6; i++) out[at + i] = parseInt(parts[i]!, 16);
    return true;
  }
  if (size === 4 && field.startsWith('ipv4')) {
    const v = parseIpv4(value);
    if (v === undefined) return false;
    return writeOxmValue(field, v, out, at, 4);
  }
  if (size === 16) {
    const words = expandIpv6(value);
    if (!words) return false;
    for (let i = 0; i < 8; i++) {
      out[at + 2 * i] = words[i]! >> 8;
      out[at + 2 * i + 1] = words[i]! & 0xff;
    }
    return true;
  }
  return false;
}

function expandIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const words = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
}

/** Compiles an OXM match; refuses unknown or duplicate fields and missing prerequisites. */
export function compileMatch(match: Match): { ok: true; match: CompiledMatch } | ({ ok: false } & MatchError) {
  const value = new Uint8Array(FIELDS_LEN);
  const mask = new Uint8Array(FIELDS_LEN);
  const seen = new Set<string>();
  try {
    checkPrerequisites(match, 'match');
  } catch (err) {
    return { ok: false, errorType: 'BAD_MATCH', code: OFPBMC.BAD_PREREQ, reason: err instanceof Error ? err.message : String(err) };
  }
  for (const oxm of match) {
    const slot = SLOTS[oxm.field];
    if (oxm.field === 'unknown' || !slot) return { ok: false, errorType: 'BAD_MATCH', code: OFPBMC.BAD_FIELD, reason: `field ${oxm.field} is not supported` };
    if (seen.has(oxm.field)) return { ok: false, errorType: 'BAD_MATCH', code: OFPBMC.DUP_FIELD, reason: `field ${oxm.field} twice` };
    seen.add(oxm.field);
    const v = new Uint8Array(slot.size);
    const m = new Uint8Array(slot.size).fill(0xff);
    if (!writeOxmValue(oxm.field, oxm.value, v, 0, slot.size)) return { ok: false, errorType: 'BAD_MATCH', code: OFPBMC.BAD_VALUE, reason: `bad value for ${oxm.field}` };
    if (oxm.mask !== undefined && !writeOxmValue(oxm.field, oxm.mask, m, 0, slot.size)) return { ok: false, errorType: 'BAD_MATCH', code: OFPBMC.BAD_MASK, reason: `bad mask for ${oxm.field}` };
    for (let i = 0; i < slot.size; i++) {
      // §7.2.3.5: a value bit outside its mask is an error (OFPBMC_BAD_WILDCARDS).
      if ((v[i]! & ~m[i]!) !== 0) return { ok: false, errorType: 'BAD_MATCH', code: OFPBMC.BAD_WILDCARDS, reason: `${oxm.field} has value bits outside its mask` };
      value[slot.at + i] = v[i]!;
      mask[slot.at + i] = m[i]!;
    }
  }
  const bytes: number[] = [];
  for (let i = 0; i < FIELDS_LEN; i++) if (mask[i] !== 0) bytes.push(i);
  return { ok: true, match: { value, mask, bytes: Uint8Array.from(bytes) } };
}

export function matches(m: CompiledMatch, fields: Uint8Array): boolean {
  const { bytes, value, mask } = m;
  for (let j = 0; j < bytes.length; j++) {
    const i = bytes[j]!;
    if ((fields[i]! & mask[i]!) !== value[i]) return false;
  }
  return true;
}

/** Same fields, masks and values (the strict commands' test). */
export function sameMatch(a: CompiledMatch, b: CompiledMatch): boolean {
  for (let i = 0; i < FIELDS_LEN; i++) if (a.mask[i] !== b.mask[i] || a.value[i] !== b.value[i]) return false;
  return true;
}

/** `flow` is at least as specific as `filter` and agrees with it (the non-strict commands' test). */
export function covers(filter: CompiledMatch, flow: CompiledMatch): boolean {
  for (let i = 0; i < FIELDS_LEN; i++) {
    const fm = filter.mask[i]!;
    if ((fm & ~flow.mask[i]!) !== 0 || (flow.value[i]! & fm) !== filter.value[i]) return false;
  }
  return true;
}

/** Some packet could match both (OFPFF_CHECK_OVERLAP). */
export function overlaps(a: CompiledMatch, b: CompiledMatch): boolean {
  for (let i = 0; i < FIELDS_LEN; i++) if (((a.value[i]! ^ b.value[i]!) & a.mask[i]! & b.mask[i]!) !== 0) return false;
  return true;
}

/** Parses a frame into its field vector; `key.l3`/`key.ipVersion` locate the IP header. */
export class PacketFields {
  readonly bytes = new Uint8Array(FIELDS_LEN);
  readonly key = new KeyBuffer();
  /** parser reason of the last frame (layout.ts R_*); not R_OK means malformed */
  reason = R_OK;

  extract(frame: Uint8Array, at: number, len: number, inPort: number): void {
    const f = this.bytes;
    const key = this.key;
    f.fill(0);
    f[0] = inPort >>> 24;
    f[1] = (inPort >>> 16) & 0xff;
    f[2] = (inPort >>> 8) & 0xff;
    f[3] = inPort & 0xff;
    this.reason = parseFrame(frame, at, len, inPort, key);
    if (len < 14) return;
    for (let i = 0; i < 12; i++) f[F_ETH_DST + i] = frame[at + i]!;
    const k = key.u8;
    const et = key.u16[K_ETHERTYPE >> 1]!;
    f[F_ETH_TYPE] = et >> 8;
    f[F_ETH_TYPE + 1] = et & 0xff;
    const vid = key.u16[K_VLAN_OUTER >> 1]!;
    f[F_VLAN_VID] = vid >> 8;
    f[F_VLAN_VID + 1] = vid & 0xff;
    if (key.ipVersion === 0) return;
    const tos = k[K_TOS]!;
    f[F_IP_DSCP] = tos >> 2;
    f[F_IP_ECN] = tos & 3;
    const proto = k[K_PROTO]!;
    f[F_IP_PROTO] = proto;
    const sport = key.u16[K_SPORT >> 1]!;
    const dport = key.u16[K_DPORT >> 1]!;
    if (proto === 1 || proto === 58) {
      f[F_ICMP_TYPE] = sport;
      f[F_ICMP_CODE] = dport;
    } else {
      f[F_L4_SRC] = sport >> 8;
      f[F_L4_SRC + 1] = sport & 0xff;
      f[F_L4_DST] = dport >> 8;
      f[F_L4_DST + 1] = dport & 0xff;
    }
    if (key.ipVersion === 4) {
      for (let i = 0; i < 4; i++) {
        f[F_IPV4_SRC + i] = k[K_SRC + i]!;
        f[F_IPV4_DST + i] = k[K_DST + i]!;
      }
    } else {
      for (let i = 0; i < 16; i++) {
        f[F_IPV6_SRC + i] = k[K_SRC + i]!;
        f[F_IPV6_DST + i] = k[K_DST + i]!;
      }
      const label = key.u32[K_FLOW_LABEL >> 2]!;
      f[F_IPV6_FLABEL + 1] = (label >> 16) & 0x0f;
      f[F_IPV6_FLABEL + 2] = (label >> 8) & 0xff;
      f[F_IPV6_FLABEL + 3] = label & 0xff;
    }
  }
}

const MASKABLE = new Set<Oxm['field']>(['metadata', 'eth_dst', 'eth_src', 'vlan_vid', 'ipv4_src', 'ipv4_dst', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel']);

/** The supported match fields with their OXM payload size and maskability (for table features). */
export function matchableFields(): { field: Exclude<Oxm['field'], 'unknown'>; size: number; maskable: boolean }[] {
  return (Object.keys(SLOTS) as Exclude<Oxm['field'], 'unknown'>[]).map((field) => ({ field, size: SLOTS[field]!.size, maskable: MASKABLE.has(field) }));
}

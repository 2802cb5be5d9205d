// OXM — OpenFlow Extensible Match (OpenFlow 1.3.5 §7.2.3): the ofp_match structure
// (§7.2.3.1), the OXM TLV header (§7.2.3.2), every OFPXMC_OPENFLOW_BASIC field of
// enum oxm_ofb_match_fields with the bit widths, maskability and prerequisites of the
// header match fields table (§7.2.3.8 "Header Match Fields"), and the prerequisite rule
// of §7.2.3.6 "Flow Match Field Prerequisite", checked when a match is encoded.
//
// A match is a plain list: `[{ field: 'eth_type', value: 0x86dd }, { field: 'ipv6_flabel',
// value: 0x12345, mask: 0xfffff }]`. Values are numbers for fields up to 32 bits, bigint
// for the 64-bit metadata and tunnel_id, and strings for MAC, IPv4 and IPv6 addresses.
// Three well-known extension fields that Ryu and Open vSwitch emit are named too
// (tun_ipv4_src/dst from NXM_1, pbb_uca from the ONF experimenter class); any other
// TLV is kept as `{ field: 'unknown', oxmClass, oxmField, hasMask, data }` and encoded back
// byte for byte.
import { formatIpv4, formatIpv6, formatMac, parseIpv4, parseIpv6Into, parseMacInto } from '../../util/addresses.js';
import { OfpEncodeError, Reader, Writer, checkBytes, checkUint, show } from './buffer.js';
import { OFPMT_OXM, OFPXMC, ONF_EXPERIMENTER_ID } from './constants.js';
import { wireType } from './layout.js';

type OxmKind = 'u8' | 'u16' | 'u24' | 'u32' | 'u64' | 'mac' | 'ipv4' | 'ipv6';

interface OxmValueKinds {
  u8: number;
  u16: number;
  u24: number;
  u32: number;
  u64: bigint;
  mac: string;
  ipv4: string;
  ipv6: string;
}

const KIND_SIZE: Record<OxmKind, number> = { u8: 1, u16: 2, u24: 3, u32: 4, u64: 8, mac: 6, ipv4: 4, ipv6: 16 };

/** A prerequisite (§7.2.3.6): `field` must be present, unmasked, with one of `values`. */
interface Prerequisite {
  field: string;
  values?: readonly number[];
  /** vlan_pcp: vlan_vid must be present and not OFPVID_NONE */
  notValue?: number;
}

interface FieldSpec {
  oxmClass: number;
  code: number;
  kind: OxmKind;
  maskable: boolean;
  /** significant bits of an integer value (ip_dscp 6, ipv6_flabel 20, ...) */
  bits?: number;
  prereq?: Prerequisite;
  /** experimenter OXM (class 0xffff): experimenter id and the 16-bit experimenter field type */
  experimenter?: number;
  expType?: number;
  /** false for fields a set-field action cannot write (§7.2.5: not packet header fields) */
  settable?: false;
}

const B = OFPXMC.OPENFLOW_BASIC;
const ETH_IP = { field: 'eth_type', values: [0x0800, 0x86dd] } as const;
const ETH_IPV4 = { field: 'eth_type', values: [0x0800] } as const;
const ETH_IPV6 = { field: 'eth_type', values: [0x86dd] } as const;
const ETH_ARP = { field: 'eth_type', values: [0x0806] } as const;
const ETH_MPLS = { field: 'eth_type', values: [0x8847, 0x8848] } as const;

/** The header match fields table (§7.2.3.8), in OFPXMT_OFB_* code order. */
const FIELD_SPECS = {
  in_port: { oxmClass: B, code: 0, kind: 'u32', maskable: false, settable: false },
  in_phy_port: { oxmClass: B, code: 1, kind: 'u32', maskable: false, settable: false, prereq: { field: 'in_port' } },
  metadata: { oxmClass: B, code: 2, kind: 'u64', maskable: true, settable: false },
  eth_dst: { oxmClass: B, code: 3, kind: 'mac', maskable: true },
  eth_src: { oxmClass: B, code: 4, kind: 'mac', maskable: true },
  eth_type: { oxmClass: B, code: 5, kind: 'u16', maskable: false },
  vlan_vid: { oxmClass: B, code: 6, kind: 'u16', maskable: true, bits: 13 },
  vlan_pcp: { oxmClass: B, code: 7, kind: 'u8', maskable: false, bits: 3, prereq: { field: 'vlan_vid', notValue: 0 } },
  ip_dscp: { oxmClass: B, code: 8, kind: 'u8', maskable: false, bits: 6, prereq: ETH_IP },
  ip_ecn: { oxmClass: B, code: 9, kind: 'u8', maskable: false, bits: 2, prereq: ETH_IP },
  ip_proto: { oxmClass: B, code: 10, kind: 'u8', maskable: false, prereq: ETH_IP },
  ipv4_src: { oxmClass: B, code: 11, kind: 'ipv4', maskable: true, prereq: ETH_IPV4 },
  ipv4_dst: { oxmClass: B, code: 12, kind: 'ipv4', maskable: true, prereq: ETH_IPV4 },
  tcp_src: { oxmClass: B, code: 13, kind: 'u16', maskable: false, prereq: { field: 'ip_proto', values: [6] } },
  tcp_dst: { oxmClass: B, code: 14, kind: 'u16', maskable: false, prereq: { field: 'ip_proto', values: [6] } },
  udp_src: { oxmClass: B, code: 15, kind: 'u16', maskable: false, prereq: { field: 'ip_proto', values: [17] } },
  udp_dst: { oxmClass: B, code: 16, kind: 'u16', maskable: false, prereq: { field: 'ip_proto', values: [17] } },
  sctp_src: { oxmClass: B, code: 17, kind: 'u16', maskable: false, prereq: { field: 'ip_proto', values: [132] } },
  sctp_dst: { oxmClass: B, code: 18, kind: 'u16', maskable: false, prereq: { field: 'ip_proto', values: [132] } },
  icmpv4_type: { oxmClass: B, code: 19, kind: 'u8', maskable: false, prereq: { field: 'ip_proto', values: [1] } },
  icmpv4_code: { oxmClass: B, code: 20, kind: 'u8', maskable: false, prereq: { field: 'ip_proto', values: [1] } },
  arp_op: { oxmClass: B, code: 21, kind: 'u16', maskable: false, prereq: ETH_ARP },
  arp_spa: { oxmClass: B, code: 22, kind: 'ipv4', maskable: true, prereq: ETH_ARP },
  arp_tpa: { oxmClass: B, code: 23, kind: 'ipv4', maskable: true, prereq: ETH_ARP },
  arp_sha: { oxmClass: B, code: 24, kind: 'mac', maskable: true, prereq: ETH_ARP },
  arp_tha: { oxmClass: B, code: 25, kind: 'mac', maskable: true, prereq: ETH_ARP },
  ipv6_src: { oxmClass: B, code: 26, kind: 'ipv6', maskable: true, prereq: ETH_IPV6 },
  ipv6_dst: { oxmClass: B, code: 27, kind: 'ipv6', maskable: true, prereq: ETH_IPV6 },
  ipv6_flabel: { oxmClass: B, code: 28, kind: 'u32', maskable: true, bits: 20, prereq: ETH_IPV6 },
  icmpv6_type: { oxmClass: B, code: 29, kind: 'u8', maskable: false, prereq: { field: 'ip_proto', values: [58] } },
  icmpv6_code: { oxmClass: B, code: 30, kind: 'u8', maskable: false, prereq: { field: 'ip_proto', values: [58] } },
  ipv6_nd_target: { oxmClass: B, code: 31, kind: 'ipv6', maskable: false, prereq: { field: 'icmpv6_type', values: [135, 136] } },
  ipv6_nd_sll: { oxmClass: B, code: 32, kind: 'mac', maskable: false, prereq: { field: 'icmpv6_type', values: [135] } },
  ipv6_nd_tll: { oxmClass: B, code: 33, kind: 'mac', maskable: false, prereq: { field: 'icmpv6_type', values: [136] } },
  mpls_label: { oxmClass: B, code: 34, kind: 'u32', maskable: false, bits: 20, prereq: ETH_MPLS },
  mpls_tc: { oxmClass: B, code: 35, kind: 'u8', maskable: false, bits: 3, prereq: ETH_MPLS },
  mpls_bos: { oxmClass: B, code: 36, kind: 'u8', maskable: false, bits: 1, prereq: ETH_MPLS },
  pbb_isid: { oxmClass: B, code: 37, kind: 'u24', maskable: true, prereq: { field: 'eth_type', values: [0x88e7] } },
  tunnel_id: { oxmClass: B, code: 38, kind: 'u64', maskable: true },
  // a pseudo-field summarising the extension headers seen, not a header to rewrite
  ipv6_exthdr: { oxmClass: B, code: 39, kind: 'u16', maskable: true, bits: 9, prereq: ETH_IPV6, settable: false },
  // Extensions outside OFPXMC_OPENFLOW_BASIC that switches and Ryu commonly emit.
  tun_ipv4_src: { oxmClass: OFPXMC.NXM_1, code: 31, kind: 'ipv4', maskable: true },
  tun_ipv4_dst: { oxmClass: OFPXMC.NXM_1, code: 32, kind: 'ipv4', maskable: true },
  pbb_uca: {
    oxmClass: OFPXMC.EXPERIMENTER,
    code: 0,
    kind: 'u8',
    maskable: false,
    bits: 1,
    experimenter: ONF_EXPERIMENTER_ID,
    expType: 2560,
    prereq: { field: 'eth_type', values: [0x88e7] },
  },
} as const satisfies Record<string, FieldSpec>;

export type OxmFieldName = keyof typeof FIELD_SPECS;
export type OxmValueOf<K extends OxmFieldName> = OxmValueKinds[(typeof FIELD_SPECS)[K]['kind']];

/** One OXM TLV of a known field; `mask` only on maskable fields (§7.2.3.8). */
export type OxmKnown = {
  [K in OxmFieldName]: { field: K; value: OxmValueOf<K>; mask?: OxmValueOf<K> };
}[OxmFieldName];

/** Any other TLV, kept raw: `data` is everything after the 4-byte header. */
export interface OxmUnknown {
  field: 'unknown';
  oxmClass: number;
  oxmField: number;
  hasMask: boolean;
  data: Uint8Array;
}

export type Oxm = OxmKnown | OxmUnknown;
/** ofp_match with type OFPMT_OXM: the list of its TLVs. */
export type Match = Oxm[];

/** An OXM header without a value, as listed by table-features properties (§7.3.5.5.2). */
export type OxmId =
  | { field: OxmFieldName; hasMask: boolean; length: number }
  | { field: 'unknown'; oxmClass: number; oxmField: number; hasMask: boolean; length: number; experimenter?: number };

export const OXM_FIELD_NAMES = Object.keys(FIELD_SPECS) as OxmFieldName[];

/** A FieldSpec resolved once at load time, so the hot paths do no string-keyed lookups. */
interface RuntimeField {
  name: OxmFieldName;
  /** position in OXM_FIELD_NAMES, for the per-match bookkeeping of checkPrerequisites */
  index: number;
  oxmClass: number;
  code: number;
  kind: OxmKind;
  size: number;
  /** largest value of an integer field (its significant bits, §7.2.3.8) */
  max: number;
  maskable: boolean;
  settable: boolean;
  /** OXM payload length without and with mask, experimenter header included */
  plainLength: number;
  maskedLength: number;
  experimenter: number | undefined;
  expType: number;
  prereq: Prerequisite | undefined;
  prereqIndex: number;
}

const fields: RuntimeField[] = OXM_FIELD_NAMES.map((name, index) => {
  const s: FieldSpec = FIELD_SPECS[name];
  const size = KIND_SIZE[s.kind];
  const expHeader = s.experimenter !== undefined ? 6 : 0;
  return {
    name,
    index,
    oxmClass: s.oxmClass,
    code: s.code,
    kind: s.kind,
    size,
    max: 2 ** (s.bits ?? Math.min(size, 4) * 8) - 1,
    maskable: s.maskable,
    settable: s.settable ?? true,
    plainLength: expHeader + size,
    maskedLength: expHeader + 2 * size,
    experimenter: s.experimenter,
    expType: s.expType ?? 0,
    prereq: s.prereq,
    prereqIndex: s.prereq ? OXM_FIELD_NAMES.indexOf(s.prereq.field as OxmFieldName) : -1,
  };
});
const fieldByName = new Map<string, RuntimeField>(fields.map((f) => [f.name, f]));
const basicByCode: (RuntimeField | undefined)[] = [];
const byClassCode = new Map<number, RuntimeField>();
const experimenterByKey = new Map<string, RuntimeField>();
for (const f of fields) {
  if (f.oxmClass === B) basicByCode[f.code] = f;
  else if (f.experimenter !== undefined) experimenterByKey.set(`${f.experimenter}:${f.expType}`, f);
  else byClassCode.set((f.oxmClass << 7) | f.code, f);
}

export function oxmFieldSpec(name: string): { oxmClass: number; code: number; size: number; maskable: boolean } | undefined {
  const f = fieldByName.get(name);
  return f ? { oxmClass: f.oxmClass, code: f.code, size: f.size, maskable: f.maskable } : undefined;
}

// ---- decoding -----------------------------------------------------------------------------

function readValue(r: Reader, kind: OxmKind): number | bigint | string {
  switch (kind) {
    case 'u8':
      return r.u8();
    case 'u16':
      return r.u16();
    case 'u24':
      return r.u24();
    case 'u32':
      return r.u32();
    case 'u64':
      return r.u64();
    case 'ipv4':
      return formatIpv4(r.u32());
    case 'mac': {
      r.need(6, 'MAC address');
      const s = formatMac(r.bytes, r.pos);
      r.pos += 6;
      return s;
    }
    case 'ipv6': {
      r.need(16, 'IPv6 address');
      const s = formatIpv6(r.bytes, r.pos);
      r.pos += 16;
      return s;
    }
  }
}

/** Decodes one OXM TLV at the reader's position. */
export function decodeOxm(r: Reader): Oxm {
  r.need(4, 'OXM header');
  const oxmClass = r.u16();
  const fieldAndMask = r.u8();
  const length = r.u8();
  const oxmField = fieldAndMask >> 1;
  const hasMask = (fieldAndMask & 1) === 1;
  const outer = r.enter(length, 'OXM TLV');
  let f: RuntimeField | undefined;
  if (oxmClass === B) f = basicByCode[oxmField];
  else if (oxmClass === OFPXMC.EXPERIMENTER) {
    if (length >= 6) f = experimenterByKey.get(`${r.view.getUint32(r.pos)}:${r.view.getUint16(r.pos + 4)}`);
  } else f = byClassCode.get((oxmClass << 7) | oxmField);
  let oxm: Oxm;
  // A known header with a length the spec does not allow is kept raw rather than
  // refused, so the message still decodes and encodes back unchanged.
  if (f !== undefined && length === (hasMask ? f.maskedLength : f.plainLength)) {
    if (f.experimenter !== undefined) r.pos += 6;
    const value = readValue(r, f.kind);
    oxm = hasMask ? ({ field: f.name, value, mask: readValue(r, f.kind) } as Oxm) : ({ field: f.name, value } as Oxm);
  } else {
    oxm = { field: 'unknown', oxmClass, oxmField, hasMask, data: r.rest() };
  }
  r.leave(outer);
  return oxm;
}

/** ofp_match (§7.2.3.1): type, length, TLVs, padding to a multiple of 8. */
export function decodeMatch(r: Reader): Match {
  const start = r.pos;
  r.need(4, 'match header');
  const type = r.u16();
  const length = r.u16();
  if (type !== OFPMT_OXM) r.fail(`match type ${type} is not OFPMT_OXM (1)`, start);
  if (length < 4) r.fail(`match length ${length} < 4`, start + 2);
  r.pos = start;
  const match: Match = [];
  const outer = r.enter(length, 'match');
  r.pos += 4;
  while (r.pos < r.end) match.push(decodeOxm(r));
  r.leave(outer);
  r.skip(((length + 7) & ~7) - length);
  return match;
}

export function decodeOxmId(r: Reader): OxmId {
  const oxmClass = r.u16();
  const fieldAndMask = r.u8();
  const length = r.u8();
  const oxmField = fieldAndMask >> 1;
  const hasMask = (fieldAndMask & 1) === 1;
  if (oxmClass === OFPXMC.EXPERIMENTER) {
    const experimenter = r.u32();
    return { field: 'unknown', oxmClass, oxmField, hasMask, length, experimenter };
  }
  const f = oxmClass === B ? basicByCode[oxmField] : byClassCode.get((oxmClass << 7) | oxmField);
  if (f !== undefined) return { field: f.name, hasMask, length };
  return { field: 'unknown', oxmClass, oxmField, hasMask, length };
}

// ---- encoding -----------------------------------------------------------------------------

/** A match in a flow-mod or flow/aggregate stats request: the spec's rules apply when asked. */
export const checkedMatch = wireType<Match>(decodeMatch, encodeMatch);
/** A match a switch reports (packet-in, flow-removed, flow stats): encoded as it is. */
export const reportedMatch = wireType<Match>(decodeMatch, (w, match, path) => encodeMatch(w, match, path, false));

const U64_LIMIT = 1n << 64n;

function valueError(parent: string, member: string, reason: string): OfpEncodeError {
  return new OfpEncodeError(`${parent}.${member}`, reason);
}

/** Writes a value (or mask); addresses are parsed straight into the output buffer. */
function writeValue(w: Writer, f: RuntimeField, value: unknown, parent: string, member: string): void {
  const kind = f.kind;
  if (kind === 'u8' || kind === 'u16' || kind === 'u24' || kind === 'u32') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > f.max) {
      throw valueError(parent, member, `expected an integer of ${Math.log2(f.max + 1)} bits, got ${show(value)}`);
    }
    if (kind === 'u8') w.u8(value);
    else if (kind === 'u16') w.u16(value);
    else if (kind === 'u24') w.u24(value);
    else w.u32(value);
    return;
  }
  if (kind === 'u64') {
    let v: bigint;
    if (typeof value === 'bigint') v = value;
    else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
    else throw valueError(parent, member, `expected a 64-bit integer (bigint), got ${show(value)}`);
    if (v < 0n || v >= U64_LIMIT) throw valueError(parent, member, `64-bit value out of range: ${v}`);
    w.u64(v);
    return;
  }
  if (kind === 'ipv4') {
    const v = parseIpv4(value as string);
    if (v === undefined) throw valueError(parent, member, `not an IPv4 address: ${show(value)}`);
    w.u32(v);
    return;
  }
  w.ensure(f.size);
  const ok = kind === 'mac' ? parseMacInto(value as string, w.buf, w.pos) : parseIpv6Into(value as string, w.buf, w.pos);
  if (!ok) throw valueError(parent, member, `not ${kind === 'mac' ? 'a MAC' : 'an IPv6'} address: ${show(value)}`);
  w.pos += f.size;
}

export function encodeOxm(w: Writer, oxm: Oxm, path: string): void {
  if (oxm === null || typeof oxm !== 'object') throw new OfpEncodeError(path, 'expected an OXM object');
  if (oxm.field === 'unknown') {
    const data = checkBytes(oxm.data, path, 'data');
    if (data.length > 255) throw new OfpEncodeError(path, 'OXM payload longer than 255 bytes');
    w.u16(checkUint(oxm.oxmClass, 16, path, 'oxmClass'));
    w.u8((checkOxmField(oxm.oxmField, path) << 1) | (oxm.hasMask ? 1 : 0));
    w.u8(data.length);
    w.bytes(data);
    return;
  }
  const f = fieldByName.get(oxm.field);
  if (f === undefined) throw new OfpEncodeError(path, `unknown OXM field ${show(oxm.field)}`);
  const hasMask = oxm.mask !== undefined && oxm.mask !== null;
  if (hasMask && !f.maskable) {
    throw new OfpEncodeError(path, `${oxm.field} cannot be masked (OpenFlow 1.3.5 §7.2.3.8, header match fields)`);
  }
  w.u16(f.oxmClass);
  w.u8((f.code << 1) | (hasMask ? 1 : 0));
  w.u8(hasMask ? f.maskedLength : f.plainLength);
  if (f.experimenter !== undefined) {
    w.u32(f.experimenter);
    w.u16(f.expType);
  }
  writeValue(w, f, oxm.value, path, 'value');
  if (hasMask) writeValue(w, f, oxm.mask, path, 'mask');
}

/**
 * ofp_match: header, TLVs, zero padding to 8 (the length field excludes the padding).
 * With `checkRules`, the match must also be one a switch accepts: prerequisites present
 * and listed first, no field twice (checkPrerequisites), no value bit outside its mask.
 */
export function encodeMatch(w: Writer, match: Match, path: string, checkRules: boolean): void {
  if (!Array.isArray(match)) throw new OfpEncodeError(path, 'expected a list of OXM fields');
  if (checkRules) checkPrerequisites(match, path);
  const start = w.pos;
  w.u16(OFPMT_OXM);
  w.u16(0);
  for (let i = 0; i < match.length; i++) {
    const oxmStart = w.pos;
    const oxm = match[i]!;
    encodeOxm(w, oxm, elementPath(path, i));
    if (checkRules && oxm.field !== 'unknown' && oxm.mask !== undefined && oxm.mask !== null) {
      checkValueWithinMask(w.buf, oxmStart, oxm, elementPath(path, i));
    }
  }
  w.patch16(start + 2, w.pos - start);
  w.pad8(start);
}

/**
 * §7.2.3.5 "Flow Match Field Masking": a value bit may be 1 only where the mask bit is 1;
 * a switch refuses anything else with OFPBMC_BAD_WILDCARDS. Compares the encoded TLV at `at`.
 */
function checkValueWithinMask(buf: Uint8Array, at: number, oxm: OxmKnown, path: string): void {
  const f = fieldByName.get(oxm.field)!;
  const valueAt = at + 4 + (f.experimenter !== undefined ? 6 : 0);
  for (let k = 0; k < f.size; k++) {
    if ((buf[valueAt + k]! & ~buf[valueAt + f.size + k]!) !== 0) {
      throw new OfpEncodeError(
        path,
        `${oxm.field} value ${show(oxm.value)} has bits set outside its mask ${show(oxm.mask)} (OpenFlow 1.3.5 §7.2.3.5; a switch answers OFPBMC_BAD_WILDCARDS)`,
      );
    }
  }
}

/** `path[i]`: V8 builds it as a cheap rope; it is only flattened if an error uses it. */
function elementPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function encodeOxmId(w: Writer, id: OxmId, path: string): void {
  if (id === null || typeof id !== 'object') throw new OfpEncodeError(path, 'expected an OXM id object');
  if (id.field === 'unknown') {
    w.u16(checkUint(id.oxmClass, 16, path, 'oxmClass'));
    w.u8((checkOxmField(id.oxmField, path) << 1) | (id.hasMask ? 1 : 0));
    w.u8(checkUint(id.length, 8, path, 'length'));
    if (id.oxmClass === OFPXMC.EXPERIMENTER) w.u32(checkUint(id.experimenter ?? 0, 32, path, 'experimenter'));
    return;
  }
  const f = fieldByName.get(id.field);
  if (f === undefined) throw new OfpEncodeError(path, `unknown OXM field ${show(id.field)}`);
  w.u16(f.oxmClass);
  w.u8((f.code << 1) | (id.hasMask ? 1 : 0));
  w.u8(checkUint(id.length, 8, path, 'length'));
  if (f.experimenter !== undefined) w.u32(f.experimenter);
}

function checkOxmField(value: unknown, path: string): number {
  const v = checkUint(value, 8, path, 'oxmField');
  if (v > 0x7f) throw new OfpEncodeError(`${path}.oxmField`, `an OXM field number has 7 bits, got ${v}`);
  return v;
}

/** Where each known field sits in the match being checked (-1: absent); reset after use. */
const positionOf = new Int32Array(fields.length).fill(-1);

/**
 * §7.2.3.6 "Flow Match Field Prerequisite": a field may only appear when its prerequisite
 * field is in the match, unmasked, with an allowed value (recursively, since the
 * prerequisite has its own), and listed before it — a switch reads the TLVs in order and
 * refuses one whose prerequisite it has not seen yet (OFPBMC_BAD_PREREQ). Also refuses a
 * field given twice (OFPBMC_DUP_FIELD). Throws OfpEncodeError naming both fields.
 */
export function checkPrerequisites(match: Match, path: string): void {
  try {
    for (let i = 0; i < match.length; i++) {
      const oxm = match[i];
      if (!oxm || oxm.field === 'unknown') continue;
      const f = fieldByName.get(oxm.field);
      if (f === undefined) continue; // encodeOxm reports it with its path
      if (positionOf[f.index] !== -1) {
        throw new OfpEncodeError(elementPath(path, i), `${oxm.field} appears twice in the match (OFPBMC_DUP_FIELD)`);
      }
      positionOf[f.index] = i;
    }
    for (let i = 0; i < match.length; i++) {
      const oxm = match[i];
      if (!oxm || oxm.field === 'unknown') continue;
      const f = fieldByName.get(oxm.field);
      const pre = f?.prereq;
      if (f === undefined || pre === undefined) continue;
      const at = positionOf[f.prereqIndex]!;
      const found = at >= 0 ? (match[at] as OxmKnown) : undefined;
      if (!prerequisiteMet(pre, found)) throw prerequisiteError(oxm.field, pre, found, elementPath(path, i), 'the match');
      if (at > i) {
        throw new OfpEncodeError(
          elementPath(path, i),
          `${oxm.field}: prerequisite ${pre.field}=${formatPrereqValue(found!.value)} (match[${at}]) must come before it (OpenFlow 1.3.5 §7.2.3.6; a switch answers OFPBMC_BAD_PREREQ)`,
        );
      }
    }
  } finally {
    for (let i = 0; i < match.length; i++) {
      const oxm = match[i];
      const f = oxm && oxm.field !== 'unknown' ? fieldByName.get(oxm.field) : undefined;
      if (f !== undefined) positionOf[f.index] = -1;
    }
  }
}

/** Whether `found` (the prerequisite field's OXM, or undefined when absent) satisfies `pre`. */
function prerequisiteMet(pre: Prerequisite, found: OxmKnown | undefined): boolean {
  const masked = found !== undefined && found.mask !== undefined && found.mask !== null;
  return (
    found !== undefined &&
    (pre.values === undefined || (!masked && pre.values.includes(found.value as number))) &&
    (pre.notValue === undefined || masked || found.value !== pre.notValue)
  );
}

function prerequisiteError(field: string, pre: Prerequisite, found: OxmKnown | undefined, where: string, source: string): OfpEncodeError {
  const needed = pre.values
    ? pre.values.map((v) => `${pre.field}=${formatPrereqValue(v)}`).join(' or ')
    : pre.notValue !== undefined
      ? `${pre.field}!=${pre.notValue}`
      : pre.field;
  const masked = found !== undefined && found.mask !== undefined && found.mask !== null;
  const actual =
    found === undefined
      ? `${source} has no ${pre.field}`
      : `${source} has ${pre.field}=${formatPrereqValue(found.value)}${masked ? ' (masked)' : ''}`;
  return new OfpEncodeError(where, `${field} requires ${needed}, but ${actual} (OpenFlow 1.3.5 §7.2.3.6 prerequisites)`);
}

function formatPrereqValue(v: unknown): string {
  return typeof v === 'number' && v > 255 ? `0x${v.toString(16).padStart(4, '0')}` : String(v);
}

/**
 * The set-field rules of §7.2.5 that hold whatever the flow: the field must be a packet
 * header field (not in_port, in_phy_port, metadata — nor the ipv6_exthdr pseudo-field) and
 * carry no mask. Returns why `oxm` breaks them, or undefined.
 */
export function setFieldRuleBroken(oxm: OxmKnown): string | undefined {
  const f = fieldByName.get(oxm.field);
  if (f === undefined) return undefined;
  if (!f.settable) return `set_field cannot write ${oxm.field}: it is not a packet header field (OpenFlow 1.3.5 §7.2.5; a switch answers OFPBAC_BAD_SET_TYPE)`;
  if (oxm.mask !== undefined && oxm.mask !== null) return `set_field ${oxm.field} cannot carry a mask (OpenFlow 1.3.5 §7.2.5; a switch answers OFPBAC_BAD_SET_MASK)`;
  return undefined;
}

/** The field a set-field of `oxm` needs the packet to be known to have (§7.2.3.6), if any. */
export function prerequisiteFieldOf(oxm: OxmKnown): OxmFieldName | undefined {
  return fieldByName.get(oxm.field)?.prereq?.field as OxmFieldName | undefined;
}

/**
 * Checks that `found` — what the flow's match and the actions before it say about the
 * prerequisite field — lets a set-field write `oxm`; throws OfpEncodeError at `path()`.
 */
export function checkSetFieldPrerequisite(oxm: OxmKnown, found: OxmKnown | undefined, path: () => string): void {
  const pre = fieldByName.get(oxm.field)?.prereq;
  if (pre !== undefined && !prerequisiteMet(pre, found)) throw prerequisiteError(`set_field ${oxm.field}`, pre, found, path(), 'the flow');
}

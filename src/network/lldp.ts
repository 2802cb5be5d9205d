// LLDP frames for topology discovery (IEEE 802.1AB-2016, §8): the controller sends one
// out of every switch port in a packet-out and learns a link direction when a neighbour
// switch hands it back in a packet-in. Our frame carries the mandatory TLVs in order —
// Chassis ID (subtype 7, locally assigned: "dpid:" + 16 hex digits), Port ID (subtype 2,
// port component: the OpenFlow port number as 4 big-endian bytes), Time To Live — then
// End of LLDPDU, padded to the 60-byte Ethernet minimum. The parser accepts any
// well-formed LLDPDU (optionally behind one 802.1Q / 802.1ad tag), reports what it
// found, and never throws: hostile bytes give a typed error.
import { formatDpid } from '../util/dpid.js';

export const LLDP_ETHERTYPE = 0x88cc;
/** Nearest-bridge group address (802.1AB Table 7-1): not forwarded by 802.1D bridges. */
export const LLDP_MULTICAST = '01:80:c2:00:00:0e';
export const LLDP_DEFAULT_TTL_SECONDS = 120;

const TLV_END = 0;
const TLV_CHASSIS_ID = 1;
const TLV_PORT_ID = 2;
const TLV_TTL = 3;
const CHASSIS_SUBTYPE_LOCAL = 7;
const PORT_SUBTYPE_COMPONENT = 2;
const PORT_SUBTYPE_LOCAL = 7;
const DPID_PREFIX = 'dpid:';
const ETH_MIN_FRAME = 60;

export interface LldpProbe {
  dpid: bigint;
  /** the OpenFlow port the probe leaves by (1..0xffffff00) */
  port: number;
  /** source MAC of the frame, normally the port's hw_addr */
  srcMac: string;
  ttlSeconds?: number;
}

export interface LldpTlv {
  type: number;
  value: Uint8Array;
}

export interface LldpFrame {
  vlan?: number;
  srcMac: string;
  chassisSubtype: number;
  chassisId: Uint8Array;
  portSubtype: number;
  portId: Uint8Array;
  ttlSeconds: number;
  /** optional TLVs after TTL, in order */
  extra: LldpTlv[];
}

export type LldpErrorCode = 'truncated' | 'not-lldp' | 'bad-tlv' | 'missing-tlv' | 'not-ours';
export type LldpParseResult = { ok: true; frame: LldpFrame } | { ok: false; code: LldpErrorCode; message: string };
export type ProbeParseResult = { ok: true; dpid: bigint; port: number; ttlSeconds: number } | { ok: false; code: LldpErrorCode; message: string };

function macBytes(mac: string): Uint8Array {
  const m = /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){5}$/.exec(mac);
  if (!m) throw new RangeError(`bad MAC address ${JSON.stringify(mac)}`);
  return Uint8Array.from(mac.split(/[:-]/).map((b) => parseInt(b, 16)));
}

function macText(bytes: Uint8Array, at: number): string {
  return Array.from(bytes.subarray(at, at + 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Builds the probe frame for one port (throws RangeError on a bad dpid, port, MAC or TTL: caller bugs). */
export function buildLldpProbe(probe: LldpProbe): Uint8Array {
  if (probe.dpid < 0n || probe.dpid >= 1n << 64n) throw new RangeError('dpid must fit in 64 bits');
  if (!Number.isInteger(probe.port) || probe.port < 1 || probe.port > 0xffffff00) throw new RangeError('port must be an OpenFlow physical port number');
  const ttl = probe.ttlSeconds ?? LLDP_DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 0xffff) throw new RangeError('ttlSeconds must be 0..65535');
  const chassis = new TextEncoder().encode(DPID_PREFIX + formatDpid(probe.dpid));
  const tlvs: [number, Uint8Array][] = [
    [TLV_CHASSIS_ID, concat([Uint8Array.of(CHASSIS_SUBTYPE_LOCAL), chassis])],
    [TLV_PORT_ID, Uint8Array.of(PORT_SUBTYPE_COMPONENT, probe.port >>> 24, (probe.port >>> 16) & 0xff, (probe.port >>> 8) & 0xff, probe.port & 0xff)],
    [TLV_TTL, Uint8Array.of(ttl >>> 8, ttl & 0xff)],
    [TLV_END, new Uint8Array(0)],
  ];
  const parts: Uint8Array[] = [macBytes(LLDP_MULTICAST), macBytes(probe.srcMac), Uint8Array.of(LLDP_ETHERTYPE >>> 8, LLDP_ETHERTYPE & 0xff)];
  for (const [type, value] of tlvs) parts.push(Uint8Array.of((type << 1) | (value.length >>> 8), value.length & 0xff), value);
  const frame = concat(parts);
  if (frame.length >= ETH_MIN_FRAME) return frame;
  const padded = new Uint8Array(ETH_MIN_FRAME);
  padded.set(frame);
  return padded;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Parses an Ethernet frame holding an LLDPDU; never throws. */
export function parseLldp(input: Uint8Array): LldpParseResult {
  const bytes = input;
  if (!(bytes instanceof Uint8Array)) return { ok: false, code: 'not-lldp', message: 'not a byte array' };
  if (bytes.length < 14) return { ok: false, code: 'truncated', message: 'shorter than an Ethernet header' };
  let at = 12;
  let etherType = (bytes[at]! << 8) | bytes[at + 1]!;
  let vlan: number | undefined;
  if (etherType === 0x8100 || etherType === 0x88a8) {
    if (bytes.length < 18) return { ok: false, code: 'truncated', message: 'truncated VLAN tag' };
    vlan = ((bytes[14]! << 8) | bytes[15]!) & 0x0fff;
    at = 16;
    etherType = (bytes[at]! << 8) | bytes[at + 1]!;
  }
  if (etherType !== LLDP_ETHERTYPE) return { ok: false, code: 'not-lldp', message: `EtherType 0x${etherType.toString(16).padStart(4, '0')} is not LLDP` };
  at += 2;
  const tlvs: LldpTlv[] = [];
  let ended = false;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) return { ok: false, code: 'truncated', message: 'truncated TLV header' };
    const type = bytes[at]! >>> 1;
    const length = ((bytes[at]! & 1) << 8) | bytes[at + 1]!;
    at += 2;
    if (at + length > bytes.length) return { ok: false, code: 'truncated', message: `TLV type ${type} runs past the end of the frame` };
    if (type === TLV_END) {
      if (length !== 0) return { ok: false, code: 'bad-tlv', message: 'End of LLDPDU TLV must have length 0' };
      ended = true;
      break;
    }
    tlvs.push({ type, value: bytes.slice(at, at + length) });
    at += length;
  }
  if (!ended) return { ok: false, code: 'truncated', message: 'no End of LLDPDU TLV' };
  // 802.1AB §8.2: Chassis ID, Port ID and TTL come first, in that order.
  const [chassis, port, ttl] = tlvs;
  if (!chassis || chassis.type !== TLV_CHASSIS_ID) return { ok: false, code: 'missing-tlv', message: 'first TLV is not a Chassis ID' };
  if (!port || port.type !== TLV_PORT_ID) return { ok: false, code: 'missing-tlv', message: 'second TLV is not a Port ID' };
  if (!ttl || ttl.type !== TLV_TTL) return { ok: false, code: 'missing-tlv', message: 'third TLV is not a Time To Live' };
  if (chassis.value.length < 2 || chassis.value.length > 256) return { ok: false, code: 'bad-tlv', message: 'Chassis ID length must be 2..256' };
  if (port.value.length < 2 || port.value.length > 256) return { ok: false, code: 'bad-tlv', message: 'Port ID length must be 2..256' };
  if (ttl.value.length < 2) return { ok: false, code: 'bad-tlv', message: 'TTL TLV must be at least 2 bytes' };
  for (const t of tlvs.slice(3)) {
    if (t.type === TLV_CHASSIS_ID || t.type === TLV_PORT_ID || t.type === TLV_TTL) {
      return { ok: false, code: 'bad-tlv', message: `TLV type ${t.type} may appear only once` };
    }
  }
  const frame: LldpFrame = {
    srcMac: macText(bytes, 6),
    chassisSubtype: chassis.value[0]!,
    chassisId: chassis.value.slice(1),
    portSubtype: port.value[0]!,
    portId: port.value.slice(1),
    ttlSeconds: (ttl.value[0]! << 8) | ttl.value[1]!,
    extra: tlvs.slice(3),
  };
  if (vlan !== undefined) frame.vlan = vlan;
  return { ok: true, frame };
}

/**
 * Parses a probe that this controller (or another using the same convention) built:
 * the dpid from a locally assigned "dpid:<16 hex>" chassis id, the port from a 4-byte
 * port-component or decimal locally assigned port id. Frames from other LLDP speakers
 * (a host's lldpd, say) give `not-ours`. Never throws.
 */
export function parseLldpProbe(input: Uint8Array): ProbeParseResult {
  const r = parseLldp(input);
  if (!r.ok) return r;
  const f = r.frame;
  if (f.chassisSubtype !== CHASSIS_SUBTYPE_LOCAL) return { ok: false, code: 'not-ours', message: 'chassis id is not locally assigned' };
  const chassis = asciiOf(f.chassisId);
  const m = chassis === undefined ? null : /^dpid:([0-9a-f]{16})$/.exec(chassis);
  if (!m) return { ok: false, code: 'not-ours', message: 'chassis id is not "dpid:" and 16 hex digits' };
  let port: number;
  if (f.portSubtype === PORT_SUBTYPE_COMPONENT && f.portId.length === 4) {
    port = ((f.portId[0]! << 24) | (f.portId[1]! << 16) | (f.portId[2]! << 8) | f.portId[3]!) >>> 0;
  } else if (f.portSubtype === PORT_SUBTYPE_LOCAL) {
    const text = asciiOf(f.portId);
    if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) return { ok: false, code: 'not-ours', message: 'port id is not a decimal port number' };
    port = Number(text);
  } else return { ok: false, code: 'not-ours', message: 'port id is neither a 4-byte port component nor a local port number' };
  if (port < 1 || port > 0xffffff00) return { ok: false, code: 'not-ours', message: 'port id is not an OpenFlow physical port' };
  return { ok: true, dpid: BigInt(`0x${m[1]}`), port, ttlSeconds: f.ttlSeconds };
}

function asciiOf(bytes: Uint8Array): string | undefined {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return undefined;
  return String.fromCharCode(...bytes);
}

// Conversions between the typed API and the packed records of layout.ts: flow keys,
// rule records, IP address text. Shared by Engine and ReferenceEngine, so both see the same
// bytes. Bad input (a malformed address, an out-of-range field) throws DataPlaneError.
import {
  DSCP_KEEP, K_DPORT, K_DST, K_ETHERTYPE, K_FLOW_LABEL, K_IN_PORT, K_PROTO, K_SPORT, K_SRC, K_TOS, K_VLAN_INNER,
  K_VLAN_OUTER, KEY_BYTES, RA_DROP, RA_FORWARD, RL_ACTION, RL_CLASS, RL_DPORT_HI, RL_DPORT_LO, RL_DSCP, RL_MASK,
  RL_METER, RL_PRIORITY, RL_QUEUE, RL_SPORT_HI, RL_SPORT_LO, RL_VALUE, RULE_BYTES,
} from './layout.js';
import { formatIpBytes, parseIpBytes } from '../util/addresses.js';
import { DataPlaneError, type ClassExcessPolicy, type FlowKeyFields, type PortMatch, type RuleAction, type WildcardRule } from './types.js';

function bad(message: string): never {
  throw new DataPlaneError('bad_argument', message);
}

function checkInt(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) bad(`${name} must be an integer in [0, ${max}], got ${v}`);
  return v;
}

/** Parses an IPv4 or IPv6 address into 4 or 16 bytes. */
export function parseAddress(text: string): Uint8Array {
  const bytes = typeof text === 'string' ? parseIpBytes(text) : undefined;
  if (bytes === undefined) bad(`not an IP address: ${text}`);
  return bytes;
}

export const formatAddress = formatIpBytes;

export function encodeKey(k: FlowKeyFields, out: Uint8Array, at = 0): void {
  out.fill(0, at, at + KEY_BYTES);
  const dv = new DataView(out.buffer, out.byteOffset + at, KEY_BYTES);
  dv.setUint32(K_IN_PORT, checkInt('inPort', k.inPort ?? 0, 0xffffffff), true);
  if (k.vlan !== undefined) dv.setUint16(K_VLAN_OUTER, checkInt('vlan', k.vlan, 4095) | 0x1000, true);
  if (k.vlanInner !== undefined) dv.setUint16(K_VLAN_INNER, checkInt('vlanInner', k.vlanInner, 4095) | 0x1000, true);
  const src = k.src !== undefined ? parseAddress(k.src) : undefined;
  const dst = k.dst !== undefined ? parseAddress(k.dst) : undefined;
  const v6 = (src?.length ?? dst?.length) === 16;
  const ethertype = k.ethertype ?? (src || dst ? (v6 ? 0x86dd : 0x0800) : 0);
  dv.setUint16(K_ETHERTYPE, checkInt('ethertype', ethertype, 0xffff), true);
  dv.setUint8(K_PROTO, checkInt('proto', k.proto ?? 0, 255));
  dv.setUint8(K_TOS, (checkInt('dscp', k.dscp ?? 0, 63) << 2) | checkInt('ecn', k.ecn ?? 0, 3));
  dv.setUint16(K_SPORT, checkInt('sport', k.sport ?? 0, 0xffff), true);
  dv.setUint16(K_DPORT, checkInt('dport', k.dport ?? 0, 0xffff), true);
  dv.setUint32(K_FLOW_LABEL, checkInt('flowLabel', k.flowLabel ?? 0, 0xfffff), true);
  if (src) out.set(src, at + K_SRC);
  if (dst) out.set(dst, at + K_DST);
}

/** Reads a key back into fields (addresses as text). */
export function decodeKey(bytes: Uint8Array, at = 0): Required<Omit<FlowKeyFields, 'vlan' | 'vlanInner'>> & { vlan: number | null; vlanInner: number | null } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, KEY_BYTES);
  const ethertype = dv.getUint16(K_ETHERTYPE, true);
  const v6 = ethertype === 0x86dd;
  const vo = dv.getUint16(K_VLAN_OUTER, true), vi = dv.getUint16(K_VLAN_INNER, true);
  const tos = dv.getUint8(K_TOS);
  return {
    inPort: dv.getUint32(K_IN_PORT, true),
    vlan: vo & 0x1000 ? vo & 0xfff : null,
    vlanInner: vi & 0x1000 ? vi & 0xfff : null,
    ethertype,
    proto: dv.getUint8(K_PROTO),
    dscp: tos >> 2,
    ecn: tos & 3,
    sport: dv.getUint16(K_SPORT, true),
    dport: dv.getUint16(K_DPORT, true),
    flowLabel: dv.getUint32(K_FLOW_LABEL, true),
    src: formatAddress(bytes.subarray(at + K_SRC, at + K_SRC + 16), v6),
    dst: formatAddress(bytes.subarray(at + K_DST, at + K_DST + 16), v6),
  };
}

function prefix(text: string): { addr: Uint8Array; len: number } {
  const [a, l] = text.split('/');
  const addr = parseAddress(a!);
  const max = addr.length * 8;
  const len = l === undefined ? max : /^\d+$/.test(l) ? Number(l) : NaN;
  if (!(len >= 0 && len <= max)) bad(`bad prefix length in ${text}`);
  return { addr, len };
}

function ports(name: string, m: PortMatch | undefined): [number, number] {
  if (m === undefined) return [0, 0xffff];
  const [lo, hi] = typeof m === 'number' ? [m, m] : m;
  checkInt(name, lo, 0xffff);
  checkInt(name, hi, 0xffff);
  if (lo > hi) bad(`${name} range [${lo}, ${hi}] is empty`);
  return [lo, hi];
}

export interface EncodedAction {
  action: number;
  cls: number;
  queue: number;
  dscp: number;
  meter: number;
}

export function encodeAction(a: RuleAction, meterCapacity: number): EncodedAction {
  if (a.action !== 'forward' && a.action !== 'drop') bad(`unknown action ${String(a.action)}`);
  const meter = a.meter ?? -1;
  if (meter !== -1) checkInt('meter', meter, meterCapacity - 1);
  return {
    action: a.action === 'drop' ? RA_DROP : RA_FORWARD,
    cls: checkInt('class', a.class ?? 0, 63),
    queue: checkInt('queue', a.queue ?? 0, 255),
    dscp: a.dscp === undefined ? DSCP_KEEP : checkInt('dscp', a.dscp, 63),
    meter,
  };
}

/**
 * A class's excess policy as the engines' one policy word (assembly/actions.ts XP_*): bits
 * 0-1 yellow (0 downgrade, 1 drop, 2 forward), bit 2 red downgrade, bit 3 a downgrade
 * target of its own in bits 8-13 (class), 16-23 (queue), 24-29 (DSCP).
 */
export function encodeClassExcess(cls: number, p: ClassExcessPolicy): { cls: number; word: number } {
  const c = checkInt('class', cls, 63);
  const yellow = ({ downgrade: 0, drop: 1, forward: 2 } as const)[p.yellow];
  if (yellow === undefined) bad(`unknown yellow action ${String(p.yellow)}`);
  if (p.red !== 'drop' && p.red !== 'downgrade') bad(`unknown red action ${String(p.red)}`);
  let word = yellow | (p.red === 'downgrade' ? 4 : 0);
  if (p.to) word |= 8 | (checkInt('to.class', p.to.class, 63) << 8) | (checkInt('to.queue', p.to.queue, 255) << 16) | (checkInt('to.dscp', p.to.dscp, 63) << 24);
  return { cls: c, word: word >>> 0 };
}

/** Writes a rule record (value, mask, priority, ranges, action) into out[at .. at + 136). */
export function encodeRule(r: WildcardRule, meterCapacity: number, out: Uint8Array, at = 0): void {
  if (!Number.isInteger(r.priority) || r.priority < -0x80000000 || r.priority > 0x7fffffff) bad('priority must be a 32-bit integer');
  out.fill(0, at, at + RULE_BYTES);
  const dv = new DataView(out.buffer, out.byteOffset + at, RULE_BYTES);
  const V = RL_VALUE, M = RL_MASK;
  if (r.inPort !== undefined) {
    dv.setUint32(V + K_IN_PORT, checkInt('inPort', r.inPort, 0xffffffff), true);
    dv.setUint32(M + K_IN_PORT, 0xffffffff, true);
  }
  const src = r.src !== undefined ? prefix(r.src) : undefined;
  const dst = r.dst !== undefined ? prefix(r.dst) : undefined;
  if (src && dst && src.addr.length !== dst.addr.length) bad('src and dst are of different address families');
  let ethertype = r.ethertype;
  const family = src ?? dst;
  if (ethertype === undefined && family) ethertype = family.addr.length === 16 ? 0x86dd : 0x0800;
  if (r.flowLabel !== undefined && ethertype === undefined) ethertype = 0x86dd;
  if (ethertype !== undefined) {
    dv.setUint16(V + K_ETHERTYPE, checkInt('ethertype', ethertype, 0xffff), true);
    dv.setUint16(M + K_ETHERTYPE, 0xffff, true);
  }
  for (const [p, off] of [[src, K_SRC], [dst, K_DST]] as const) {
    if (!p) continue;
    for (let i = 0; i < p.addr.length; i++) {
      const bits = Math.max(0, Math.min(8, p.len - 8 * i));
      const m = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
      out[at + V + off + i] = p.addr[i]! & m;
      out[at + M + off + i] = m;
    }
  }
  if (r.proto !== undefined) {
    dv.setUint8(V + K_PROTO, checkInt('proto', r.proto, 255));
    dv.setUint8(M + K_PROTO, 0xff);
  }
  if (r.dscp !== undefined) {
    dv.setUint8(V + K_TOS, checkInt('dscp', r.dscp, 63) << 2);
    dv.setUint8(M + K_TOS, 0xfc);
  }
  if (r.flowLabel !== undefined) {
    const fl = typeof r.flowLabel === 'number' ? { value: r.flowLabel, mask: 0xfffff } : r.flowLabel;
    checkInt('flowLabel', fl.value, 0xfffff);
    checkInt('flowLabel mask', fl.mask, 0xfffff);
    dv.setUint32(V + K_FLOW_LABEL, fl.value & fl.mask, true);
    dv.setUint32(M + K_FLOW_LABEL, fl.mask, true);
  }
  const [sLo, sHi] = ports('sport', r.sport);
  const [dLo, dHi] = ports('dport', r.dport);
  dv.setUint16(RL_SPORT_LO, sLo, true);
  dv.setUint16(RL_SPORT_HI, sHi, true);
  dv.setUint16(RL_DPORT_LO, dLo, true);
  dv.setUint16(RL_DPORT_HI, dHi, true);
  dv.setInt32(RL_PRIORITY, r.priority, true);
  const a = encodeAction(r.action, meterCapacity);
  dv.setUint8(RL_ACTION, a.action);
  dv.setUint8(RL_CLASS, a.cls);
  dv.setUint8(RL_DSCP, a.dscp);
  dv.setUint8(RL_QUEUE, a.queue);
  dv.setInt32(RL_METER, a.meter, true);
}

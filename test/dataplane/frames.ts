// Test helper: builds Ethernet frames header by header and records, for every byte, which
// header it belongs to, so that a test can tell the reason code a frame cut at that byte
// must get (the header holding the first missing byte). Not a test file itself.
import { parseAddress } from '../../src/dataplane/keys.js';
import { Reason } from '../../src/dataplane/types.js';

export interface Ext {
  type: 0 | 43 | 44 | 60 | 51;
  /** fragment header: offset in 8-byte units, and the more-fragments flag */
  fragOffset?: number;
  /** length in 8-byte units beyond the first 8 (AH: 4-byte units beyond the first 8) */
  extraUnits?: number;
}

/** An IPv4 AH header: 12 bytes (next header, length, reserved, SPI, sequence) + ICV words. */
export interface AuthHeader {
  /** ICV length in 4-byte units */
  extraUnits?: number;
}

export interface FrameSpec {
  vlans?: number[];
  /** an ethertype with no IP header following (ARP, say) */
  ethertype?: number;
  ip?:
    /** IPv4: proto is the upper layer; with `ah`, AH headers (RFC 4302) sit between the two */
    | { v: 4; src: string; dst: string; proto: number; tos?: number; optionWords?: number; fragOffset?: number; mf?: boolean; ah?: AuthHeader[] }
    | { v: 6; src: string; dst: string; nh: number; tc?: number; flowLabel?: number; ext?: Ext[] };
  l4?: { sport?: number; dport?: number; type?: number; code?: number; tcpOptionWords?: number };
  payload?: number;
}

export interface BuiltFrame {
  bytes: Uint8Array;
  /** reason for a cut whose first missing byte is i */
  cutReason(i: number): number;
}

export function buildFrame(spec: FrameSpec): BuiltFrame {
  const out: number[] = [];
  const owner: number[] = [];
  const push = (reason: number, ...bytes: number[]) => {
    for (const b of bytes) {
      out.push(b & 0xff);
      owner.push(reason);
    }
  };
  const u16 = (x: number) => [x >> 8, x & 0xff];
  push(Reason.TruncatedEthernet, 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2);
  const vlans = spec.vlans ?? [];
  const ethertype = spec.ethertype ?? (spec.ip?.v === 6 ? 0x86dd : spec.ip ? 0x0800 : 0x0806);
  vlans.forEach((vid, i) => {
    push(i === 0 ? Reason.TruncatedEthernet : Reason.TruncatedVlan, ...u16(i === 0 && vlans.length === 2 ? 0x88a8 : 0x8100));
    // the TCI and the next ethertype belong to the tag
    owner.length; // (tag bytes follow)
    push(Reason.TruncatedVlan, ...u16(vid));
  });
  push(vlans.length ? Reason.TruncatedVlan : Reason.TruncatedEthernet, ...u16(ethertype));
  const ip = spec.ip;
  if (!ip) {
    push(Reason.Ok, 0, 1, 8, 0, 6, 4, 0, 1);
    return finish(out, owner);
  }
  const l4Len = l4Length(ip.v === 4 ? ip.proto : lastNh(ip), spec.l4);
  const payload = spec.payload ?? 6;
  let l4Reason: number = Reason.TruncatedL4;
  if (ip.v === 4) {
    const ihl = 5 + (ip.optionWords ?? 0);
    const nonFirst = (ip.fragOffset ?? 0) !== 0;
    const ah = ip.ah ?? [];
    const ahLen = ah.reduce((n, a) => n + ahSize(a), 0);
    const total = ihl * 4 + ahLen + l4Len + payload;
    const h = [0x40 | ihl, ip.tos ?? 0, ...u16(total), 0x12, 0x34, ...u16(((ip.mf ? 1 : 0) << 13) | (ip.fragOffset ?? 0)), 64, ah.length ? 51 : ip.proto, 0, 0, ...parseAddress(ip.src), ...parseAddress(ip.dst)];
    for (let i = 0; i < (ip.optionWords ?? 0); i++) h.push(1, 1, 1, 1); // NOP options
    let sum = 0;
    for (let i = 0; i < h.length; i += 2) sum += (h[i]! << 8) | h[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    const cs = ~sum & 0xffff;
    h[10] = cs >> 8;
    h[11] = cs & 0xff;
    push(Reason.TruncatedIPv4, ...h);
    if (nonFirst) l4Reason = Reason.TruncatedPayload;
    ah.forEach((a, i) => {
      const size = ahSize(a);
      const next = i + 1 < ah.length ? 51 : ip.proto;
      // SPI 0x100 + i, sequence 1, ICV 0xa5…; a non-first fragment's AH is never read
      const hdr = [next, size / 4 - 2, 0, 0, 0, 0, 1, i, 0, 0, 0, 1, ...new Array<number>(size - 12).fill(0xa5)];
      push(nonFirst ? Reason.TruncatedPayload : Reason.TruncatedExtension, ...hdr);
    });
  } else {
    const exts = ip.ext ?? [];
    const extLen = exts.reduce((n, e) => n + extSize(e), 0);
    const plen = extLen + l4Len + payload;
    const tc = ip.tc ?? 0, fl = ip.flowLabel ?? 0;
    push(Reason.TruncatedIPv6, 0x60 | (tc >> 4), ((tc & 15) << 4) | (fl >> 16), (fl >> 8) & 0xff, fl & 0xff, ...u16(plen), exts.length ? exts[0]!.type : ip.nh, 64, ...parseAddress(ip.src), ...parseAddress(ip.dst));
    exts.forEach((e, i) => {
      const next = i + 1 < exts.length ? exts[i + 1]!.type : ip.nh;
      const size = extSize(e);
      const h = new Array<number>(size).fill(0);
      h[0] = next;
      if (e.type === 51) h[1] = size / 4 - 2;
      else if (e.type !== 44) h[1] = size / 8 - 1;
      if (e.type === 44) {
        const fo = (e.fragOffset ?? 0) << 3;
        h[2] = fo >> 8;
        h[3] = fo & 0xff;
        if (e.fragOffset) l4Reason = Reason.TruncatedPayload;
      }
      if (e.type === 0 || e.type === 60) {
        h[2] = 1; // PadN option covering the rest
        h[3] = size - 4;
      }
      push(Reason.TruncatedExtension, ...h);
    });
  }
  const proto = ip.v === 4 ? ip.proto : ip.nh;
  const l = spec.l4 ?? {};
  if (proto === 6) {
    const opt = l.tcpOptionWords ?? 0;
    const h = [...u16(l.sport ?? 0), ...u16(l.dport ?? 0), 0, 0, 0, 1, 0, 0, 0, 0, (5 + opt) << 4, 0x18, 0xff, 0xff, 0, 0, 0, 0];
    for (let i = 0; i < opt; i++) h.push(1, 1, 1, 1);
    push(l4Reason, ...h);
  } else if (proto === 17) {
    push(l4Reason, ...u16(l.sport ?? 0), ...u16(l.dport ?? 0), ...u16(8 + payload), 0, 0);
  } else if (proto === 1 || proto === 58) {
    push(l4Reason, l.type ?? 8, l.code ?? 0, 0, 0);
    push(Reason.TruncatedPayload, 0, 1, 0, 1);
  } else if (proto === 50) {
    // ESP (RFC 4303): SPI and sequence number, then ciphertext; the parser reads none of it
    push(Reason.TruncatedPayload, 0, 0, 0x12, 0x34, 0, 0, 0, 7);
  }
  for (let i = 0; i < payload; i++) push(Reason.TruncatedPayload, 0x5a);
  return finish(out, owner);
}

function lastNh(ip: { nh: number }): number {
  return ip.nh;
}

function extSize(e: Ext): number {
  if (e.type === 44) return 8;
  if (e.type === 51) return 12 + 4 * (e.extraUnits ?? 0);
  return 8 + 8 * (e.extraUnits ?? 0);
}

function ahSize(a: AuthHeader): number {
  return 12 + 4 * (a.extraUnits ?? 0);
}

function l4Length(proto: number, l: FrameSpec['l4']): number {
  if (proto === 6) return 20 + 4 * (l?.tcpOptionWords ?? 0);
  if (proto === 17) return 8;
  if (proto === 1 || proto === 58) return 8;
  if (proto === 50) return 8; // ESP SPI + sequence number
  return 0;
}

function finish(out: number[], owner: number[]): BuiltFrame {
  const bytes = Uint8Array.from(out);
  return { bytes, cutReason: (i) => owner[i] ?? Reason.Ok };
}

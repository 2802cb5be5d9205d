// Text forms of link and network addresses, the one place the project parses and formats
// them: MAC 48 bits, IPv4 32 bits, IPv6 128 bits (the OXM field types of OpenFlow 1.3.5
// §7.2.3.8, the flow keys of the data plane, the hosts of the topology). Notations:
// "aa:bb:cc:dd:ee:ff", dotted quad, and IPv6 in the RFC 5952 canonical form (lower case,
// longest run of two or more zero groups shortened to "::").
// Parsers return undefined (or false) on bad text; callers turn that into their own error.
import { isIPv4, isIPv6 } from 'node:net';

const HEX = '0123456789abcdef';

export function formatMac(bytes: Uint8Array, offset = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    if (i) s += ':';
    s += HEX_BYTE[bytes[offset + i]!]!;
  }
  return s;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/** Writes the 6 bytes of `text` ("aa:bb:cc:dd:ee:ff", ':' or '-') into `out`; false if not a MAC. */
export function parseMacInto(text: string, out: Uint8Array, offset: number): boolean {
  if (typeof text !== 'string' || text.length < 11 || text.length > 17) return false;
  let i = 0;
  for (let octet = 0; octet < 6; octet++) {
    if (octet > 0) {
      const sep = text.charCodeAt(i++);
      if (sep !== 58 && sep !== 45) return false;
    }
    const a = hexDigit(text.charCodeAt(i));
    if (a < 0) return false;
    const b = i + 1 < text.length ? hexDigit(text.charCodeAt(i + 1)) : -1;
    if (b < 0) {
      out[offset + octet] = a;
      i += 1;
    } else {
      out[offset + octet] = (a << 4) | b;
      i += 2;
    }
  }
  return i === text.length;
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function parseIpv4(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  return parseIpv4Range(text, 0, text.length);
}

/** Dotted quad in `text[start, end)`; undefined unless it is exactly four decimal octets. */
function parseIpv4Range(text: string, start: number, end: number): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46; // a virtual '.' closes the last octet
    if (c === 46) {
      if (digits === 0 || octet > 255 || parts === 4) return undefined;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  return parts === 4 ? value : undefined;
}

export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  // Longest run of zero groups (length >= 2), the first one on a tie (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && bytes[offset + 2 * g] === 0 && bytes[offset + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += g === 0 ? '::' : ':';
      g += bestLen - 1;
      continue;
    }
    const hi = bytes[offset + 2 * g]!;
    const lo = bytes[offset + 2 * g + 1]!;
    // A group in lower-case hex without leading zeros, from two byte-sized tables.
    s += hi === 0 ? HEX_BYTE_SHORT[lo]! : HEX_BYTE_SHORT[hi]! + HEX_BYTE[lo]!;
    if (g < 7) s += ':';
  }
  return s;
}

const HEX_BYTE = Array.from({ length: 256 }, (_, b) => HEX[b >> 4]! + HEX[b & 15]!);
const HEX_BYTE_SHORT = Array.from({ length: 256 }, (_, b) => b.toString(16));

/** Writes 16 bytes; accepts "::" shortening and an embedded dotted-quad tail. */
export function parseIpv6Into(text: string, out: Uint8Array, offset: number): boolean {
  if (typeof text !== 'string' || text.length < 2 || text.length > 45) return false;
  const groups = ipv6Groups;
  let count = 0;
  let gap = -1; // index in `groups` where "::" stands
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    // one group, or a dotted-quad tail
    let value = 0;
    let digits = 0;
    let j = i;
    while (j < n && digits <= 4) {
      const d = hexDigit(text.charCodeAt(j));
      if (d < 0) break;
      value = (value << 4) | d;
      digits++;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46) {
      const v4 = parseIpv4Range(text, i, n);
      if (v4 === undefined || count > 6) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = n;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    groups[count++] = value;
    i = j;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === n) return false; // a trailing single ':'
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const fill = 8 - count;
  for (let g = 0, src = 0; g < 8; g++) {
    const v = gap >= 0 && g >= gap && g < gap + fill ? 0 : groups[src++]!;
    out[offset + 2 * g] = v >> 8;
    out[offset + 2 * g + 1] = v & 255;
  }
  return true;
}

const ipv6Groups = new Array<number>(8).fill(0);

/** 4 for a dotted quad, 6 for IPv6 text, undefined for anything else. */
export function addressFamily(ip: string): 4 | 6 | undefined {
  if (parseIpv4(ip) !== undefined) return 4;
  return parseIpv6Into(ip, scratch16, 0) ? 6 : undefined;
}

const scratch16 = new Uint8Array(16);

/** 4 or 16 bytes of an IPv4 or IPv6 address, undefined for bad text. */
export function parseIpBytes(text: string): Uint8Array | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255);
  const out = new Uint8Array(16);
  return parseIpv6Into(text, out, 0) ? out : undefined;
}

/** Text of 4 or 16 address bytes. */
export function formatIpBytes(bytes: Uint8Array, v6: boolean): string {
  return v6 ? formatIpv6(bytes) : formatIpv4(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0);
}

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-case MAC, or undefined for malformed, group (multicast/broadcast) and all-zero addresses. */
export function normaliseUnicastMac(mac: string): string | undefined {
  const m = mac.trim().toLowerCase().replace(/-/g, ':');
  if (!MAC_PATTERN.test(m)) return undefined;
  if (parseInt(m.slice(0, 2), 16) & 1) return undefined;
  if (m === '00:00:00:00:00:00') return undefined;
  return m;
}

/** Canonical text of a usable unicast source address (IPv6 compressed), undefined otherwise. */
export function normaliseHostAddress(ip: string): { family: 4 | 6; address: string } | undefined {
  if (isIPv4(ip)) {
    if (ip === '0.0.0.0' || ip === '255.255.255.255') return undefined;
    const first = Number(ip.split('.')[0]);
    if (first >= 224) return undefined; // multicast and reserved
    return { family: 4, address: ip };
  }
  if (isIPv6(ip)) {
    let canonical: string;
    try {
      canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    } catch {
      return undefined; // e.g. a zone index, which WHATWG URLs refuse
    }
    if (canonical === '::' || canonical.startsWith('ff')) return undefined;
    return { family: 6, address: canonical };
  }
  return undefined;
}

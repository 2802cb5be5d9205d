// Text forms of the addresses that OXM fields and ofp_port carry (OpenFlow 1.3.5 §7.2.3.8
// field types: MAC 48 bits, IPv4 32 bits, IPv6 128 bits): parse from and format to the
// usual notations — "aa:bb:cc:dd:ee:ff", dotted quad, and IPv6 in the RFC 5952 canonical
// form (lower case, longest run of two or more zero groups shortened to "::").
// Parsers return undefined on bad text; the OXM encoder turns that into an OfpEncodeError.

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

// Reader for classic libpcap files (the "pcap" format: IETF draft-ietf-opsawg-pcap, and
// pcap-savefile(5)): a 24-byte file header whose magic gives the byte order and the timestamp
// resolution (0xA1B2C3D4 microseconds, 0xA1B23C4D nanoseconds), then records of a 16-byte
// header (seconds, sub-seconds, captured length, original length) and the captured bytes.
// Also read: Alexey Kuznetsov's modified format (magic 0xA1B2CD34, written by some old
// patched Linux tcpdump/libpcap builds; libpcap's sf-pcap.c reads it too), whose records have a
// 24-byte header: the usual 16 bytes, then the Linux interface index (u32), the protocol (u16),
// the packet type (u8) and a pad byte. Its timestamps are microseconds.
import { CaptureError } from './errors.js';
import { MAX_RECORD_BYTES, type FileByteSource } from './source.js';
import type { CapturePacket, PacketDecoder } from './types.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Kuznetsov's modified pcap: microseconds, 24-byte record headers */
export const PCAP_MAGIC_KUZNETSOV = 0xa1b2cd34;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;
/** the 16 standard bytes + ifindex u32, protocol u16, pkt_type u8, pad u8 */
const KUZNETSOV_RECORD_HEADER = 24;

const MAGICS: readonly number[] = [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETSOV];

/** True if `value` (the first u32 of a file, read in one byte order) is a classic pcap magic. */
export function isPcapMagic(value: number): boolean {
  return MAGICS.includes(value);
}

export interface PcapHeader {
  byteOrder: 'little' | 'big';
  nanosecond: boolean;
  /** bytes before each record's data: 16, or 24 in Kuznetsov's modified format */
  recordHeaderLength: number;
  versionMajor: number;
  versionMinor: number;
  snapLen: number;
  linkType: number;
}

/** Decodes a classic pcap file header (24 bytes); null if the magic is not pcap's. */
export function decodePcapHeader(b: Uint8Array): PcapHeader | null {
  if (b.length < FILE_HEADER) return null;
  const view = new DataView(b.buffer, b.byteOffset, FILE_HEADER);
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  // the writer's native order: the magic reads right in exactly one of the two
  let little: boolean;
  if (isPcapMagic(le)) little = true;
  else if (isPcapMagic(be)) little = false;
  else return null;
  const magic = little ? le : be;
  return {
    byteOrder: little ? 'little' : 'big',
    nanosecond: magic === PCAP_MAGIC_NS,
    recordHeaderLength: magic === PCAP_MAGIC_KUZNETSOV ? KUZNETSOV_RECORD_HEADER : RECORD_HEADER,
    versionMajor: view.getUint16(4, little),
    versionMinor: view.getUint16(6, little),
    snapLen: view.getUint32(16, little),
    // the upper 4 bits may carry the FCS length (draft-ietf-opsawg-pcap §4)
    linkType: view.getUint32(20, little) & 0x0fffffff,
  };
}

export class PcapDecoder implements PacketDecoder {
  readonly format = 'pcap' as const;
  private count = 0;
  private lastSec = -1;
  private lastSecNs = 0n;
  /** 16, or 24 in Kuznetsov's format (copied from the header: read for every record) */
  private readonly recordHeaderLength: number;
  /** Bytes the next record needs buffered when tryNext returned undefined. */
  private needed: number;

  private constructor(
    private readonly src: FileByteSource,
    readonly header: PcapHeader,
  ) {
    this.recordHeaderLength = header.recordHeaderLength;
    this.needed = header.recordHeaderLength;
  }

  get byteOrder(): 'little' | 'big' {
    return this.header.byteOrder;
  }

  /** Reads the file header; the source is positioned at offset 0. */
  static async open(src: FileByteSource): Promise<PcapDecoder> {
    if (!(await src.ensure(FILE_HEADER))) {
      throw new CaptureError('truncated', `${src.path}: pcap file header cut short (${src.available} of ${FILE_HEADER} bytes)`, 0);
    }
    const header = decodePcapHeader(src.take(FILE_HEADER));
    if (!header) throw new CaptureError('not-a-capture', `${src.path}: not a pcap file`, 0);
    if (header.versionMajor !== 2) {
      throw new CaptureError('unsupported', `${src.path}: pcap version ${header.versionMajor}.${header.versionMinor} (only 2.x)`, 4);
    }
    return new PcapDecoder(src, header);
  }

  /**
   * The next packet from what is buffered: a packet, null at a clean end of file, or
   * undefined when more bytes must be read first (then `needed` says how many).
   * A file that ends inside a record throws a 'truncated' CaptureError whose offset is where
   * that record starts; every record before it has been returned.
   */
  tryNext(): CapturePacket | null | undefined {
    const src = this.src;
    const avail = src.available;
    const headerLength = this.recordHeaderLength;
    if (avail < headerLength) {
      if (!src.atEof) {
        this.needed = headerLength;
        return undefined;
      }
      if (avail === 0) return null;
      throw this.cutShort(`header has ${avail} of ${headerLength} bytes`);
    }
    const little = this.header.byteOrder === 'little';
    const h = src.peek(headerLength);
    const capLen = little ? h.readUInt32LE(8) : h.readUInt32BE(8);
    if (capLen > MAX_RECORD_BYTES) {
      throw new CaptureError('corrupt', `${src.path}: record ${this.count} at byte ${src.position} claims ${capLen} captured bytes`, src.position, this.count);
    }
    if (avail < headerLength + capLen) {
      if (!src.atEof) {
        this.needed = headerLength + capLen;
        return undefined;
      }
      throw this.cutShort(`${avail - headerLength} of ${capLen} packet bytes`);
    }
    const sec = little ? h.readUInt32LE(0) : h.readUInt32BE(0);
    const frac = little ? h.readUInt32LE(4) : h.readUInt32BE(4);
    const origLen = little ? h.readUInt32LE(12) : h.readUInt32BE(12);
    // Kuznetsov's extra fields (ifindex, protocol, pkt_type) are skipped: the ifindex is the
    // capturing host's, not an interface of this file, so the ingress port stays 0 as in pcap
    src.take(headerLength);
    const data = src.take(capLen);
    // a double cannot hold sec * 1e9 + frac exactly: BigInt, with the second's base cached
    if (sec !== this.lastSec) {
      this.lastSec = sec;
      this.lastSecNs = BigInt(sec) * 1_000_000_000n;
    }
    const ns = this.lastSecNs + BigInt(this.header.nanosecond ? frac : frac * 1000);
    return {
      index: this.count++,
      timestampNs: ns,
      hasTimestamp: true,
      linkType: this.header.linkType,
      interfaceId: 0,
      originalLength: origLen,
      data,
    };
  }

  /** The 'truncated' error for a file that ends inside the record at the current position. */
  private cutShort(what: string): CaptureError {
    const at = this.src.position;
    return new CaptureError('truncated', `${this.src.path}: record ${this.count} at byte ${at} cut short: ${what}`, at, this.count);
  }

  async next(): Promise<CapturePacket | null> {
    for (;;) {
      const p = this.tryNext();
      if (p !== undefined) return p;
      await this.src.ensure(this.needed);
    }
  }
}

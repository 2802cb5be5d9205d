// Reader for classic libpcap files (the "pcap" format: IETF draft-ietf-opsawg-pcap, and
// pcap-savefile(5)): a 24-byte file header whose magic gives the byte order and the timestamp
// resolution (0xA1B2C3D4 microseconds, 0xA1B23C4D nanoseconds), then records of a 16-byte
// header (seconds, sub-seconds, captured length, original length) and the captured bytes.
import { CaptureError } from './errors.js';
import { MAX_RECORD_BYTES, type FileByteSource } from './source.js';
import type { CapturePacket, PacketDecoder } from './types.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export interface PcapHeader {
  byteOrder: 'little' | 'big';
  nanosecond: boolean;
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
  let little: boolean;
  let nanosecond: boolean;
  if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) {
    little = true;
    nanosecond = le === PCAP_MAGIC_NS;
  } else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
    little = false;
    nanosecond = be === PCAP_MAGIC_NS;
  } else {
    return null;
  }
  return {
    byteOrder: little ? 'little' : 'big',
    nanosecond,
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

  private constructor(
    private readonly src: FileByteSource,
    readonly header: PcapHeader,
  ) {}

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

  /** Bytes the next record needs buffered when tryNext returned undefined. */
  private needed = RECORD_HEADER;

  /**
   * The next packet from what is buffered: a packet, null at a clean end of file, or
   * undefined when more bytes must be read first (then `needed` says how many).
   */
  tryNext(): CapturePacket | null | undefined {
    const src = this.src;
    const avail = src.available;
    if (avail < RECORD_HEADER) {
      if (!src.atEof) {
        this.needed = RECORD_HEADER;
        return undefined;
      }
      if (avail === 0) return null;
      throw new CaptureError('truncated', `${src.path}: record ${this.count} header cut short at byte ${src.position}`, src.position);
    }
    const little = this.header.byteOrder === 'little';
    const h = src.peek(RECORD_HEADER);
    const capLen = little ? h.readUInt32LE(8) : h.readUInt32BE(8);
    if (capLen > MAX_RECORD_BYTES) {
      throw new CaptureError('corrupt', `${src.path}: record ${this.count} at byte ${src.position} claims ${capLen} captured bytes`, src.position);
    }
    if (avail < RECORD_HEADER + capLen) {
      if (!src.atEof) {
        this.needed = RECORD_HEADER + capLen;
        return undefined;
      }
      throw new CaptureError(
        'truncated',
        `${src.path}: record ${this.count} at byte ${src.position} cut short (${avail - RECORD_HEADER} of ${capLen} bytes)`,
        src.position,
      );
    }
    const sec = little ? h.readUInt32LE(0) : h.readUInt32BE(0);
    const frac = little ? h.readUInt32LE(4) : h.readUInt32BE(4);
    const origLen = little ? h.readUInt32LE(12) : h.readUInt32BE(12);
    src.take(RECORD_HEADER);
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

  async next(): Promise<CapturePacket | null> {
    for (;;) {
      const p = this.tryNext();
      if (p !== undefined) return p;
      await this.src.ensure(this.needed);
    }
  }
}

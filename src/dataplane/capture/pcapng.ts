// Reader for pcapng files (IETF draft-ietf-opsawg-pcapng): a sequence of blocks, each
// `type, total length, body, total length`, in sections that each start with a Section Header
// Block (SHB) whose byte-order magic 0x1A2B3C4D fixes the byte order of the section.
// Read here: SHB, Interface Description Block (IDB, with if_tsresol and if_tsoffset), Enhanced
// Packet Block (EPB), Simple Packet Block (SPB) and the obsolete Packet Block; every other
// block (name resolution, statistics, decryption secrets, custom) is skipped by its length.
import { CaptureError, type CaptureErrorCode } from './errors.js';
import { MAX_RECORD_BYTES, type FileByteSource } from './source.js';
import type { CapturePacket, PacketDecoder } from './types.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_PB = 0x00000002; // obsolete Packet Block
export const BT_SPB = 0x00000003;
export const BT_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** the byte-order magic as read in the other byte order */
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface Interface {
  linkType: number;
  snapLen: number;
  /** timestamp = units / unitsPerSecond seconds */
  unitsPerSecond: bigint;
  offsetNs: bigint;
}

/** Ticks per second of an if_tsresol byte: MSB 0 -> 10^-n s, MSB 1 -> 2^-n s. */
export function tsresolUnits(value: number): bigint {
  return value & 0x80 ? 1n << BigInt(value & 0x7f) : 10n ** BigInt(value & 0x7f);
}

export class PcapngDecoder implements PacketDecoder {
  readonly format = 'pcapng' as const;
  private little = true;
  private interfaces: Interface[] = [];
  private count = 0;
  private lastNs = 0n;

  private constructor(private readonly src: FileByteSource) {}

  get byteOrder(): 'little' | 'big' {
    return this.little ? 'little' : 'big';
  }

  /**
   * Checks that the file starts with a whole Section Header Block: a file cut inside it is
   * 'truncated' here (no packet can follow), while a cut after it is found by tryNext after the
   * packets before the cut. next() then reads this SHB like any other.
   */
  static async open(src: FileByteSource): Promise<PcapngDecoder> {
    if (!(await src.ensure(12))) {
      throw new CaptureError('truncated', `${src.path}: pcapng section header cut short (${src.available} of 12 bytes)`, 0);
    }
    const head = src.peek(12);
    if (head.readUInt32LE(0) !== BT_SHB) throw new CaptureError('not-a-capture', `${src.path}: not a pcapng file`, 0);
    const bom = head.readUInt32LE(8);
    if (bom !== BYTE_ORDER_MAGIC && bom !== BYTE_ORDER_MAGIC_SWAPPED) {
      throw new CaptureError('corrupt', `${src.path}: section header at byte 0 has no byte-order magic`, 0);
    }
    const length = bom === BYTE_ORDER_MAGIC ? head.readUInt32LE(4) : head.readUInt32BE(4);
    // an impossible length is left to tryNext, which reports it as corrupt
    if (length >= 28 && length % 4 === 0 && length <= MAX_RECORD_BYTES && !(await src.ensure(length))) {
      throw new CaptureError('truncated', `${src.path}: pcapng section header cut short (${src.available} of ${length} bytes)`, 0);
    }
    return new PcapngDecoder(src);
  }

  /** Bytes the next block needs buffered when tryNext returned undefined. */
  private needed = 12;

  async next(): Promise<CapturePacket | null> {
    for (;;) {
      const p = this.tryNext();
      if (p !== undefined) return p;
      await this.src.ensure(this.needed);
    }
  }

  /**
   * The next packet from what is buffered: a packet, null at a clean end of file, or
   * undefined when more bytes must be read first (then `needed` says how many).
   * A file that ends inside a block throws a 'truncated' CaptureError whose offset is where
   * that block starts; every packet before it has been returned.
   */
  tryNext(): CapturePacket | null | undefined {
    for (;;) {
      const src = this.src;
      const at = src.position;
      if (src.available < 12) {
        if (!src.atEof) {
          this.needed = 12;
          return undefined;
        }
        if (src.available === 0) return null;
        throw this.error('truncated', `block at byte ${at} cut short: header has ${src.available} of 12 bytes`, at);
      }
      const head = src.peek(12);
      const rawType = head.readUInt32LE(0);
      if (rawType === BT_SHB) {
        // the byte order of this section comes from the magic right after the length
        const bom = head.readUInt32LE(8);
        if (bom === BYTE_ORDER_MAGIC) this.little = true;
        else if (bom === BYTE_ORDER_MAGIC_SWAPPED) this.little = false;
        else throw this.error('corrupt', `section header at byte ${at} has no byte-order magic`, at);
      }
      const little = this.little;
      const type = little ? rawType : head.readUInt32BE(0);
      const length = little ? head.readUInt32LE(4) : head.readUInt32BE(4);
      if (length < 12 || length % 4 !== 0 || length > MAX_RECORD_BYTES) {
        throw this.error('corrupt', `block at byte ${at} has impossible length ${length}`, at);
      }
      if (src.available < length) {
        if (!src.atEof) {
          this.needed = length;
          return undefined;
        }
        throw this.error('truncated', `block at byte ${at} cut short: ${src.available} of ${length} bytes`, at);
      }
      const block = src.take(length);
      const trailer = little ? block.readUInt32LE(length - 4) : block.readUInt32BE(length - 4);
      if (trailer !== length) {
        throw this.error('corrupt', `block at byte ${at}: trailing length ${trailer} != ${length}`, at);
      }
      const u32 = (off: number): number => (little ? block.readUInt32LE(off) : block.readUInt32BE(off));
      const u16 = (off: number): number => (little ? block.readUInt16LE(off) : block.readUInt16BE(off));
      switch (type) {
        case BT_SHB: {
          if (length < 28) throw this.error('corrupt', `section header at byte ${at} too short`, at);
          const major = u16(12);
          if (major !== 1) throw this.error('unsupported', `pcapng version ${major}.${u16(14)} (only 1.x)`, at);
          this.interfaces = [];
          continue;
        }
        case BT_IDB: {
          if (length < 20) throw this.error('corrupt', `interface block at byte ${at} too short`, at);
          const iface: Interface = { linkType: u16(8), snapLen: u32(12), unitsPerSecond: 1_000_000n, offsetNs: 0n };
          // options: code u16, length u16, value padded to 4 bytes, until opt_endofopt or the trailer
          let o = 16;
          while (o + 4 <= length - 4) {
            const code = u16(o);
            const len = u16(o + 2);
            if (code === OPT_ENDOFOPT) break;
            if (o + 4 + len > length - 4) throw this.error('corrupt', `interface option overruns its block at byte ${at}`, at);
            if (code === OPT_IF_TSRESOL && len >= 1) iface.unitsPerSecond = tsresolUnits(block[o + 4]!);
            if (code === OPT_IF_TSOFFSET && len >= 8) {
              iface.offsetNs = (little ? block.readBigInt64LE(o + 4) : block.readBigInt64BE(o + 4)) * 1_000_000_000n;
            }
            o += 4 + ((len + 3) & ~3);
          }
          this.interfaces.push(iface);
          continue;
        }
        case BT_EPB:
        case BT_PB: {
          if (length < 32) throw this.error('corrupt', `packet block at byte ${at} too short`, at);
          const ifId = type === BT_EPB ? u32(8) : u16(8);
          const iface = this.interfaces[ifId];
          if (!iface) throw this.error('corrupt', `packet block at byte ${at} names unknown interface ${ifId}`, at);
          const units = (BigInt(u32(12)) << 32n) | BigInt(u32(16));
          const capLen = u32(20);
          const origLen = u32(24);
          if (capLen > length - 32) {
            throw this.error('corrupt', `packet block at byte ${at} claims ${capLen} bytes in a ${length}-byte block`, at);
          }
          this.lastNs = (units * 1_000_000_000n) / iface.unitsPerSecond + iface.offsetNs;
          return this.packet(iface, ifId, origLen, block.subarray(28, 28 + capLen), true);
        }
        case BT_SPB: {
          if (length < 16) throw this.error('corrupt', `simple packet block at byte ${at} too short`, at);
          const iface = this.interfaces[0];
          if (!iface) throw this.error('corrupt', `simple packet block at byte ${at} before any interface`, at);
          const origLen = u32(8);
          let capLen = Math.min(origLen, length - 16);
          if (iface.snapLen !== 0) capLen = Math.min(capLen, iface.snapLen);
          return this.packet(iface, 0, origLen, block.subarray(12, 12 + capLen), false);
        }
        default:
          continue; // a block this reader does not need
      }
    }
  }

  /** A CaptureError for the block at `at`, with the file name and the packets read before it. */
  private error(code: CaptureErrorCode, what: string, at: number): CaptureError {
    return new CaptureError(code, `${this.src.path}: ${what}`, at, this.count);
  }

  private packet(iface: Interface, ifId: number, origLen: number, data: Buffer, hasTimestamp: boolean): CapturePacket {
    return { index: this.count++, timestampNs: this.lastNs, hasTimestamp, linkType: iface.linkType, interfaceId: ifId, originalLength: origLen, data };
  }
}

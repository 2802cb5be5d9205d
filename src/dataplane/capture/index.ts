// Capture files for `payflow replay`: opens classic pcap or pcapng by its first bytes and
// streams the packets (src/dataplane/capture/pcap.ts, pcapng.ts) without loading the file.
// Classic pcap is recognised by any of its magics (µs, ns, Kuznetsov's modified format).
// docs/replay.md lists what is read.
import { CaptureError } from './errors.js';
import { isPcapMagic, PcapDecoder } from './pcap.js';
import { BT_SHB, PcapngDecoder } from './pcapng.js';
import { FileByteSource } from './source.js';
import type { CaptureFormat, CapturePacket, PacketDecoder } from './types.js';

export { CaptureError, type CaptureErrorCode } from './errors.js';
export { decodePcapHeader, PCAP_MAGIC_KUZNETSOV, PCAP_MAGIC_NS, PCAP_MAGIC_US, type PcapHeader } from './pcap.js';
export { tsresolUnits } from './pcapng.js';
export type { CaptureFormat, CapturePacket } from './types.js';

export const LINKTYPE_ETHERNET = 1;

/** The format that the first four bytes of a file announce, or null. */
export function detectCaptureFormat(first: Uint8Array): CaptureFormat | null {
  if (first.length < 4) return null;
  const view = new DataView(first.buffer, first.byteOffset, 4);
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  if (le === BT_SHB) return 'pcapng';
  if (isPcapMagic(le) || isPcapMagic(be)) return 'pcap';
  return null;
}

export class CaptureReader implements AsyncIterable<CapturePacket> {
  private constructor(
    private readonly src: FileByteSource,
    private readonly decoder: PacketDecoder,
  ) {}

  /**
   * Opens a capture; throws CaptureError: 'io', 'not-a-capture', 'truncated' (the file header,
   * or pcapng's first section header, is cut short), 'corrupt', 'unsupported'.
   */
  static async open(path: string): Promise<CaptureReader> {
    const src = await FileByteSource.open(path);
    try {
      await src.ensure(4);
      const format = detectCaptureFormat(src.peek(Math.min(4, src.available)));
      if (format === null) {
        const first = src.peek(Math.min(4, src.available)).toString('hex') || 'nothing';
        throw new CaptureError('not-a-capture', `${path} is not a pcap or pcapng capture (starts with ${first})`, 0);
      }
      const decoder = format === 'pcap' ? await PcapDecoder.open(src) : await PcapngDecoder.open(src);
      return new CaptureReader(src, decoder);
    } catch (err) {
      await src.close();
      throw err;
    }
  }

  get format(): CaptureFormat {
    return this.decoder.format;
  }
  get byteOrder(): 'little' | 'big' {
    return this.decoder.byteOrder;
  }
  /** size of the file in bytes */
  get size(): number {
    return this.src.size;
  }
  /** bytes consumed so far (for progress) */
  get position(): number {
    return this.src.position;
  }

  /**
   * The next packet (its data is a view valid until the next call), or null at the end.
   * Throws a CaptureError; a 'truncated' one (the file ends inside a record or block) comes
   * only after every complete packet before the cut, and its offset and packetsBefore say where.
   */
  next(): Promise<CapturePacket | null> {
    return this.decoder.next();
  }

  /**
   * The next packet if the bytes for it are already buffered (no await: the fast path of a
   * replay loop); undefined when next() must be awaited instead.
   */
  tryNext(): CapturePacket | null | undefined {
    return this.decoder.tryNext();
  }

  close(): Promise<void> {
    return this.src.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CapturePacket> {
    try {
      for (;;) {
        const p = await this.decoder.next();
        if (p === null) return;
        yield p;
      }
    } finally {
      await this.close();
    }
  }
}

/** Opens a capture file (classic pcap or pcapng) for streaming. */
export function openCapture(path: string): Promise<CaptureReader> {
  return CaptureReader.open(path);
}

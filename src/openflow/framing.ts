// Framing of OpenFlow messages on a byte stream (OpenFlow Switch Specification 1.3.5,
// ONF TS-023, §7.1 "OpenFlow Header": every message starts with the 8-byte ofp_header
// whose 16-bit `length` counts the whole message; §6.3.1 connection setup).
//
// TCP delivers bytes, not messages: one read may hold half a message or several. The
// framer turns reads into whole messages. A message that lies completely inside one read
// is handed out as a view of that read (no copy); only a message split across reads is
// assembled in a buffer of its own. A header that cannot be right (length < 8, length
// above the configured maximum, or — once a version is negotiated — another version)
// means the stream can no longer be trusted: the framer reports it once and then refuses
// further input, and the connection answers OFPET_BAD_REQUEST and closes.
import { OFPBRC, OFP_HEADER_LEN, OFP_MAX_MESSAGE_LEN, readHeader, type OfpHeader } from './codec/index.js';

export interface FramerOptions {
  /** Largest message accepted, in bytes; at most 65535 (the length field is 16 bits). */
  maxMessageLength?: number;
  /** Required header version; undefined accepts any (before negotiation). */
  version?: number;
}

/** Why a header was refused, with the OFPBRC_* code a peer should be told. */
export interface FramingViolation {
  reason: string;
  /** OFPBRC_BAD_LEN or OFPBRC_BAD_VERSION */
  code: number;
  header: OfpHeader;
  /** the bytes of the offending message seen so far (at most 64, as §7.4.4 asks) */
  data: Uint8Array;
}

export type FramerOutput = { messages: Uint8Array[]; violation?: FramingViolation };

export class MessageFramer {
  readonly maxMessageLength: number;
  /** Set after version negotiation; later headers must carry it. */
  version: number | undefined;
  private pending: Uint8Array | undefined;
  private failed = false;

  constructor(options: FramerOptions = {}) {
    const max = options.maxMessageLength ?? OFP_MAX_MESSAGE_LEN;
    if (!Number.isInteger(max) || max < OFP_HEADER_LEN || max > OFP_MAX_MESSAGE_LEN) {
      throw new RangeError(`maxMessageLength must be an integer in [${OFP_HEADER_LEN}, ${OFP_MAX_MESSAGE_LEN}], got ${max}`);
    }
    this.maxMessageLength = max;
    this.version = options.version;
  }

  /** Bytes received but not yet part of a whole message. */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** True once a violation was reported; the stream is then unusable. */
  get broken(): boolean {
    return this.failed;
  }

  /**
   * Feeds one read. Returns the whole messages it completes, in order, and the first
   * violation if a header was refused (messages before it are still returned).
   */
  push(chunk: Uint8Array): FramerOutput {
    if (this.failed) return { messages: [] };
    let bytes = chunk;
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending, 0);
      joined.set(chunk, this.pending.length);
      bytes = joined;
      this.pending = undefined;
    }
    const messages: Uint8Array[] = [];
    let offset = 0;
    while (bytes.length - offset >= OFP_HEADER_LEN) {
      const header = readHeader(bytes, offset)!;
      const violation = this.check(header, bytes.subarray(offset, Math.min(bytes.length, offset + 64)));
      if (violation) {
        this.failed = true;
        return { messages, violation };
      }
      if (bytes.length - offset < header.length) break;
      messages.push(bytes.subarray(offset, offset + header.length));
      offset += header.length;
    }
    if (offset < bytes.length) {
      // Keep the tail in a buffer of its own so the caller's chunk can be released.
      this.pending = bytes.slice(offset);
    }
    return { messages };
  }

  private check(header: OfpHeader, data: Uint8Array): FramingViolation | undefined {
    if (header.length < OFP_HEADER_LEN) {
      return { reason: `header length ${header.length} < ${OFP_HEADER_LEN}`, code: OFPBRC.BAD_LEN, header, data: data.slice() };
    }
    if (header.length > this.maxMessageLength) {
      return {
        reason: `message length ${header.length} exceeds the maximum of ${this.maxMessageLength}`,
        code: OFPBRC.BAD_LEN,
        header,
        data: data.slice(),
      };
    }
    if (this.version !== undefined && header.version !== this.version) {
      return {
        reason: `header version 0x${header.version.toString(16)} after negotiating 0x${this.version.toString(16)}`,
        code: OFPBRC.BAD_VERSION,
        header,
        data: data.slice(),
      };
    }
    return undefined;
  }
}

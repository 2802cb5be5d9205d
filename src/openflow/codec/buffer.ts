// Byte-level reader and writer for the OpenFlow 1.3 codec (OpenFlow Switch Specification
// 1.3.5, ONF TS-023, §7 "The OpenFlow Protocol": every structure is big-endian, network
// byte order, and padded as the spec's C structs show).
//
// The Reader works over a DataView of the input and keeps a moving position plus an end
// limit, so nested TLVs (match, actions, buckets, properties) are parsed inside the range
// their own length field claims. Any read beyond the limit throws DecodeFailure; only the
// codec's top-level decodeMessage catches it and turns it into an error value, which is how
// decoding "never throws" to callers without a bounds check at every call site.
//
// The Writer appends into one module-level scratch buffer that only grows, and the caller
// copies the finished message out once: one allocation per encoded message.

/** Internal: raised by the Reader, caught by decodeMessage. Never escapes the codec. */
export class DecodeFailure extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Thrown by encodeMessage on invalid input; `path` says where, e.g. `flow_mod.match[2]`. */
export class OfpEncodeError extends Error {
  override readonly name = 'OfpEncodeError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

// Small byte arrays (encoded messages, payloads copied out of decoded ones) are carved
// from shared 16 KiB slabs, the way Node's Buffer pool works: allocating a separate
// ArrayBuffer for every 200-byte message costs more than encoding it. Each result is an
// ordinary Uint8Array view (byteOffset may be non-zero); larger ones get their own buffer.
const SLAB_SIZE = 16 * 1024;
const POOLED_MAX = 2 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabOffset = 0;

/** `n` bytes, for the caller to fill completely. */
export function allocBytes(n: number): Uint8Array {
  if (n > POOLED_MAX) return new Uint8Array(n);
  if (slabOffset + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabOffset = 0;
  }
  const view = new Uint8Array(slab, slabOffset, n);
  slabOffset = (slabOffset + n + 7) & ~7;
  return view;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

export class Reader {
  readonly view: DataView;
  pos: number;
  end: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  fail(reason: string, offset = this.pos): never {
    throw new DecodeFailure(offset, reason);
  }

  /** Ensures `n` bytes remain before the current limit. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      this.fail(`truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos + 1 > this.end) this.fail('truncated: need 1 byte');
    return this.view.getUint8(this.pos++);
  }

  u16(): number {
    if (this.pos + 2 > this.end) this.fail('truncated: need 2 bytes');
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    if (this.pos + 3 > this.end) this.fail('truncated: need 3 bytes');
    const v = (this.view.getUint16(this.pos) << 8) | this.view.getUint8(this.pos + 2);
    this.pos += 3;
    return v;
  }

  u32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated: need 4 bytes');
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    if (this.pos + 8 > this.end) this.fail('truncated: need 8 bytes');
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  skip(n: number): void {
    if (this.pos + n > this.end) this.fail(`truncated: need ${n} bytes of padding`);
    this.pos += n;
  }

  /** A copy of the next `n` bytes (copies, so decoded messages never alias the input). */
  bytesCopy(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    if (n < 0 || this.pos + n > this.end) this.fail(`truncated: need ${n} bytes`);
    const out = allocBytes(n);
    out.set(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** Everything up to the current limit. */
  rest(): Uint8Array {
    return this.bytesCopy(this.end - this.pos);
  }

  /** A fixed-size, NUL-padded UTF-8 string field (port names, descriptions). */
  fixedString(size: number): string {
    if (this.pos + size > this.end) this.fail(`truncated: need ${size} bytes of string`);
    let stop = this.pos;
    const limit = this.pos + size;
    while (stop < limit && this.bytes[stop] !== 0) stop++;
    const s = utf8Decoder.decode(this.bytes.subarray(this.pos, stop));
    this.pos = limit;
    return s;
  }

  /**
   * Narrows the limit to `[pos, pos + len)` and returns the outer limit, for `leave`.
   * The closure-free twin of `within` for the hot decoders; no try/finally is needed
   * because a failure abandons the whole Reader.
   */
  enter(len: number, what: string): number {
    if (len < 0 || this.pos + len > this.end) {
      this.fail(`${what} length ${len} exceeds the ${this.end - this.pos} bytes available`);
    }
    const outer = this.end;
    this.end = this.pos + len;
    return outer;
  }

  /** Restores the outer limit saved by `enter` and moves to the end of the inner range. */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  /**
   * Runs `fn` with the limit narrowed to `[pos, pos + len)`; afterwards the position is
   * `pos + len` whatever `fn` consumed. Checks `len` fits inside the current limit first.
   */
  within<T>(len: number, what: string, fn: (r: Reader) => T): T {
    const start = this.pos;
    if (len < 0 || start + len > this.end) {
      this.fail(`${what} length ${len} exceeds the ${this.end - start} bytes available`);
    }
    const outer = this.end;
    this.end = start + len;
    try {
      return fn(this);
    } finally {
      this.end = outer;
      this.pos = start + len;
    }
  }
}

let scratch: Uint8Array = new Uint8Array(64 * 1024);
let scratchView: DataView = new DataView(scratch.buffer);

export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor() {
    this.buf = scratch;
    this.view = scratchView;
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    scratch = next;
    scratchView = this.view;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u24(v: number): void {
    this.ensure(3);
    this.view.setUint16(this.pos, v >>> 8);
    this.view.setUint8(this.pos + 2, v & 0xff);
    this.pos += 3;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }

  zeros(n: number): void {
    this.ensure(n);
    // Padding is 1 to 7 bytes almost always: a loop beats fill()'s call overhead there.
    const buf = this.buf;
    for (let i = this.pos, end = this.pos + n; i < end; i++) buf[i] = 0;
    this.pos += n;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Pads with zeros up to the next multiple of 8 counted from `start`. */
  pad8(start: number): void {
    const rem = (this.pos - start) & 7;
    if (rem) this.zeros(8 - rem);
  }

  fixedString(s: unknown, size: number, path: string): void {
    if (typeof s !== 'string') throw new OfpEncodeError(path, `expected a string, got ${show(s)}`);
    const encoded = utf8Encoder.encode(s);
    // The spec's strings are NUL-terminated inside their fixed field.
    if (encoded.length >= size) throw new OfpEncodeError(path, `string of ${encoded.length} bytes does not fit in ${size - 1}`);
    this.bytes(encoded);
    this.zeros(size - encoded.length);
  }

  /** Writes a 16-bit length at `at`. */
  patch16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }

  finish(): Uint8Array {
    const out = allocBytes(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }
}

// ---- checked integer conversion for encoders -------------------------------------------

// `path` names the containing structure and `field` the member; the two are joined only
// when an error is raised, so that valid input costs no string building.
const UINT_MAX: Record<number, number> = { 8: 0xff, 16: 0xffff, 24: 0xffffff, 32: 0xffffffff };

function joinPath(path: string, field: string | undefined): string {
  return field === undefined ? path : `${path}.${field}`;
}

export function checkUint(value: unknown, bits: 8 | 16 | 24 | 32, path: string, field?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT_MAX[bits]!) {
    throw new OfpEncodeError(joinPath(path, field), `expected an integer in [0, ${UINT_MAX[bits]}], got ${show(value)}`);
  }
  return value;
}

const U64_MAX = (1n << 64n) - 1n;

export function checkUint64(value: unknown, path: string, field?: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new OfpEncodeError(joinPath(path, field), `expected a 64-bit unsigned integer (bigint), got ${show(value)}`);
  }
  return value;
}

export function checkBytes(value: unknown, path: string, field?: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new OfpEncodeError(joinPath(path, field), 'expected a Uint8Array');
  return value;
}

/** A value as error messages show it: strings quoted, anything else (bigint too) as text. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

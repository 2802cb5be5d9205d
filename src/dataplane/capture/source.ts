// Streaming byte source over a file for the capture readers: keeps one buffer (1 MiB to start,
// grown only for a record larger than it), refilled from the file as the reader advances, so a
// capture of any size is read with bounded memory. Views it hands out are valid until the next
// call that reads.
import { open, type FileHandle } from 'node:fs/promises';
import { CaptureError } from './errors.js';

const INITIAL_BUFFER = 1 << 20;
/** No single record or block may be larger than this (pcap and pcapng readers check before asking). */
export const MAX_RECORD_BYTES = 256 << 20;

export class FileByteSource {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  private start = 0;
  private end = 0;
  /** file offset of buf[end] */
  private readPos = 0;
  private eof = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    /** the file's size when opened, refreshed when a read would go past it (the file may grow) */
    private sizeAtStat: number,
  ) {}

  get size(): number {
    return this.sizeAtStat;
  }

  /** Bytes the buffer holds now (for tests: a bogus length must not grow it). */
  get bufferBytes(): number {
    return this.buf.length;
  }

  static async open(path: string): Promise<FileByteSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw new CaptureError('io', `cannot open ${path}: ${(err as Error).message}`, 0);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new CaptureError('io', `${path} is not a regular file`, 0);
      return new FileByteSource(fh, path, st.size);
    } catch (err) {
      await fh.close();
      throw err instanceof CaptureError ? err : new CaptureError('io', `cannot read ${path}: ${(err as Error).message}`, 0);
    }
  }

  /** File offset of the next unread byte. */
  get position(): number {
    return this.readPos - (this.end - this.start);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** True once the file has no more bytes beyond what is buffered. */
  get atEof(): boolean {
    return this.eof;
  }

  /** Makes n bytes available; false if the file ends first (what is there stays available). */
  async ensure(requested: number): Promise<boolean> {
    if (this.end - this.start >= requested) return true;
    let n = requested;
    let capped = false;
    // A damaged or cut capture can claim a record longer than the file: never grow the
    // buffer past what the file can still give (checked again against a fresh size, in case
    // the file is being written), so a bogus 200 MB length costs a stat, not 200 MB.
    if (this.position + n > this.sizeAtStat) {
      try {
        this.sizeAtStat = (await this.fh.stat()).size;
      } catch (err) {
        throw new CaptureError('io', `cannot read ${this.path}: ${(err as Error).message}`, this.readPos);
      }
      if (this.position + n > this.sizeAtStat) {
        n = Math.max(this.end - this.start, this.sizeAtStat - this.position);
        capped = true;
      }
    }
    if (n > this.buf.length) {
      let size = this.buf.length;
      while (size < n) size *= 2;
      const bigger = Buffer.allocUnsafe(size);
      this.buf.copy(bigger, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      this.buf = bigger;
    } else if (this.start + n > this.buf.length) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    while (this.end - this.start < n && !this.eof) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.readPos));
      } catch (err) {
        throw new CaptureError('io', `cannot read ${this.path}: ${(err as Error).message}`, this.readPos);
      }
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
      this.readPos += bytesRead;
    }
    // Everything the file holds is buffered and it cannot satisfy the request: that is its end.
    if (capped && this.readPos >= this.sizeAtStat) this.eof = true;
    return this.end - this.start >= requested;
  }

  /** A view of the next n bytes without consuming them (call ensure first). */
  peek(n: number): Buffer {
    return this.buf.subarray(this.start, this.start + n);
  }

  /** Consumes n bytes (call ensure first) and returns a view of them. */
  take(n: number): Buffer {
    const view = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return view;
  }

  private closed = false;

  /** Closes the file; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

// Capture readers (src/dataplane/capture/): classic pcap in both byte orders with microsecond
// and nanosecond timestamps, Kuznetsov's modified pcap (0xA1B2CD34, 24-byte record headers),
// captures cut short inside a record header or its data (the complete records come first, then
// a 'truncated' error saying where), pcapng (SHB, IDB with if_tsresol / if_tsoffset, EPB, SPB, the
// obsolete PB, unknown blocks skipped, several sections with different byte orders), files
// that are not captures, truncated at every byte, corrupt lengths, a file larger than the
// read buffer — all written byte by byte here — and one real capture written by tcpdump.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, decodePcapHeader, detectCaptureFormat, openCapture, type CapturePacket } from '../../../src/dataplane/capture/index.js';
import { FileByteSource } from '../../../src/dataplane/capture/source.js';

const dir = mkdtempSync(join(tmpdir(), 'payflow-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function writeTemp(bytes: Uint8Array, name = `c${fileNo++}.cap`): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

type Order = 'le' | 'be';

/** A little byte writer: u8/u16/u32/u64 in the chosen order. */
class Bytes {
  private parts: number[] = [];
  constructor(private readonly order: Order) {}
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.order === 'le' ? this.u8(v).u8(v >>> 8) : this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.order === 'le' ? this.u16(v & 0xffff).u16(v >>> 16) : this.u16(v >>> 16).u16(v & 0xffff);
  }
  u64(v: bigint): this {
    const hi = Number(v >> 32n);
    const lo = Number(v & 0xffffffffn);
    return this.order === 'le' ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  bytes(): Buffer {
    return Buffer.from(this.parts);
  }
}

function frame(n: number, fill: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (fill + i) & 0xff;
  return b;
}

interface Rec {
  sec: number;
  frac: number;
  data: Buffer;
  orig?: number;
}

/**
 * Classic pcap; `kuznetsov`: Kuznetsov's modified format (magic 0xA1B2CD34, microseconds), whose
 * record headers add ifindex u32, protocol u16, pkt_type u8 and a pad byte (here not zero, so a
 * reader that took them for packet bytes would be caught).
 */
function pcapFile(order: Order, nanosecond: boolean, linkType: number, records: Rec[], kuznetsov = false): Buffer {
  const w = new Bytes(order);
  w.u32(kuznetsov ? 0xa1b2cd34 : nanosecond ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(linkType);
  for (const r of records) {
    w.u32(r.sec).u32(r.frac).u32(r.data.length).u32(r.orig ?? r.data.length);
    if (kuznetsov) w.u32(3).u16(0x0800).u8(4).u8(0xee);
    w.raw(r.data);
  }
  return w.bytes();
}

/** One pcapng block: type, total length, body (padded), total length. */
function block(order: Order, type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  return new Bytes(order).u32(type).u32(padded.length + 12).raw(padded).u32(padded.length + 12).bytes();
}
function shb(order: Order): Buffer {
  return block(order, 0x0a0d0d0a, new Bytes(order).u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffffffffffffffffn).bytes());
}
function idb(order: Order, linkType: number, snapLen: number, opts: { tsresol?: number; tsoffset?: bigint } = {}): Buffer {
  const w = new Bytes(order).u16(linkType).u16(0).u32(snapLen);
  if (opts.tsresol !== undefined) w.u16(9).u16(1).u8(opts.tsresol).pad4();
  if (opts.tsoffset !== undefined) w.u16(14).u16(8).u64(opts.tsoffset);
  if (opts.tsresol !== undefined || opts.tsoffset !== undefined) w.u16(0).u16(0);
  return block(order, 1, w.bytes());
}
function epb(order: Order, ifId: number, ts: bigint, data: Buffer, orig = data.length): Buffer {
  // with an option (opt_comment) after the data, which the reader must not take as packet bytes
  const w = new Bytes(order).u32(ifId).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(orig).raw(data).pad4();
  w.u16(1).u16(3).raw(Buffer.from('hey')).pad4().u16(0).u16(0);
  return block(order, 6, w.bytes());
}
function spb(order: Order, data: Buffer, orig = data.length): Buffer {
  return block(order, 3, new Bytes(order).u32(orig).raw(data).bytes());
}
function oldPb(order: Order, ifId: number, ts: bigint, data: Buffer): Buffer {
  return block(order, 2, new Bytes(order).u16(ifId).u16(0).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(data.length).raw(data).bytes());
}

interface Read {
  packets: { ts: bigint; hasTs: boolean; link: number; ifId: number; orig: number; data: Buffer }[];
  error?: CaptureError;
  /** the error came from openCapture (the file header), not while reading packets */
  atOpen?: boolean;
}

async function readAll(path: string): Promise<Read> {
  const out: Read = { packets: [] };
  let opened = false;
  try {
    const r = await openCapture(path);
    opened = true;
    for await (const p of r) out.packets.push(copy(p));
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    out.error = err;
    out.atOpen = !opened;
  }
  return out;
}
function copy(p: CapturePacket): Read['packets'][number] {
  return { ts: p.timestampNs, hasTs: p.hasTimestamp, link: p.linkType, ifId: p.interfaceId, orig: p.originalLength, data: Buffer.from(p.data) };
}

describe('classic pcap', () => {
  for (const order of ['le', 'be'] as const) {
    for (const nanosecond of [false, true]) {
      it(`${order === 'le' ? 'little' : 'big'}-endian, ${nanosecond ? 'nanosecond' : 'microsecond'} timestamps`, async () => {
        const recs: Rec[] = [
          { sec: 1_700_000_000, frac: nanosecond ? 123_456_789 : 123_456, data: frame(60, 1) },
          { sec: 1_700_000_001, frac: nanosecond ? 999_999_999 : 999_999, data: frame(1514, 2) },
          { sec: 1_700_000_002, frac: 0, data: frame(64, 3), orig: 9000 }, // snapped
        ];
        const path = writeTemp(pcapFile(order, nanosecond, 1, recs));
        const r = await openCapture(path);
        expect(r.format).toBe('pcap');
        expect(r.byteOrder).toBe(order === 'le' ? 'little' : 'big');
        await r.close();
        const { packets, error } = await readAll(path);
        expect(error).toBeUndefined();
        expect(packets.map((p) => p.ts)).toEqual(
          nanosecond
            ? [1_700_000_000_123_456_789n, 1_700_000_001_999_999_999n, 1_700_000_002_000_000_000n]
            : [1_700_000_000_123_456_000n, 1_700_000_001_999_999_000n, 1_700_000_002_000_000_000n],
        );
        expect(packets.map((p) => p.data)).toEqual(recs.map((x) => x.data));
        expect(packets.map((p) => p.orig)).toEqual([60, 1514, 9000]);
        expect(packets.every((p) => p.link === 1 && p.hasTs && p.ifId === 0)).toBe(true);
      });
    }
  }

  for (const order of ['le', 'be'] as const) {
    it(`Kuznetsov's modified pcap (0xA1B2CD34), ${order === 'le' ? 'little' : 'big'}-endian: 24-byte record headers, the same packets`, async () => {
      const recs: Rec[] = [
        { sec: 1_700_000_000, frac: 123_456, data: frame(60, 1) },
        { sec: 1_700_000_001, frac: 999_999, data: frame(1514, 2) },
        { sec: 1_700_000_002, frac: 7, data: frame(64, 3), orig: 9000 },
      ];
      const file = pcapFile(order, false, 1, recs, true);
      expect(file.subarray(0, 4).toString('hex')).toBe(order === 'le' ? '34cdb2a1' : 'a1b2cd34');
      expect(detectCaptureFormat(file)).toBe('pcap');
      expect(decodePcapHeader(file)).toMatchObject({ byteOrder: order === 'le' ? 'little' : 'big', nanosecond: false, recordHeaderLength: 24, linkType: 1 });
      const modified = await readAll(writeTemp(file));
      const standard = await readAll(writeTemp(pcapFile(order, false, 1, recs)));
      expect(modified.error).toBeUndefined();
      expect(standard.error).toBeUndefined();
      expect(modified.packets).toEqual(standard.packets); // the extra header fields are not data
      expect(modified.packets.map((p) => p.ts)).toEqual([1_700_000_000_123_456_000n, 1_700_000_001_999_999_000n, 1_700_000_002_000_007_000n]);
      expect(modified.packets.every((p) => p.ifId === 0)).toBe(true);
    });
  }

  it('the nanosecond magic 0xA1B23C4D in either byte order: a 16-byte record header', () => {
    for (const order of ['le', 'be'] as const) {
      const file = pcapFile(order, true, 1, []);
      expect(decodePcapHeader(file)).toMatchObject({ nanosecond: true, recordHeaderLength: 16 });
    }
  });

  it('a truncated file: every cut inside a record is a truncated error after the whole records', async () => {
    const recs: Rec[] = [
      { sec: 1, frac: 0, data: frame(20, 0) },
      { sec: 2, frac: 0, data: frame(30, 0) },
    ];
    const full = pcapFile('le', false, 1, recs);
    const boundaries = new Map([[24, 0], [24 + 16 + 20, 1], [full.length, 2]]);
    for (let cut = 0; cut <= full.length; cut++) {
      const { packets, error } = await readAll(writeTemp(full.subarray(0, cut)));
      if (boundaries.has(cut)) {
        expect(error, `cut ${cut}`).toBeUndefined();
        expect(packets.length).toBe(boundaries.get(cut));
      } else if (cut < 4) {
        expect(error?.code, `cut ${cut}`).toBe('not-a-capture');
      } else if (cut < 24) {
        expect(error?.code, `cut ${cut}`).toBe('truncated'); // the file header: nothing to replay
        expect(error?.offset).toBe(0);
      } else {
        expect(error?.code, `cut ${cut}`).toBe('truncated');
        const whole = cut < 24 + 16 + 20 ? 0 : 1;
        expect(packets.length).toBe(whole);
        expect(error?.packetsBefore).toBe(whole);
        expect(error?.offset, `cut ${cut}`).toBe(whole === 0 ? 24 : 24 + 16 + 20); // where the cut record starts
        expect(error?.message).toMatch(/record \d at byte \d+ cut short/);
      }
    }
  });

  it('a record claiming an absurd length is corrupt; an unknown version is refused', async () => {
    const w = new Bytes('le').u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
    w.u32(0).u32(0).u32(0x7fffffff).u32(60);
    expect((await readAll(writeTemp(w.bytes()))).error?.code).toBe('corrupt');
    const v3 = new Bytes('le').u32(0xa1b2c3d4).u16(3).u16(0).u32(0).u32(0).u32(65535).u32(1).bytes();
    expect((await readAll(writeTemp(v3))).error?.code).toBe('unsupported');
  });
});

describe('pcapng', () => {
  for (const order of ['le', 'be'] as const) {
    it(`${order === 'le' ? 'little' : 'big'}-endian: SHB, IDB, EPB, SPB, PB; unknown blocks skipped`, async () => {
      const file = Buffer.concat([
        shb(order),
        idb(order, 1, 0), // default resolution: microseconds
        block(order, 0x00000004, Buffer.from([1, 0, 4, 0, 127, 0, 0, 1, 0, 0, 0, 0])), // name resolution: skipped
        epb(order, 0, 1_700_000_000_000_001n, frame(60, 9)),
        idb(order, 1, 128, { tsresol: 9, tsoffset: 100n }), // ns, offset 100 s
        block(order, 0x40000bad, Buffer.alloc(8)), // custom / unknown: skipped
        epb(order, 1, 5_000_000_123n, frame(61, 7), 1000),
        oldPb(order, 1, 42n, frame(62, 5)),
        idb(order, 113, 0, { tsresol: 0x80 | 20 }), // 2^-20 s
        epb(order, 2, 3n << 20n, frame(63, 4)),
        spb(order, frame(64, 3)), // interface 0, no snap length: whole packet
        block(order, 5, Buffer.alloc(16)), // interface statistics: skipped
      ]);
      const path = writeTemp(file);
      expect(detectCaptureFormat(file)).toBe('pcapng');
      const { packets, error } = await readAll(path);
      expect(error).toBeUndefined();
      expect(packets.map((p) => p.ts)).toEqual([
        1_700_000_000_000_001_000n, // 1.700000000000001e15 us
        105_000_000_123n, // 5.000000123 s + 100 s offset
        100_000_000_042n, // 42 ns + 100 s
        3_000_000_000n, // 3 * 2^20 ticks of 2^-20 s
        3_000_000_000n, // SPB: no time of its own
      ]);
      expect(packets.map((p) => p.hasTs)).toEqual([true, true, true, true, false]);
      expect(packets.map((p) => p.ifId)).toEqual([0, 1, 1, 2, 0]);
      expect(packets.map((p) => p.link)).toEqual([1, 1, 1, 113, 1]);
      expect(packets.map((p) => p.orig)).toEqual([60, 1000, 62, 63, 64]);
      expect(packets.map((p) => p.data)).toEqual([frame(60, 9), frame(61, 7), frame(62, 5), frame(63, 4), frame(64, 3)]);
    });
  }

  it('sections with different byte orders in one file; a simple packet block honours the snap length', async () => {
    const file = Buffer.concat([
      shb('be'), idb('be', 1, 0), epb('be', 0, 7n, frame(40, 1)),
      shb('le'), idb('le', 1, 32, { tsresol: 9 }), epb('le', 0, 8n, frame(41, 2)), spb('le', frame(50, 3), 50),
    ]);
    const { packets, error } = await readAll(writeTemp(file));
    expect(error).toBeUndefined();
    expect(packets.map((p) => p.ts)).toEqual([7000n, 8n, 8n]);
    expect(packets.map((p) => p.data.length)).toEqual([40, 41, 32]);
    expect(packets[2]!.data).toEqual(frame(50, 3).subarray(0, 32));
  });

  it('truncated at every byte: clean end only at block boundaries, else a truncated error', async () => {
    const blocks = [shb('le'), idb('le', 1, 0), epb('le', 0, 1n, frame(30, 1)), epb('le', 0, 2n, frame(31, 1))];
    const full = Buffer.concat(blocks);
    const ends: number[] = [];
    blocks.reduce((acc, b) => {
      ends.push(acc + b.length);
      return acc + b.length;
    }, 0);
    for (let cut = 0; cut <= full.length; cut++) {
      const { packets, error } = await readAll(writeTemp(full.subarray(0, cut)));
      const expected = cut >= ends[3]! ? 2 : cut >= ends[2]! ? 1 : 0;
      expect(packets.length, `cut ${cut}`).toBe(expected);
      if (cut < 4) expect(error?.code, `cut ${cut}`).toBe('not-a-capture');
      else if (ends.includes(cut)) expect(error, `cut ${cut}`).toBeUndefined();
      else expect(error?.code, `cut ${cut}`).toBe('truncated');
    }
  });

  it('corrupt blocks: impossible length, trailer mismatch, unknown interface, no byte-order magic', async () => {
    const badLen = Buffer.concat([shb('le'), new Bytes('le').u32(6).u32(13).u32(0).u32(13).bytes()]);
    expect((await readAll(writeTemp(badLen))).error?.code).toBe('corrupt');
    const b = epb('le', 0, 1n, frame(30, 1));
    b.writeUInt32LE(b.length + 4, b.length - 4);
    expect((await readAll(writeTemp(Buffer.concat([shb('le'), idb('le', 1, 0), b])))).error?.code).toBe('corrupt');
    const noIf = Buffer.concat([shb('le'), epb('le', 0, 1n, frame(30, 1))]);
    const e = (await readAll(writeTemp(noIf))).error;
    expect(e?.code).toBe('corrupt');
    expect(e?.message).toMatch(/unknown interface 0/);
    const s = shb('le');
    s.writeUInt32LE(0x12345678, 8);
    expect((await readAll(writeTemp(s))).error?.code).toBe('corrupt');
    const capTooBig = epb('le', 0, 1n, frame(30, 1));
    capTooBig.writeUInt32LE(5000, 20);
    expect((await readAll(writeTemp(Buffer.concat([shb('le'), idb('le', 1, 0), capTooBig])))).error?.code).toBe('corrupt');
  });
});

describe('captures cut short (tcpdump killed mid-write)', () => {
  // three records; a cut inside the header or the data of record `at`: the records before it are
  // read, then a 'truncated' error whose offset is where record `at` starts
  const recs: Rec[] = [
    { sec: 10, frac: 1, data: frame(60, 1) },
    { sec: 11, frac: 2, data: frame(70, 2) },
    { sec: 12, frac: 3, data: frame(80, 3) },
  ];
  interface Layout {
    name: string;
    file: Buffer;
    /** offset of each record (pcapng: each packet block) and the bytes before its data */
    starts: number[];
    header: number;
  }
  const layouts: Layout[] = [];
  for (const order of ['le', 'be'] as const) {
    for (const variant of ['µs', 'ns', 'kuznetsov'] as const) {
      const header = variant === 'kuznetsov' ? 24 : 16;
      const starts: number[] = [];
      let at = 24;
      for (const r of recs) {
        starts.push(at);
        at += header + r.data.length;
      }
      layouts.push({ name: `pcap ${variant} ${order}`, file: pcapFile(order, variant === 'ns', 1, recs, variant === 'kuznetsov'), starts, header });
    }
    const head = Buffer.concat([shb(order), idb(order, 1, 0)]);
    const blocks = recs.map((r, i) => epb(order, 0, BigInt(i + 1), r.data));
    const starts: number[] = [];
    blocks.reduce((at, b) => {
      starts.push(at);
      return at + b.length;
    }, head.length);
    layouts.push({ name: `pcapng ${order}`, file: Buffer.concat([head, ...blocks]), starts, header: 28 });
  }

  for (const l of layouts) {
    it(`${l.name}: cut in a record header and in packet data -> the complete records, then truncated at the record's offset`, async () => {
      for (const at of [0, 2]) {
        for (const where of ['header', 'data'] as const) {
          const cut = l.starts[at]! + (where === 'header' ? 5 : l.header + 3);
          const { packets, error, atOpen } = await readAll(writeTemp(l.file.subarray(0, cut)));
          const what = `${l.name}, record ${at}, cut in its ${where} at ${cut}`;
          expect(packets.map((p) => p.data), what).toEqual(recs.slice(0, at).map((r) => r.data));
          expect(error?.code, what).toBe('truncated');
          expect(atOpen, what).toBe(false);
          expect(error?.offset, what).toBe(l.starts[at]);
          expect(error?.packetsBefore, what).toBe(at);
          expect(error?.message, what).toMatch(where === 'header' ? /cut short: header has 5 of (12|16|24) bytes/ : /cut short: \d+ of \d+ (packet )?bytes/);
        }
      }
      // the whole file, and the file cut exactly after record 1: a clean end
      expect((await readAll(writeTemp(l.file))).packets).toHaveLength(3);
      const clean = await readAll(writeTemp(l.file.subarray(0, l.starts[2])));
      expect(clean.error).toBeUndefined();
      expect(clean.packets).toHaveLength(2);
    });
  }

  it('a file header cut short stays an error of openCapture (pcap: 24 bytes; pcapng: the first section header)', async () => {
    for (const order of ['le', 'be'] as const) {
      for (const file of [pcapFile(order, false, 1, recs), pcapFile(order, false, 1, recs, true)]) {
        for (const cut of [4, 10, 23]) {
          const r = await readAll(writeTemp(file.subarray(0, cut)));
          expect(r.error?.code).toBe('truncated');
          expect(r.atOpen).toBe(true);
          expect(r.error?.message).toMatch(/pcap file header cut short \(\d+ of 24 bytes\)/);
        }
      }
      const ng = Buffer.concat([shb(order), idb(order, 1, 0)]);
      for (const cut of [4, 11, 12, 20, shb(order).length - 1]) {
        const r = await readAll(writeTemp(ng.subarray(0, cut)));
        expect(r.error?.code, `${order} cut ${cut}`).toBe('truncated');
        expect(r.atOpen, `${order} cut ${cut}`).toBe(true);
        expect(r.error?.message).toMatch(/pcapng section header cut short/);
      }
      // a cut inside the first interface block is after the section header: zero packets, truncated
      const r = await readAll(writeTemp(ng.subarray(0, shb(order).length + 6)));
      expect(r.atOpen).toBe(false);
      expect(r.error?.code).toBe('truncated');
      expect(r.error?.offset).toBe(shb(order).length);
      expect(r.error?.packetsBefore).toBe(0);
    }
  });
});

describe('hostile input', () => {
  it('a record claiming 200 MB in a small file is a truncation, and the read buffer does not grow for it', async () => {
    const file = pcapFile('le', false, 1, [{ sec: 1, frac: 2, data: frame(60, 1) }]);
    // a second record header whose captured length says 200 MB, and 100 bytes after it
    const bogus = new Bytes('le').u32(5).u32(6).u32(200 << 20).u32(200 << 20).bytes();
    const path = writeTemp(Buffer.concat([file, bogus, frame(100, 9)]));
    const { packets, error } = await readAll(path);
    expect(packets).toHaveLength(1);
    expect(error?.code).toBe('truncated');
    const src = await FileByteSource.open(path);
    try {
      const initial = src.bufferBytes;
      expect(await src.ensure(200 << 20)).toBe(false);
      expect(src.available).toBe(src.size); // what the file has is there
      expect(src.atEof).toBe(true);
      expect(src.bufferBytes).toBe(initial); // not grown to 200 MB
    } finally {
      await src.close();
    }
  });

  it('mutated pcap and pcapng files give packets or a CaptureError, never another exception', async () => {
    const seeds = [
      pcapFile('le', false, 1, [{ sec: 1, frac: 2, data: frame(60, 1) }, { sec: 3, frac: 4, data: frame(70, 2) }]),
      pcapFile('be', true, 1, [{ sec: 1, frac: 2, data: frame(60, 1) }]),
      pcapFile('le', false, 1, [{ sec: 1, frac: 2, data: frame(60, 1) }, { sec: 3, frac: 4, data: frame(70, 2) }], true),
      pcapFile('be', false, 1, [{ sec: 1, frac: 2, data: frame(60, 1) }, { sec: 3, frac: 4, data: frame(70, 2) }], true),
      Buffer.concat([shb('le'), idb('le', 1, 0, { tsresol: 9, tsoffset: 5n }), epb('le', 0, 9n, frame(40, 1)), spb('le', frame(30, 2))]),
      Buffer.concat([shb('be'), idb('be', 1, 64), oldPb('be', 0, 1n, frame(50, 3)), epb('be', 0, 2n, frame(20, 4))]),
    ];
    let state = 99;
    const rnd = (n: number): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state >>> 8) % n;
    };
    const codes = new Map<string, number>();
    for (let i = 0; i < 1500; i++) {
      const b = Buffer.from(seeds[i % seeds.length]!);
      const flips = 1 + rnd(4);
      for (let j = 0; j < flips; j++) b[rnd(b.length)] = rnd(256); // headers included: lengths, magics, options
      const cut = rnd(4) === 0 ? rnd(b.length + 1) : b.length;
      const { packets, error, atOpen } = await readAll(writeTemp(b.subarray(0, cut), 'fuzz.cap')); // readAll rethrows anything else
      if (error && !atOpen) {
        // an error while reading comes after exactly the packets it counts, and points into the file
        expect(error.packetsBefore).toBe(packets.length);
        expect(error.offset).toBeLessThanOrEqual(cut);
      }
      const key = error ? error.code : 'ok';
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    expect(codes.get('ok')).toBeGreaterThan(0);
    expect(codes.get('truncated')).toBeGreaterThan(0);
    expect(codes.get('corrupt')).toBeGreaterThan(0);
  });
});

describe('files that are not captures', () => {
  it('text, empty, a directory and a missing file each give a clear CaptureError', async () => {
    const text = await readAll(writeTemp(Buffer.from('hello, this is not a capture\n')));
    expect(text.error?.code).toBe('not-a-capture');
    expect(text.error?.message).toMatch(/is not a pcap or pcapng capture \(starts with 68656c6c\)/);
    expect((await readAll(writeTemp(Buffer.alloc(0)))).error?.code).toBe('not-a-capture');
    expect((await readAll(dir)).error?.code).toBe('io');
    expect((await readAll(join(dir, 'missing.pcap'))).error?.code).toBe('io');
    expect(detectCaptureFormat(Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]))).toBe('pcap');
    expect(detectCaptureFormat(Buffer.from([0xa1, 0xb2, 0x3c, 0x4d]))).toBe('pcap');
    expect(detectCaptureFormat(Buffer.from([0xa1, 0xb2, 0xcd, 0x34]))).toBe('pcap');
    expect(detectCaptureFormat(Buffer.from([0x34, 0xcd, 0xb2, 0xa1]))).toBe('pcap');
    expect(detectCaptureFormat(Buffer.from([1, 2, 3]))).toBeNull();
  });
});

describe('streaming', () => {
  it('reads a capture several times larger than its buffer, and one record larger than the buffer', async () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 6000; i++) recs.push({ sec: i, frac: 0, data: frame(64 + ((i * 37) % 1400), i) });
    recs.splice(3000, 0, { sec: 3000, frac: 1, data: frame(3 << 20, 99) }); // 3 MiB record
    const file = pcapFile('le', false, 1, recs);
    expect(file.length).toBeGreaterThan(4 << 20);
    const r = await openCapture(writeTemp(file));
    let n = 0;
    let sum = 0;
    for await (const p of r) {
      expect(p.data.length).toBe(recs[n]!.data.length);
      sum += p.data[p.data.length - 1]!;
      n++;
    }
    expect(n).toBe(recs.length);
    expect(sum).toBe(recs.reduce((s, x) => s + x.data[x.data.length - 1]!, 0));
  });
});

describe('a real capture from tcpdump', () => {
  const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  const available = tcpdump.status === 0;
  if (!available) console.warn('capture.test: tcpdump not installed (scripts/setup-system.sh installs it): skipping the real capture');

  it.skipIf(!available)('reads UDP packets tcpdump wrote from the loopback (pcap, µs and ns)', async (ctx) => {
    for (const precision of ['micro', 'nano'] as const) {
      const path = join(dir, `tcpdump-${precision}.pcap`);
      const port = 40000 + Math.floor(Math.random() * 20000);
      const child = spawn('tcpdump', ['-i', 'lo', '-U', '-n', '-c', '5', `--time-stamp-precision=${precision}`, '-w', path, 'udp', 'dst', 'port', String(port)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      const listening = new Promise<boolean>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('listening on')) resolve(true);
        });
        child.on('exit', () => resolve(false));
        setTimeout(() => resolve(false), 10_000);
      });
      if (!(await listening)) {
        child.kill();
        console.warn(`capture.test: tcpdump could not capture on lo (${stderr.trim()}): skipping`);
        ctx.skip();
        return;
      }
      const sock = createSocket('udp4');
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const sender = setInterval(() => sock.send(Buffer.from('payflow-test-packet'), port, '127.0.0.1'), 50);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      clearInterval(sender);
      sock.close();
      child.kill();
      const { packets, error } = await readAll(path);
      expect(error).toBeUndefined();
      expect(packets.length).toBe(5);
      for (const p of packets) {
        expect(p.link).toBe(1); // Linux loopback is written as LINKTYPE_ETHERNET
        expect(p.data.subarray(12, 14).toString('hex')).toBe('0800'); // IPv4
        expect(p.data.subarray(p.data.length - 19).toString()).toBe('payflow-test-packet');
        expect(p.data.readUInt16BE(14 + 20 + 2)).toBe(port); // UDP destination port
      }
      const now = BigInt(Date.now()) * 1_000_000n;
      expect(packets[0]!.ts).toBeGreaterThan(now - 120_000_000_000n);
      expect(packets[0]!.ts).toBeLessThanOrEqual(now);
      for (let i = 1; i < packets.length; i++) expect(packets[i]!.ts).toBeGreaterThan(packets[i - 1]!.ts);
    }
  });
});

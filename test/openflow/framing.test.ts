// MessageFramer: messages split across reads, coalesced in one read, refused headers.
import { describe, expect, test } from 'vitest';
import { OFPBRC, encodeMessage, readHeader, type OfpMessage } from '../../src/openflow/codec/index.js';
import { MessageFramer } from '../../src/openflow/framing.js';

const echo = (xid: number, size: number): OfpMessage => ({
  type: 'echo_request',
  xid,
  data: Uint8Array.from({ length: size }, (_, i) => (i * 7 + xid) & 0xff),
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('MessageFramer', () => {
  test('a message delivered one byte at a time comes out whole, once', () => {
    const bytes = encodeMessage(echo(7, 100));
    const framer = new MessageFramer();
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const r = framer.push(bytes.subarray(i, i + 1));
      expect(r.violation).toBeUndefined();
      out.push(...r.messages);
      if (i < bytes.length - 1) expect(r.messages).toHaveLength(0);
    }
    expect(out).toHaveLength(1);
    expect([...out[0]!]).toEqual([...bytes]);
    expect(framer.bufferedBytes).toBe(0);
  });

  test('several messages coalesced in one read, the last one cut, come out in order', () => {
    const msgs = [encodeMessage(echo(1, 0)), encodeMessage(echo(2, 300)), encodeMessage(echo(3, 5)), encodeMessage(echo(4, 40))];
    const stream = concat(msgs);
    const cut = stream.length - 17;
    const framer = new MessageFramer();
    const first = framer.push(stream.subarray(0, cut));
    expect(first.messages.map((m) => readHeader(m)!.xid)).toEqual([1, 2, 3]);
    expect(framer.bufferedBytes).toBe(msgs[3]!.length - 17);
    const second = framer.push(stream.subarray(cut));
    expect(second.messages.map((m) => readHeader(m)!.xid)).toEqual([4]);
    expect([...second.messages[0]!]).toEqual([...msgs[3]!]);
  });

  test('every split point of a three-message stream yields the same messages', () => {
    const stream = concat([encodeMessage(echo(10, 3)), encodeMessage(echo(11, 0)), encodeMessage(echo(12, 21))]);
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b += 5) {
        const framer = new MessageFramer();
        const got = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)].flatMap((c) => framer.push(c).messages);
        expect(got.map((m) => readHeader(m)!.xid)).toEqual([10, 11, 12]);
        expect(concat(got)).toEqual(stream);
      }
    }
  });

  test('a header with length < 8 is a BAD_LEN violation; earlier messages still come out', () => {
    const good = encodeMessage(echo(1, 4));
    const bad = Uint8Array.of(4, 2, 0, 4, 0, 0, 0, 9);
    const framer = new MessageFramer();
    const r = framer.push(concat([good, bad]));
    expect(r.messages).toHaveLength(1);
    expect(r.violation?.code).toBe(OFPBRC.BAD_LEN);
    expect(r.violation?.header.xid).toBe(9);
    expect(r.violation?.reason).toMatch(/length 4 < 8/);
    expect(framer.broken).toBe(true);
    expect(framer.push(good).messages).toHaveLength(0);
  });

  test('a message above the maximum is refused as soon as its header is seen', () => {
    const framer = new MessageFramer({ maxMessageLength: 1024 });
    const big = encodeMessage(echo(5, 2000));
    const r = framer.push(big.subarray(0, 8));
    expect(r.violation?.code).toBe(OFPBRC.BAD_LEN);
    expect(r.violation?.reason).toMatch(/exceeds the maximum of 1024/);
  });

  test('after negotiation, another version is a BAD_VERSION violation', () => {
    const framer = new MessageFramer();
    const v10 = Uint8Array.of(1, 2, 0, 8, 0, 0, 0, 3);
    expect(framer.push(v10).violation).toBeUndefined();
    framer.version = 4;
    const r = framer.push(v10);
    expect(r.violation?.code).toBe(OFPBRC.BAD_VERSION);
    expect([...r.violation!.data]).toEqual([...v10]);
  });

  test('the maximum must fit the 16-bit length field', () => {
    expect(() => new MessageFramer({ maxMessageLength: 70_000 })).toThrow(RangeError);
    expect(() => new MessageFramer({ maxMessageLength: 4 })).toThrow(RangeError);
  });
});

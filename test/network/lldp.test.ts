import { describe, expect, it } from 'vitest';
import { buildLldpProbe, parseLldp, parseLldpProbe, LLDP_ETHERTYPE } from '../../src/network/lldp.js';
import { mulberry32 } from '../../src/util/random.js';

/** A deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));

describe('LLDP probes', () => {
  it('builds the exact 802.1AB frame', () => {
    const f = buildLldpProbe({ dpid: 0x1an, port: 3, srcMac: '02:00:00:00:00:01', ttlSeconds: 120 });
    const expected = hex(`
      0180c200000e 020000000001 88cc
      0216 07 6470 6964 3a 30303030303030303030303030303161
      0405 02 00000003
      0602 0078
      0000`);
    expect(f.length).toBe(60); // padded to the Ethernet minimum
    expect([...f.subarray(0, expected.length)]).toEqual([...expected]);
    expect(f.subarray(expected.length).every((b) => b === 0)).toBe(true);
  });

  it('round-trips dpid, port and TTL', () => {
    const cases: [bigint, number, number][] = [
      [1n, 1, 120],
      [0n, 0xffffff00, 0],
      [(1n << 64n) - 1n, 65535, 65535],
      [0x0123456789abcdefn, 42, 5],
    ];
    for (const [dpid, port, ttlSeconds] of cases) {
      const frame = buildLldpProbe({ dpid, port, srcMac: 'aa:bb:cc:dd:ee:ff', ttlSeconds });
      expect(parseLldpProbe(frame)).toEqual({ ok: true, dpid, port, ttlSeconds });
      const full = parseLldp(frame);
      expect(full.ok && full.frame.srcMac).toBe('aa:bb:cc:dd:ee:ff');
    }
  });

  it('parses behind an 802.1Q tag', () => {
    const plain = buildLldpProbe({ dpid: 7n, port: 2, srcMac: '02:00:00:00:00:07' });
    const tagged = new Uint8Array(plain.length + 4);
    tagged.set(plain.subarray(0, 12));
    tagged.set([0x81, 0x00, 0x00, 0x64], 12);
    tagged.set(plain.subarray(12), 16);
    const r = parseLldp(tagged);
    expect(r.ok && r.frame.vlan).toBe(100);
    expect(parseLldpProbe(tagged)).toMatchObject({ ok: true, dpid: 7n, port: 2 });
  });

  it('refuses bad arguments when building', () => {
    expect(() => buildLldpProbe({ dpid: 1n, port: 0, srcMac: '02:00:00:00:00:01' })).toThrow(RangeError);
    expect(() => buildLldpProbe({ dpid: 1n << 64n, port: 1, srcMac: '02:00:00:00:00:01' })).toThrow(RangeError);
    expect(() => buildLldpProbe({ dpid: 1n, port: 1, srcMac: 'nope' })).toThrow(RangeError);
    expect(() => buildLldpProbe({ dpid: 1n, port: 1, srcMac: '02:00:00:00:00:01', ttlSeconds: 70000 })).toThrow(RangeError);
  });
});

describe('hostile and foreign frames', () => {
  const good = buildLldpProbe({ dpid: 1n, port: 1, srcMac: '02:00:00:00:00:01' });

  it('typed errors for each kind of damage', () => {
    const eth = hex('0180c200000e 020000000001 88cc');
    const tlv = (type: number, value: number[]) => [(type << 1) | (value.length >> 8), value.length & 0xff, ...value];
    const chassis = tlv(1, [7, ...new TextEncoder().encode('dpid:0000000000000001')]);
    const port = tlv(2, [2, 0, 0, 0, 1]);
    const ttl = tlv(3, [0, 120]);
    const end = [0, 0];
    const frame = (...parts: number[][]) => Uint8Array.from([...eth, ...parts.flat()]);
    expect(parseLldp(frame(chassis, port, ttl, end)).ok).toBe(true);
    expect(parseLldp(new Uint8Array(5))).toMatchObject({ ok: false, code: 'truncated' });
    expect(parseLldp(hex('0180c200000e 020000000001 0800 4500'))).toMatchObject({ ok: false, code: 'not-lldp' });
    expect(parseLldp(frame(chassis, port, ttl))).toMatchObject({ ok: false, code: 'truncated', message: /End of LLDPDU/ });
    expect(parseLldp(frame(chassis, port, [0x06, 0x10, 0]))).toMatchObject({ ok: false, code: 'truncated' });
    expect(parseLldp(frame(port, chassis, ttl, end))).toMatchObject({ ok: false, code: 'missing-tlv' });
    expect(parseLldp(frame(chassis, ttl, end))).toMatchObject({ ok: false, code: 'missing-tlv' });
    expect(parseLldp(frame(chassis, port, end))).toMatchObject({ ok: false, code: 'missing-tlv' });
    expect(parseLldp(frame(tlv(1, [7]), port, ttl, end))).toMatchObject({ ok: false, code: 'bad-tlv' });
    expect(parseLldp(frame(chassis, port, tlv(3, [1]), end))).toMatchObject({ ok: false, code: 'bad-tlv' });
    expect(parseLldp(frame(chassis, port, ttl, port, end))).toMatchObject({ ok: false, code: 'bad-tlv' });
    expect(parseLldp(frame(chassis, port, ttl, [0, 1, 0]))).toMatchObject({ ok: false, code: 'bad-tlv' });
    // well-formed LLDP from someone else (MAC chassis id, interface-name port id)
    const foreign = frame(tlv(1, [4, 2, 0, 0, 0, 0, 9]), tlv(2, [5, ...new TextEncoder().encode('eth0')]), ttl, tlv(5, [...new TextEncoder().encode('host')]), end);
    const parsed = parseLldp(foreign);
    expect(parsed.ok && parsed.frame.extra.map((t) => t.type)).toEqual([5]);
    expect(parseLldpProbe(foreign)).toMatchObject({ ok: false, code: 'not-ours' });
    expect(parseLldpProbe(frame(tlv(1, [7, ...new TextEncoder().encode('dpid:xyz')]), port, ttl, end))).toMatchObject({ ok: false, code: 'not-ours' });
    expect(parseLldpProbe(frame(chassis, tlv(2, [2, 0, 0, 0, 0]), ttl, end))).toMatchObject({ ok: false, code: 'not-ours' });
    expect(parseLldpProbe(frame(chassis, tlv(2, [7, ...new TextEncoder().encode('12')]), ttl, end))).toMatchObject({ ok: true, port: 12 });
    expect(parseLldpProbe(frame(chassis, tlv(2, [7, ...new TextEncoder().encode('x1')]), ttl, end))).toMatchObject({ ok: false, code: 'not-ours' });
  });

  it('every truncation of a good frame is refused or parsed, never thrown', () => {
    const unpadded = good.subarray(0, 14 + 24 + 7 + 4 + 2);
    for (let n = 0; n < unpadded.length; n++) {
      const r = parseLldpProbe(unpadded.slice(0, n));
      expect(r.ok).toBe(false);
    }
    expect(parseLldpProbe(unpadded).ok).toBe(true);
  });

  it('random bytes and random mutations never throw', () => {
    const random = mulberry32(0x5eed);
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(Math.floor(random() * 120));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
        if (bytes.length > 14 && random() < 0.5) bytes.set([0x88, 0xcc], 12);
      } else {
        bytes = good.slice();
        const flips = 1 + Math.floor(random() * 4);
        for (let k = 0; k < flips; k++) bytes[14 + Math.floor(random() * (bytes.length - 14))] = Math.floor(random() * 256);
        if (random() < 0.3) bytes = bytes.slice(0, Math.floor(random() * bytes.length));
      }
      const r = parseLldpProbe(bytes);
      if (r.ok) {
        parsed++;
        expect(r.port).toBeGreaterThanOrEqual(1);
        expect(r.dpid).toBeLessThan(1n << 64n);
      } else expect(typeof r.message).toBe('string');
    }
    expect(parsed).toBeGreaterThan(0); // some mutations only hit padding or the TTL
    expect(LLDP_ETHERTYPE).toBe(0x88cc);
  });

  it('non-byte input is refused', () => {
    expect(parseLldp('frame' as unknown as Uint8Array)).toMatchObject({ ok: false, code: 'not-lldp' });
  });
});

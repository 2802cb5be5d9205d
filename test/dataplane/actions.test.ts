// Actions by colour: green marks DSCP and takes the class queue, yellow is downgraded to best
// effort (DSCP / IPv6 traffic class rewritten in the frame, ECN kept, IPv4 checksum still
// valid — RFC 1624), red is dropped; per-flow packets/bytes by colour and charges at the class
// price. Uses B's srTCM/trTCM meters through the engines. Both engines.
import { describe, expect, it } from 'vitest';
import { udpFrame } from '../../src/dataplane/synthetic.js';
import { engineKinds, makeEngine } from './engines.js';

function ipv4ChecksumOk(f: Uint8Array, l3: number): boolean {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (f[l3 + i]! << 8) | f[l3 + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return sum === 0xffff;
}

const exp = { basePrice: 0.16, cmaxBps: 1e6, targetBps: 5e5, maxPrice: 1.6, mode: 'exponential' as const, ewmaWindowNs: 1e9 };

for (const kind of engineKinds) {
  describe(`actions by colour (${kind})`, () => {
    it('green / yellow / red on an srTCM meter: mark, downgrade with rewrite, drop', () => {
      const e = makeEngine(kind, { flowCapacity: 64, meterCapacity: 4 });
      e.setClass(0, { ...exp, basePrice: 0.04, targetBps: 1e6 });
      e.setClass(2, exp);
      e.setBestEffort(0, 0, 0);
      // CIR 1000 B/s, CBS 100 B, EBS 100 B: frames of 64 B at the same instant: G, Y, R
      e.setMeter(1, { mode: 'srTCM', colorAware: false, cir: 1000, cbs: 100, ebs: 100 }, 0);
      e.setRule(0, { priority: 1, proto: 17, action: { action: 'forward', class: 2, queue: 3, dscp: 46, meter: 1 } });
      const frames = [udpFrame(1, { dscp: 10 }), udpFrame(1, { dscp: 10 }), udpFrame(1, { dscp: 10 })];
      frames.forEach((f) => (f[15] = (10 << 2) | 2)); // ECN 2
      frames.forEach((f) => {
        // fix the checksum after setting ECN
        f[24] = 0; f[25] = 0;
        let s = 0;
        for (let i = 0; i < 20; i += 2) s += (f[14 + i]! << 8) | f[15 + i]!;
        while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
        f[24] = (~s >> 8) & 0xff; f[25] = ~s & 0xff;
      });
      const len = frames[0]!.length;
      const r = e.process(frames, 1000);
      expect(r.verdict(0)).toMatchObject({ action: 0, color: 0, dscp: 46, queue: 3, class: 2 });
      expect(r.verdict(1)).toMatchObject({ action: 1, color: 1, dscp: 0, queue: 0, class: 0 });
      expect(r.verdict(2)).toMatchObject({ action: 2, color: 2, dscp: 10 });
      expect(r.frame(0)[15]).toBe((46 << 2) | 2);
      expect(r.frame(1)[15]).toBe((0 << 2) | 2);
      expect(r.frame(2)[15]).toBe((10 << 2) | 2);
      for (let i = 0; i < 3; i++) expect(ipv4ChecksumOk(r.frame(i), 14)).toBe(true);
      const flow = e.flows()[0]!;
      expect(flow.packets).toEqual([1, 1, 1]);
      expect(flow.bytes).toEqual([len, len, len]);
      expect(flow.charge).toBeCloseTo(len * 8e-6 * 0.16 + len * 8e-6 * 0.04, 12);
      const c = e.counters();
      expect(c.colors).toEqual([1, 1, 1]);
      expect(c.actions).toEqual([1, 1, 1]);
      expect(c.rewrites).toBe(2);
    });

    it('rewrites the IPv6 traffic class, keeping ECN and the flow label', () => {
      const e = makeEngine(kind, { flowCapacity: 64, meterCapacity: 4 });
      e.setRule(0, { priority: 1, action: { action: 'forward', dscp: 34 } });
      const f = udpFrame(3, { v6: true, dscp: 0, flowLabel: 0xfedcb });
      f[15] |= 0x10; // ECN 1 (low bit of the traffic class sits at bit 4 of byte 1)
      const r = e.process([f], 0);
      const out = r.frame(0);
      const tc = ((out[14]! & 15) << 4) | (out[15]! >> 4);
      expect(tc).toBe((34 << 2) | 1);
      expect(((out[15]! & 15) << 16) | (out[16]! << 8) | out[17]!).toBe(0xfedcb);
      expect(r.verdict(0).flags & 2).toBe(2);
    });

    it('a colour-aware trTCM takes the AF drop precedence as pre-colour', () => {
      const e = makeEngine(kind, { flowCapacity: 64, meterCapacity: 4 });
      e.setMeter(0, { mode: 'trTCM', colorAware: true, cir: 1e6, cbs: 10000, pir: 2e6, pbs: 20000 }, 0);
      e.setRule(0, { priority: 1, action: { action: 'forward', meter: 0 } });
      // AF11 (green), AF12 (yellow), AF13 (red), EF (not AF: green)
      const r = e.process([udpFrame(1, { dscp: 10 }), udpFrame(2, { dscp: 12 }), udpFrame(3, { dscp: 14 }), udpFrame(4, { dscp: 46 })], 10);
      expect([0, 1, 2, 3].map((i) => r.verdict(i).color)).toEqual([0, 1, 2, 0]);
    });
  });
}

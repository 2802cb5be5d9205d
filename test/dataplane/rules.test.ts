// Wildcard rules (tuple-space search): priority order and ties, address prefixes (IPv4 and
// IPv6), port ranges and exact ports in the same bucket, DSCP, flow label masks, the default
// action, and invalidation of cached decisions when rules change. Both engines.
import { describe, expect, it } from 'vitest';
import { udpFrame } from '../../src/dataplane/synthetic.js';
import { DataPlaneError } from '../../src/dataplane/types.js';
import { buildFrame } from './frames.js';
import { engineKinds, makeEngine } from './engines.js';

const udp4 = (src: string, dst: string, sport: number, dport: number, tos = 0) =>
  buildFrame({ ip: { v: 4, src, dst, proto: 17, tos }, l4: { sport, dport } }).bytes;
const udp6 = (src: string, dst: string, flowLabel: number, dport = 9) =>
  buildFrame({ ip: { v: 6, src, dst, nh: 17, flowLabel }, l4: { sport: 1, dport } }).bytes;

for (const kind of engineKinds) {
  describe(`wildcard rules (${kind})`, () => {
    it('picks the highest priority; equal priorities go to the lower id', () => {
      const e = makeEngine(kind, { flowCapacity: 256, ruleCapacity: 16 });
      e.setRule(0, { priority: 10, src: '10.0.0.0/8', action: { action: 'forward', class: 1 } });
      e.setRule(1, { priority: 20, src: '10.1.0.0/16', action: { action: 'forward', class: 2 } });
      e.setRule(2, { priority: 30, src: '10.1.2.0/24', proto: 6, action: { action: 'forward', class: 3 } }); // TCP only
      e.setRule(5, { priority: 20, dst: '192.168.0.0/16', action: { action: 'forward', class: 5 } });
      e.setRule(4, { priority: 20, dst: '192.168.1.0/24', action: { action: 'forward', class: 4 } });
      const r = e.process([udp4('10.1.2.3', '8.8.8.8', 1, 2), udp4('10.9.9.9', '8.8.8.8', 1, 2), udp4('10.1.2.3', '192.168.1.1', 1, 2), udp4('11.0.0.1', '192.168.9.1', 1, 2), udp4('11.0.0.1', '8.8.8.8', 1, 2)], 0);
      expect([0, 1, 2, 3, 4].map((i) => r.verdict(i).rule)).toEqual([1, 0, 1, 5, -1]);
      expect([0, 1, 2, 3].map((i) => r.verdict(i).class)).toEqual([2, 1, 2, 5]);
    });

    it('matches port ranges and exact ports in one tuple, and DSCP', () => {
      const e = makeEngine(kind, { flowCapacity: 256, ruleCapacity: 16 });
      e.setRule(0, { priority: 5, proto: 17, dport: [1000, 1999], action: { action: 'forward', class: 1 } });
      e.setRule(1, { priority: 6, proto: 17, dport: [1500, 1600], action: { action: 'forward', class: 2 } });
      e.setRule(2, { priority: 7, proto: 17, dport: 1550, sport: [0, 100], action: { action: 'forward', class: 3 } });
      e.setRule(3, { priority: 8, dscp: 46, action: { action: 'forward', class: 4 } });
      const r = e.process([
        udp4('1.1.1.1', '2.2.2.2', 50, 999),
        udp4('1.1.1.1', '2.2.2.2', 50, 1000),
        udp4('1.1.1.1', '2.2.2.2', 50, 1999),
        udp4('1.1.1.1', '2.2.2.2', 50, 2000),
        udp4('1.1.1.1', '2.2.2.2', 500, 1550),
        udp4('1.1.1.1', '2.2.2.2', 50, 1550),
        udp4('1.1.1.1', '2.2.2.2', 50, 1550, 46 << 2),
      ], 0);
      expect([0, 1, 2, 3, 4, 5, 6].map((i) => r.verdict(i).rule)).toEqual([-1, 0, 0, -1, 1, 2, 3]);
    });

    it('matches IPv6 prefixes and flow labels under a mask', () => {
      const e = makeEngine(kind, { flowCapacity: 256, ruleCapacity: 16 });
      e.setRule(0, { priority: 1, src: '2001:db8::/32', action: { action: 'forward', class: 1 } });
      e.setRule(1, { priority: 2, src: '2001:db8::/32', flowLabel: 0x12345, action: { action: 'forward', class: 2 } });
      e.setRule(2, { priority: 3, flowLabel: { value: 0xf0000, mask: 0xf0000 }, action: { action: 'forward', class: 3 } });
      e.setRule(3, { priority: 4, src: '10.0.0.0/8', action: { action: 'drop' } }); // IPv4 only
      const r = e.process([udp6('2001:db8::5', '2001:db8::6', 7), udp6('2001:db8::5', '2001:db8::6', 0x12345), udp6('2001:db9::5', '2001:db8::6', 0xf1234), udp6('2001:db9::5', '2001:db8::6', 0x01234)], 0);
      expect([0, 1, 2, 3].map((i) => r.verdict(i).rule)).toEqual([0, 1, 2, -1]);
    });

    it('drop rules drop; the default action applies when nothing matches', () => {
      const e = makeEngine(kind, { flowCapacity: 256, ruleCapacity: 16 });
      e.setDefaultAction({ action: 'forward', class: 7, queue: 2, dscp: 10 });
      e.setRule(0, { priority: 1, proto: 17, dport: 53, action: { action: 'drop' } });
      const r = e.process([udp4('1.1.1.1', '2.2.2.2', 1, 53), udp4('1.1.1.1', '2.2.2.2', 1, 54)], 0);
      expect(r.verdict(0)).toMatchObject({ action: 2, rule: 0 });
      expect(r.verdict(1)).toMatchObject({ action: 0, rule: -1, class: 7, queue: 2, dscp: 10 });
    });

    it('invalidates cached decisions when rules change', () => {
      const e = makeEngine(kind, { flowCapacity: 256, ruleCapacity: 16 });
      const f = udp4('10.1.2.3', '2.2.2.2', 1, 80);
      e.setRule(0, { priority: 1, src: '10.0.0.0/8', action: { action: 'forward', class: 1 } });
      expect(e.process([f], 0).verdict(0)).toMatchObject({ rule: 0, class: 1 });
      expect(e.process([f], 1).verdict(0).flags & 8).toBe(8); // cache hit
      e.setRule(1, { priority: 9, dport: 80, action: { action: 'forward', class: 2 } });
      const v = e.process([f], 2).verdict(0);
      expect(v).toMatchObject({ rule: 1, class: 2 });
      expect(v.flags & 8).toBe(0);
      e.deleteRule(1);
      expect(e.process([f], 3).verdict(0)).toMatchObject({ rule: 0, class: 1 });
      e.setRule(0, { priority: 1, src: '10.0.0.0/8', action: { action: 'drop' } }); // replace in place
      expect(e.process([f], 4).verdict(0)).toMatchObject({ rule: 0, action: 2 });
      e.deleteRule(0);
      expect(e.process([f], 5).verdict(0)).toMatchObject({ rule: -1, action: 0 });
      expect(e.flows()).toHaveLength(1);
      expect(e.flows()[0]!.packets).toEqual([6, 0, 0]);
    });

    it('rejects bad rules and leaves the rule set unchanged', () => {
      const e = makeEngine(kind, { flowCapacity: 16, ruleCapacity: 4 });
      e.setRule(0, { priority: 1, proto: 17, action: { action: 'forward', class: 1 } });
      expect(() => e.setRule(4, { priority: 1, action: { action: 'drop' } })).toThrow(DataPlaneError);
      expect(() => e.setRule(1, { priority: 1, dport: [10, 5], action: { action: 'drop' } })).toThrow(DataPlaneError);
      expect(() => e.setRule(1, { priority: 1, src: '10.0.0.0/33', action: { action: 'drop' } })).toThrow(DataPlaneError);
      expect(() => e.setRule(1, { priority: 1, src: '10.0.0.300', action: { action: 'drop' } })).toThrow(DataPlaneError);
      expect(() => e.setRule(1, { priority: 1, src: '10.0.0.0/8', dst: '::1', action: { action: 'drop' } })).toThrow(DataPlaneError);
      expect(() => e.setRule(1, { priority: 1, action: { action: 'forward', class: 99 } })).toThrow(DataPlaneError);
      expect(e.tupleCount).toBe(1);
      expect(e.process([udpFrame(1)], 0).verdict(0)).toMatchObject({ rule: 0, class: 1 });
    });

    it('stays correct with 10k rules over many tuples', () => {
      const e = makeEngine(kind, { flowCapacity: 4096, ruleCapacity: 10000 });
      // rule i: 10.(i>>8).(i&255).0/24 → class i % 60; every 7th also needs dport 5000..5003
      // (a range: same tuple, checked along the chain), every 11th dport 5001 (exact: own tuple)
      const portOf = (i: number) => (i % 7 === 0 ? { dport: [5000, 5003] as const } : i % 11 === 0 ? { dport: 5001 } : {});
      for (let i = 0; i < 10000; i++) {
        e.setRule(i, { priority: i % 3, src: `10.${i >> 8}.${i & 255}.0/24`, ...portOf(i), action: { action: 'forward', class: i % 60 } });
      }
      expect(e.tupleCount).toBe(2);
      const frames: Uint8Array[] = [];
      const want: number[] = [];
      for (let k = 0; k < 1000; k++) {
        const i = (k * 37) % 10000;
        const dport = 4998 + (k % 8);
        frames.push(udp4(`10.${i >> 8}.${i & 255}.9`, '1.1.1.1', 1, dport));
        want.push(i % 7 === 0 ? (dport < 5000 || dport > 5003 ? -1 : i) : i % 11 === 0 ? (dport === 5001 ? i : -1) : i);
      }
      const r = e.process(frames, 0);
      expect(frames.map((_, k) => r.verdict(k).rule)).toEqual(want);
    });
  });
}

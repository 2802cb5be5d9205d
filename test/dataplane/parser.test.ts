// Parser: a crafted frame for each header combination, checked field by field through the
// flow dump, and each frame cut at every byte (reason = the header holding the first missing
// byte; never a trap). Plus malformed headers, and IPsec as a classifier sees it: AH (RFC 4302)
// is walked in IPv4 as in IPv6 and the key carries the protocol behind it; ESP (RFC 4303) is
// an ordinary flow with protocol 50 and no ports. Runs against the wasm Engine and the TS twin.
import { describe, expect, it } from 'vitest';
import { Reason } from '../../src/dataplane/types.js';
import { buildFrame, type FrameSpec } from './frames.js';
import { engineKinds, makeEngine } from './engines.js';
import { makePartialEngine } from '../../bench/support/partial-engine.js';

const v4 = { src: '10.1.2.3', dst: '192.168.7.9' };
const v6 = { src: '2001:db8::1', dst: '2001:db8:0:1::2' };

interface Case {
  name: string;
  spec: FrameSpec;
  want: { ethertype: number; proto?: number; sport?: number; dport?: number; vlan?: number | null; vlanInner?: number | null; dscp?: number; ecn?: number; flowLabel?: number; src?: string; dst?: string };
}

const cases: Case[] = [
  { name: 'ARP (no IP)', spec: {}, want: { ethertype: 0x0806, proto: 0, src: '0.0.0.0' } },
  { name: 'IPv4/TCP', spec: { ip: { v: 4, ...v4, proto: 6, tos: (46 << 2) | 1 }, l4: { sport: 40000, dport: 443 } }, want: { ethertype: 0x0800, proto: 6, sport: 40000, dport: 443, dscp: 46, ecn: 1, ...v4 } },
  { name: 'IPv4/TCP with TCP options', spec: { ip: { v: 4, ...v4, proto: 6 }, l4: { sport: 1, dport: 2, tcpOptionWords: 3 } }, want: { ethertype: 0x0800, proto: 6, sport: 1, dport: 2 } },
  { name: 'IPv4 options/UDP', spec: { ip: { v: 4, ...v4, proto: 17, optionWords: 2 }, l4: { sport: 5000, dport: 53 } }, want: { ethertype: 0x0800, proto: 17, sport: 5000, dport: 53, ...v4 } },
  { name: 'IPv4/ICMP', spec: { ip: { v: 4, ...v4, proto: 1 }, l4: { type: 8, code: 0 } }, want: { ethertype: 0x0800, proto: 1, sport: 8, dport: 0 } },
  { name: 'IPv4 first fragment/UDP', spec: { ip: { v: 4, ...v4, proto: 17, mf: true }, l4: { sport: 7, dport: 9 } }, want: { ethertype: 0x0800, proto: 17, sport: 7, dport: 9 } },
  { name: 'IPv4 non-first fragment (no ports)', spec: { ip: { v: 4, ...v4, proto: 17, fragOffset: 185 }, l4: { sport: 7, dport: 9 } }, want: { ethertype: 0x0800, proto: 17, sport: 0, dport: 0 } },
  { name: '802.1Q/IPv4/UDP', spec: { vlans: [100], ip: { v: 4, ...v4, proto: 17 }, l4: { sport: 1000, dport: 2000 } }, want: { ethertype: 0x0800, vlan: 100, vlanInner: null, proto: 17, sport: 1000, dport: 2000 } },
  { name: 'QinQ/IPv6/TCP', spec: { vlans: [10, 4094], ip: { v: 6, ...v6, nh: 6, tc: 0xb8 }, l4: { sport: 80, dport: 8080 } }, want: { ethertype: 0x86dd, vlan: 10, vlanInner: 4094, proto: 6, dscp: 46, sport: 80, dport: 8080, ...v6 } },
  { name: 'IPv6/UDP with flow label', spec: { ip: { v: 6, ...v6, nh: 17, flowLabel: 0xabcde, tc: 0x29 }, l4: { sport: 5001, dport: 5002 } }, want: { ethertype: 0x86dd, proto: 17, flowLabel: 0xabcde, dscp: 10, ecn: 1, sport: 5001, dport: 5002 } },
  { name: 'IPv6/ICMPv6', spec: { ip: { v: 6, ...v6, nh: 58 }, l4: { type: 128, code: 0 } }, want: { ethertype: 0x86dd, proto: 58, sport: 128, dport: 0 } },
  { name: 'IPv6 hop-by-hop/UDP', spec: { ip: { v: 6, ...v6, nh: 17, ext: [{ type: 0 }] }, l4: { sport: 1, dport: 2 } }, want: { ethertype: 0x86dd, proto: 17, sport: 1, dport: 2 } },
  { name: 'IPv6 routing/TCP', spec: { ip: { v: 6, ...v6, nh: 6, ext: [{ type: 43, extraUnits: 2 }] }, l4: { sport: 3, dport: 4 } }, want: { ethertype: 0x86dd, proto: 6, sport: 3, dport: 4 } },
  { name: 'IPv6 first fragment/UDP', spec: { ip: { v: 6, ...v6, nh: 17, ext: [{ type: 44 }] }, l4: { sport: 5, dport: 6 } }, want: { ethertype: 0x86dd, proto: 17, sport: 5, dport: 6 } },
  { name: 'IPv6 non-first fragment (no ports)', spec: { ip: { v: 6, ...v6, nh: 17, ext: [{ type: 44, fragOffset: 100 }] }, l4: { sport: 5, dport: 6 } }, want: { ethertype: 0x86dd, proto: 17, sport: 0, dport: 0 } },
  { name: 'IPv6 destination options/UDP', spec: { ip: { v: 6, ...v6, nh: 17, ext: [{ type: 60, extraUnits: 1 }] }, l4: { sport: 9, dport: 10 } }, want: { ethertype: 0x86dd, proto: 17, sport: 9, dport: 10 } },
  { name: 'IPv6 AH/TCP', spec: { ip: { v: 6, ...v6, nh: 6, ext: [{ type: 51, extraUnits: 1 }] }, l4: { sport: 22, dport: 2222 } }, want: { ethertype: 0x86dd, proto: 6, sport: 22, dport: 2222 } },
  { name: 'IPv4 AH/TCP', spec: { ip: { v: 4, ...v4, proto: 6, tos: 34 << 2, ah: [{ extraUnits: 3 }] }, l4: { sport: 40000, dport: 22 } }, want: { ethertype: 0x0800, proto: 6, sport: 40000, dport: 22, dscp: 34, ...v4 } },
  { name: 'IPv4 options/AH (no ICV)/UDP', spec: { ip: { v: 4, ...v4, proto: 17, optionWords: 2, ah: [{}] }, l4: { sport: 5000, dport: 53 } }, want: { ethertype: 0x0800, proto: 17, sport: 5000, dport: 53, ...v4 } },
  { name: '802.1Q/IPv4 AH/ICMP', spec: { vlans: [300], ip: { v: 4, ...v4, proto: 1, ah: [{ extraUnits: 1 }] }, l4: { type: 8, code: 0 } }, want: { ethertype: 0x0800, vlan: 300, proto: 1, sport: 8, dport: 0 } },
  { name: 'IPv4 AH/AH/UDP', spec: { ip: { v: 4, ...v4, proto: 17, ah: [{ extraUnits: 3 }, { extraUnits: 5 }] }, l4: { sport: 1, dport: 4789 } }, want: { ethertype: 0x0800, proto: 17, sport: 1, dport: 4789 } },
  { name: 'IPv4 first fragment/AH/TCP', spec: { ip: { v: 4, ...v4, proto: 6, mf: true, ah: [{ extraUnits: 3 }] }, l4: { sport: 7, dport: 9 } }, want: { ethertype: 0x0800, proto: 6, sport: 7, dport: 9 } },
  { name: 'IPv4 non-first fragment with AH (protocol 51, no ports)', spec: { ip: { v: 4, ...v4, proto: 6, fragOffset: 185, ah: [{ extraUnits: 3 }] }, l4: { sport: 7, dport: 9 } }, want: { ethertype: 0x0800, proto: 51, sport: 0, dport: 0 } },
  { name: 'IPv4 ESP (no ports)', spec: { ip: { v: 4, ...v4, proto: 50, tos: 46 << 2 }, payload: 48 }, want: { ethertype: 0x0800, proto: 50, sport: 0, dport: 0, dscp: 46, ...v4 } },
  { name: 'IPv4 AH/ESP', spec: { ip: { v: 4, ...v4, proto: 50, ah: [{ extraUnits: 3 }] }, payload: 32 }, want: { ethertype: 0x0800, proto: 50, sport: 0, dport: 0 } },
  { name: 'IPv6 ESP (no ports)', spec: { ip: { v: 6, ...v6, nh: 50, flowLabel: 0x54321 }, payload: 48 }, want: { ethertype: 0x86dd, proto: 50, sport: 0, dport: 0, flowLabel: 0x54321, ...v6 } },
  { name: 'IPv6 AH/ESP', spec: { ip: { v: 6, ...v6, nh: 50, ext: [{ type: 51, extraUnits: 1 }] }, payload: 32 }, want: { ethertype: 0x86dd, proto: 50, sport: 0, dport: 0 } },
  { name: 'QinQ/IPv6 hop-by-hop/AH/ESP', spec: { vlans: [5, 6], ip: { v: 6, ...v6, nh: 50, ext: [{ type: 0 }, { type: 51, extraUnits: 3 }] }, payload: 20 }, want: { ethertype: 0x86dd, vlan: 5, vlanInner: 6, proto: 50, sport: 0, dport: 0 } },
  { name: 'IPv6 all extension headers/ICMPv6', spec: { vlans: [7], ip: { v: 6, ...v6, nh: 58, ext: [{ type: 0 }, { type: 60 }, { type: 43 }, { type: 44 }, { type: 51 }, { type: 60, extraUnits: 1 }] }, l4: { type: 135, code: 0 } }, want: { ethertype: 0x86dd, vlan: 7, proto: 58, sport: 135, dport: 0 } },
];

for (const kind of engineKinds) {
  describe(`parser (${kind})`, () => {
    for (const c of cases) {
      it(`${c.name}: whole frame parses into the right key`, () => {
        const engine = makeEngine(kind, { flowCapacity: 64 });
        const f = buildFrame(c.spec);
        const r = engine.process([f.bytes], 1000, 3);
        const v = r.verdict(0);
        expect(v.reason).toBe(Reason.Ok);
        expect(v.flow).toBeGreaterThanOrEqual(0);
        const flow = engine.flow(v.flow)!;
        expect(flow.inPort).toBe(3);
        expect(flow.ethertype).toBe(c.want.ethertype);
        expect(flow.vlan).toBe(c.want.vlan ?? null);
        expect(flow.vlanInner).toBe(c.want.vlanInner ?? null);
        for (const field of ['proto', 'sport', 'dport', 'dscp', 'ecn', 'flowLabel', 'src', 'dst'] as const) {
          if (c.want[field] !== undefined) expect(flow[field], field).toBe(c.want[field]);
        }
        expect(flow.packets).toEqual([1, 0, 0]);
        expect(flow.bytes).toEqual([f.bytes.length, 0, 0]);
      });

      it(`${c.name}: cut at every byte gets the right reason`, () => {
        const engine = makeEngine(kind, { flowCapacity: 64 });
        const f = buildFrame(c.spec);
        const cuts: Uint8Array[] = [];
        for (let k = 0; k < f.bytes.length; k++) cuts.push(f.bytes.slice(0, k));
        const r = engine.process(cuts, 0);
        expect(r.count).toBe(cuts.length);
        const got: number[] = [], want: number[] = [];
        for (let k = 0; k < cuts.length; k++) {
          got.push(r.verdict(k).reason);
          want.push(f.cutReason(k));
        }
        expect(got).toEqual(want);
        const counters = engine.counters();
        expect(counters.packets).toBe(cuts.length);
        const malformed = want.filter((x) => x !== Reason.Ok).length;
        expect(counters.actions[2]).toBe(malformed);
      });
    }

    it('malformed headers get their reasons', () => {
      const engine = makeEngine(kind, { flowCapacity: 64 });
      const mutate = (spec: FrameSpec, at: number, value: number) => {
        const b = buildFrame(spec).bytes.slice();
        b[at] = value;
        return b;
      };
      const udp4: FrameSpec = { ip: { v: 4, ...v4, proto: 17 }, l4: { sport: 1, dport: 2 } };
      const tcp4: FrameSpec = { ip: { v: 4, ...v4, proto: 6 }, l4: { sport: 1, dport: 2 } };
      const udp6: FrameSpec = { ip: { v: 6, ...v6, nh: 17 }, l4: { sport: 1, dport: 2 } };
      const ahUdp4: FrameSpec = { ip: { v: 4, ...v4, proto: 17, ah: [{ extraUnits: 3 }] }, l4: { sport: 1, dport: 2 } };
      const ahAt = 14 + 20; // the AH right behind a 20-byte IPv4 header
      const frames: [Uint8Array, number][] = [
        [mutate(udp4, 14, 0x55), Reason.BadIPv4], // version 5
        [mutate(udp4, 14, 0x44), Reason.BadIPv4], // IHL 4
        [mutate(udp4, 17, 10), Reason.BadIPv4], // total length 10 < IHL
        [mutate(udp4, 17, 24), Reason.BadL4], // total length leaves 4 bytes for UDP
        [mutate(tcp4, 14 + 20 + 12, 0x40), Reason.BadL4], // TCP data offset 4
        [mutate(udp6, 14, 0x40), Reason.BadIPv6],
        [mutate(udp6, 12, 0x05), Reason.NotEthernetII], // 802.3 length 0x05dd
        [buildFrame({ vlans: [1, 2], ethertype: 0x8100 }).bytes, Reason.TooManyTags],
        [buildFrame({ ip: { v: 6, ...v6, nh: 17, ext: [{ type: 60 }, { type: 0 }] }, l4: {} }).bytes, Reason.BadExtension],
        [buildFrame({ ip: { v: 6, ...v6, nh: 17, ext: Array.from({ length: 9 }, () => ({ type: 60 as const })) }, l4: {} }).bytes, Reason.BadExtension],
        [mutate(ahUdp4, ahAt + 1, 0xff), Reason.BadExtension], // AH length past the IP total length (the frame has no more)
        [mutate(ahUdp4, ahAt + 1, 8), Reason.BadExtension], // a 40-byte AH where the IP payload has 38 bytes
        [mutate(ahUdp4, 17, 20), Reason.BadExtension], // total length 20: protocol 51 with no room for its AH
        [mutate(ahUdp4, ahAt + 1, 0), Reason.BadExtension], // AH payload length 0: 8 bytes, under AH's 12-byte fixed part
        [mutate({ ip: { v: 6, ...v6, nh: 17, ext: [{ type: 51 }] }, l4: { sport: 1, dport: 2 } }, 14 + 40 + 1, 0), Reason.BadExtension], // the same after IPv6
        [mutate(ahUdp4, 17, 20 + 24 + 4), Reason.BadL4], // AH fits, 4 bytes left for UDP
        [buildFrame({ ip: { v: 4, ...v4, proto: 17, ah: Array.from({ length: 9 }, () => ({})) }, l4: {} }).bytes, Reason.BadExtension],
        [buildFrame({ ip: { v: 4, ...v4, proto: 17, ah: Array.from({ length: 8 }, () => ({})) }, l4: {} }).bytes, Reason.Ok], // 8 AH headers is the limit
      ];
      const r = engine.process(frames.map((f) => f[0]), 0);
      expect(frames.map((_, i) => r.verdict(i).reason)).toEqual(frames.map((f) => f[1]));
      expect(frames.map((_, i) => r.verdict(i).action)).toEqual(frames.map((f) => (f[1] === Reason.Ok ? 0 : 2)));
      const c = engine.counters();
      expect(c.reasons[Reason.BadIPv4]).toBe(3);
      expect(c.reasons[Reason.BadL4]).toBe(3);
      expect(c.reasons[Reason.BadExtension]).toBe(8);
    });

    it('rules see through AH to the upper layer and match ESP on protocol 50', () => {
      const engine = makeEngine(kind, { flowCapacity: 64, ruleCapacity: 8 });
      engine.setRule(0, { priority: 10, proto: 6, dport: 22, action: { action: 'forward', class: 1, queue: 1 } });
      engine.setRule(1, { priority: 10, proto: 50, action: { action: 'forward', class: 2, queue: 2 } });
      engine.setRule(2, { priority: 10, proto: 51, action: { action: 'drop' } }); // only a non-first fragment still says 51
      const ssh = { sport: 50000, dport: 22 };
      const frames = [
        buildFrame({ ip: { v: 4, ...v4, proto: 6 }, l4: ssh }),
        buildFrame({ ip: { v: 4, ...v4, proto: 6, ah: [{ extraUnits: 3 }] }, l4: ssh }),
        buildFrame({ ip: { v: 6, ...v6, nh: 6, ext: [{ type: 51, extraUnits: 1 }] }, l4: ssh }),
        buildFrame({ ip: { v: 4, ...v4, proto: 50 }, payload: 64 }),
        buildFrame({ ip: { v: 6, ...v6, nh: 50 }, payload: 64 }),
        buildFrame({ ip: { v: 6, ...v6, nh: 50, ext: [{ type: 51, extraUnits: 1 }] }, payload: 64 }),
        buildFrame({ ip: { v: 4, ...v4, proto: 6, fragOffset: 100, ah: [{ extraUnits: 3 }] }, l4: ssh }),
      ].map((f) => f.bytes);
      const r = engine.process(frames, 0);
      const verdicts = frames.map((_, i) => r.verdict(i));
      expect(verdicts.map((v) => v.reason)).toEqual(frames.map(() => Reason.Ok));
      expect(verdicts.map((v) => v.rule)).toEqual([0, 0, 0, 1, 1, 1, 2]);
      expect(verdicts.map((v) => v.action)).toEqual([0, 0, 0, 0, 0, 0, 2]);
      expect(verdicts.slice(0, 6).map((v) => v.queue)).toEqual([1, 1, 1, 2, 2, 2]);
      // AH adds nothing to the key: plain and authenticated IPv4 SSH from one host are one flow
      expect(verdicts[1]!.flow).toBe(verdicts[0]!.flow);
      const c = engine.counters();
      expect(c.reasons.slice(1).every((x) => x === 0)).toBe(true);
    });

    it('a descriptor pointing outside the input buffer is dropped as BadDescriptor', () => {
      // descriptors that the production engines never write: the benchmark engines write them raw
      const engine = makePartialEngine(kind, { flowCapacity: 64 });
      const f = buildFrame({ ip: { v: 4, ...v4, proto: 17 }, l4: { sport: 1, dport: 2 } }).bytes;
      const slot = new Uint8Array(64);
      slot.set(f);
      engine.loadArena(slot, 64);
      engine.selectArena(0, 2, 1_000_000, 2_000_000, 0, 1); // frame 1 lies 64 MB past the arena
      const r = engine.run();
      expect([r.verdict(0).reason, r.verdict(1).reason]).toEqual([Reason.Ok, Reason.BadDescriptor]);
      expect(engine.counters().reasons[Reason.BadDescriptor]).toBe(1);
    });
  });
}

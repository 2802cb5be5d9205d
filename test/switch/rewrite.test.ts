// set_field on addresses, ports and ICMP, push / pop VLAN, and groups, on both datapaths of
// the switch (the WebAssembly pipeline and its TypeScript twin): every rewritten frame is
// checked against checksums computed from scratch here (IPv4 header, TCP / UDP / ICMPv6 over
// the pseudo-header, ICMPv4), which is what makes the incremental updates (RFC 1624) right;
// tags are pushed and popped at the right place; groups run all / one bucket on clones of the
// packet, select spreads flows by weight; and group-mods and actions the switch does not
// support get the error type and code of OpenFlow 1.3.5 §7.4.4. Needs `npm run build:wasm`.
import { describe, expect, it } from 'vitest';
import {
  OFPBAC, OFPET, OFPFC, OFPGC, OFPGMFC, OFPGT, OFPG, OFPP, OFPRR, applyActions, flowMod, output, setField, writeActions,
  type Action, type Bucket, type GroupModMessage, type Oxm,
} from '../../src/openflow/codec/index.js';
import { Rng } from '../../src/dataplane/synthetic.js';
import { Pipeline, type PacketSink, type SwitchPipeline } from '../../src/switch/pipeline.js';
import { WasmPipeline } from '../../src/switch/wasm-pipeline.js';

const PORTS = [1, 2, 3, 4];
const valid = (): Set<number> => new Set(PORTS);

class Collect implements PacketSink {
  readonly portNumbers = PORTS;
  out: { port: number; frame: Uint8Array; queue: number }[] = [];
  output(portNo: number, frame: Uint8Array, at: number, len: number, _shared: boolean, queueId: number): void {
    this.out.push({ port: portNo, frame: frame.slice(at, at + len), queue: queueId });
  }
  packetIn(): void {}
}

function sum16(b: Uint8Array, from: number, to: number, start = 0): number {
  let s = start;
  for (let i = from; i < to; i += 2) s += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

interface Parsed { l3: number; v: 4 | 6; l4: number; proto: number; end: number }

function locate(f: Uint8Array): Parsed {
  let off = 12;
  let et = (f[off]! << 8) | f[off + 1]!;
  while (et === 0x8100 || et === 0x88a8) {
    off += 4;
    et = (f[off]! << 8) | f[off + 1]!;
  }
  const l3 = off + 2;
  if (et === 0x0800) {
    const ihl = (f[l3]! & 15) * 4;
    return { l3, v: 4, l4: l3 + ihl, proto: f[l3 + 9]!, end: l3 + ((f[l3 + 2]! << 8) | f[l3 + 3]!) };
  }
  return { l3, v: 6, l4: l3 + 40, proto: f[l3 + 6]!, end: l3 + 40 + ((f[l3 + 4]! << 8) | f[l3 + 5]!) };
}

/** The L4 checksum's offset inside its header. */
const checkAt = (proto: number): number => (proto === 6 ? 16 : proto === 17 ? 6 : 2);

/** Sum of the pseudo-header (addresses, protocol, upper-layer length). */
function pseudo(f: Uint8Array, p: Parsed): number {
  const len = p.end - p.l4;
  const addrs = p.v === 4 ? sum16(f, p.l3 + 12, p.l3 + 20) : sum16(f, p.l3 + 8, p.l3 + 40);
  return sum16(new Uint8Array([0, p.proto, len >> 8, len & 0xff]), 0, 4, addrs);
}

/** Fills in correct checksums from scratch. */
function finalize(f: Uint8Array): Uint8Array {
  const p = locate(f);
  if (p.v === 4) {
    f[p.l3 + 10] = 0;
    f[p.l3 + 11] = 0;
    const c = ~sum16(f, p.l3, p.l4) & 0xffff;
    f[p.l3 + 10] = c >> 8;
    f[p.l3 + 11] = c & 0xff;
  }
  const at = p.l4 + checkAt(p.proto);
  f[at] = 0;
  f[at + 1] = 0;
  const withPseudo = p.proto !== 1;
  let c = ~sum16(f, p.l4, p.end, withPseudo ? pseudo(f, p) : 0) & 0xffff;
  if (p.proto === 17 && c === 0) c = 0xffff;
  f[at] = c >> 8;
  f[at + 1] = c & 0xff;
  return f;
}

/** Every checksum of the frame verifies (a zero UDP/IPv4 checksum counts as "none"). */
function checksumsValid(f: Uint8Array): boolean {
  const p = locate(f);
  if (p.v === 4 && sum16(f, p.l3, p.l4) !== 0xffff) return false;
  const at = p.l4 + checkAt(p.proto);
  if (p.proto === 17 && p.v === 4 && f[at] === 0 && f[at + 1] === 0) return true;
  return sum16(f, p.l4, p.end, p.proto !== 1 ? pseudo(f, p) : 0) === 0xffff;
}

function frame(rng: Rng, v: 4 | 6, proto: number, vlan?: number): Uint8Array {
  const payload = 4 + rng.below(60);
  const l4len = proto === 6 ? 20 : proto === 17 ? 8 : 8;
  const ipLen = v === 4 ? 20 : 40;
  const tag = vlan === undefined ? 0 : 4;
  const f = new Uint8Array(14 + tag + ipLen + l4len + payload);
  for (let i = 0; i < f.length; i++) f[i] = rng.below(256);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  let o = 12;
  if (vlan !== undefined) {
    f.set([0x81, 0x00, (5 << 5) | (vlan >> 8), vlan & 0xff], o);
    o += 4;
  }
  f.set(v === 4 ? [0x08, 0x00] : [0x86, 0xdd], o);
  const l3 = o + 2;
  if (v === 4) {
    f.set([0x45, 0, (ipLen + l4len + payload) >> 8, (ipLen + l4len + payload) & 0xff, 0, 0, 0x40, 0, 64, proto], l3);
  } else {
    f.set([0x60, 0, 0, 0, (l4len + payload) >> 8, (l4len + payload) & 0xff, proto, 64], l3);
    f.set([0x20, 0x01, 0x0d, 0xb8], l3 + 8);
    f.set([0x20, 0x01, 0x0d, 0xb8], l3 + 24);
  }
  const l4 = l3 + ipLen;
  if (proto === 6) f[l4 + 12] = 5 << 4;
  if (proto === 17) f.set([(l4len + payload) >> 8, (l4len + payload) & 0xff], l4 + 4);
  if (proto === 1 || proto === 58) f.set([proto === 1 ? 8 : 128, 0], l4);
  return finalize(f);
}

function both(): SwitchPipeline[] {
  return [new Pipeline(valid), new WasmPipeline(valid, { ruleCapacity: 256, meterCapacity: 4 })];
}

function send(p: SwitchPipeline, f: Uint8Array, inPort = 1): Collect {
  const sink = new Collect();
  p.processBatch(f.slice(), f.length, [f.length], 1, inPort, sink);
  return sink;
}

const install = (p: SwitchPipeline, actions: Action[], match: Oxm[] = []): void => {
  const r = p.flowMod(flowMod({ command: OFPFC.ADD, priority: 1, match, instructions: [applyActions(...actions)] }));
  expect(r.error).toBeUndefined();
};

const groupMod = (command: number, groupType: number, groupId: number, buckets: Partial<Bucket>[]): GroupModMessage => ({
  type: 'group_mod',
  xid: 1,
  command,
  groupType,
  groupId,
  buckets: buckets.map((b) => ({ weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [], ...b })),
});

describe.each(['ts', 'wasm'] as const)('set_field with checksums, VLAN tags and groups (%s datapath)', (kind) => {
  const make = (): SwitchPipeline => both()[kind === 'ts' ? 0 : 1]!;

  const cases: { name: string; v: 4 | 6; proto: number; set: Oxm; check: (f: Uint8Array, p: Parsed) => boolean }[] = [
    { name: 'ipv4_src over TCP', v: 4, proto: 6, set: { field: 'ipv4_src', value: '192.0.2.77' }, check: (f, p) => f.subarray(p.l3 + 12, p.l3 + 16).join('.') === '192.0.2.77' },
    { name: 'ipv4_dst over UDP', v: 4, proto: 17, set: { field: 'ipv4_dst', value: '198.51.100.9' }, check: (f, p) => f.subarray(p.l3 + 16, p.l3 + 20).join('.') === '198.51.100.9' },
    { name: 'ipv4_src over ICMP', v: 4, proto: 1, set: { field: 'ipv4_src', value: '10.9.8.7' }, check: (f, p) => f[p.l3 + 12] === 10 },
    { name: 'ipv6_src over TCP', v: 6, proto: 6, set: { field: 'ipv6_src', value: '2001:db8::abcd' }, check: (f, p) => f[p.l3 + 23] === 0xcd },
    { name: 'ipv6_dst over UDP', v: 6, proto: 17, set: { field: 'ipv6_dst', value: 'fd00::1:2' }, check: (f, p) => f[p.l3 + 24] === 0xfd && f[p.l3 + 39] === 2 },
    { name: 'ipv6_dst over ICMPv6', v: 6, proto: 58, set: { field: 'ipv6_dst', value: 'fe80::99' }, check: (f, p) => f[p.l3 + 39] === 0x99 },
    { name: 'tcp_src', v: 4, proto: 6, set: { field: 'tcp_src', value: 4321 }, check: (f, p) => ((f[p.l4]! << 8) | f[p.l4 + 1]!) === 4321 },
    { name: 'tcp_dst over IPv6', v: 6, proto: 6, set: { field: 'tcp_dst', value: 80 }, check: (f, p) => ((f[p.l4 + 2]! << 8) | f[p.l4 + 3]!) === 80 },
    { name: 'udp_dst', v: 4, proto: 17, set: { field: 'udp_dst', value: 53 }, check: (f, p) => ((f[p.l4 + 2]! << 8) | f[p.l4 + 3]!) === 53 },
    { name: 'udp_src over IPv6', v: 6, proto: 17, set: { field: 'udp_src', value: 65535 }, check: (f, p) => f[p.l4] === 0xff && f[p.l4 + 1] === 0xff },
    { name: 'icmpv4_type', v: 4, proto: 1, set: { field: 'icmpv4_type', value: 0 }, check: (f, p) => f[p.l4] === 0 },
    { name: 'icmpv4_code', v: 4, proto: 1, set: { field: 'icmpv4_code', value: 3 }, check: (f, p) => f[p.l4 + 1] === 3 },
    { name: 'icmpv6_type', v: 6, proto: 58, set: { field: 'icmpv6_type', value: 129 }, check: (f, p) => f[p.l4] === 129 },
  ];

  it.each(cases)('$name: the field is set and every checksum verifies', ({ v, proto, set, check }) => {
    const p = make();
    install(p, [setField(set), output(2)]);
    const rng = new Rng(proto * 7 + v);
    for (let i = 0; i < 200; i++) {
      const f = frame(rng, v, proto, i % 3 === 0 ? 7 : undefined);
      expect(checksumsValid(f)).toBe(true);
      const out = send(p, f).out;
      expect(out).toHaveLength(1);
      const g = out[0]!.frame;
      expect(check(g, locate(g))).toBe(true);
      expect(checksumsValid(g)).toBe(true);
    }
  });

  it('a UDP/IPv4 checksum of 0 (none) stays 0 when addresses and ports change', () => {
    const p = make();
    install(p, [setField({ field: 'ipv4_src', value: '1.2.3.4' }), setField({ field: 'udp_src', value: 9 }), output(2)]);
    const f = frame(new Rng(3), 4, 17);
    const pl = locate(f);
    f[pl.l4 + 6] = 0;
    f[pl.l4 + 7] = 0;
    const g = send(p, f).out[0]!.frame;
    expect([g[pl.l4 + 6], g[pl.l4 + 7]]).toEqual([0, 0]);
    expect(checksumsValid(g)).toBe(true);
  });

  it('a rewrite the packet has no header for does nothing (UDP port on TCP, IPv6 address on IPv4)', () => {
    const p = make();
    install(p, [setField({ field: 'ipv6_src', value: '::1' }), output(2)], [{ field: 'eth_type', value: 0x0800 }]);
    install(p, [setField({ field: 'udp_src', value: 1 }), output(3)], [{ field: 'eth_type', value: 0x86dd }]);
    const f4 = frame(new Rng(5), 4, 6);
    expect(send(p, f4).out[0]!.frame).toEqual(f4);
    const f6 = frame(new Rng(6), 6, 6);
    expect(send(p, f6).out[0]!.frame).toEqual(f6);
  });

  it('push_vlan (0x8100, 0x88a8) with vlan_vid / vlan_pcp, then pop_vlan', () => {
    const p = make();
    install(p, [{ type: 'push_vlan', ethertype: 0x88a8 }, setField({ field: 'vlan_vid', value: 0x1000 | 300 }), setField({ field: 'vlan_pcp', value: 6 }), output(2)], [{ field: 'in_port', value: 1 }]);
    install(p, [{ type: 'pop_vlan' }, output(4)], [{ field: 'in_port', value: 3 }]);
    const f = frame(new Rng(7), 4, 17);
    const g = send(p, f).out[0]!.frame;
    expect(g.length).toBe(f.length + 4);
    expect([...g.subarray(12, 16)]).toEqual([0x88, 0xa8, (6 << 5) | (300 >> 8), 300 & 0xff]);
    expect(g.subarray(16)).toEqual(f.subarray(12));
    expect(g.subarray(0, 12)).toEqual(f.subarray(0, 12));
    const back = send(p, g, 3).out[0]!.frame;
    expect(back).toEqual(f);
    // A push onto a tagged frame copies the old outer tag's VID and PCP (OpenFlow 1.3.5 §A.2.5).
    const tagged = frame(new Rng(8), 6, 58, 42);
    const p2 = make();
    install(p2, [{ type: 'push_vlan', ethertype: 0x8100 }, output(2)]);
    const t = send(p2, tagged).out[0]!.frame;
    expect([...t.subarray(12, 16)]).toEqual([0x81, 0x00, (5 << 5), 42]);
    expect(t.subarray(16)).toEqual(tagged.subarray(12));
  });

  it('the next table matches the pushed tag; outputs before a push keep the untagged frame', () => {
    const p = make();
    expect(p.flowMod(flowMod({ command: OFPFC.ADD, tableId: 0, priority: 1, match: [], instructions: [applyActions(output(3), { type: 'push_vlan', ethertype: 0x8100 }, setField({ field: 'vlan_vid', value: 0x1000 | 9 })), { type: 'goto_table', tableId: 1 }] })).error).toBeUndefined();
    expect(p.flowMod(flowMod({ command: OFPFC.ADD, tableId: 1, priority: 1, match: [{ field: 'vlan_vid', value: 0x1000 | 9 }], instructions: [applyActions(output(2))] })).error).toBeUndefined();
    const f = frame(new Rng(9), 4, 6);
    const out = send(p, f).out;
    expect(out.map((o) => [o.port, o.frame.length])).toEqual([[3, f.length], [2, f.length + 4]]);
    expect(out[0]!.frame).toEqual(f);
  });

  it('group all: every bucket gets its own copy; indirect: its one bucket; counters and stats', () => {
    const p = make();
    expect(p.groupMod(groupMod(OFPGC.ADD, OFPGT.ALL, 1, [
      { actions: [setField({ field: 'ipv4_dst', value: '10.0.0.2' }), output(2)] },
      { actions: [{ type: 'push_vlan', ethertype: 0x8100 }, setField({ field: 'vlan_vid', value: 0x1005 }), output(3)] },
      { actions: [output(4)] },
    ])).error).toBeUndefined();
    expect(p.groupMod(groupMod(OFPGC.ADD, OFPGT.INDIRECT, 2, [{ actions: [setField({ field: 'tcp_dst', value: 443 }), output(2)] }])).error).toBeUndefined();
    install(p, [{ type: 'group', groupId: 1 }, output(1 === 1 ? OFPP.IN_PORT : 1)], [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }]);
    install(p, [{ type: 'group', groupId: 2 }], [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }]);
    const f = frame(new Rng(11), 4, 17);
    const out = send(p, f).out;
    expect(out.map((o) => o.port)).toEqual([2, 3, 4, 1]);
    expect(out[0]!.frame.subarray(30, 34)).toEqual(new Uint8Array([10, 0, 0, 2]));
    expect(checksumsValid(out[0]!.frame)).toBe(true);
    expect(out[1]!.frame.length).toBe(f.length + 4);
    expect(out[1]!.frame.subarray(16)).toEqual(f.subarray(12));
    expect(out[2]!.frame).toEqual(f);
    expect(out[3]!.frame).toEqual(f); // the packet after the group is the packet before it
    const t = frame(new Rng(12), 4, 6);
    const o2 = send(p, t).out;
    expect(o2.map((o) => o.port)).toEqual([2]);
    expect(checksumsValid(o2[0]!.frame)).toBe(true);
    const stats = p.groupStats(OFPG.ALL);
    expect(stats.map((s) => [s.groupId, s.refCount, s.packetCount, s.byteCount, s.bucketStats.map((b) => b.packetCount)])).toEqual([
      [1, 1, 1n, BigInt(f.length), [1n, 1n, 1n]],
      [2, 1, 1n, BigInt(t.length), [1n]],
    ]);
    expect(p.groupDescs().map((d) => [d.groupId, d.groupType, d.buckets.length])).toEqual([[1, OFPGT.ALL, 3], [2, OFPGT.INDIRECT, 1]]);
  });

  it('a packet-out naming a group runs its buckets and counts in the group stats', () => {
    const p = make();
    expect(p.groupMod(groupMod(OFPGC.ADD, OFPGT.ALL, 3, [{ actions: [output(2)] }, { actions: [setField({ field: 'ip_dscp', value: 46 }), output(3)] }])).error).toBeUndefined();
    install(p, [{ type: 'group', groupId: 3 }], [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }]);
    const f = frame(new Rng(21), 4, 17);
    expect(send(p, f).out.map((o) => o.port)).toEqual([2, 3]); // one packet through the tables
    const ops = p.compilePacketOutActions([{ type: 'group', groupId: 3 }]);
    if (!Array.isArray(ops)) throw new Error(ops.reason);
    const sink = new Collect();
    for (let i = 0; i < 2; i++) {
      const data = f.slice();
      p.packetOut(ops, { frame: data, at: 0, len: data.length, inPort: OFPP.CONTROLLER, private: true, referenced: false }, sink);
    }
    expect(sink.out.map((o) => o.port)).toEqual([2, 3, 2, 3]);
    expect(send(p, f).out.map((o) => o.port)).toEqual([2, 3]); // and one more after them
    const [stats] = p.groupStats(3);
    expect([stats!.packetCount, stats!.byteCount, stats!.bucketStats.map((b) => b.packetCount)]).toEqual([4n, BigInt(4 * f.length), [4n, 4n]]);
  });

  it('group select: a flow stays on one bucket, flows spread by weight; modify keeps counters; delete removes its flows', () => {
    const p = make();
    expect(p.groupMod(groupMod(OFPGC.ADD, OFPGT.SELECT, 7, [{ weight: 1, actions: [output(2)] }, { weight: 3, actions: [output(3)] }, { weight: 0, actions: [output(4)] }])).error).toBeUndefined();
    install(p, [{ type: 'group', groupId: 7 }]);
    const counts = new Map<number, number>();
    const rng = new Rng(13);
    for (let i = 0; i < 800; i++) {
      const f = frame(rng, 4, 17);
      const a = send(p, f).out.map((o) => o.port);
      const b = send(p, f).out.map((o) => o.port);
      expect(a).toEqual(b);
      expect(a).toHaveLength(1);
      counts.set(a[0]!, (counts.get(a[0]!) ?? 0) + 1);
    }
    expect(counts.get(4)).toBeUndefined();
    expect(counts.get(3)! / counts.get(2)!).toBeGreaterThan(2);
    expect(counts.get(3)! / counts.get(2)!).toBeLessThan(4.5);
    expect(p.groupMod(groupMod(OFPGC.MODIFY, OFPGT.SELECT, 7, [{ weight: 1, actions: [output(4)] }])).error).toBeUndefined();
    expect(send(p, frame(rng, 6, 6)).out.map((o) => o.port)).toEqual([4]);
    expect(p.groupStats(7)[0]!.packetCount).toBe(1601n);
    const r = p.groupMod(groupMod(OFPGC.DELETE, OFPGT.ALL, 7, []));
    expect(r.removed.map((x) => x.reason)).toEqual([OFPRR.GROUP_DELETE]);
    expect(p.groupStats(OFPG.ALL)).toEqual([]);
    expect(send(p, frame(rng, 4, 6)).out).toEqual([]);
  });

  it('write_actions: a group in the action set replaces its output (§5.10)', () => {
    const p = make();
    p.groupMod(groupMod(OFPGC.ADD, OFPGT.ALL, 3, [{ actions: [output(2)] }, { actions: [output(3)] }]));
    expect(p.flowMod(flowMod({ command: OFPFC.ADD, priority: 1, match: [], instructions: [writeActions(output(4), { type: 'group', groupId: 3 }, { type: 'pop_vlan' })] })).error).toBeUndefined();
    const f = frame(new Rng(14), 4, 17, 12);
    const out = send(p, f).out;
    expect(out.map((o) => [o.port, o.frame.length])).toEqual([[2, f.length - 4], [3, f.length - 4]]);
  });

  it('refuses what it does not support with the error type and code of §7.4.4', () => {
    const p = make();
    const gm = (m: GroupModMessage): [number, number] | undefined => {
      const e = p.groupMod(m).error;
      return e && [e.errorType, e.code];
    };
    expect(gm(groupMod(OFPGC.ADD, OFPGT.FF, 1, [{ watchPort: 2, actions: [output(2)] }]))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_TYPE]);
    expect(gm(groupMod(OFPGC.ADD, 9, 1, []))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_TYPE]);
    expect(gm(groupMod(OFPGC.ADD, OFPGT.ALL, OFPG.ALL, []))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.INVALID_GROUP]);
    expect(gm(groupMod(OFPGC.ADD, OFPGT.INDIRECT, 1, []))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.INVALID_GROUP]);
    expect(gm(groupMod(OFPGC.MODIFY, OFPGT.ALL, 5, []))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.UNKNOWN_GROUP]);
    expect(gm(groupMod(5, OFPGT.ALL, 5, []))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_COMMAND]);
    expect(gm(groupMod(OFPGC.ADD, OFPGT.ALL, 1, [{ actions: [output(2)] }]))).toBeUndefined();
    expect(gm(groupMod(OFPGC.ADD, OFPGT.ALL, 1, [{ actions: [output(2)] }]))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.GROUP_EXISTS]);
    expect(gm(groupMod(OFPGC.ADD, OFPGT.ALL, 2, [{ actions: [{ type: 'group', groupId: 1 }] }]))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.CHAINING_UNSUPPORTED]);
    expect(gm(groupMod(OFPGC.ADD, OFPGT.ALL, 2, Array.from({ length: 17 }, () => ({ actions: [output(2)] }))))).toEqual([OFPET.GROUP_MOD_FAILED, OFPGMFC.OUT_OF_BUCKETS]);
    expect(gm(groupMod(OFPGC.ADD, OFPGT.ALL, 2, [{ actions: [output(99)] }]))).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT]);
    const fm = (actions: Action[]): [number, number] | undefined => {
      const e = p.flowMod(flowMod({ command: OFPFC.ADD, priority: 1, match: [], instructions: [applyActions(...actions)] })).error;
      return e && [e.errorType, e.code];
    };
    expect(fm([{ type: 'group', groupId: 42 }])).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_OUT_GROUP]);
    expect(fm([{ type: 'push_vlan', ethertype: 0x8847 }])).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_ARGUMENT]);
    expect(fm([setField({ field: 'sctp_src', value: 1 })])).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_SET_TYPE]);
    expect(fm([setField({ field: 'ipv4_src', value: '10.0.0.0', mask: '255.0.0.0' })])).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_SET_TYPE]);
    expect(fm([setField({ field: 'vlan_pcp', value: 9 })])).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_SET_ARGUMENT]);
    expect(fm([{ type: 'push_mpls', ethertype: 0x8847 } as Action])).toEqual([OFPET.BAD_ACTION, OFPBAC.BAD_TYPE]);
    expect(p.groupStats(OFPG.ALL).map((s) => s.groupId)).toEqual([1]);
  });
});

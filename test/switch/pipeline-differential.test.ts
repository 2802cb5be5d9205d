// The switch's two datapaths side by side: the WebAssembly pipeline (src/switch/wasm-pipeline.ts
// on build/payflow-switch.wasm) against its TypeScript twin (src/switch/pipeline.ts). Random
// rule sets over 3 tables (masked matches on ports, MACs, VLAN, IPv4/IPv6 prefixes, flow label,
// DSCP/ECN, protocol, L4 ports, ICMP type, metadata; priorities with ties; goto_table,
// write_metadata, apply / write / clear actions with outputs to ports, IN_PORT, FLOOD, ALL and
// CONTROLLER, set_field DSCP / ECN / MACs / VLAN id and PCP / IPv4 and IPv6 addresses / TCP and
// UDP ports / ICMP type, push_vlan and pop_vlan, set_queue, group; groups of type all, select
// and indirect, added, modified and deleted; meters with drop and dscp_remark bands in kbps and
// pktps) and random, truncated and garbage frames go through both; every output and packet-in
// (port, bytes, reason, table, cookie), every flow-mod and group-mod result, flow, table, meter
// and group counters must be identical. Needs `npm run build:wasm` first.
import { describe, expect, it } from 'vitest';
import {
  OFPFC, OFPFF, OFPG, OFPGC, OFPGT, OFPMC, OFPMF, OFPP, OFPTT, applyActions, flowMod, gotoTable, ipv4Mask, ipv6Mask, meterInstruction, output, setField, writeActions,
  type Action, type FlowModMessage, type GroupModMessage, type Instruction, type Match, type MeterBand, type Oxm,
} from '../../src/openflow/codec/index.js';
import { Rng, udpFrame } from '../../src/dataplane/synthetic.js';
import { Pipeline, type PacketSink, type SwitchPipeline } from '../../src/switch/pipeline.js';
import { WasmPipeline } from '../../src/switch/wasm-pipeline.js';
import { buildFrame } from '../dataplane/frames.js';

const PORTS = [1, 2, 3, 4];
const STRIDE = 2048;
const hex = (b: Uint8Array, at: number, len: number): string => Buffer.from(b.buffer, b.byteOffset + at, len).toString('hex');

class RecordingSink implements PacketSink {
  readonly portNumbers = PORTS;
  events: string[] = [];
  output(portNo: number, frame: Uint8Array, at: number, len: number, _shared: boolean, queueId: number): void {
    this.events.push(`out ${portNo} q${queueId} ${hex(frame, at, len)}`);
  }
  packetIn(frame: Uint8Array, at: number, len: number, maxLen: number, reason: number, tableId: number, cookie: bigint, inPort: number): void {
    this.events.push(`pin r${reason} t${tableId} c${cookie} in${inPort} max${maxLen} ${hex(frame, at, Math.min(len, maxLen))}`);
  }
}

const AF = [10, 12, 14, 18, 20, 22, 26, 28, 30, 34, 36, 38, 0, 46, 8];

function frameOf(rng: Rng): Uint8Array {
  const kind = rng.below(12);
  const i = rng.below(64);
  const dscp = AF[rng.below(AF.length)]!;
  let f: Uint8Array;
  if (kind < 5) f = udpFrame(i, { dscp, v6: kind === 3 || kind === 4, ...(kind === 2 ? { vlan: rng.below(4) } : {}), flowLabel: rng.below(4) });
  else if (kind === 5) f = buildFrame({ ip: { v: 4, src: `10.0.0.${rng.below(8)}`, dst: '192.168.0.1', proto: 6, tos: dscp << 2 | rng.below(4) }, l4: { sport: 1000 + rng.below(4), dport: 5000 + rng.below(4) }, payload: 10 }).bytes;
  else if (kind === 6) f = buildFrame({ ip: { v: 4, src: `10.0.0.${rng.below(8)}`, dst: '192.168.0.2', proto: 1, tos: dscp << 2 }, l4: { type: rng.below(2) ? 8 : 0, code: 0 }, payload: 8 }).bytes;
  else if (kind === 7) f = buildFrame({ ip: { v: 6, src: `2001:db8::${rng.below(8)}`, dst: '2001:db8::1:1', nh: 58, tc: dscp << 2 }, l4: { type: 128, code: 0 }, payload: 8 }).bytes;
  else if (kind === 8) f = buildFrame({ ethertype: 0x0806, payload: 28 }).bytes;
  else if (kind === 9) {
    const whole = udpFrame(i, { dscp, v6: rng.below(2) === 1 });
    f = whole.slice(0, rng.below(whole.length + 1)); // cut anywhere, headers included
  } else if (kind === 10) {
    f = new Uint8Array(rng.below(80));
    for (let k = 0; k < f.length; k++) f[k] = rng.below(256);
    if (f.length > 14 && rng.below(2)) { f[12] = 0x08; f[13] = 0x00; f[14] = 0x40 | rng.below(16); } // IPv4-looking garbage
  } else f = udpFrame(i, { dscp, payload: 200 + rng.below(1200) });
  if (f.length >= 12 && rng.below(3) === 0) f[5] = 1 + rng.below(4); // destination MAC varies in its last byte
  return f;
}

function matchOf(rng: Rng, table: number): Match {
  const m: Oxm[] = [];
  if (rng.below(3) === 0) m.push({ field: 'in_port', value: 1 + rng.below(4) });
  if (rng.below(5) === 0) m.push({ field: 'eth_dst', value: `02:00:00:00:00:0${1 + rng.below(4)}`, ...(rng.below(2) ? { mask: 'ff:ff:ff:ff:ff:fc' } : {}) });
  if (rng.below(8) === 0) m.push({ field: 'vlan_vid', value: 0x1000 | rng.below(4) });
  if (table > 0 && rng.below(4) === 0) m.push({ field: 'metadata', value: BigInt(rng.below(4)), mask: 3n });
  const l3 = rng.below(4);
  if (l3 === 1 || l3 === 3) {
    const v6 = l3 === 3;
    m.push({ field: 'eth_type', value: v6 ? 0x86dd : 0x0800 });
    if (rng.below(3) === 0) m.push({ field: 'ip_dscp', value: AF[rng.below(AF.length)]! });
    if (rng.below(6) === 0) m.push({ field: 'ip_ecn', value: rng.below(4) });
    if (!v6 && rng.below(2)) m.push({ field: 'ipv4_src', value: '10.0.0.0', mask: ipv4Mask([8, 24, 29, 30][rng.below(4)]!) });
    if (v6 && rng.below(2)) m.push({ field: 'ipv6_src', value: '2001:db8::', mask: ipv6Mask([32, 64, 126][rng.below(3)]!) });
    if (v6 && rng.below(5) === 0) m.push({ field: 'ipv6_flabel', value: rng.below(4), mask: 3 });
    const p = rng.below(4);
    if (p === 1) {
      m.push({ field: 'ip_proto', value: 17 });
      if (rng.below(2)) m.push({ field: 'udp_dst', value: 5000 + rng.below(7) });
    } else if (p === 2) {
      m.push({ field: 'ip_proto', value: 6 });
      if (rng.below(2)) m.push({ field: 'tcp_src', value: 1000 + rng.below(4) });
    } else if (p === 3) {
      m.push({ field: 'ip_proto', value: v6 ? 58 : 1 });
      if (rng.below(2)) m.push({ field: v6 ? 'icmpv6_type' : 'icmpv4_type', value: v6 ? 128 : 8 * rng.below(2) });
    }
  }
  return m;
}

/** The group ids the current scenario has (group actions name only these, buckets never). */
let groupIds: number[] = [];

const REWRITES: (() => Oxm)[] = [
  () => ({ field: 'ipv4_src', value: '10.1.2.3' }),
  () => ({ field: 'ipv4_dst', value: '192.168.7.7' }),
  () => ({ field: 'ipv6_src', value: '2001:db8:ffff::1' }),
  () => ({ field: 'ipv6_dst', value: 'fd00::42' }),
  () => ({ field: 'tcp_src', value: 2222 }),
  () => ({ field: 'udp_dst', value: 5001 }),
  () => ({ field: 'udp_src', value: 0 }),
  () => ({ field: 'icmpv4_type', value: 0 }),
  () => ({ field: 'icmpv6_code', value: 1 }),
  () => ({ field: 'vlan_vid', value: 0x1000 | 77 }),
  () => ({ field: 'vlan_pcp', value: 5 }),
];

function actionsOf(rng: Rng, forWrite: boolean, inBucket = false): Action[] {
  const out: Action[] = [];
  const kinds = forWrite ? [0, 1, 2, 3, 4, 5, 6, 7, 8] : Array.from({ length: rng.below(6) }, () => rng.below(inBucket ? 8 : 9));
  for (const k of kinds) {
    if (forWrite && rng.below(2)) continue;
    if (k === 0) out.push(setField({ field: 'ip_dscp', value: AF[rng.below(AF.length)]! }));
    else if (k === 1) out.push(setField({ field: 'ip_ecn', value: rng.below(4) }));
    else if (k === 2) out.push({ type: 'set_queue', queueId: rng.below(8) });
    else if (k === 3) out.push(setField({ field: rng.below(2) ? 'eth_dst' : 'eth_src', value: `0a:00:00:00:00:0${rng.below(10)}` }));
    else if (k === 4) out.push(output([1, 2, 3, 4, OFPP.IN_PORT, OFPP.FLOOD, OFPP.ALL, OFPP.CONTROLLER][rng.below(8)]!, rng.below(2) ? 0xffff : 32 + rng.below(64)));
    else if (k === 5) out.push(setField(REWRITES[rng.below(REWRITES.length)]!()));
    else if (k === 6) out.push({ type: 'push_vlan', ethertype: rng.below(2) ? 0x8100 : 0x88a8 });
    else if (k === 7) out.push({ type: 'pop_vlan' });
    else if (groupIds.length > 0) out.push({ type: 'group', groupId: groupIds[rng.below(groupIds.length)]! });
    else out.push(output(2));
  }
  return out;
}

function groupModOf(rng: Rng, id: number, command: number): GroupModMessage {
  const groupType = [OFPGT.ALL, OFPGT.SELECT, OFPGT.INDIRECT][rng.below(3)]!;
  const n = groupType === OFPGT.INDIRECT ? 1 : 1 + rng.below(4);
  return {
    type: 'group_mod',
    xid: 1,
    command,
    groupType,
    groupId: id,
    buckets: Array.from({ length: n }, () => ({ weight: groupType === OFPGT.SELECT ? rng.below(4) : 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: actionsOf(rng, false, true) })),
  };
}

function instructionsOf(rng: Rng, table: number, meters: number[]): Instruction[] {
  const ins: Instruction[] = [];
  if (meters.length && rng.below(3) === 0) ins.push(meterInstruction(meters[rng.below(meters.length)]!));
  if (rng.below(4) !== 0) ins.push(applyActions(...actionsOf(rng, false)));
  if (rng.below(6) === 0) ins.push({ type: 'clear_actions' });
  if (rng.below(3) === 0) ins.push(writeActions(...actionsOf(rng, true)));
  if (table < 2 && rng.below(6) === 0) ins.push({ type: 'write_metadata', metadata: BigInt(rng.below(4)), metadataMask: 3n });
  if (table < 2 && rng.below(2)) ins.push(gotoTable(table + 1 + rng.below(2 - table)));
  return ins;
}

function flowModOf(rng: Rng, meters: number[]): FlowModMessage {
  const table = rng.below(3);
  const r = rng.below(20);
  if (r === 0) return flowMod({ command: OFPFC.DELETE, tableId: rng.below(2) ? OFPTT.ALL : table, match: matchOf(rng, table), outPort: OFPP.ANY });
  if (r === 1) return flowMod({ command: OFPFC.DELETE_STRICT, tableId: table, priority: rng.below(6), match: matchOf(rng, table), outPort: OFPP.ANY });
  if (r === 2) return flowMod({ command: rng.below(2) ? OFPFC.MODIFY : OFPFC.MODIFY_STRICT, tableId: table, priority: rng.below(6), match: matchOf(rng, table), instructions: instructionsOf(rng, table, meters), flags: rng.below(2) ? OFPFF.RESET_COUNTS : 0 });
  if (r === 3) return flowMod({ command: OFPFC.ADD, tableId: table, priority: 0, match: [], instructions: instructionsOf(rng, table, meters), cookie: BigInt(rng.below(1000)) }); // table-miss
  return flowMod({ command: OFPFC.ADD, tableId: table, priority: rng.below(6), match: matchOf(rng, table), instructions: instructionsOf(rng, table, meters), cookie: BigInt(rng.below(1000)), flags: rng.below(8) === 0 ? OFPFF.RESET_COUNTS : 0 });
}

function bandsOf(rng: Rng, packets: boolean): MeterBand[] {
  return Array.from({ length: 1 + rng.below(3) }, (): MeterBand => {
    const rate = packets ? 1 + rng.below(50) : 10 + rng.below(2000);
    return rng.below(2) ? { type: 'drop', rate, burstSize: rng.below(20) } : { type: 'dscp_remark', rate, burstSize: rng.below(20), precLevel: 1 + rng.below(2) };
  });
}

function summary(p: SwitchPipeline): unknown {
  const flows = p.flowStats({ tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] } as never);
  return {
    malformed: p.malformed,
    flows: flows.ok ? flows.stats.map((s) => [s.tableId, s.priority, s.cookie, s.packetCount, s.byteCount, s.durationSec]) : flows,
    tables: p.tableStats().filter((t) => t.lookupCount > 0n || t.activeCount > 0),
    meters: p.meters.stats(0xffffffff, p.now),
    groups: p.groupStats(OFPG.ALL),
  };
}

function scenario(seed: number, rounds: number): { flowMods: number; frames: number; events: number } {
  const rng = new Rng(seed);
  const valid = () => new Set(PORTS);
  const ts = new Pipeline(valid);
  const wasm = new WasmPipeline(valid, { ruleCapacity: 4096, meterCapacity: 16 });
  const sinks = [new RecordingSink(), new RecordingSink()];
  const both: SwitchPipeline[] = [ts, wasm];
  let now = 1000;
  let flowMods = 0;
  let frames = 0;
  let events = 0;
  const meters: number[] = [];
  for (const p of both) p.now = now;
  for (let id = 1; id <= 3; id++) {
    const packets = rng.below(2) === 1;
    const flags = (packets ? OFPMF.PKTPS : OFPMF.KBPS) | (rng.below(2) ? OFPMF.BURST : 0) | OFPMF.STATS;
    const bands = bandsOf(rng, packets);
    const results = both.map((p) => p.meters.modify(OFPMC.ADD, flags, id, bands, now));
    expect(results[1]).toEqual(results[0]);
    meters.push(id);
  }
  groupIds = [];
  const compareGroupMod = (msg: GroupModMessage): void => {
    const results = both.map((p) => p.groupMod(msg));
    const shape = (r: (typeof results)[number]) => ({ error: r.error, removed: r.removed.map((x) => [x.entry.tableId, x.entry.priority, x.entry.packets, x.reason]) });
    expect(shape(results[1]!)).toEqual(shape(results[0]!));
    groupIds = [...(ts.groups.keys())];
  };
  for (let id = 1; id <= 3; id++) compareGroupMod(groupModOf(rng, id, OFPGC.ADD));
  for (let round = 0; round < rounds; round++) {
    if (rng.below(15) === 0) {
      const id = 1 + rng.below(4);
      compareGroupMod(groupModOf(rng, id, [OFPGC.ADD, OFPGC.MODIFY, OFPGC.DELETE][rng.below(3)]!));
    }
    const mods = round === 0 ? 25 : rng.below(4);
    for (let k = 0; k < mods; k++) {
      const msg = flowModOf(rng, meters);
      const results = both.map((p) => p.flowMod(msg));
      const shape = (r: (typeof results)[number]) => ({ error: r.error, removed: r.removed.map((x) => [x.entry.tableId, x.entry.priority, x.entry.cookie, x.entry.packets, x.entry.bytes, x.reason]) });
      expect(shape(results[1]!)).toEqual(shape(results[0]!));
      flowMods++;
    }
    if (rng.below(10) === 0) {
      const id = meters[rng.below(meters.length)]!;
      const packets = rng.below(2) === 1;
      const bands = bandsOf(rng, packets);
      const results = both.map((p) => p.meters.modify(OFPMC.MODIFY, packets ? OFPMF.PKTPS : OFPMF.KBPS, id, bands, now));
      expect(results[1]).toEqual(results[0]);
    }
    const n = 1 + rng.below(64);
    const inPort = 1 + rng.below(4);
    const buf = new Uint8Array(n * STRIDE);
    const lengths = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const f = frameOf(rng);
      buf.set(f, i * STRIDE);
      lengths[i] = f.length;
    }
    now += rng.below(3) === 0 ? rng.below(200) : rng.below(3);
    both.forEach((p, j) => {
      p.now = now;
      sinks[j]!.events = [];
      expect(() => p.processBatch(buf.slice(), STRIDE, lengths, n, inPort, sinks[j]!)).not.toThrow();
    });
    expect(sinks[1]!.events).toEqual(sinks[0]!.events);
    frames += n;
    events += sinks[0]!.events.length;
    if (rng.below(20) === 0) {
      const removed = both.map((p) => p.expire(now + rng.below(3000)).map((r) => [r.entry.tableId, r.entry.priority, r.entry.packets, r.reason]));
      expect(removed[1]).toEqual(removed[0]);
    }
    if (round % 25 === 0) expect(summary(wasm)).toEqual(summary(ts));
  }
  expect(summary(wasm)).toEqual(summary(ts));
  return { flowMods, frames, events };
}

describe('switch pipeline: wasm against the TypeScript twin', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random rules, meters and frames give identical outputs and counters (seed %i)', (seed) => {
    const r = scenario(seed, 300);
    expect(r.frames).toBeGreaterThan(5000);
    expect(r.events).toBeGreaterThan(100);
  });

  it('malformed frames never throw and are counted alike', () => {
    const rng = new Rng(99);
    const valid = () => new Set(PORTS);
    const ts = new Pipeline(valid);
    const wasm = new WasmPipeline(valid, { ruleCapacity: 64, meterCapacity: 4 });
    const fm = flowMod({ command: OFPFC.ADD, priority: 1, match: [], instructions: [applyActions(setField({ field: 'ip_dscp', value: 46 }), output(OFPP.FLOOD))] });
    for (const p of [ts, wasm]) p.flowMod(fm);
    for (let round = 0; round < 200; round++) {
      const n = 64;
      const buf = new Uint8Array(n * STRIDE);
      const lengths = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const len = rng.below(100);
        for (let k = 0; k < len; k++) buf[i * STRIDE + k] = rng.below(256);
        if (len > 14 && rng.below(2)) { buf[i * STRIDE + 12] = rng.below(2) ? 0x08 : 0x86; buf[i * STRIDE + 13] = rng.below(2) ? 0x00 : 0xdd; }
        lengths[i] = len;
      }
      const sinks = [new RecordingSink(), new RecordingSink()];
      [ts, wasm].forEach((p, j) => expect(() => p.processBatch(buf.slice(), STRIDE, lengths, n, 1, sinks[j]!)).not.toThrow());
      expect(sinks[1]!.events).toEqual(sinks[0]!.events);
    }
    expect(wasm.malformed).toBe(ts.malformed);
    expect(wasm.malformed).toBeGreaterThan(1000);
  });
});

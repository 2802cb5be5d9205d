// `payflow switch` end to end: a real switch process on veth ports into two network
// namespaces, driven by the project's own controller side (OpenFlowListener and
// SwitchConnection) over TCP, and by ovs-ofctl against its ptcp: listener. Frames go in
// through one namespace and are checked as they come out of the other.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OFPFC, OFPFF, OFPMF, OFPP, OFPRR, OFPTT, applyActions, dropBand, flowMod, gotoTable, meterInstruction, meterMod, output, setField,
  type FlowRemovedMessage, type PacketInMessage,
} from '../../src/openflow/codec/index.js';
import { OpenFlowListener } from '../../src/openflow/listener.js';
import type { SwitchConnection } from '../../src/openflow/connection.js';
import { OfpErrorReply } from '../../src/openflow/errors.js';
import { buildFrame } from '../dataplane/frames.js';
import { freeTcpPort } from '../helpers/free-port.js';
import { Capture, createHost, fixIpv4Checksum, ipv4HeaderChecksum, netName, removeHost, sendFrames, stopProcess, type Host } from './netns.js';

const cli = 'dist/src/cli/main.js';
let OFCTL_PORT = 0;
const DPID = 0x5157n;

let listener: OpenFlowListener;
let sw: ChildProcess;
let conn: SwitchConnection;
let a: Host;
let b: Host;
let switchLog = '';

function udp4(dscp: number, sport = 1000, dport = 5001): Uint8Array {
  const frame = buildFrame({ ip: { v: 4, src: '10.9.0.1', dst: '10.9.0.2', proto: 17, tos: dscp << 2 }, l4: { sport, dport }, payload: 18 }).bytes;
  return fixIpv4Checksum(frame, 14);
}

function udp6(tc: number, flowLabel: number): Uint8Array {
  return buildFrame({ ip: { v: 6, src: 'fd00::1', dst: 'fd00::2', nh: 17, tc, flowLabel }, l4: { sport: 1000, dport: 5001 }, payload: 18 }).bytes;
}

const ipv4Frames = (frames: Uint8Array[]) => frames.filter((f) => f[12] === 0x08 && f[13] === 0x00);
// UDP only: a namespace's own IPv6 start-up traffic (MLD reports, router solicitations) shows up in captures too.
const ipv6Frames = (frames: Uint8Array[]) => frames.filter((f) => f[12] === 0x86 && f[13] === 0xdd && f[20] === 17);

async function through(from: Host, to: Host, frames: Uint8Array[]): Promise<Uint8Array[]> {
  const cap = new Capture(to);
  await cap.ready;
  sendFrames(from, frames);
  return cap.stop();
}

async function reset(): Promise<void> {
  await conn.sendConfirmed([
    flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: OFPP.ANY }),
    { type: 'meter_mod', command: 2, flags: 0, meterId: 0xffffffff, bands: [] },
  ]);
}

/** poll(2) as /proc/PID/task/TID/syscall shows it: poll on x86-64, ppoll (glibc's poll) on aarch64 */
const POLL_SYSCALLS = process.arch === 'arm64' ? ['73'] : ['7', '271'];

/** Whether a thread of the switch process is blocked in poll(2): only the idle datapath calls it. */
function datapathAsleep(): boolean {
  for (const tid of readdirSync(`/proc/${sw.pid}/task`)) {
    try {
      if (POLL_SYSCALLS.includes(readFileSync(`/proc/${sw.pid}/task/${tid}/syscall`, 'utf8').split(' ')[0]!)) return true;
    } catch {
      // the thread has just exited
    }
  }
  return false;
}

async function untilAsleep(): Promise<void> {
  const until = Date.now() + 10_000;
  while (!datapathAsleep()) {
    if (Date.now() > until) throw new Error('the idle datapath never blocked in poll(2)');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ofctl(...args: string[]): string {
  return execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  OFCTL_PORT = await freeTcpPort();
  a = createHost(netName('swA'), netName('swa'));
  b = createHost(netName('swB'), netName('swb'));
  // Echoes every 2 s, so that a slow stretch of frame tools under load does not read as a dead switch.
  listener = new OpenFlowListener({ host: '127.0.0.1', port: 0, echoIntervalMs: 2_000 });
  const { port } = await listener.listen();
  const connected = new Promise<SwitchConnection>((resolve) => listener.once('switchConnected', resolve));
  sw = spawn('node', [cli, 'switch', '--controller', `tcp:127.0.0.1:${port}`, '--listen', `ptcp:${OFCTL_PORT}:127.0.0.1`, '--port', netName('swa'), '--port', netName('swb'), '--dpid', DPID.toString(16)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  sw.stdout!.on('data', (d: Buffer) => (switchLog += d.toString()));
  sw.stderr!.on('data', (d: Buffer) => (switchLog += d.toString()));
  conn = await connected;
}, 60_000);

afterAll(async () => {
  await stopProcess(sw);
  await listener?.close();
  if (a) removeHost(a);
  if (b) removeHost(b);
}, 30_000);

describe('payflow switch', () => {
  it('connects to the controller with its datapath id and describes its ports', async () => {
    expect(conn.datapathId).toBe(DPID);
    const desc = await conn.multipart({ bodyType: 'port_desc' });
    expect(desc.ports.map((p) => [p.portNo, p.name])).toEqual([
      [1, netName('swa')],
      [2, netName('swb')],
    ]);
    expect(switchLog).toMatch(/dpid 0000000000005157/);
  });

  it('forwards IPv4 UDP from one namespace to the other and rewrites DSCP to 46 with a valid header checksum', async () => {
    await reset();
    await conn.sendConfirmed([
      flowMod({ priority: 10, match: [{ field: 'in_port', value: 1 }], instructions: [applyActions(output(2))] }),
      flowMod({
        priority: 20,
        match: [
          { field: 'in_port', value: 1 },
          { field: 'eth_type', value: 0x0800 },
          { field: 'ip_proto', value: 17 },
          { field: 'udp_dst', value: 5001 },
        ],
        instructions: [applyActions(setField({ field: 'ip_dscp', value: 46 }), output(2))],
      }),
    ]);
    const out = ipv4Frames(await through(a, b, [udp4(0), udp4(10), udp4(0, 1000, 6000)]));
    expect(out).toHaveLength(3);
    expect(out.slice(0, 2).map((f) => f[15]! >> 2)).toEqual([46, 46]);
    expect(out[2]![15]! >> 2).toBe(0); // the lower-priority flow: forwarded unchanged
    for (const f of out) expect(ipv4HeaderChecksum(f, 14)).toBe(0);
  });

  it('matches the IPv6 flow label, rewrites the traffic class, and passes on via goto_table', async () => {
    await reset();
    await conn.sendConfirmed([
      flowMod({ tableId: 0, priority: 5, match: [], instructions: [gotoTable(1)] }),
      flowMod({
        tableId: 1,
        priority: 10,
        match: [
          { field: 'eth_type', value: 0x86dd },
          { field: 'ipv6_flabel', value: 0x12345, mask: 0xfffff },
        ],
        instructions: [applyActions(setField({ field: 'ip_dscp', value: 34 }), output(2))],
      }),
    ]);
    const label = (f: Uint8Array) => ((f[15]! & 0x0f) << 16) | (f[16]! << 8) | f[17]!;
    const out = ipv6Frames(await through(a, b, [udp6(0, 0x12345), udp6(0, 0x54321)]));
    // Only the labelled flow passes (a capture may see a frame twice on a busy machine).
    expect(out.length).toBeGreaterThanOrEqual(1);
    for (const f of out) {
      expect(label(f)).toBe(0x12345);
      const tc = ((f[14]! & 0x0f) << 4) | (f[15]! >> 4);
      expect(tc >> 2).toBe(34);
    }
  });

  it('counts malformed frames, never fails on them, and keeps forwarding', async () => {
    await reset();
    await conn.sendConfirmed(flowMod({ priority: 1, match: [], instructions: [applyActions(output(2))] }));
    const good = udp4(0);
    const bad = [good.slice(0, 20), good.slice(0, 36), Uint8Array.from([...good.slice(0, 14), 0x4f, ...good.slice(15)])];
    const before = (await conn.multipart({ bodyType: 'port_stats', portNo: 1 })).stats[0]!.rxFrameErr;
    const out = ipv4Frames(await through(a, b, [...bad, good]));
    expect(out.length).toBe(4); // switched on the fields they have, and the good one after them
    const after = (await conn.multipart({ bodyType: 'port_stats', portNo: 1 })).stats[0]!.rxFrameErr;
    expect(after - before).toBe(3n);
    expect(sw.exitCode).toBeNull();
  });

  it('answers a barrier only after every earlier flow-mod is applied', async () => {
    await reset();
    for (let i = 0; i < 300; i++) {
      conn.send(flowMod({ priority: 100, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.1.${i >> 8}.${i & 0xff}` }], instructions: [applyActions(output(2))] }));
    }
    await conn.barrier();
    const flows = await conn.multipart({ bodyType: 'flow', tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
    expect(flows.stats).toHaveLength(300);
  });

  it('refuses what it cannot do with the right error type and code', async () => {
    await reset();
    const refused = async (msg: Parameters<SwitchConnection['sendConfirmed']>[0]): Promise<string> => {
      try {
        await conn.sendConfirmed(msg);
        return 'accepted';
      } catch (err) {
        return err instanceof OfpErrorReply ? `${err.typeName}/${err.codeName}` : String(err);
      }
    };
    expect(await refused(flowMod({ tableId: 2, instructions: [gotoTable(1)] }))).toBe('OFPET_BAD_INSTRUCTION/OFPBIC_BAD_TABLE_ID');
    expect(await refused(flowMod({ instructions: [applyActions({ type: 'group', groupId: 1 })] }))).toBe('OFPET_BAD_ACTION/OFPBAC_BAD_OUT_GROUP');
    expect(await refused(flowMod({ instructions: [applyActions(output(7))] }))).toBe('OFPET_BAD_ACTION/OFPBAC_BAD_OUT_PORT');
    expect(await refused(flowMod({ instructions: [meterInstruction(9)] }))).toBe('OFPET_METER_MOD_FAILED/OFPMMFC_UNKNOWN_METER');
    expect(await refused(flowMod({ tableId: 200, instructions: [] }))).toBe('OFPET_FLOW_MOD_FAILED/OFPFMFC_BAD_TABLE_ID');
    expect(await refused({ type: 'group_mod', command: 0, groupType: 3, groupId: 1, buckets: [] })).toBe('OFPET_GROUP_MOD_FAILED/OFPGMFC_BAD_TYPE');
    expect(await refused({ type: 'group_mod', command: 1, groupType: 0, groupId: 77, buckets: [] })).toBe('OFPET_GROUP_MOD_FAILED/OFPGMFC_UNKNOWN_GROUP');
    expect(await refused({ type: 'port_mod', portNo: 1, hwAddr: '00:00:00:00:00:00', config: 0, mask: 0, advertise: 0 } as never)).toBe('OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE');
    expect(await refused(flowMod({ instructions: [applyActions(output(2))] }))).toBe('accepted');
  });

  it('a flow-mod, then a barrier, then traffic: the traffic sees the rule', async () => {
    await reset();
    for (let round = 0; round < 3; round++) {
      const dscp = 8 * (round + 1);
      conn.send(flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: OFPP.ANY }));
      conn.send(flowMod({ priority: 5, match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }], instructions: [applyActions(setField({ field: 'ip_dscp', value: dscp }), output(2))] }));
      await conn.barrier();
      const cap = new Capture(b);
      await cap.ready;
      sendFrames(a, [udp4(0)]);
      // A frame that comes out rewritten by an older rule would fail here; a longer wait only
      // keeps a loaded machine from losing the frame before the capture reads it.
      const out = ipv4Frames(await cap.stop(1500));
      expect(out.map((f) => f[15]! >> 2)).toEqual([dscp]);
    }
  });

  it('an idle datapath blocks in poll(2), and a request wakes it at once: the flow-mod applies, the barrier answers', async () => {
    await reset();
    // Asleep, the datapath sees a request only when the agent wakes it: otherwise the request
    // would wait for the next flow-expiry check (up to 250 ms; the median of 7 would be about 125).
    const roundTrips: number[] = [];
    for (let round = 0; round < 7; round++) {
      const dscp = 4 * (round + 1);
      await untilAsleep();
      const sent = performance.now();
      conn.send(flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: OFPP.ANY }));
      conn.send(flowMod({ priority: 5, match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }], instructions: [applyActions(setField({ field: 'ip_dscp', value: dscp }), output(2))] }));
      await conn.barrier();
      roundTrips.push(performance.now() - sent);
      const out = ipv4Frames(await through(a, b, [udp4(0)]));
      expect(out.map((f) => f[15]! >> 2)).toEqual([dscp]);
    }
    roundTrips.sort((x, y) => x - y);
    expect(roundTrips[3], `barrier round trips ${roundTrips.map((t) => t.toFixed(1)).join(', ')} ms`).toBeLessThan(50);
  });

  it('groups from the controller: all and select over live ports, group stats and desc', async () => {
    await reset();
    await conn.sendConfirmed({ type: 'group_mod', command: 2, groupType: 0, groupId: 0xfffffffc, buckets: [] });
    const bucket = (actions: Parameters<typeof applyActions>, weight = 0) => ({ weight, watchPort: OFPP.ANY, watchGroup: 0xffffffff, actions });
    await conn.sendConfirmed([
      { type: 'group_mod', command: 0, groupType: 0, groupId: 1, buckets: [bucket([setField({ field: 'ipv4_dst', value: '10.9.0.99' }), setField({ field: 'udp_dst', value: 7000 }), output(2)]), bucket([{ type: 'push_vlan', ethertype: 0x8100 }, setField({ field: 'vlan_vid', value: 0x1000 | 10 }), output(2)])] },
      { type: 'group_mod', command: 0, groupType: 1, groupId: 2, buckets: [bucket([output(2)], 1), bucket([setField({ field: 'ip_dscp', value: 10 }), output(2)], 1)] },
      flowMod({ priority: 5, match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 5001 }], instructions: [applyActions({ type: 'group', groupId: 1 })] }),
      flowMod({ priority: 5, match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 5002 }], instructions: [applyActions({ type: 'group', groupId: 2 })] }),
    ]);
    // Both buckets' copies arrive: the rewritten one, and the frame sent with a VLAN tag pushed
    // (VID 10), which the capturing port puts back from the packet socket's auxiliary data.
    const sent = udp4(0);
    const captured = await through(a, b, [sent]);
    const out = ipv4Frames(captured);
    expect(out).toHaveLength(1);
    expect([...out[0]!.subarray(30, 34)]).toEqual([10, 9, 0, 99]);
    expect((out[0]![36]! << 8) | out[0]![37]!).toBe(7000);
    expect(ipv4HeaderChecksum(out[0]!, 14)).toBe(0);
    const tagged = new Uint8Array([...sent.subarray(0, 12), 0x81, 0x00, 0x00, 10, ...sent.subarray(12)]);
    expect(captured.filter((f) => f[12] === 0x81 && f[13] === 0x00)).toEqual([tagged]);
    // select: each flow (source port) keeps its bucket; over 40 flows both buckets are used
    const flows = Array.from({ length: 40 }, (_, i) => udp4(0, 2000 + i, 5002));
    const first = ipv4Frames(await through(a, b, flows)).map((f) => f[15]! >> 2);
    const again = ipv4Frames(await through(a, b, flows)).map((f) => f[15]! >> 2);
    expect(first).toHaveLength(40);
    expect(again).toEqual(first);
    expect(new Set(first)).toEqual(new Set([0, 10]));
    const stats = await conn.multipart({ bodyType: 'group', groupId: 0xfffffffc });
    expect(stats.stats.map((g) => [g.groupId, g.refCount, Number(g.packetCount)])).toEqual([[1, 1, 1], [2, 1, 80]]);
    const desc = await conn.multipart({ bodyType: 'group_desc' });
    expect(desc.groups.map((g) => [g.groupId, g.groupType, g.buckets.length])).toEqual([[1, 0, 2], [2, 1, 2]]);
    const features = await conn.multipart({ bodyType: 'group_features' });
    expect(features.types).toBe(0b111);
    await conn.sendConfirmed({ type: 'group_mod', command: 2, groupType: 0, groupId: 0xfffffffc, buckets: [] });
  });

  it('meters: a drop band of 1 packet/s passes the burst and drops the rest, and counts them', async () => {
    await reset();
    await conn.sendConfirmed([
      meterMod({ meterId: 1, flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS, bands: [dropBand(1, 2)] }),
      flowMod({ priority: 10, match: [{ field: 'in_port', value: 1 }], instructions: [meterInstruction(1), applyActions(output(2))] }),
    ]);
    const frames = Array.from({ length: 20 }, () => udp4(0));
    const out = ipv4Frames(await through(a, b, frames));
    expect(out.length).toBeGreaterThanOrEqual(2);
    expect(out.length).toBeLessThanOrEqual(4);
    const stats = await conn.multipart({ bodyType: 'meter', meterId: 1 });
    expect(Number(stats.stats[0]!.packetInCount)).toBe(20);
    expect(Number(stats.stats[0]!.bandStats[0]!.packetBandCount)).toBe(20 - out.length);
  });

  it('sends table-miss packets to the controller and forwards its packet-out', async () => {
    await reset();
    await conn.sendConfirmed(flowMod({ priority: 0, match: [], instructions: [applyActions(output(OFPP.CONTROLLER, 0xffff))] }));
    const packetIn = new Promise<PacketInMessage>((resolve) => conn.once('packetIn', resolve));
    const cap = new Capture(b);
    await cap.ready;
    sendFrames(a, [udp4(12)]);
    const pin = await packetIn;
    expect(pin.reason).toBe(0); // OFPR_NO_MATCH
    expect(pin.match).toEqual([{ field: 'in_port', value: 1 }]);
    conn.send({ type: 'packet_out', bufferId: 0xffffffff, inPort: 1, actions: [output(2)], data: pin.data });
    const out = ipv4Frames(await cap.stop());
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!).equals(Buffer.from(pin.data))).toBe(true);
  });

  it('removes a flow on its idle timeout and reports FLOW_REMOVED', async () => {
    await reset();
    const removed = new Promise<FlowRemovedMessage>((resolve) => conn.once('flowRemoved', resolve));
    await conn.sendConfirmed(flowMod({ cookie: 0x77n, priority: 3, idleTimeout: 1, flags: OFPFF.SEND_FLOW_REM, instructions: [applyActions(output(2))] }));
    const msg = await removed;
    expect(msg.reason).toBe(OFPRR.IDLE_TIMEOUT);
    expect(msg.cookie).toBe(0x77n);
    const flows = await conn.multipart({ bodyType: 'flow', tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
    expect(flows.stats).toHaveLength(0);
  });

  it('deletes strictly and by cookie', async () => {
    await reset();
    const m = [{ field: 'in_port' as const, value: 1 }];
    await conn.sendConfirmed([
      flowMod({ cookie: 1n, priority: 10, match: m, instructions: [applyActions(output(2))] }),
      flowMod({ cookie: 2n, priority: 20, match: m, instructions: [applyActions(output(2))] }),
      flowMod({ cookie: 3n, priority: 30, match: [], instructions: [applyActions(output(2))] }),
    ]);
    await conn.sendConfirmed(flowMod({ command: OFPFC.DELETE_STRICT, priority: 20, match: m, outPort: OFPP.ANY }));
    await conn.sendConfirmed(flowMod({ command: OFPFC.DELETE, cookie: 3n, cookieMask: 0xffn, outPort: OFPP.ANY }));
    const flows = await conn.multipart({ bodyType: 'flow', tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
    expect(flows.stats.map((f) => f.cookie)).toEqual([1n]);
  });

  it('shows its flows, ports and meters to ovs-ofctl over ptcp:', async () => {
    await reset();
    ofctl('add-flow', `tcp:127.0.0.1:${OFCTL_PORT}`, 'priority=33,udp,in_port=1,tp_dst=5001,actions=set_field:46->ip_dscp,output:2');
    ofctl('add-meter', `tcp:127.0.0.1:${OFCTL_PORT}`, 'meter=3,kbps,band=type=drop,rate=1000');
    const flows = ofctl('dump-flows', `tcp:127.0.0.1:${OFCTL_PORT}`);
    expect(flows).toMatch(/priority=33,udp,in_port=1,tp_dst=5001 actions=set_field:46->ip_dscp,output:2/);
    expect(ofctl('dump-meters', `tcp:127.0.0.1:${OFCTL_PORT}`)).toMatch(/meter=3 kbps bands=\s*type=drop rate=1000/);
    expect(ofctl('dump-ports', `tcp:127.0.0.1:${OFCTL_PORT}`)).toMatch(/port {2}1: rx pkts=/);
    // The controller's own connection sees the flow ovs-ofctl installed.
    const viaController = await conn.multipart({ bodyType: 'flow', tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
    expect(viaController.stats.map((f) => f.priority)).toEqual([33]);
    ofctl('add-group', `tcp:127.0.0.1:${OFCTL_PORT}`, 'group_id=5,type=select,bucket=weight=2,output:2,bucket=weight=1,set_field:10.9.0.7->ip_dst,output:2');
    ofctl('add-group', `tcp:127.0.0.1:${OFCTL_PORT}`, 'group_id=6,type=all,bucket=push_vlan:0x8100,set_field:4102->vlan_vid,output:2');
    ofctl('add-flow', `tcp:127.0.0.1:${OFCTL_PORT}`, 'priority=34,udp,in_port=1,tp_dst=5003,actions=group:5');
    const groups = ofctl('dump-groups', `tcp:127.0.0.1:${OFCTL_PORT}`);
    expect(groups).toMatch(/group_id=5,type=select,bucket=weight:2,actions=output:2,bucket=actions=set_field:10\.9\.0\.7->ip_dst,output:2/);
    expect(groups).toMatch(/group_id=6,type=all,bucket=actions=push_vlan:0x8100,set_field:4102->vlan_vid,output:2/);
    expect(ofctl('dump-group-stats', `tcp:127.0.0.1:${OFCTL_PORT}`)).toMatch(/group_id=5,duration=[\d.]+s,ref_count=1,packet_count=0,byte_count=0/);
    // a packet-out naming a group is counted in that group's stats like a packet from the tables
    const udp = ['ffffffffffff', '020000000001', '0800', '45000020000000004011', '0000', '0a090001', '0a090002', '1389138b000c0000', '00'.repeat(18)].join('');
    ofctl('packet-out', `tcp:127.0.0.1:${OFCTL_PORT}`, `in_port=controller packet=${udp} actions=group:6`);
    expect(ofctl('dump-group-stats', `tcp:127.0.0.1:${OFCTL_PORT}`)).toMatch(/group_id=6,duration=[\d.]+s,ref_count=0,packet_count=1,byte_count=60,bucket0:packet_count=1,byte_count=60/);
    const features = ofctl('dump-group-features', `tcp:127.0.0.1:${OFCTL_PORT}`);
    expect(features).toMatch(/all group:\s+max_groups=0x1000\s+actions: output set_field strip_vlan push_vlan set_queue/);
    expect(features).toMatch(/select group:/);
    expect(features).not.toMatch(/fast failover/);
    expect(() => ofctl('add-group', `tcp:127.0.0.1:${OFCTL_PORT}`, 'group_id=7,type=ff,bucket=watch_port:2,output:2')).toThrow(/OFPGMFC_BAD_TYPE/);
    ofctl('del-groups', `tcp:127.0.0.1:${OFCTL_PORT}`);
  });
});

describe('payflow switch command line', () => {
  it('refuses a missing interface with a clear message', () => {
    const r = spawnSync('node', [cli, 'switch', '--listen', 'ptcp:0', '--port', 'pfswnothere'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no network interface named 'pfswnothere'/);
  });

  it('refuses bad arguments with the usage text', () => {
    const noTarget = spawnSync('node', [cli, 'switch', '--port', 'lo'], { encoding: 'utf8' });
    expect(noTarget.status).toBe(2);
    expect(noTarget.stderr).toMatch(/give --controller tcp:HOST:PORT or --listen ptcp:PORT/);
    const badTarget = spawnSync('node', [cli, 'switch', '--controller', 'udp:1.2.3.4:6653', '--port', 'lo'], { encoding: 'utf8' });
    expect(badTarget.status).toBe(2);
    expect(badTarget.stderr).toMatch(/--controller takes tcp:HOST:PORT/);
  });
});

// flows.ts / forwarding.ts / egress.ts / stats.ts / enforcement.ts without switches: the
// flow-mods and meter-mods enforcement builds are encoded with the OpenFlow codec, decoded
// again and checked field by field; routes on a triangle; tc commands; counter rates; the
// enforcer's typed errors and pending restore with no switch connected.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import type { EnforcedReservation } from '../../src/network/contracts.js';
import { egressCommands } from '../../src/network/egress.js';
import { EnforcementError, OpenFlowEnforcer, BEST_EFFORT_UNLIMITED_BPS } from '../../src/network/enforcement.js';
import {
  COOKIE_RESERVATION_KIND,
  COOKIE_MASK_KIND,
  BEST_EFFORT_METER_ID,
  PRIORITY,
  deleteHostPortFlows,
  hostPortFlows,
  baseFlows,
  clearSwitch,
  hardTimeoutSeconds,
  reservationCookie,
  reservationHopMessages,
  reservationMatch,
  reservationRemoveMessages,
  raisedDropPrecedence,
} from '../../src/network/flows.js';
import { bandNames, classExcessOn } from '../../src/network/capabilities.js';
import { computeRoutes, routeChanges } from '../../src/network/forwarding.js';
import { rateBps } from '../../src/network/stats.js';
import { Topology } from '../../src/network/topology.js';
import { applyActions, decodeMessage, encodeMessage, gotoTable, meterInstruction, output, setField, OFPFF, OFPMC, OFPMF, OFPFC, type FlowModMessage, type MeterModMessage, type OfpMessage } from '../../src/openflow/codec/index.js';

function roundTrip<T extends OfpMessage>(msg: T): T {
  const bytes = encodeMessage(msg, { checkPrerequisites: true });
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) throw new Error(`did not decode: ${decoded.error.reason}`);
  return decoded.message as T;
}

const NOW = 1_800_000_000_000;

function reservation(over: Partial<EnforcedReservation> = {}): EnforcedReservation {
  return {
    id: 'r-1',
    classId: 'gold',
    dscp: 46,
    rateBps: 5_000_000,
    burstBits: 250_000,
    match: { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, dstPort: 5001 },
    path: {
      hops: [
        { dpid: 1n, inPort: 1, outPort: 2 },
        { dpid: 2n, inPort: 2, outPort: 1 },
      ],
      resources: ['0000000000000001:2', '0000000000000002:1'],
    },
    expiresAtMs: NOW + 60_000,
    ...over,
  };
}

describe('reservation flow-mods', () => {
  it('ingress hop: a drop-band meter in kbit/s with burst, and a flow that meters, marks and outputs', () => {
    const msgs = reservationHopMessages(reservation(), 0, 7, NOW).map(roundTrip);
    expect(msgs).toHaveLength(2);
    const [meter, flow] = msgs;
    expect(meter).toMatchObject({ type: 'meter_mod', command: OFPMC.ADD, meterId: 7, flags: OFPMF.KBPS | OFPMF.STATS | OFPMF.BURST });
    expect(meter!.type === 'meter_mod' && meter!.bands).toEqual([{ type: 'drop', rate: 5000, burstSize: 250 }]);
    expect(flow).toMatchObject({
      type: 'flow_mod',
      command: OFPFC.ADD,
      tableId: 0,
      priority: PRIORITY.RESERVATION_INGRESS,
      hardTimeout: 60,
      idleTimeout: 0,
      flags: OFPFF.SEND_FLOW_REM,
      cookie: reservationCookie('r-1'),
    });
    if (flow!.type !== 'flow_mod') throw new Error('not a flow-mod');
    expect(flow!.match).toEqual([
      { field: 'in_port', value: 1 },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_src', value: '10.0.0.1' },
      { field: 'ipv4_dst', value: '10.0.0.2' },
      { field: 'ip_proto', value: 17 },
      { field: 'udp_dst', value: 5001 },
    ]);
    expect(flow!.instructions).toEqual([
      { type: 'meter', meterId: 7 },
      { type: 'apply_actions', actions: [{ type: 'set_field', field: { field: 'ip_dscp', value: 46 } }, { type: 'output', port: 2, maxLen: 0xffff }] },
    ]);
  });

  it('ingress hop with the source host known: the flow also matches its MAC (eth_src) before the addresses', () => {
    const [, flow] = reservationHopMessages(reservation(), 0, 7, NOW, OFPMC.ADD, '02:00:00:00:00:01').map(roundTrip);
    if (flow!.type !== 'flow_mod') throw new Error('not a flow-mod');
    expect(flow!.match.slice(0, 3)).toEqual([
      { field: 'in_port', value: 1 },
      { field: 'eth_src', value: '02:00:00:00:00:01' },
      { field: 'eth_type', value: 0x0800 },
    ]);
  });

  it('host ports: best-effort metering, and IPv4 and IPv6 re-marked to DSCP 0 (the edge is the trust boundary)', () => {
    const flows = hostPortFlows(4).map(roundTrip);
    expect(flows.map((f) => (f.type === 'flow_mod' ? [f.priority, f.match] : []))).toEqual([
      [PRIORITY.HOST_PORT, [{ field: 'in_port', value: 4 }, { field: 'eth_type', value: 0x0800 }]],
      [PRIORITY.HOST_PORT, [{ field: 'in_port', value: 4 }, { field: 'eth_type', value: 0x86dd }]],
      [PRIORITY.HOST_PORT_OTHER, [{ field: 'in_port', value: 4 }]],
    ]);
    const [v4, , other] = flows;
    expect(v4!.type === 'flow_mod' && v4!.instructions).toEqual([
      { type: 'meter', meterId: BEST_EFFORT_METER_ID },
      { type: 'apply_actions', actions: [{ type: 'set_field', field: { field: 'ip_dscp', value: 0 } }] },
      { type: 'goto_table', tableId: 1 },
    ]);
    expect(other!.type === 'flow_mod' && other!.instructions).toEqual([{ type: 'meter', meterId: BEST_EFFORT_METER_ID }, { type: 'goto_table', tableId: 1 }]);
    expect(PRIORITY.RESERVATION_INGRESS).toBeGreaterThan(PRIORITY.HOST_PORT);
    expect(roundTrip(deleteHostPortFlows(4))).toMatchObject({ command: OFPFC.DELETE, tableId: 0 });
  });

  it('later hops: in_port + DSCP mark + the flow → output, same cookie and hard timeout, no meter', () => {
    const msgs = reservationHopMessages(reservation(), 1, undefined, NOW).map(roundTrip);
    expect(msgs).toHaveLength(1);
    const flow = msgs[0]!;
    if (flow.type !== 'flow_mod') throw new Error('not a flow-mod');
    expect(flow).toMatchObject({ priority: PRIORITY.RESERVATION_TRANSIT, hardTimeout: 60, cookie: reservationCookie('r-1'), flags: 0 });
    expect(flow.match).toEqual([
      { field: 'in_port', value: 2 },
      { field: 'eth_type', value: 0x0800 },
      { field: 'ip_dscp', value: 46 },
      { field: 'ipv4_src', value: '10.0.0.1' },
      { field: 'ipv4_dst', value: '10.0.0.2' },
      { field: 'ip_proto', value: 17 },
      { field: 'udp_dst', value: 5001 },
    ]);
    expect(flow.instructions).toEqual([{ type: 'apply_actions', actions: [{ type: 'output', port: 1, maxLen: 0xffff }] }]);
  });

  it('IPv6 with a flow label and TCP ports', () => {
    const r = reservation({ match: { src: 'fd00::1', dst: 'fd00::2', proto: 6, srcPort: 40000, dstPort: 443, flowLabel: 0x12345 } });
    const [, flow] = reservationHopMessages(r, 0, 2, NOW).map(roundTrip);
    if (flow!.type !== 'flow_mod') throw new Error('not a flow-mod');
    expect(flow!.match).toEqual([
      { field: 'in_port', value: 1 },
      { field: 'eth_type', value: 0x86dd },
      { field: 'ipv6_src', value: 'fd00::1' },
      { field: 'ipv6_dst', value: 'fd00::2' },
      { field: 'ipv6_flabel', value: 0x12345 },
      { field: 'ip_proto', value: 6 },
      { field: 'tcp_src', value: 40000 },
      { field: 'tcp_dst', value: 443 },
    ]);
  });

  it('refuses matches the switch could not take', () => {
    expect(() => reservationMatch({ src: '10.0.0.1', dst: 'fd00::2' })).toThrow(RangeError);
    expect(() => reservationMatch({ src: '10.0.0.1', dst: '10.0.0.2', flowLabel: 1 })).toThrow(/flow label/);
    expect(() => reservationMatch({ src: '10.0.0.1', dst: '10.0.0.2', dstPort: 80 })).toThrow(/ports/);
    expect(() => reservationMatch({ src: 'host', dst: 'other' })).toThrow(RangeError);
    expect(reservationMatch({ src: '10.0.0.1', dst: '10.0.0.2', proto: 1 })).toHaveLength(4);
  });

  it('hard timeouts are whole seconds in 1 … 65535 (0 would never expire)', () => {
    expect(hardTimeoutSeconds(NOW + 1500, NOW)).toBe(2);
    expect(hardTimeoutSeconds(NOW - 5000, NOW)).toBe(1);
    expect(hardTimeoutSeconds(NOW + 1e12, NOW)).toBe(65535);
  });

  it('cookies: "PR" + a stable 48-bit hash per id; removal deletes by exact cookie and the ingress meter', () => {
    const c = reservationCookie('r-1');
    expect(c & COOKIE_MASK_KIND).toBe(COOKIE_RESERVATION_KIND);
    expect(reservationCookie('r-1')).toBe(c);
    expect(reservationCookie('r-2')).not.toBe(c);
    const [del, meterDel] = reservationRemoveMessages('r-1', 7).map(roundTrip);
    expect(del).toMatchObject({ type: 'flow_mod', command: OFPFC.DELETE, cookie: c, cookieMask: 0xffffffffffffffffn, tableId: 0xff });
    expect(meterDel).toMatchObject({ type: 'meter_mod', command: OFPMC.DELETE, meterId: 7 });
    expect(reservationRemoveMessages('r-1', undefined)).toHaveLength(1);
  });

  it('base flows and the clear-on-connect messages encode', () => {
    const base = baseFlows().map(roundTrip);
    expect(base.map((m) => (m.type === 'flow_mod' ? `${m.tableId}/${m.priority}` : ''))).toEqual(['0/65000', '0/60000', '0/60000', '0/60000', '0/0', '1/0']);
    const [flows, meters] = clearSwitch().map(roundTrip);
    expect(flows).toMatchObject({ command: OFPFC.DELETE, tableId: 0xff });
    expect(meters).toMatchObject({ command: OFPMC.DELETE, meterId: 0xffffffff });
  });
});

function triangle(): Topology {
  const t = new Topology();
  for (const d of [1n, 2n, 3n]) t.addSwitch(d, [1, 2, 3].map((portNo) => ({ portNo, up: true })));
  const wire = (a: bigint, pa: number, b: bigint, pb: number): void => {
    t.linkSeen({ dpid: a, port: pa }, { dpid: b, port: pb }, 0);
    t.linkSeen({ dpid: b, port: pb }, { dpid: a, port: pa }, 0);
  };
  wire(1n, 2, 2n, 2);
  wire(2n, 3, 3n, 2);
  wire(3n, 3, 1n, 3);
  t.learnHost({ mac: '02:00:00:00:00:02', dpid: 2n, port: 1, ip: '10.0.0.2', nowMs: 0 });
  t.learnHost({ mac: '02:00:00:00:00:02', dpid: 2n, port: 1, ip: 'fd00::2', nowMs: 0 });
  return t;
}

describe('proactive routes', () => {
  it('every switch routes a host address along its shortest path; the host switch to the host port', () => {
    const routes = computeRoutes(triangle());
    expect(routes.get(1n)?.get('10.0.0.2')).toEqual({ address: '10.0.0.2', family: 4, port: 2 });
    expect(routes.get(3n)?.get('10.0.0.2')).toEqual({ address: '10.0.0.2', family: 4, port: 2 });
    expect(routes.get(2n)?.get('fd00::2')).toEqual({ address: 'fd00::2', family: 6, port: 1 });
  });

  it('diffs: only changed routes are sent, stale ones deleted strictly', () => {
    const t = triangle();
    const want = computeRoutes(t).get(1n)!;
    expect(routeChanges(new Map(), want)).toHaveLength(2);
    expect(routeChanges(want, want)).toHaveLength(0);
    const moved = new Map(want);
    moved.set('10.0.0.2', { address: '10.0.0.2', family: 4, port: 3 });
    const changes = routeChanges(want, moved).map(roundTrip);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ command: OFPFC.ADD, tableId: 1, priority: PRIORITY.HOST_ROUTE });
    const gone = routeChanges(want, new Map()).map(roundTrip);
    expect(gone.map((m) => (m.type === 'flow_mod' ? m.command : -1))).toEqual([OFPFC.DELETE_STRICT, OFPFC.DELETE_STRICT]);
  });
});

describe('egress tc commands', () => {
  it('an htb class per service class and u32 filters on the TOS byte / IPv6 traffic class', () => {
    const cmds = egressCommands('veth0', 10e6, defaultConfig().classes).map((c) => c.join(' '));
    expect(cmds[0]).toBe('qdisc add dev veth0 root handle 5046: htb default 12');
    expect(cmds).toContain('class add dev veth0 parent 5046: classid 5046:1 htb rate 10000000bit ceil 10000000bit');
    expect(cmds).toContain('class add dev veth0 parent 5046:1 classid 5046:11 htb rate 4000000bit ceil 10000000bit prio 1');
    expect(cmds).toContain('filter add dev veth0 parent 5046: protocol ip prio 12 u32 match ip tos 0xb8 0xfc flowid 5046:11');
    expect(cmds).toContain('filter add dev veth0 parent 5046: protocol ipv6 prio 13 u32 match ip6 priority 0xb8 0xfc flowid 5046:11');
    expect(cmds).toContain('filter add dev veth0 parent 5046: protocol ip prio 10 u32 match ip tos 0x68 0xfc flowid 5046:10');
    expect(cmds.filter((c) => c.includes('5046:12') && c.startsWith('filter'))).toHaveLength(0);
  });

  it('every class queues at most 50 ms of the link (a bfifo leaf), at least ten full frames', () => {
    const cmds = egressCommands('veth0', 10e6, defaultConfig().classes).map((c) => c.join(' '));
    // 10 Mbit/s x 50 ms = 62500 bytes, one leaf per class
    for (const minor of [10, 11, 12]) expect(cmds).toContain(`qdisc add dev veth0 parent 5046:${minor} handle ${minor}: bfifo limit 62500`);
    const slow = egressCommands('veth0', 100e3, defaultConfig().classes).map((c) => c.join(' '));
    expect(slow).toContain('qdisc add dev veth0 parent 5046:10 handle 10: bfifo limit 15140');
  });
});

describe('stats', () => {
  it('rates from counters; a counter that went back (switch restart) gives 0', () => {
    expect(rateBps({ bytes: 0n, atMs: 0 }, { bytes: 1000n, atMs: 1000 })).toBe(8000);
    expect(rateBps(undefined, { bytes: 1000n, atMs: 1000 })).toBe(0);
    expect(rateBps({ bytes: 5000n, atMs: 0 }, { bytes: 10n, atMs: 1000 })).toBe(0);
    expect(rateBps({ bytes: 0n, atMs: 1000 }, { bytes: 10n, atMs: 1000 })).toBe(0);
  });
});

describe('OpenFlowEnforcer without switches', () => {
  const t = new Topology({ capacity: { defaultCapacityBps: 10e6, usePortSpeed: false, overrides: [] } });
  const enforcer = new OpenFlowEnforcer({ connection: () => undefined, connectedSwitches: () => [], countOut: () => {} }, t, { now: () => NOW });

  it('install rejects with a typed not-connected error naming the switch', async () => {
    const err = await enforcer.install(reservation()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(EnforcementError);
    expect(err).toMatchObject({ code: 'not-connected', reservationId: 'r-1', dpid: '0000000000000001' });
    expect(enforcer.size).toBe(0);
  });

  it('install rejects bad reservations as invalid', async () => {
    await expect(enforcer.install(reservation({ dscp: 64 }))).rejects.toMatchObject({ code: 'invalid' });
    await expect(enforcer.install(reservation({ path: { hops: [], resources: [] } }))).rejects.toMatchObject({ code: 'invalid' });
    await expect(enforcer.install(reservation({ match: { src: '10.0.0.1', dst: 'fd00::1' } }))).rejects.toMatchObject({ code: 'invalid' });
  });

  it('restore keeps reservations whose switches are not connected yet, drops expired ones, and sizes best effort', async () => {
    expect(enforcer.bestEffortRateBps()).toBe(BEST_EFFORT_UNLIMITED_BPS);
    await enforcer.restore([reservation(), reservation({ id: 'r-old', expiresAtMs: NOW - 1 })]);
    expect(enforcer.list().map((e) => e.reservation.id)).toEqual(['r-1']);
    expect(enforcer.get('r-1')?.meterId).toBe(2);
    expect(enforcer.bestEffortRateBps()).toBe(5e6);
    await enforcer.restore([]);
    expect(enforcer.size).toBe(0);
    expect(enforcer.bestEffortRateBps()).toBe(BEST_EFFORT_UNLIMITED_BPS);
  });
});

describe('excess beyond the paid rate', () => {
  it('a dscp_remark band raises the AF drop precedence by one, and nothing else', () => {
    expect(raisedDropPrecedence(26)).toBe(28); // AF31 → AF32
    expect(raisedDropPrecedence(10)).toBe(12); // AF11 → AF12
    expect(raisedDropPrecedence(28)).toBe(30); // AF32 → AF33
    expect(raisedDropPrecedence(30)).toBeUndefined(); // AF33: already the highest
    expect(raisedDropPrecedence(46)).toBeUndefined(); // EF
    expect(raisedDropPrecedence(0)).toBeUndefined();
    expect(raisedDropPrecedence(64)).toBeUndefined();
  });

  it('classes degrade only where the switch has dscp_remark bands and their DSCP can be raised', () => {
    const classes = defaultConfig().classes.map((c) => ({ ...c, excess: c.bestEffort ? ('drop' as const) : ('degrade' as const) }));
    const ovs = classExcessOn(classes, { meterBands: ['drop'], payflowSwitch: false });
    expect(ovs.map((e) => [e.classId, e.excess])).toEqual([['gold', 'dropped'], ['silver', 'dropped'], ['best-effort', 'dropped']]);
    expect(ovs[1]!.reason).toBe('the switch has no dscp_remark meter band');
    const own = classExcessOn(classes, { meterBands: ['drop', 'dscp_remark'], payflowSwitch: true });
    expect(own.map((e) => [e.classId, e.excess])).toEqual([['gold', 'dropped'], ['silver', 'degraded'], ['best-effort', 'dropped']]);
    expect(own[0]!.reason).toMatch(/DSCP 46 is not an AF code point/);
    expect(own[1]!.treatment).toEqual({ kind: 'degrade', raisedDscp: 28 });
    // a raised code point that is another class's mark would mix the two
    const clash = classExcessOn([...classes.slice(0, 2), { ...classes[2]!, dscp: 28 }], { meterBands: ['drop', 'dscp_remark'], payflowSwitch: true });
    expect(clash[1]).toMatchObject({ excess: 'dropped', reason: "the raised code point 28 is another class's DSCP" });
    expect(bandNames(0b110)).toEqual(['drop', 'dscp_remark']);
    expect(bandNames(0b10)).toEqual(['drop']);
  });

  it('a degrading ingress marks in table 0, meters in table 2 with a dscp_remark band, and splits by DSCP in table 3', () => {
    const r = reservation({ classId: 'silver', dscp: 26, rateBps: 2_000_000, burstBits: 100_000 });
    const drop = reservationHopMessages(r, 0, 5, NOW);
    const degrade = reservationHopMessages(r, 0, 5, NOW, OFPMC.ADD, undefined, { kind: 'degrade', raisedDscp: 28 });
    expect(drop).toHaveLength(2);
    expect(degrade).toHaveLength(5);
    const [meter, classify, police, inProfile, excess] = degrade as [MeterModMessage, FlowModMessage, FlowModMessage, FlowModMessage, FlowModMessage];
    expect(meter.bands).toEqual([{ type: 'dscp_remark', rate: 2000, burstSize: 100, precLevel: 1 }]);
    expect(classify).toMatchObject({ tableId: 0, flags: OFPFF.SEND_FLOW_REM });
    expect(classify.instructions).toEqual([applyActions(setField({ field: 'ip_dscp', value: 26 })), gotoTable(2)]);
    expect(police).toMatchObject({ tableId: 2, flags: 0 });
    expect(police.instructions).toEqual([meterInstruction(5), gotoTable(3)]);
    expect(inProfile.match).toContainEqual({ field: 'ip_dscp', value: 26 });
    expect(inProfile.instructions).toEqual([applyActions(output(2))]);
    expect(excess.match).toContainEqual({ field: 'ip_dscp', value: 28 });
    expect(excess.instructions).toEqual([meterInstruction(BEST_EFFORT_METER_ID), applyActions(output(2))]);
    for (const m of [classify, police, inProfile, excess]) expect(m.cookie).toBe(reservationCookie(r.id));
    // later hops are the same either way
    expect(reservationHopMessages(r, 1, undefined, NOW, OFPMC.ADD, undefined, { kind: 'degrade', raisedDscp: 28 })).toEqual(reservationHopMessages(r, 1, undefined, NOW));
  });
});

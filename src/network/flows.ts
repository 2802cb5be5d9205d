// The flow-mods and meter-mods the controller puts in a switch (OpenFlow 1.3.5 §7.3.4.1
// flow-mod, §7.3.4.4 meter-mod), as pure functions so they can be encoded and checked in
// unit tests. The layout is described in docs/network.md:
//
//   table 0 (classify)                         table 1 (forward)
//   65000 LLDP → controller                    100 ipv4_dst / ipv6_dst of a host → port towards it
//   60000 ARP, ICMPv6 NS/NA → controller         0 miss → controller (learn the source)
//   40000 reservation, ingress: in_port + eth_src + flow → meter, set DSCP, output
//   30000 reservation, later hops: link in_port + DSCP + flow → output
//   20000 in_port = host port (IPv4, IPv6) → best-effort meter, DSCP 0, goto 1
//   19999 in_port = host port (anything else) → best-effort meter, goto 1
//       0 goto 1
//
// Towards a switch whose meters re-mark (dscp_remark bands), a reservation of a class with
// `excess: degrade` takes two more tables at its ingress switch, because a meter runs
// before the apply-actions of its own entry (§5.9) and must see the class DSCP:
//
//   table 0  40000 reservation, ingress → set the class DSCP, goto 2
//   table 2  40000 reservation (police) → its meter (dscp_remark band: AFx1 → AFx2), goto 3
//   table 3  40000 reservation with the class DSCP (in profile) → output on its path
//            40000 reservation with the raised code point (excess) → best-effort meter, output
//
// (goto_table only goes forward, §5.1, so the excess cannot return to table 1's routes at
// the ingress.) Degraded packets keep the raised AF code point (RFC 2597) on the wire; no
// later switch has a reservation flow for it, so every later hop forwards it by the host
// routes of table 1, as best effort, and at the ingress it shares the best-effort meter.
// The trust boundary is the host-facing port (DiffServ, RFC 2475 §2.3.4.2, RFC 4594): a
// packet from a host keeps a class DSCP only when it matches a paid reservation exactly
// (its port, its MAC, its addresses); everything else from a host port is re-marked to
// best effort, so core switches can trust the DSCP they see on switch-to-switch ports.
import {
  applyActions,
  dropBand,
  flowMod,
  gotoTable,
  meterInstruction,
  meterMod,
  output,
  setField,
  OFPCML_NO_BUFFER,
  OFPFC,
  OFPFF,
  OFPG,
  OFPMC,
  OFPMF,
  OFPP,
  OFPTT,
  type Action,
  type FlowModMessage,
  type Match,
  type MeterModMessage,
} from '../openflow/codec/index.js';
import type { EnforcedReservation, FlowMatch } from './contracts.js';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_IPV6, ICMPV6_NA, ICMPV6_NS, IP_PROTO_ICMPV6 } from './hosts.js';
import { LLDP_ETHERTYPE } from './lldp.js';
import type { Hop } from './topology.js';
import { addressFamily } from '../util/addresses.js';

export const TABLE_CLASSIFY = 0;
export const TABLE_FORWARD = 1;
/** where a degrading reservation's meter runs (after table 0 set its class DSCP) */
export const TABLE_POLICE = 2;
/** in-profile packets to the reservation's path, re-marked excess to best effort */
export const TABLE_EXCESS = 3;

export const PRIORITY = {
  LLDP: 65000,
  NEIGHBOUR: 60000,
  RESERVATION_INGRESS: 40000,
  RESERVATION_TRANSIT: 30000,
  HOST_PORT: 20000,
  HOST_PORT_OTHER: 19999,
  HOST_ROUTE: 100,
  MISS: 0,
} as const;

/** Cookie categories: the top 16 bits say who owns a flow, so each kind is deleted by mask. */
export const COOKIE_MASK_KIND = 0xffff_0000_0000_0000n;
export const COOKIE_BASE = 0x5046_0000_0000_0001n; // "PF": LLDP, ARP/ND, misses
export const COOKIE_HOST_PORT = 0x5048_0000_0000_0000n; // "PH": best-effort metering of host ports
export const COOKIE_ROUTE = 0x5046_0000_0000_0002n; // host routes (table 1)
export const COOKIE_RESERVATION_KIND = 0x5052_0000_0000_0000n; // "PR" + 48-bit hash of the reservation id
const ALL_ONES = 0xffff_ffff_ffff_ffffn;

/** The best-effort aggregate's meter on every switch. Reservation meters start above it. */
export const BEST_EFFORT_METER_ID = 1;
export const FIRST_RESERVATION_METER_ID = 2;

/** A cookie per reservation: "PR" in the top 16 bits, FNV-1a of the id in the low 48 (stable across controller restarts). */
export function reservationCookie(id: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(id, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & ALL_ONES;
  }
  return COOKIE_RESERVATION_KIND | (h & 0xffff_ffff_ffffn);
}

function toController(): ReturnType<typeof applyActions> {
  return applyActions(output(OFPP.CONTROLLER, OFPCML_NO_BUFFER));
}

/** Flows every switch gets on connect (after its tables were cleared). */
export function baseFlows(): FlowModMessage[] {
  return [
    flowMod({ cookie: COOKIE_BASE, tableId: TABLE_CLASSIFY, priority: PRIORITY.LLDP, match: [{ field: 'eth_type', value: LLDP_ETHERTYPE }], instructions: [toController()] }),
    flowMod({ cookie: COOKIE_BASE, tableId: TABLE_CLASSIFY, priority: PRIORITY.NEIGHBOUR, match: [{ field: 'eth_type', value: ETH_TYPE_ARP }], instructions: [toController()] }),
    ...[ICMPV6_NS, ICMPV6_NA].map((t) =>
      flowMod({
        cookie: COOKIE_BASE,
        tableId: TABLE_CLASSIFY,
        priority: PRIORITY.NEIGHBOUR,
        match: [
          { field: 'eth_type', value: ETH_TYPE_IPV6 },
          { field: 'ip_proto', value: IP_PROTO_ICMPV6 },
          { field: 'icmpv6_type', value: t },
        ],
        instructions: [toController()],
      }),
    ),
    flowMod({ cookie: COOKIE_BASE, tableId: TABLE_CLASSIFY, priority: PRIORITY.MISS, instructions: [gotoTable(TABLE_FORWARD)] }),
    flowMod({ cookie: COOKIE_BASE, tableId: TABLE_FORWARD, priority: PRIORITY.MISS, instructions: [toController()] }),
  ];
}

/** Deletes every flow in every table and every meter: a reconnecting switch starts from a known state. */
export function clearSwitch(): [FlowModMessage, MeterModMessage] {
  return [
    flowMod({ command: OFPFC.DELETE, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY }),
    { type: 'meter_mod', xid: 0, command: OFPMC.DELETE, flags: 0, meterId: 0xffffffff, bands: [] },
  ];
}

function kbps(bps: number): number {
  return Math.max(1, Math.min(0xffffffff, Math.ceil(bps / 1000)));
}

/** A drop-band meter (the only band the userspace datapath has): rate and burst in bits(/s), sent in kbit(/s). */
export function dropMeter(meterId: number, rateBps: number, burstBits: number, command: number = OFPMC.ADD): MeterModMessage {
  return meterMod({ meterId, command, flags: OFPMF.KBPS | OFPMF.STATS | OFPMF.BURST, bands: [dropBand(kbps(rateBps), kbps(burstBits))] });
}

/** The drop precedence a dscp_remark band adds (RFC 2597: AFx1 → AFx2). */
export const EXCESS_PREC_LEVEL = 1;

/** A meter whose one band re-marks instead of dropping: beyond the rate, the AF drop precedence rises by EXCESS_PREC_LEVEL. */
export function remarkMeter(meterId: number, rateBps: number, burstBits: number, command: number = OFPMC.ADD): MeterModMessage {
  return meterMod({
    meterId,
    command,
    flags: OFPMF.KBPS | OFPMF.STATS | OFPMF.BURST,
    bands: [{ type: 'dscp_remark', rate: kbps(rateBps), burstSize: kbps(burstBits), precLevel: EXCESS_PREC_LEVEL }],
  });
}

/**
 * The code point a dscp_remark band of `precLevel` turns `dscp` into (OpenFlow 1.3.5
 * §7.2.3.9 on RFC 2597: the drop precedence of AFcd rises, at most to 3), or undefined when
 * the band leaves it unchanged (not an AF code point, or already at drop precedence 3).
 */
export function raisedDropPrecedence(dscp: number, precLevel: number = EXCESS_PREC_LEVEL): number | undefined {
  const afClass = dscp >> 3;
  const drop = (dscp >> 1) & 3;
  if (!Number.isInteger(dscp) || dscp < 0 || dscp > 63 || (dscp & 1) !== 0 || afClass < 1 || afClass > 4 || drop < 1 || drop >= 3) return undefined;
  return (afClass << 3) | (Math.min(3, drop + precLevel) << 1);
}

/** What a reservation's ingress meter does beyond the paid rate on one switch. */
export type ExcessTreatment = { kind: 'drop' } | { kind: 'degrade'; raisedDscp: number };

/** DSCP of best effort: what host ports re-mark every unreserved IP packet to. */
export const DSCP_BEST_EFFORT = 0;

/**
 * The best-effort aggregate's ingress on one host-facing port: metered, IP packets
 * re-marked to best effort (a host cannot buy a class by marking its own packets).
 * set_field ip_dscp needs eth_type in the match (OpenFlow 1.3.5 §7.2.3.6), hence one flow
 * per IP version and one for the rest.
 */
export function hostPortFlows(port: number): FlowModMessage[] {
  const cookie = COOKIE_HOST_PORT | BigInt(port);
  const remark = (ethType: number) =>
    flowMod({
      cookie,
      tableId: TABLE_CLASSIFY,
      priority: PRIORITY.HOST_PORT,
      match: [{ field: 'in_port', value: port }, { field: 'eth_type', value: ethType }],
      instructions: [meterInstruction(BEST_EFFORT_METER_ID), applyActions(setField({ field: 'ip_dscp', value: DSCP_BEST_EFFORT })), gotoTable(TABLE_FORWARD)],
    });
  return [
    remark(ETH_TYPE_IPV4),
    remark(ETH_TYPE_IPV6),
    flowMod({
      cookie,
      tableId: TABLE_CLASSIFY,
      priority: PRIORITY.HOST_PORT_OTHER,
      match: [{ field: 'in_port', value: port }],
      instructions: [meterInstruction(BEST_EFFORT_METER_ID), gotoTable(TABLE_FORWARD)],
    }),
  ];
}

/** Removes hostPortFlows(port): every flow with that port's cookie in table 0. */
export function deleteHostPortFlows(port: number): FlowModMessage {
  return flowMod({ command: OFPFC.DELETE, cookie: COOKIE_HOST_PORT | BigInt(port), cookieMask: ALL_ONES, tableId: TABLE_CLASSIFY, outPort: OFPP.ANY, outGroup: OFPG.ANY });
}

/** Table-1 route to one host address out of `port`. */
export function hostRoute(address: string, family: 4 | 6, port: number): FlowModMessage {
  return flowMod({ cookie: COOKIE_ROUTE, tableId: TABLE_FORWARD, priority: PRIORITY.HOST_ROUTE, match: routeMatch(address, family), instructions: [applyActions(output(port))] });
}

export function deleteHostRoute(address: string, family: 4 | 6): FlowModMessage {
  return flowMod({ command: OFPFC.DELETE_STRICT, tableId: TABLE_FORWARD, priority: PRIORITY.HOST_ROUTE, match: routeMatch(address, family) });
}

function routeMatch(address: string, family: 4 | 6): Match {
  return family === 4
    ? [{ field: 'eth_type', value: ETH_TYPE_IPV4 }, { field: 'ipv4_dst', value: address }]
    : [{ field: 'eth_type', value: ETH_TYPE_IPV6 }, { field: 'ipv6_dst', value: address }];
}

/** The OXM match of a reservation's flow (without in_port / DSCP), in prerequisite order. */
export function reservationMatch(m: FlowMatch): Match {
  const family = addressFamily(m.src);
  if (family === undefined || addressFamily(m.dst) !== family) throw new RangeError(`reservation match needs two addresses of one family: ${m.src} → ${m.dst}`);
  if (m.flowLabel !== undefined && family !== 6) throw new RangeError('an IPv6 flow label needs IPv6 addresses');
  if ((m.srcPort !== undefined || m.dstPort !== undefined) && m.proto !== 6 && m.proto !== 17 && m.proto !== 132) {
    throw new RangeError('ports need proto 6 (TCP), 17 (UDP) or 132 (SCTP)');
  }
  const match: Match =
    family === 4
      ? [{ field: 'eth_type', value: ETH_TYPE_IPV4 }, { field: 'ipv4_src', value: m.src }, { field: 'ipv4_dst', value: m.dst }]
      : [{ field: 'eth_type', value: ETH_TYPE_IPV6 }, { field: 'ipv6_src', value: m.src }, { field: 'ipv6_dst', value: m.dst }];
  if (m.flowLabel !== undefined) match.push({ field: 'ipv6_flabel', value: m.flowLabel });
  if (m.proto !== undefined) {
    match.push({ field: 'ip_proto', value: m.proto });
    const [s, d] = m.proto === 6 ? (['tcp_src', 'tcp_dst'] as const) : m.proto === 17 ? (['udp_src', 'udp_dst'] as const) : (['sctp_src', 'sctp_dst'] as const);
    if (m.srcPort !== undefined) match.push({ field: s, value: m.srcPort });
    if (m.dstPort !== undefined) match.push({ field: d, value: m.dstPort });
  }
  return match;
}

/** Hard timeout in whole seconds until expiresAtMs (1 … 65535; 0 would mean "never"). */
export function hardTimeoutSeconds(expiresAtMs: number, nowMs: number): number {
  return Math.max(1, Math.min(0xffff, Math.ceil((expiresAtMs - nowMs) / 1000)));
}

/**
 * What one hop of a reservation gets. Ingress (hop 0): the meter at the paid rate and burst,
 * then a flow matching in_port + the source host's MAC (when known) + the reserved flow
 * that meters, marks the class DSCP and outputs: a spoofer on another port, or with
 * another MAC, does not match it and is re-marked to best effort by its host port. Later hops: in_port + DSCP + the flow → output. Every flow carries the
 * reservation's cookie and the hard timeout; the ingress flow asks for flow-removed.
 * With `meterCommand` OFPMC_MODIFY the same messages update a reservation in place (an
 * ADD of an identical flow replaces it, with the new hard timeout).
 */
export function reservationHopMessages(
  r: EnforcedReservation,
  hopIndex: number,
  meterId: number | undefined,
  nowMs: number,
  meterCommand: number = OFPMC.ADD,
  sourceMac?: string,
  excess: ExcessTreatment = { kind: 'drop' },
): (FlowModMessage | MeterModMessage)[] {
  const hop: Hop | undefined = r.path.hops[hopIndex];
  if (!hop) throw new RangeError(`reservation ${r.id} has no hop ${hopIndex}`);
  const cookie = reservationCookie(r.id);
  const hardTimeout = hardTimeoutSeconds(r.expiresAtMs, nowMs);
  const flow = reservationMatch(r.match);
  const inPort: Match = [{ field: 'in_port', value: hop.inPort }];
  if (hopIndex === 0) {
    if (meterId === undefined) throw new RangeError('the ingress hop needs a meter id');
    if (excess.kind === 'degrade') return degradingIngress(r, hop, meterId, meterCommand, sourceMac, cookie, hardTimeout, flow, excess.raisedDscp);
    return [
      dropMeter(meterId, r.rateBps, r.burstBits, meterCommand),
      flowMod({
        cookie,
        tableId: TABLE_CLASSIFY,
        priority: PRIORITY.RESERVATION_INGRESS,
        hardTimeout,
        flags: OFPFF.SEND_FLOW_REM,
        match: [...inPort, ...(sourceMac !== undefined ? [{ field: 'eth_src' as const, value: sourceMac }] : []), ...flow],
        instructions: [meterInstruction(meterId), applyActions(setField({ field: 'ip_dscp', value: r.dscp }), output(hop.outPort))],
      }),
    ];
  }
  const [ethType, ...rest] = flow;
  return [
    flowMod({
      cookie,
      tableId: TABLE_CLASSIFY,
      priority: PRIORITY.RESERVATION_TRANSIT,
      hardTimeout,
      match: [...inPort, ethType!, { field: 'ip_dscp', value: r.dscp }, ...rest],
      instructions: [applyActions(output(hop.outPort))],
    }),
  ];
}

/**
 * The ingress of a reservation whose excess is degraded (the table layout at the top):
 * mark in table 0, meter with a dscp_remark band in table 2, and in table 3 send the
 * class DSCP on along the path, and the raised code point through the best-effort meter
 * (degraded excess competes with best effort for the room reservations leave, never with them).
 */
function degradingIngress(
  r: EnforcedReservation,
  hop: Hop,
  meterId: number,
  meterCommand: number,
  sourceMac: string | undefined,
  cookie: bigint,
  hardTimeout: number,
  flow: Match,
  raisedDscp: number,
): (FlowModMessage | MeterModMessage)[] {
  const inPort: Match = [{ field: 'in_port', value: hop.inPort }];
  const [ethType, ...rest] = flow;
  const common = { cookie, priority: PRIORITY.RESERVATION_INGRESS, hardTimeout };
  return [
    remarkMeter(meterId, r.rateBps, r.burstBits, meterCommand),
    flowMod({
      ...common,
      tableId: TABLE_CLASSIFY,
      flags: OFPFF.SEND_FLOW_REM,
      match: [...inPort, ...(sourceMac !== undefined ? [{ field: 'eth_src' as const, value: sourceMac }] : []), ...flow],
      instructions: [applyActions(setField({ field: 'ip_dscp', value: r.dscp })), gotoTable(TABLE_POLICE)],
    }),
    flowMod({ ...common, tableId: TABLE_POLICE, match: [...inPort, ...flow], instructions: [meterInstruction(meterId), gotoTable(TABLE_EXCESS)] }),
    flowMod({
      ...common,
      tableId: TABLE_EXCESS,
      match: [...inPort, ethType!, { field: 'ip_dscp', value: r.dscp }, ...rest],
      instructions: [applyActions(output(hop.outPort))],
    }),
    flowMod({
      ...common,
      tableId: TABLE_EXCESS,
      match: [...inPort, ethType!, { field: 'ip_dscp', value: raisedDscp }, ...rest],
      instructions: [meterInstruction(BEST_EFFORT_METER_ID), applyActions(output(hop.outPort))],
    }),
  ];
}

/** Removes one reservation's flows (by cookie, every table) and, on its ingress switch, its meter. */
export function reservationRemoveMessages(id: string, meterId: number | undefined): (FlowModMessage | MeterModMessage)[] {
  const msgs: (FlowModMessage | MeterModMessage)[] = [
    flowMod({ command: OFPFC.DELETE, cookie: reservationCookie(id), cookieMask: ALL_ONES, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY }),
  ];
  if (meterId !== undefined) msgs.push({ type: 'meter_mod', xid: 0, command: OFPMC.DELETE, flags: 0, meterId, bands: [] });
  return msgs;
}

/** A flow that sends its packets through the best-effort meter (a reservation's degraded excess) queues them as best effort too. */
function metersAsBestEffort(m: FlowModMessage): boolean {
  return m.instructions.some((ins) => ins.type === 'meter' && ins.meterId === BEST_EFFORT_METER_ID);
}

/**
 * A reservation hop's messages with the flow put in its own egress queue: set_queue
 * (OpenFlow 1.3.5 §7.2.5) before each output of the reservation's flow-mods, for a switch
 * that owns its egress queues (a `payflow switch`). The queue id carries the weight
 * (util/flow-queues.ts). Degraded excess (metered as best effort) stays in queue 0.
 */
export function withFlowQueue(msgs: (FlowModMessage | MeterModMessage)[], queueId: number): (FlowModMessage | MeterModMessage)[] {
  return msgs.map((m) =>
    m.type !== 'flow_mod' || metersAsBestEffort(m)
      ? m
      : {
          ...m,
          instructions: m.instructions.map((ins) =>
            ins.type !== 'apply_actions' ? ins : { ...ins, actions: ins.actions.flatMap((a): Action[] => (a.type === 'output' ? [{ type: 'set_queue', queueId }, a] : [a])) },
          ),
        },
  );
}

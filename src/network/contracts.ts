// The seam between the controller's two halves: the reservation side (reservation service,
// pricing agent, HTTP API, persistence) and the network side (switch connections,
// discovery, forwarding, enforcement in the switches). The reservation side calls only
// these interfaces, so it can be tested without switches; the network side implements
// them against Open vSwitch over OpenFlow 1.3.
import type { Path } from './topology.js';
import type { Topology } from './topology.js';
import type { LoadSample } from '../qos/load.js';
export type { LoadSample } from '../qos/load.js';

/** What a reservation matches: the flow the host paid for (PayFlow: per flow; pricing seed: per flow label). */
export interface FlowMatch {
  /** IPv4 or IPv6 source address (both addresses of one family) */
  src: string;
  dst: string;
  /** IP protocol number (6 TCP, 17 UDP, ...); absent = any */
  proto?: number;
  srcPort?: number;
  dstPort?: number;
  /** IPv6 flow label (20 bits); only with IPv6 addresses */
  flowLabel?: number;
}

/** A paid, admitted reservation as the network side enforces it. */
export interface EnforcedReservation {
  id: string;
  classId: string;
  /** DSCP that marks the reserved class on the path */
  dscp: number;
  /** the paid rate, bits per second: the ingress meter's drop-band rate */
  rateBps: number;
  /** the ingress meter's burst, bits */
  burstBits: number;
  match: FlowMatch;
  /** the path from the source host's switch to the destination host's switch */
  path: Path;
  /** wall-clock ms when the reservation ends (hard timeout in the switches as a backstop) */
  expiresAtMs: number;
}

/** Installs and removes reservations in the switches. */
export interface Enforcer {
  /**
   * Installs the reservation on every switch of its path (ingress meter, marking,
   * forwarding) and resolves once every switch confirmed it with a barrier; rejects with
   * a typed error if a switch refused it or is not connected (nothing stays installed then).
   */
  install(reservation: EnforcedReservation): Promise<void>;
  /** Removes what install() put in the switches; resolves when confirmed (idempotent). */
  remove(reservationId: string): Promise<void>;
  /** Brings the switches back to exactly this set of reservations (after a restart or a switch reconnect). */
  restore(reservations: readonly EnforcedReservation[]): Promise<void>;
  /** The reservation's own egress queue on each hop whose switch owns its queues (none towards Open vSwitch). */
  queuesOf?(reservationId: string): HopQueue[];
}

/** A reserved flow's egress queue on one hop (set_queue on a `payflow switch`). */
export interface HopQueue {
  /** 16 hex digits */
  dpid: string;
  /** the hop's output port */
  port: number;
  /** the OpenFlow queue id (rate-encoded, util/flow-queues.ts) */
  queueId: number;
  /** its DRR weight: the paid rate in Mbit/s as the id carries it */
  weightMbps: number;
}


/** The network side as the reservation side and the HTTP API see it. */
export interface Network {
  readonly topology: Topology;
  readonly enforcer: Enforcer;
  /** subscribe to measured load, emitted every stats poll; returns an unsubscribe function */
  onLoad(listener: (sample: LoadSample) => void): () => void;
  /** for /metrics and /v1/topology */
  stats(): NetworkStats;
  /** per switch: its meter bands and whether each class's excess is degraded or dropped there (absent without switches) */
  excessBySwitch?(): SwitchExcessView[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One switch's meter bands, and what each class's traffic beyond its paid rate gets there. */
export interface SwitchExcessView {
  /** 16 hex digits */
  dpid: string;
  meterBands: ('drop' | 'dscp_remark')[];
  payflowSwitch: boolean;
  excess: { classId: string; policy: 'drop' | 'degrade'; excess: 'degraded' | 'dropped'; reason?: string }[];
}

export interface NetworkStats {
  connectedSwitches: number;
  openflowMessagesIn: number;
  openflowMessagesOut: number;
  reservationsInstalled: number;
  /** connections that claimed a datapath id they may not have (allow-list, duplicate) */
  switchesRefused?: number;
  /** host address claims refused because the address is bound elsewhere */
  hostMovesRefused?: number;
}

// The Enforcer (contracts.ts) against OpenFlow 1.3 switches: per
// reservation an ingress drop-band meter (OpenFlow 1.3.5 §7.3.4.4) and a flow that meters,
// marks the class DSCP (set_field ip_dscp) and outputs; on later hops a flow matching the
// mark and the flow; every flow with the reservation's cookie and a hard timeout. install()
// resolves after a barrier (§6.4, sendConfirmed) on every switch of the path and on failure
// removes what it put in and rejects with an EnforcementError. The best-effort aggregate's
// meter (id 1 on every switch) is kept at min over reserved egress ports of (capacity −
// reserved), so unreserved traffic cannot take a reservation's share of a bottleneck.
// A class with `excess: degrade` gets a dscp_remark band instead of the drop band on an
// ingress switch that has one (capabilities.ts); elsewhere its excess is dropped.
import type pino from 'pino';
import type { ServiceClassConfig } from '../config/types.js';
import { OFPMC, type FlowModMessage, type MeterModMessage } from '../openflow/codec/index.js';
import type { SwitchConnection } from '../openflow/connection.js';
import { OfpErrorReply } from '../openflow/errors.js';
import type { EnforcedReservation, Enforcer, HopQueue } from './contracts.js';
import { classExcessOn, type ClassExcess, type SwitchCapabilities } from './capabilities.js';
import {
  BEST_EFFORT_METER_ID,
  FIRST_RESERVATION_METER_ID,
  dropMeter,
  type ExcessTreatment,
  reservationHopMessages,
  reservationMatch,
  reservationRemoveMessages,
  withFlowQueue,
} from './flows.js';
import { encodeFlowQueueId, encodedQueueWeight, queueRateUnits, QUEUES_PER_RATE } from '../util/flow-queues.js';
import { formatDpid } from '../util/dpid.js';
import type { Topology } from './topology.js';
import { portKey } from './topology.js';

export type EnforcementErrorCode = 'invalid' | 'not-connected' | 'switch-refused' | 'failed';

/** install() could not put a reservation in force; nothing of it stays installed. */
export class EnforcementError extends Error {
  readonly code: EnforcementErrorCode;
  readonly reservationId: string;
  /** the switch that refused or was missing (16 hex digits) */
  readonly dpid?: string;
  /** the switch's error, e.g. 'OFPET_METER_MOD_FAILED / OFPMMFC_OUT_OF_METERS' */
  readonly switchError?: string;
  constructor(code: EnforcementErrorCode, reservationId: string, message: string, extra: { dpid?: bigint; switchError?: string; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'EnforcementError';
    this.code = code;
    this.reservationId = reservationId;
    if (extra.dpid !== undefined) this.dpid = formatDpid(extra.dpid);
    if (extra.switchError !== undefined) this.switchError = extra.switchError;
  }
}

/** What the enforcer needs from the network: the ready connection of a switch, and a message counter. */
export interface SwitchAccess {
  connection(dpid: bigint): SwitchConnection | undefined;
  connectedSwitches(): bigint[];
  /** count messages sent (for NetworkStats.openflowMessagesOut) */
  countOut(n: number): void;
  /** whether a switch schedules its own egress queues (a `payflow switch`): reserved flows get one each there */
  ownsEgressQueues?(dpid: bigint): boolean;
}

export interface InstalledReservation {
  reservation: EnforcedReservation;
  /** the meter id on the ingress switch */
  meterId: number;
  /** the source host's MAC the ingress flow matches (eth_src), when the host was known at install */
  sourceMac: string | undefined;
  /** per hop index, the flow's own egress queue on a switch that owns its queues */
  queues?: Map<number, number>;
}

/** The best-effort meter's rate when nothing is reserved: effectively unlimited (100 Gbit/s). */
export const BEST_EFFORT_UNLIMITED_BPS = 100e9;

export class OpenFlowEnforcer implements Enforcer {
  private readonly installed = new Map<string, InstalledReservation>();
  /** meter ids in use per switch */
  private readonly meters = new Map<bigint, Set<number>>();
  private readonly bestEffortRate = new Map<bigint, number>();
  /** flow queue ids in use per output port (portKey) */
  private readonly queueIds = new Map<string, Set<number>>();
  private readonly removedListeners = new Set<(id: string) => void>();
  /** per connected switch: what it can do, and what each class's excess gets there */
  private readonly capabilities = new Map<bigint, { caps: SwitchCapabilities; excess: ClassExcess[] }>();

  constructor(
    private readonly access: SwitchAccess,
    private readonly topology: Topology,
    private readonly options: { logger?: pino.Logger; bestEffortBurstMs?: number; now?: () => number; classes?: readonly ServiceClassConfig[] } = {},
  ) {}

  /** A switch connected: records what its meters can do; returns what each class's excess gets there. */
  setCapabilities(dpid: bigint, caps: SwitchCapabilities): ClassExcess[] {
    const excess = classExcessOn(this.options.classes ?? [], caps);
    this.capabilities.set(dpid, { caps, excess });
    return excess;
  }

  /** What a connected switch can do, and its classes' excess (undefined before it was asked). */
  capabilitiesOf(dpid: bigint): { caps: SwitchCapabilities; excess: readonly ClassExcess[] } | undefined {
    return this.capabilities.get(dpid);
  }

  /** The treatment of a reservation's excess at its ingress switch. */
  excessTreatmentOf(r: EnforcedReservation): ExcessTreatment {
    const at = this.capabilities.get(r.path.hops[0]!.dpid);
    return at?.excess.find((e) => e.classId === r.classId)?.treatment ?? { kind: 'drop' };
  }

  /** The messages of hop i of r (the ingress meter's band by the ingress switch's capabilities). */
  private hopMessages(r: EnforcedReservation, i: number, meterId: number, nowMs: number, command: number, sourceMac: string | undefined): (FlowModMessage | MeterModMessage)[] {
    return reservationHopMessages(r, i, i === 0 ? meterId : undefined, nowMs, command, sourceMac, i === 0 ? this.excessTreatmentOf(r) : undefined);
  }

  get size(): number {
    return this.installed.size;
  }

  /** Reservations in force, by id. */
  list(): InstalledReservation[] {
    return [...this.installed.values()];
  }

  get(id: string): InstalledReservation | undefined {
    return this.installed.get(id);
  }

  /** Called when a reservation left the switches by itself (hard timeout seen in flow-removed). */
  onRemoved(listener: (id: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private allocateMeter(dpid: bigint): number {
    let used = this.meters.get(dpid);
    if (!used) this.meters.set(dpid, (used = new Set()));
    let id = FIRST_RESERVATION_METER_ID;
    while (used.has(id)) id++;
    used.add(id);
    return id;
  }

  private freeMeter(dpid: bigint, id: number): void {
    this.meters.get(dpid)?.delete(id);
  }

  private async send(dpid: bigint, msgs: (FlowModMessage | MeterModMessage)[]): Promise<void> {
    const conn = this.access.connection(dpid);
    if (!conn) throw new EnforcementError('not-connected', '', `switch ${formatDpid(dpid)} is not connected`, { dpid });
    this.access.countOut(msgs.length + 1);
    await conn.sendConfirmed(msgs);
  }

  async install(r: EnforcedReservation): Promise<void> {
    const hops = r.path.hops;
    if (hops.length === 0) throw new EnforcementError('invalid', r.id, `reservation ${r.id} has an empty path`);
    if (!(r.rateBps > 0) || !(r.burstBits >= 0) || !Number.isInteger(r.dscp) || r.dscp < 0 || r.dscp > 63) {
      throw new EnforcementError('invalid', r.id, `reservation ${r.id}: bad rate, burst or DSCP`);
    }
    try {
      reservationMatch(r.match);
    } catch (err) {
      throw new EnforcementError('invalid', r.id, `reservation ${r.id}: ${(err as Error).message}`, { cause: err });
    }
    const existing = this.installed.get(r.id);
    if (existing && samePlacement(existing.reservation, r)) {
      await this.update(existing, r);
      return;
    }
    if (existing) await this.remove(r.id);
    for (const hop of hops) {
      if (!this.access.connection(hop.dpid)) {
        throw new EnforcementError('not-connected', r.id, `switch ${formatDpid(hop.dpid)} on the path of ${r.id} is not connected`, { dpid: hop.dpid });
      }
    }
    const ingress = hops[0]!.dpid;
    const meterId = this.allocateMeter(ingress);
    const sourceMac = this.sourceMac(r);
    const entry: InstalledReservation = { reservation: r, meterId, sourceMac };
    this.installed.set(r.id, entry);
    const now = this.now();
    try {
      // Every hop in parallel; each switch confirms its part with a barrier.
      const results = await Promise.allSettled(
        hops.map((_, i) => this.send(hops[i]!.dpid, this.queued(entry, i, this.hopMessages(r, i, meterId, now, OFPMC.ADD, sourceMac)))),
      );
      const failed = results.findIndex((x) => x.status === 'rejected');
      if (failed >= 0) throw (results[failed] as PromiseRejectedResult).reason;
      await this.updateBestEffortMeters();
    } catch (err) {
      this.installed.delete(r.id);
      await this.removeFromSwitches(r, meterId).catch(() => {});
      this.freeMeter(ingress, meterId);
      this.freeQueues(entry);
      await this.updateBestEffortMeters().catch(() => {});
      throw this.typed(r.id, err);
    }
    this.options.logger?.info({ reservation: r.id, hops: hops.length, meterId, rateBps: r.rateBps }, 'reservation installed');
  }

  /**
   * The MAC bound to the reservation's source address at its ingress port. A host not
   * (yet) known there, as after a restart before it spoke again, gives undefined: the
   * ingress flow then matches port and addresses only, and the log says so.
   */
  private sourceMac(r: EnforcedReservation): string | undefined {
    const host = this.topology.hostByIp(r.match.src);
    const ingress = r.path.hops[0]!;
    if (host && host.attachment.dpid === ingress.dpid && host.attachment.port === ingress.inPort) return host.mac;
    this.options.logger?.warn({ reservation: r.id, src: r.match.src }, 'source host not bound at the ingress port: the reservation matches without eth_src');
    return undefined;
  }

  /**
   * The same flow on the same path (an extension, a new rate): the meter is modified and the
   * flows re-added in place (new hard timeout), with no gap in enforcement.
   */
  private async update(entry: InstalledReservation, r: EnforcedReservation): Promise<void> {
    const now = this.now();
    try {
      this.requeue(entry, r);
      await Promise.all(r.path.hops.map((hop, i) => this.send(hop.dpid, this.queued(entry, i, this.hopMessages(r, i, entry.meterId, now, OFPMC.MODIFY, entry.sourceMac)))));
    } catch (err) {
      throw this.typed(r.id, err);
    }
    entry.reservation = r;
    await this.updateBestEffortMeters().catch(() => {});
    this.options.logger?.info({ reservation: r.id, rateBps: r.rateBps, expiresAtMs: r.expiresAtMs }, 'reservation updated in place');
  }

  private typed(id: string, err: unknown): EnforcementError {
    if (err instanceof EnforcementError) return new EnforcementError(err.code, id, err.message, { ...(err.dpid ? { dpid: BigInt(`0x${err.dpid}`) } : {}), cause: err });
    if (err instanceof OfpErrorReply) {
      const name = `${err.typeName} / ${err.codeName}`;
      return new EnforcementError('switch-refused', id, `switch ${formatDpid(err.datapathId ?? 0n)} refused ${err.requestType ?? 'a message'} of ${id}: ${name}`, {
        ...(err.datapathId !== undefined ? { dpid: err.datapathId } : {}),
        switchError: name,
        cause: err,
      });
    }
    return new EnforcementError('failed', id, `installing ${id} failed: ${(err as Error).message}`, { cause: err });
  }

  private async removeFromSwitches(r: EnforcedReservation, meterId: number): Promise<void> {
    const hops = r.path.hops;
    const results = await Promise.allSettled(
      hops.map((hop, i) => (this.access.connection(hop.dpid) ? this.send(hop.dpid, reservationRemoveMessages(r.id, i === 0 ? meterId : undefined)) : Promise.resolve())),
    );
    const failed = results.find((x) => x.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  async remove(id: string): Promise<void> {
    const entry = this.installed.get(id);
    if (!entry) return;
    this.installed.delete(id);
    const ingress = entry.reservation.path.hops[0]!.dpid;
    try {
      await this.removeFromSwitches(entry.reservation, entry.meterId);
    } finally {
      this.freeMeter(ingress, entry.meterId);
      this.freeQueues(entry);
      await this.updateBestEffortMeters().catch(() => {});
    }
    this.options.logger?.info({ reservation: id }, 'reservation removed');
  }

  /**
   * Brings the switches to exactly `reservations`: installs the missing or changed ones,
   * removes the rest. Reservations already past their end are skipped. A reservation whose
   * switches are not connected yet (a controller starting before its switches) is kept and
   * put in each switch when it connects (reinstallOn). Rejects with the first failure
   * after trying all.
   */
  async restore(reservations: readonly EnforcedReservation[]): Promise<void> {
    const wanted = new Map(reservations.filter((r) => r.expiresAtMs > this.now()).map((r) => [r.id, r]));
    const errors: unknown[] = [];
    for (const id of [...this.installed.keys()]) {
      if (!wanted.has(id)) await this.remove(id).catch((e: unknown) => errors.push(e));
    }
    for (const r of wanted.values()) {
      const have = this.installed.get(r.id)?.reservation;
      if (have && JSON.stringify(have, bigintJson) === JSON.stringify(r, bigintJson)) continue;
      try {
        await this.install(r);
      } catch (err) {
        if (err instanceof EnforcementError && err.code === 'not-connected') await this.keepPending(r);
        else errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  /**
   * Stores a reservation some of whose switches are not connected: the connected ones get
   * their hops now, the others when they connect (reinstallOn).
   */
  private async keepPending(r: EnforcedReservation): Promise<void> {
    const hop = r.path.hops[0];
    if (!hop) return;
    const before = this.installed.get(r.id);
    const meterId = before && before.reservation.path.hops[0]?.dpid === hop.dpid ? before.meterId : this.allocateMeter(hop.dpid);
    const sourceMac = this.sourceMac(r);
    if (before) this.freeQueues(before);
    const entry: InstalledReservation = { reservation: r, meterId, sourceMac };
    this.installed.set(r.id, entry);
    const now = this.now();
    await Promise.all(
      r.path.hops.map(async (h, i) => {
        if (!this.access.connection(h.dpid)) return;
        await this.send(h.dpid, this.queued(entry, i, this.hopMessages(r, i, meterId, now, OFPMC.ADD, sourceMac))).catch((err: unknown) =>
          this.options.logger?.warn({ err, reservation: r.id, dpid: formatDpid(h.dpid) }, 'hop of a pending reservation refused'),
        );
      }),
    );
    await this.updateBestEffortMeters().catch(() => {});
    this.options.logger?.info({ reservation: r.id }, 'reservation kept until its switches connect');
  }

  /**
   * A switch (re)connected and was cleared: puts back the meters and flows of every stored
   * reservation with a hop on it, and its best-effort meter. Call after its base flows.
   */
  async reinstallOn(dpid: bigint): Promise<void> {
    const now = this.now();
    const msgs: (FlowModMessage | MeterModMessage)[] = [this.bestEffortMeterMessage(dpid, OFPMC.ADD)];
    for (const entry of this.installed.values()) {
      const { reservation: r, meterId } = entry;
      if (r.expiresAtMs <= now) continue;
      // A host learned since the reservation was stored is now matched by its MAC too.
      if (entry.sourceMac === undefined && r.path.hops[0]!.dpid === dpid) entry.sourceMac = this.sourceMac(r);
      r.path.hops.forEach((hop, i) => {
        if (hop.dpid === dpid) msgs.push(...this.queued(entry, i, this.hopMessages(r, i, meterId, now, OFPMC.ADD, entry.sourceMac)));
      });
    }
    await this.send(dpid, msgs);
  }

  /** A flow-removed with a reservation cookie (hard timeout): forget the reservation and clean its other hops. */
  async expired(id: string): Promise<void> {
    if (!this.installed.has(id)) return;
    await this.remove(id).catch((err: unknown) => this.options.logger?.warn({ err, reservation: id }, 'cleanup after expiry failed'));
    for (const l of [...this.removedListeners]) l(id);
  }

  /** Reservation id by cookie, for flow-removed. */
  idByCookie(cookie: bigint, cookieOf: (id: string) => bigint): string | undefined {
    for (const id of this.installed.keys()) if (cookieOf(id) === cookie) return id;
    return undefined;
  }

  // ---- per-flow egress queues on switches that own them ----------------------------------

  /**
   * A hop's messages with set_queue for the reservation's own queue when the hop's switch
   * owns its egress queues (allocated on first use: unique on the hop's output port, the
   * paid rate encoded in the id); unchanged towards any other switch.
   */
  private queued(entry: InstalledReservation, hopIndex: number, msgs: (FlowModMessage | MeterModMessage)[]): (FlowModMessage | MeterModMessage)[] {
    const hop = entry.reservation.path.hops[hopIndex];
    if (!hop || this.access.ownsEgressQueues?.(hop.dpid) !== true) return msgs;
    let queueId = entry.queues?.get(hopIndex);
    if (queueId === undefined) {
      queueId = this.allocateQueue(hop.dpid, hop.outPort, entry.reservation.rateBps);
      if (queueId === undefined) {
        this.options.logger?.warn({ reservation: entry.reservation.id, dpid: formatDpid(hop.dpid), port: hop.outPort }, 'no flow queue left on the port: the reservation shares its class queue');
        return msgs;
      }
      (entry.queues ??= new Map()).set(hopIndex, queueId);
    }
    return withFlowQueue(msgs, queueId);
  }

  private allocateQueue(dpid: bigint, port: number, rateBps: number): number | undefined {
    const key = portKey(dpid, port);
    let used = this.queueIds.get(key);
    if (!used) this.queueIds.set(key, (used = new Set()));
    for (let n = 0; n < QUEUES_PER_RATE; n++) {
      const id = encodeFlowQueueId(rateBps, n);
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
    return undefined;
  }

  private freeQueues(entry: InstalledReservation): void {
    for (const [hopIndex, queueId] of entry.queues ?? []) {
      const hop = entry.reservation.path.hops[hopIndex];
      if (hop) this.queueIds.get(portKey(hop.dpid, hop.outPort))?.delete(queueId);
    }
    entry.queues?.clear();
  }

  /** A new rate changes the weight, so the flow moves to a queue whose id carries it. */
  private requeue(entry: InstalledReservation, r: EnforcedReservation): void {
    if (queueRateUnits(entry.reservation.rateBps) === queueRateUnits(r.rateBps)) return;
    this.freeQueues(entry);
    entry.reservation = r;
  }

  /** The egress queue a reservation holds on each hop of a switch that owns its queues. */
  queuesOf(id: string): HopQueue[] {
    const entry = this.installed.get(id);
    if (!entry?.queues) return [];
    const out: HopQueue[] = [];
    for (const [hopIndex, queueId] of [...entry.queues].sort((a, b) => a[0] - b[0])) {
      const hop = entry.reservation.path.hops[hopIndex];
      if (hop) out.push({ dpid: formatDpid(hop.dpid), port: hop.outPort, queueId, weightMbps: encodedQueueWeight(queueId) ?? 1 });
    }
    return out;
  }

  /** Reserved bits/s per egress port resource (portKey). */
  reservedByPort(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { reservation: r } of this.installed.values()) {
      for (const key of r.path.resources) out.set(key, (out.get(key) ?? 0) + r.rateBps);
    }
    return out;
  }

  /**
   * The best-effort aggregate's meter rate: the smallest (capacity − reserved) over the
   * egress ports that carry reservations, at least 1 % of that port's capacity; unlimited
   * when nothing is reserved. The same rate on every switch (a conservative global bound).
   */
  bestEffortRateBps(): number {
    let rate = BEST_EFFORT_UNLIMITED_BPS;
    for (const [key, reserved] of this.reservedByPort()) {
      const [hex, port] = key.split(':');
      const capacity = this.topology.portCapacityBps(BigInt(`0x${hex}`), Number(port));
      rate = Math.min(rate, Math.max(capacity * 0.01, capacity - reserved));
    }
    return rate;
  }

  private bestEffortMeterMessage(dpid: bigint, command: number): MeterModMessage {
    const rate = this.bestEffortRateBps();
    this.bestEffortRate.set(dpid, rate);
    const burstMs = this.options.bestEffortBurstMs ?? 50;
    return dropMeter(BEST_EFFORT_METER_ID, rate, Math.max(100_000, (rate * burstMs) / 1000), command);
  }

  /** Re-sizes the best-effort meter on every connected switch whose rate changed. */
  async updateBestEffortMeters(): Promise<void> {
    const rate = this.bestEffortRateBps();
    await Promise.all(
      this.access.connectedSwitches().map(async (dpid) => {
        if (this.bestEffortRate.get(dpid) === rate) return;
        await this.send(dpid, [this.bestEffortMeterMessage(dpid, OFPMC.MODIFY)]);
      }),
    );
  }

  /** The switch went away: its meter rates must be re-sent when it is back. */
  switchGone(dpid: bigint): void {
    this.bestEffortRate.delete(dpid);
    this.capabilities.delete(dpid);
  }

  /** Whether a port resource is used by a reservation (for docs/tests). */
  carries(dpid: bigint, port: number): boolean {
    return this.reservedByPort().has(portKey(dpid, port));
  }
}

function samePlacement(a: EnforcedReservation, b: EnforcedReservation): boolean {
  const hops = (r: EnforcedReservation): string => r.path.hops.map((h) => `${h.dpid}/${h.inPort}/${h.outPort}`).join(',');
  return hops(a) === hops(b) && JSON.stringify(a.match) === JSON.stringify(b.match) && a.dscp === b.dscp;
}

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

// Measured load: every poll interval, meter stats (OpenFlow 1.3.5
// §7.3.5.12, byte_in_count per meter, byte_band_count per band) and port stats (§7.3.5.6)
// from every ready switch. A class's measured rate is the sum of its reservations' ingress
// meters' byte rates; best effort is the sum of the best-effort meters (id 1) of all
// switches. From Open vSwitch the rates are offered load (bytes that reached the meter,
// before its drop band): an estimate. From `payflow switch` they are the switch's own
// accounting: in-profile bytes (byte_in minus the bytes over the band) per class, and the
// bytes a dscp_remark band re-marked (delivered degraded, as best effort) separately. Port
// rates (tx bytes) are kept per egress port resource for /v1/topology-style views.
import type pino from 'pino';
import type { ServiceClassConfig } from '../config/types.js';
import { meterStatsRequest, portStatsRequest, type MeterStats, type PortStats } from '../openflow/codec/index.js';
import type { LoadSample } from './contracts.js';
import type { OpenFlowEnforcer, SwitchAccess } from './enforcement.js';
import { BEST_EFFORT_METER_ID } from './flows.js';
import { portKey } from './topology.js';

export interface StatsPollerOptions {
  access: SwitchAccess;
  enforcer: OpenFlowEnforcer;
  classes: readonly ServiceClassConfig[];
  intervalMs: number;
  emit: (sample: LoadSample) => void;
  logger?: pino.Logger;
}

interface Counter {
  bytes: bigint;
  atMs: number;
}

/** Rate in bits/s between two counter readings; 0 when the counter went back (switch restart). */
export function rateBps(prev: Counter | undefined, next: Counter): number {
  if (!prev || next.atMs <= prev.atMs || next.bytes < prev.bytes) return 0;
  return (Number(next.bytes - prev.bytes) * 8 * 1000) / (next.atMs - prev.atMs);
}

export class StatsPoller {
  readonly portRates = new Map<string, number>();
  messagesOut = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly meterCounters = new Map<string, Counter>();
  private readonly overCounters = new Map<string, Counter>();
  private readonly portCounters = new Map<string, Counter>();

  constructor(private readonly o: StatsPollerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow poll is not stacked
      this.running = true;
      this.poll()
        .catch((err: unknown) => this.o.logger?.debug({ err }, 'stats poll failed'))
        .finally(() => {
          this.running = false;
        });
    }, this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One poll of every ready switch; emits one LoadSample. */
  async poll(): Promise<LoadSample> {
    const now = Date.now();
    const meterRates = new Map<string, number>();
    /** payflow switch meters: bits/s over the band (re-marked or dropped) */
    const overRates = new Map<string, number>();
    await Promise.all(
      this.o.access.connectedSwitches().map(async (dpid) => {
        const conn = this.o.access.connection(dpid);
        if (!conn) return;
        this.messagesOut += 2;
        // one switch failing to answer must not cost the others' sample
        const [meters, ports] = await Promise.all([
          conn.request(meterStatsRequest()).then((r) => (r.body.bodyType === 'meter' ? r.body.stats : ([] as MeterStats[]))),
          conn.request(portStatsRequest()).then((r) => (r.body.bodyType === 'port_stats' ? r.body.stats : ([] as PortStats[]))),
        ]).catch((err: unknown) => {
          this.o.logger?.debug({ err, dpid: dpid.toString(16) }, 'stats request failed');
          return [[] as MeterStats[], [] as PortStats[]] as const;
        });
        const at = Date.now();
        const own = this.o.enforcer.capabilitiesOf(dpid)?.caps.payflowSwitch === true;
        for (const m of meters) {
          const key = `${dpid}:${m.meterId}`;
          const counts = own ? ownCounters(m) : { measured: m.byteInCount, over: 0n };
          const next = { bytes: counts.measured, atMs: at };
          meterRates.set(key, rateBps(this.meterCounters.get(key), next));
          this.meterCounters.set(key, next);
          if (!own) continue;
          const over = { bytes: counts.over, atMs: at };
          overRates.set(key, rateBps(this.overCounters.get(key), over));
          this.overCounters.set(key, over);
        }
        for (const p of ports) {
          const key = portKey(dpid, p.portNo);
          const next = { bytes: p.txBytes, atMs: at };
          this.portRates.set(key, rateBps(this.portCounters.get(key), next));
          this.portCounters.set(key, next);
        }
      }),
    );
    const classRateBps: Record<string, number> = {};
    for (const c of this.o.classes) classRateBps[c.id] = 0;
    const bestEffort = this.o.classes.find((c) => c.bestEffort);
    const classDegradedBps: Record<string, number> = {};
    for (const { reservation, meterId } of this.o.enforcer.list()) {
      const key = `${reservation.path.hops[0]!.dpid}:${meterId}`;
      classRateBps[reservation.classId] = (classRateBps[reservation.classId] ?? 0) + (meterRates.get(key) ?? 0);
      const over = overRates.get(key);
      // over a dscp_remark band is delivered degraded; over a drop band is gone
      if (over !== undefined) {
        const degraded = this.o.enforcer.excessTreatmentOf(reservation).kind === 'degrade' ? over : 0;
        classDegradedBps[reservation.classId] = (classDegradedBps[reservation.classId] ?? 0) + degraded;
      }
    }
    if (bestEffort) {
      for (const [key, rate] of meterRates) if (key.endsWith(`:${BEST_EFFORT_METER_ID}`)) classRateBps[bestEffort.id] = (classRateBps[bestEffort.id] ?? 0) + rate;
    }
    const sample: LoadSample = { atMs: now, classRateBps, ...(overRates.size > 0 ? { classDegradedBps } : {}) };
    this.o.emit(sample);
    return sample;
  }
}

/** A `payflow switch` meter's own accounting: bytes within profile (byte_in minus the bytes over its bands) and over them. */
function ownCounters(m: MeterStats): { measured: bigint; over: bigint } {
  let over = 0n;
  for (const b of m.bandStats) over += b.byteBandCount;
  return { measured: m.byteInCount > over ? m.byteInCount - over : 0n, over };
}

// The switch's meter table (OpenFlow Switch Specification 1.3.5 §5.7 "Meter Table",
// §7.3.4.4 meter-mod, §7.3.5.12–14 meter statistics, configuration and features). Each
// band is a token bucket filled at the band's rate (kbit/s or packets/s) up to its burst;
// a packet that finds a band's bucket short has exceeded that band, and of the bands it
// exceeded the one with the highest rate applies (§5.7: "the band with the highest
// configured rate that is lower than the current measured rate"). Supported band types:
// OFPMBT_DROP, and OFPMBT_DSCP_REMARK, which raises the drop precedence of an Assured
// Forwarding code point (RFC 2597: AFcd with class c in 1..4 and drop precedence d in
// 1..3) by prec_level, capped at 3; other code points pass unchanged.
import { OFPM, OFPMBT, OFPMC, OFPMF, OFPMMFC, type MeterBand, type MeterConfig, type MeterStats } from '../openflow/codec/index.js';

export interface BandState {
  type: number;
  /** tokens per millisecond (bits or packets) */
  perMs: number;
  /** bucket depth (bits or packets) */
  depth: number;
  tokens: number;
  precLevel: number;
  packets: number;
  bytes: number;
}

export interface Meter {
  id: number;
  flags: number;
  bands: MeterBand[];
  state: BandState[];
  packetsIn: number;
  bytesIn: number;
  flowCount: number;
  createdAt: number;
  lastRefill: number;
}

/** What the meter did to a packet. */
export const METER_PASS = 0;
export const METER_DROP = 1;
export const METER_REMARK = 2;

/** Default bucket depth when OFPMF_BURST is not set: 100 ms of the rate, at least one 1500-byte frame. */
function depthOf(flags: number, band: MeterBand): number {
  const packets = (flags & OFPMF.PKTPS) !== 0;
  if ((flags & OFPMF.BURST) !== 0 && band.burstSize > 0) return packets ? band.burstSize : band.burstSize * 1000;
  return packets ? Math.max(1, band.rate / 10) : Math.max(12_000, band.rate * 100);
}

export type MeterModError = { code: number; reason: string };

export class MeterTable {
  readonly meters = new Map<number, Meter>();
  /** DSCP after the last METER_REMARK verdict */
  remarkedDscp = 0;

  /** Applies a meter-mod; returns an OFPMMFC_* error or undefined. DELETE also reports the id so flows can go. */
  modify(command: number, flags: number, meterId: number, bands: MeterBand[], nowMs: number): MeterModError | undefined {
    if (command === OFPMC.DELETE) {
      if (meterId === OFPM.ALL) this.meters.clear();
      else this.meters.delete(meterId);
      return undefined;
    }
    if (command !== OFPMC.ADD && command !== OFPMC.MODIFY) return { code: OFPMMFC.BAD_COMMAND, reason: `meter-mod command ${command}` };
    if (meterId === 0 || meterId > OFPM.MAX) return { code: OFPMMFC.INVALID_METER, reason: `meter id ${meterId} is not a regular meter` };
    const rateFlags = flags & (OFPMF.KBPS | OFPMF.PKTPS);
    if (rateFlags === (OFPMF.KBPS | OFPMF.PKTPS) || (flags & ~(OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS)) !== 0) {
      return { code: OFPMMFC.BAD_FLAGS, reason: `meter flags 0x${flags.toString(16)}` };
    }
    if (bands.length === 0) return { code: OFPMMFC.BAD_BAND, reason: 'a meter needs at least one band' };
    for (const band of bands) {
      if (band.type !== 'drop' && band.type !== 'dscp_remark') return { code: OFPMMFC.BAD_BAND, reason: `band type ${band.type} is not supported` };
      if (band.rate === 0) return { code: OFPMMFC.BAD_RATE, reason: 'band rate 0' };
      if (band.type === 'dscp_remark' && (band.precLevel < 1 || band.precLevel > 2)) {
        return { code: OFPMMFC.BAD_BAND_VALUE, reason: `prec_level ${band.precLevel} (1 or 2 raise an AF drop precedence)` };
      }
    }
    const existing = this.meters.get(meterId);
    if (command === OFPMC.ADD && existing) return { code: OFPMMFC.METER_EXISTS, reason: `meter ${meterId} exists` };
    if (command === OFPMC.MODIFY && !existing) return { code: OFPMMFC.UNKNOWN_METER, reason: `no meter ${meterId}` };
    const packets = (flags & OFPMF.PKTPS) !== 0;
    const state = bands.map((band): BandState => {
      const depth = depthOf(flags, band);
      return {
        type: band.type === 'drop' ? OFPMBT.DROP : OFPMBT.DSCP_REMARK,
        perMs: packets ? band.rate / 1000 : band.rate,
        depth,
        tokens: depth,
        precLevel: band.type === 'dscp_remark' ? band.precLevel : 0,
        packets: 0,
        bytes: 0,
      };
    });
    this.meters.set(meterId, {
      id: meterId,
      flags,
      bands,
      state,
      packetsIn: existing?.packetsIn ?? 0,
      bytesIn: existing?.bytesIn ?? 0,
      flowCount: existing?.flowCount ?? 0,
      createdAt: existing?.createdAt ?? nowMs,
      lastRefill: nowMs,
    });
    return undefined;
  }

  /** Meters one packet of `len` bytes with IP DSCP `dscp`; METER_REMARK leaves the new DSCP in remarkedDscp. */
  apply(meter: Meter, len: number, dscp: number, nowMs: number): number {
    meter.packetsIn++;
    meter.bytesIn += len;
    const elapsed = nowMs - meter.lastRefill;
    meter.lastRefill = nowMs;
    const packets = (meter.flags & OFPMF.PKTPS) !== 0;
    const cost = packets ? 1 : len * 8;
    let exceeded: BandState | undefined;
    let exceededRate = -1;
    for (const band of meter.state) {
      if (elapsed > 0) band.tokens = Math.min(band.depth, band.tokens + elapsed * band.perMs);
      if (band.tokens >= cost) band.tokens -= cost;
      else if (band.perMs > exceededRate) {
        exceeded = band;
        exceededRate = band.perMs;
      }
    }
    if (!exceeded) return METER_PASS;
    exceeded.packets++;
    exceeded.bytes += len;
    if (exceeded.type === OFPMBT.DROP) return METER_DROP;
    const afClass = dscp >> 3;
    const drop = (dscp >> 1) & 3;
    if ((dscp & 1) !== 0 || afClass < 1 || afClass > 4 || drop < 1) return METER_PASS;
    this.remarkedDscp = (afClass << 3) | (Math.min(3, drop + exceeded.precLevel) << 1);
    return METER_REMARK;
  }

  stats(meterId: number, nowMs: number): MeterStats[] {
    return this.select(meterId).map((m) => {
      const age = Math.max(0, nowMs - m.createdAt);
      return {
        meterId: m.id,
        flowCount: m.flowCount,
        packetInCount: BigInt(m.packetsIn),
        byteInCount: BigInt(m.bytesIn),
        durationSec: Math.floor(age / 1000),
        durationNsec: Math.floor((age % 1000) * 1e6),
        bandStats: m.state.map((b) => ({ packetBandCount: BigInt(b.packets), byteBandCount: BigInt(b.bytes) })),
      };
    });
  }

  configs(meterId: number): MeterConfig[] {
    return this.select(meterId).map((m) => ({ flags: m.flags, meterId: m.id, bands: m.bands }));
  }

  private select(meterId: number): Meter[] {
    if (meterId === OFPM.ALL) return [...this.meters.values()].sort((a, b) => a.id - b.id);
    const m = this.meters.get(meterId);
    return m ? [m] : [];
  }
}

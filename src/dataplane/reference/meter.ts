// Token-bucket meters in plain TypeScript: RFC 2697 (srTCM) and RFC 2698 (trTCM), colour-blind
// and colour-aware — the twin of assembly/meter.ts, with the same integer state and colours.
// docs/pricing-meters.md describes units, limits and error codes.
//
// The wasm module keeps a bucket as one u64 count of NANO-BYTES (1e-9 byte), so that a rate of
// R bytes/s adds exactly R per nanosecond. A JavaScript number is exact only below 2^53, so
// here the same count is split in two integers: whole bytes and a remainder below 1e9. Every
// comparison and update is the exact integer operation of the wasm version on that pair;
// refills whose product dt * rate reaches 2^53 either fill the bucket outright (small
// bursts) or are done once in BigInt (bursts above 9 MB after a long gap). Time is a number of
// nanoseconds, exact below 2^53 (about 104 days from the host's epoch).

export enum Color {
  Green = 0,
  Yellow = 1,
  Red = 2,
}

export interface MeterParams {
  mode: 'srTCM' | 'trTCM';
  colorAware: boolean;
  /** committed information rate, bytes/s */
  cir: number;
  /** committed burst size, bytes */
  cbs: number;
  /** srTCM: RFC 2697 has no excess rate; accepted and ignored (the excess bucket fills at CIR) */
  eir?: number;
  /** srTCM excess burst size, bytes (default 0) */
  ebs?: number;
  /** trTCM peak information rate, bytes/s */
  pir?: number;
  /** trTCM peak burst size, bytes (default 0) */
  pbs?: number;
}

// Error codes: the values of assembly/meter.ts (METER_*), plus METER_ERR_BAD_NUMBER, which only
// the TypeScript side can meet (the wasm arguments are unsigned integers).
export const METER_OK = 0;
export const METER_ERR_NOT_INITIALISED = -1;
export const METER_ERR_BAD_ID = -2;
export const METER_ERR_BAD_MODE = -3;
export const METER_ERR_ZERO_RATE = -20;
export const METER_ERR_PIR_BELOW_CIR = -21;
export const METER_ERR_ZERO_BURSTS = -22;
export const METER_ERR_RATE_TOO_HIGH = -23;
export const METER_ERR_BURST_TOO_LARGE = -24;
export const METER_ERR_BAD_NUMBER = -25;

export const METER_MAX_RATE = 2 ** 34 - 1;
export const METER_MAX_BURST = 0xffffffff;

const NANO = 1e9;
const NANO_N = 1_000_000_000n;
const EXACT = 2 ** 53;
/** Whole bytes below which a bucket's nano-byte count is itself below 2^53. */
const SMALL_ROOM_BYTES = 9_000_000;

const FLAG_SET = 1;
const FLAG_TRTCM = 2;
const FLAG_AWARE = 4;

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export class ReferenceMeters {
  readonly capacity: number;
  private readonly flags: Uint8Array;
  private readonly lastNs: Float64Array;
  private readonly cir: Float64Array;
  private readonly rate2: Float64Array;
  private readonly cbs: Float64Array;
  private readonly ebs: Float64Array;
  // bucket 0 (Tc) and 1 (Te / Tp): whole bytes and nano-byte remainder
  private readonly tcW: Float64Array;
  private readonly tcF: Float64Array;
  private readonly teW: Float64Array;
  private readonly teF: Float64Array;
  // scratch results of the helpers (no objects per packet)
  private amountW = 0;
  private amountF = 0;
  private spillW = 0;
  private spillF = 0;

  constructor(capacity: number) {
    if (!isCount(capacity) || capacity > 0xffffffff) throw new RangeError(`meter capacity ${capacity} is not a u32`);
    this.capacity = capacity;
    this.flags = new Uint8Array(capacity);
    this.lastNs = new Float64Array(capacity);
    this.cir = new Float64Array(capacity);
    this.rate2 = new Float64Array(capacity);
    this.cbs = new Float64Array(capacity);
    this.ebs = new Float64Array(capacity);
    this.tcW = new Float64Array(capacity);
    this.tcF = new Float64Array(capacity);
    this.teW = new Float64Array(capacity);
    this.teF = new Float64Array(capacity);
  }

  /** Configures meter id with both buckets full at nowNs; returns METER_OK or a METER_ERR_* code (nothing changes then). */
  set(id: number, params: MeterParams, nowNs: number): number {
    if (!isCount(id) || id >= this.capacity) return METER_ERR_BAD_ID;
    if ((params.mode !== 'srTCM' && params.mode !== 'trTCM') || typeof params.colorAware !== 'boolean') return METER_ERR_BAD_MODE;
    const trtcm = params.mode === 'trTCM';
    const cir = params.cir;
    const cbs = params.cbs;
    const pir = trtcm ? (params.pir ?? 0) : 0;
    const second = (trtcm ? params.pbs : params.ebs) ?? 0;
    if (!isCount(cir) || !isCount(cbs) || !isCount(pir) || !isCount(second) || !isCount(nowNs)) return METER_ERR_BAD_NUMBER;
    if (cir === 0 || (trtcm && pir === 0)) return METER_ERR_ZERO_RATE;
    if (cir > METER_MAX_RATE || pir > METER_MAX_RATE) return METER_ERR_RATE_TOO_HIGH;
    if (trtcm && pir < cir) return METER_ERR_PIR_BELOW_CIR;
    if (cbs > METER_MAX_BURST || second > METER_MAX_BURST) return METER_ERR_BURST_TOO_LARGE;
    if (cbs === 0 && second === 0) return METER_ERR_ZERO_BURSTS;
    this.flags[id] = FLAG_SET | (trtcm ? FLAG_TRTCM : 0) | (params.colorAware ? FLAG_AWARE : 0);
    this.lastNs[id] = nowNs;
    this.cir[id] = cir;
    this.rate2[id] = pir;
    this.cbs[id] = cbs;
    this.ebs[id] = second;
    this.tcW[id] = cbs;
    this.tcF[id] = 0;
    this.teW[id] = second;
    this.teF[id] = 0;
    return METER_OK;
  }

  /** Unsets meter id (it then colours everything green); bad ids are ignored. */
  delete(id: number): void {
    if (!isCount(id) || id >= this.capacity) return;
    this.flags[id] = 0;
    this.lastNs[id] = 0;
    this.cir[id] = 0;
    this.rate2[id] = 0;
    this.cbs[id] = 0;
    this.ebs[id] = 0;
    this.tcW[id] = 0;
    this.tcF[id] = 0;
    this.teW[id] = 0;
    this.teF[id] = 0;
  }

  isSet(id: number): boolean {
    return id >= 0 && id < this.capacity && this.flags[id] !== 0;
  }

  /** Tokens in bucket 0 (Tc) or 1 (Te / Tp), in nano-bytes, as the wasm meterTokens gives them. */
  tokens(id: number, bucket: 0 | 1): bigint {
    if (!(id >= 0 && id < this.capacity)) return 0n;
    const w = bucket === 0 ? this.tcW[id]! : this.teW[id]!;
    const f = bucket === 0 ? this.tcF[id]! : this.teF[id]!;
    return BigInt(w) * NANO_N + BigInt(f);
  }

  lastRefillNs(id: number): number {
    return id >= 0 && id < this.capacity ? this.lastNs[id]! : 0;
  }

  /**
   * Colour of a packet of `bytes` at nowNs on meter id, consuming tokens; preColor is read
   * only by colour-aware meters; unset ids are green. Mirrors meterColor in assembly/meter.ts.
   */
  color(id: number, nowNs: number, bytes: number, preColor: number): Color {
    if (!(id >= 0 && id < this.capacity)) return Color.Green;
    const flags = this.flags[id]!;
    if (flags === 0) return Color.Green;
    const aware = (flags & FLAG_AWARE) !== 0;
    const last = this.lastNs[id]!;
    if ((flags & FLAG_TRTCM) === 0) {
      // RFC 2697 §3: dt * CIR nano-bytes go to Tc up to CBS, the rest to Te up to EBS.
      if (nowNs > last) {
        const cbs = this.cbs[id]!;
        const ebs = this.ebs[id]!;
        // room of both buckets together, as whole bytes + remainder
        let roomW = cbs - this.tcW[id]! + (ebs - this.teW[id]!);
        let roomF = -this.tcF[id]! - this.teF[id]!;
        while (roomF < 0) {
          roomF += NANO;
          roomW -= 1;
        }
        this.refillAmount(nowNs - last, this.cir[id]!, roomW, roomF);
        this.fill(this.tcW, this.tcF, id, cbs, this.amountW, this.amountF);
        if (this.spillW !== 0 || this.spillF !== 0) this.fill(this.teW, this.teF, id, ebs, this.spillW, this.spillF);
        this.lastNs[id] = nowNs;
      }
      // RFC 2697 §4.1 colour-blind / §4.2 colour-aware.
      if ((!aware || preColor === Color.Green) && this.tcW[id]! >= bytes) {
        this.tcW[id] = this.tcW[id]! - bytes;
        return Color.Green;
      }
      if ((!aware || preColor <= Color.Yellow) && this.teW[id]! >= bytes) {
        this.teW[id] = this.teW[id]! - bytes;
        return Color.Yellow;
      }
      return Color.Red;
    }
    // RFC 2698 §3: Tp fills at PIR up to PBS, Tc at CIR up to CBS.
    if (nowNs > last) {
      const dt = nowNs - last;
      const pbs = this.ebs[id]!;
      const cbs = this.cbs[id]!;
      const tpF = this.teF[id]!;
      this.refillAmount(dt, this.rate2[id]!, tpF > 0 ? pbs - this.teW[id]! - 1 : pbs - this.teW[id]!, tpF > 0 ? NANO - tpF : 0);
      this.fill(this.teW, this.teF, id, pbs, this.amountW, this.amountF);
      const tcF = this.tcF[id]!;
      this.refillAmount(dt, this.cir[id]!, tcF > 0 ? cbs - this.tcW[id]! - 1 : cbs - this.tcW[id]!, tcF > 0 ? NANO - tcF : 0);
      this.fill(this.tcW, this.tcF, id, cbs, this.amountW, this.amountF);
      this.lastNs[id] = nowNs;
    }
    // RFC 2698 §4: red if Tp is short (or pre-red), yellow if Tc is short (or pre-yellow).
    if ((aware && preColor >= Color.Red) || this.teW[id]! < bytes) return Color.Red;
    if ((aware && preColor === Color.Yellow) || this.tcW[id]! < bytes) {
      this.teW[id] = this.teW[id]! - bytes;
      return Color.Yellow;
    }
    this.teW[id] = this.teW[id]! - bytes;
    this.tcW[id] = this.tcW[id]! - bytes;
    return Color.Green;
  }

  /** amount = dt * rate nano-bytes as (whole, remainder), or whole = Infinity when it exceeds the room. */
  private refillAmount(dt: number, rate: number, roomW: number, roomF: number): void {
    const product = dt * rate;
    if (product < EXACT) {
      const rem = product % NANO;
      this.amountF = rem;
      this.amountW = (product - rem) / NANO;
      return;
    }
    if (roomW < SMALL_ROOM_BYTES) {
      // room < 9.001e15 < 2^53 <= dt * rate: the bucket fills
      this.amountW = Infinity;
      this.amountF = 0;
      return;
    }
    const big = BigInt(Math.trunc(dt)) * BigInt(rate);
    if (big > BigInt(roomW) * NANO_N + BigInt(roomF)) {
      this.amountW = Infinity;
      this.amountF = 0;
    } else {
      this.amountW = Number(big / NANO_N);
      this.amountF = Number(big % NANO_N);
    }
  }

  /** Adds (aW, aF) to a bucket holding at most fullBytes; what does not fit goes to spillW/spillF. */
  private fill(w: Float64Array, f: Float64Array, id: number, fullBytes: number, aW: number, aF: number): void {
    const tw = w[id]!;
    const tf = f[id]!;
    let roomW = fullBytes - tw;
    let roomF = 0;
    if (tf > 0) {
      roomW -= 1;
      roomF = NANO - tf;
    }
    if (aW < roomW || (aW === roomW && aF <= roomF)) {
      let nw = tw + aW;
      let nf = tf + aF;
      if (nf >= NANO) {
        nf -= NANO;
        nw += 1;
      }
      w[id] = nw;
      f[id] = nf;
      this.spillW = 0;
      this.spillF = 0;
      return;
    }
    let sw = aW - roomW;
    let sf = aF - roomF;
    if (sf < 0) {
      sf += NANO;
      sw -= 1;
    }
    this.spillW = sw;
    this.spillF = sf;
    w[id] = fullBytes;
    f[id] = 0;
  }
}

const METER_ERROR_NAMES: Record<number, string> = {
  [METER_ERR_NOT_INITIALISED]: 'meters not initialised',
  [METER_ERR_BAD_ID]: 'meter id out of range',
  [METER_ERR_BAD_MODE]: 'bad mode or colour-aware flag',
  [METER_ERR_ZERO_RATE]: 'zero rate',
  [METER_ERR_PIR_BELOW_CIR]: 'PIR below CIR',
  [METER_ERR_ZERO_BURSTS]: 'both bursts zero',
  [METER_ERR_RATE_TOO_HIGH]: `rate above ${METER_MAX_RATE} bytes/s`,
  [METER_ERR_BURST_TOO_LARGE]: `burst above ${METER_MAX_BURST} bytes`,
  [METER_ERR_BAD_NUMBER]: 'a rate, burst or time that is not a non-negative integer',
};

/** Text for a meterSet / ReferenceMeters.set error code. */
export function meterErrorText(code: number): string {
  return METER_ERROR_NAMES[code] ?? (code === METER_OK ? 'ok' : `unknown meter error ${code}`);
}

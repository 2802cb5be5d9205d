// Meter bands (OpenFlow 1.3.5 §7.3.4.4, enum ofp_meter_band_type and the
// ofp_meter_band_* structs), used by meter-mod and the meter-config multipart reply.
// Every band starts with type, len, rate, burst_size; drop and dscp_remark are 16 bytes,
// experimenter bands keep their trailing bytes raw, unknown types are kept whole.
import { OfpEncodeError, Reader, Writer, checkBytes, checkUint, show } from './buffer.js';
import { OFPMBT } from './constants.js';
import { wireType } from './layout.js';

export type MeterBand =
  /** rate in kb/s or packets/s (meter flags), burst in kilobits or packets */
  | { type: 'drop'; rate: number; burstSize: number }
  | { type: 'dscp_remark'; rate: number; burstSize: number; precLevel: number }
  | { type: 'experimenter'; rate: number; burstSize: number; experimenter: number; data: Uint8Array }
  /** a band type outside the spec: `data` follows rate and burst_size */
  | { type: 'unknown'; bandType: number; rate: number; burstSize: number; data: Uint8Array };

type BandDecoder = (r: Reader, rate: number, burstSize: number) => MeterBand;

const BAND_DECODERS: Record<number, BandDecoder> = {
  [OFPMBT.DROP]: (_r, rate, burstSize) => ({ type: 'drop', rate, burstSize }),
  [OFPMBT.DSCP_REMARK]: (r, rate, burstSize) => ({ type: 'dscp_remark', rate, burstSize, precLevel: r.u8() }),
  [OFPMBT.EXPERIMENTER]: (r, rate, burstSize) => {
    const experimenter = r.u32();
    return { type: 'experimenter', rate, burstSize, experimenter, data: r.rest() };
  },
};

export function decodeMeterBand(r: Reader): MeterBand {
  const start = r.pos;
  r.need(12, 'meter band header');
  const type = r.u16();
  const len = r.u16();
  if (len < 12) r.fail(`meter band length ${len} < 12`, start + 2);
  r.pos = start;
  return r.within(len, 'meter band', () => {
    r.pos += 4;
    const rate = r.u32();
    const burstSize = r.u32();
    const decoder = BAND_DECODERS[type];
    if (decoder) return decoder(r, rate, burstSize);
    return { type: 'unknown', bandType: type, rate, burstSize, data: r.rest() };
  });
}

/** Bands fill the rest of their container. */
export function decodeMeterBands(r: Reader): MeterBand[] {
  const out: MeterBand[] = [];
  while (r.pos < r.end) out.push(decodeMeterBand(r));
  return out;
}

export function encodeMeterBand(w: Writer, band: MeterBand, path: string): void {
  if (band === null || typeof band !== 'object') throw new OfpEncodeError(path, 'expected a meter band object');
  const start = w.pos;
  let type: number;
  switch (band.type) {
    case 'drop':
      type = OFPMBT.DROP;
      break;
    case 'dscp_remark':
      type = OFPMBT.DSCP_REMARK;
      break;
    case 'experimenter':
      type = OFPMBT.EXPERIMENTER;
      break;
    case 'unknown':
      type = checkUint(band.bandType, 16, path, 'bandType');
      break;
    default:
      throw new OfpEncodeError(path, `unknown meter band type ${show((band as { type: unknown }).type)}`);
  }
  w.u16(type);
  w.u16(0);
  w.u32(checkUint(band.rate, 32, path, 'rate'));
  w.u32(checkUint(band.burstSize, 32, path, 'burstSize'));
  if (band.type === 'drop') w.zeros(4);
  else if (band.type === 'dscp_remark') {
    w.u8(checkUint(band.precLevel, 8, path, 'precLevel'));
    w.zeros(3);
  } else if (band.type === 'experimenter') {
    w.u32(checkUint(band.experimenter, 32, path, 'experimenter'));
    w.bytes(checkBytes(band.data, path, 'data'));
  } else w.bytes(checkBytes(band.data, path, 'data'));
  const len = w.pos - start;
  if (len > 0xffff) throw new OfpEncodeError(path, 'meter band too long');
  w.patch16(start + 2, len);
}

export function encodeMeterBands(w: Writer, bands: readonly MeterBand[], path: string): void {
  if (!Array.isArray(bands)) throw new OfpEncodeError(path, 'expected a list of meter bands');
  for (let i = 0; i < bands.length; i++) encodeMeterBand(w, bands[i]!, `${path}[${i}]`);
}

/** Bands filling the rest of their container (meter-mod, meter config). */
export const meterBandList = wireType<MeterBand[]>(decodeMeterBands, (w, bands, path) => encodeMeterBands(w, bands, path));

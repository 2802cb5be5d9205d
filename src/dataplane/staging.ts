// Meter and class records as the wasm module reads them from its staging areas
// (layout.ts MR_* and CR_*, generated from scripts/gen-layout.mjs): the host writes n records,
// makes one call (metersConfigure(n) / classesConfigure(n)), and reads each record's status.
// Fields are raw codes here; Engine turns MeterParams / ClassParams into them and checks them.
import {
  CR_BASE_PRICE, CR_CLASS, CR_CMAX, CR_MAX_PRICE, CR_MODE, CR_OP, CR_RESERVED, CR_STATUS, CR_TARGET, CR_WINDOW, MR_CBS, MR_CIR,
  MR_COLOR_AWARE, MR_EBS_OR_PBS, MR_EIR_OR_PIR, MR_ID, MR_MODE, MR_NOW, MR_OP, MR_STATUS,
} from './layout.js';

/** One meter record: op MOP_SET (all fields) or MOP_DELETE (id only). Rates bytes/s, bursts bytes, time ns. */
export interface MeterRecord {
  id: number;
  op: number;
  mode: number;
  colorAware: number;
  cir: bigint;
  cbs: bigint;
  eirOrPir: bigint;
  ebsOrPbs: bigint;
  nowNs: bigint;
}

/** One class record: op COP_SET (mode .. windowNs) or COP_RESERVED (reservedBps). */
export interface ClassRecord {
  cls: number;
  op: number;
  mode: number;
  basePrice: number;
  cmaxBps: number;
  targetBps: number;
  maxPrice: number;
  windowNs: bigint;
  reservedBps: number;
}

export function writeMeterRecord(view: DataView, at: number, r: MeterRecord): void {
  view.setUint32(at + MR_ID, r.id, true);
  view.setUint32(at + MR_OP, r.op, true);
  view.setUint32(at + MR_MODE, r.mode, true);
  view.setUint32(at + MR_COLOR_AWARE, r.colorAware, true);
  view.setBigUint64(at + MR_CIR, r.cir, true);
  view.setBigUint64(at + MR_CBS, r.cbs, true);
  view.setBigUint64(at + MR_EIR_OR_PIR, r.eirOrPir, true);
  view.setBigUint64(at + MR_EBS_OR_PBS, r.ebsOrPbs, true);
  view.setBigUint64(at + MR_NOW, r.nowNs, true);
  view.setInt32(at + MR_STATUS, 0, true);
}

export function meterRecordStatus(view: DataView, at: number): number {
  return view.getInt32(at + MR_STATUS, true);
}

export function writeClassRecord(view: DataView, at: number, r: ClassRecord): void {
  view.setUint32(at + CR_CLASS, r.cls, true);
  view.setUint32(at + CR_OP, r.op, true);
  view.setUint32(at + CR_MODE, r.mode, true);
  view.setInt32(at + CR_STATUS, 0, true);
  view.setFloat64(at + CR_BASE_PRICE, r.basePrice, true);
  view.setFloat64(at + CR_CMAX, r.cmaxBps, true);
  view.setFloat64(at + CR_TARGET, r.targetBps, true);
  view.setFloat64(at + CR_MAX_PRICE, r.maxPrice, true);
  view.setBigUint64(at + CR_WINDOW, r.windowNs, true);
  view.setFloat64(at + CR_RESERVED, r.reservedBps, true);
}

export function classRecordStatus(view: DataView, at: number): number {
  return view.getInt32(at + CR_STATUS, true);
}

// Test helper: a raw instance of the bench module (build/payflow.bench.wasm or its debug build),
// whose exports are the production ones plus the probes the meter and pricing tests call
// (assembly/bench.ts), with the staged-record calls of the production interface wrapped.
import { readFileSync } from 'node:fs';
import { MAX_CLASSES, MOP_DELETE, MOP_SET, REGION_BYTES, RG_CLASS_STAGING, RG_DEMANDS, RG_METER_STAGING, RG_PRICES } from '../../src/dataplane/layout.js';
import { classRecordStatus, meterRecordStatus, writeClassRecord, writeMeterRecord, type ClassRecord, type MeterRecord } from '../../src/dataplane/staging.js';
import type { WasmExports } from '../../src/dataplane/engine.js';

const modules = {
  release: new WebAssembly.Module(readFileSync(new URL('../../build/payflow.bench.wasm', import.meta.url))),
  // the debug build keeps AssemblyScript's bounds checks: an out-of-range access would abort there
  debug: new WebAssembly.Module(readFileSync(new URL('../../build/payflow.bench.debug.wasm', import.meta.url))),
};

export interface BenchExports extends WasmExports {
  meterColor(id: number, nowNs: bigint, bytes: number, preColor: number): number;
  meterTokens(id: number, bucket: number): bigint;
  meterLastNs(id: number): bigint;
  classAccount(cls: number, bytes: number): void;
  classMeasured(cls: number): number;
  classAlpha(cls: number): number;
  classMaxPrice(cls: number): number;
  priceAtDemand(cls: number, demandBps: number): number;
}

export interface BenchInstance {
  x: BenchExports;
  /** applies one meter record (metersConfigure(1)); returns its status */
  meter(record: Omit<MeterRecord, 'op'> & { op?: number }): number;
  meterDelete(id: number): void;
  /** applies one class record (classesConfigure(1)); returns its status */
  cls(record: Partial<ClassRecord> & { cls: number; op: number }): number;
  price(cls: number): number;
  demand(cls: number): number;
}

export function benchInstance(build: 'release' | 'debug' = 'release'): BenchInstance {
  const instance = new WebAssembly.Instance(modules[build], { env: { abort: () => { throw new Error('wasm abort'); } } });
  const x = instance.exports as unknown as BenchExports;
  const field = (offset: number): number => new Uint32Array(x.memory.buffer, x.regionTable(), REGION_BYTES >> 2)[offset >> 2]!;
  const meterAt = field(RG_METER_STAGING), classAt = field(RG_CLASS_STAGING), pricesAt = field(RG_PRICES), demandsAt = field(RG_DEMANDS);
  const view = (): DataView => new DataView(x.memory.buffer);
  const table = (at: number, cls: number): number => {
    const c = cls >>> 0;
    return c < MAX_CLASSES ? new Float64Array(x.memory.buffer, at, MAX_CLASSES)[c]! : 0;
  };
  const meter = (r: Omit<MeterRecord, 'op'> & { op?: number }): number => {
    writeMeterRecord(view(), meterAt, { op: MOP_SET, ...r });
    x.metersConfigure(1);
    return meterRecordStatus(view(), meterAt);
  };
  return {
    x,
    meter,
    meterDelete: (id) => void meter({ id, op: MOP_DELETE, mode: 0, colorAware: 0, cir: 0n, cbs: 0n, eirOrPir: 0n, ebsOrPbs: 0n, nowNs: 0n }),
    cls: (r) => {
      writeClassRecord(view(), classAt, { mode: 0, basePrice: 0, cmaxBps: 0, targetBps: 0, maxPrice: 0, windowNs: 0n, reservedBps: 0, ...r });
      x.classesConfigure(1);
      return classRecordStatus(view(), classAt);
    },
    price: (cls) => table(pricesAt, cls),
    demand: (cls) => table(demandsAt, cls),
  };
}

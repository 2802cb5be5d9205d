// Benchmark-only engines: the wasm Engine on build/payflow.bench.wasm and the ReferenceEngine,
// each with frames resident in the input buffer (an arena placed there once, as a NIC would),
// descriptors written per batch (host work, measured), and the partial pipelines of
// assembly/partial.ts: PARTIAL_PARSE parse only, PARTIAL_EXACT parse + exact-match lookup,
// PARTIAL_WILDCARD parse + tuple-space search (cache bypassed), PARTIAL_METER meter only.
// None of this is in the production engines (src/dataplane); docs/dataplane.md explains why.
import { Engine, defaultWasmPath } from '../../src/dataplane/engine.js';
import { C_CACHE_MISSES, D_IN_PORT, D_LENGTH, D_OFFSET, D_TIME, DESC_BYTES, E_CLASS, ENTRY_BYTES, K_SPORT, MAX_BATCH, METER_BYTES, R_OK } from '../../src/dataplane/layout.js';
import { hashKey } from '../../src/dataplane/reference/hash.js';
import { ReferenceEngine } from '../../src/dataplane/reference/engine.js';
import { parseFrame } from '../../src/dataplane/reference/parser.js';
import { DataPlaneError, type DataPlane, type EngineOptions } from '../../src/dataplane/types.js';

export const PARTIAL_PARSE = 1;
export const PARTIAL_EXACT = 2;
export const PARTIAL_WILDCARD = 3;
export const PARTIAL_METER = 4;
export type PartialMode = typeof PARTIAL_PARSE | typeof PARTIAL_EXACT | typeof PARTIAL_WILDCARD | typeof PARTIAL_METER;

/** A data plane with the benchmark aids. */
export interface PartialDataPlane extends DataPlane {
  readonly tupleCount: number;
  /** Copies frames of `frameSize` bytes into the input buffer once (they stay resident). */
  loadArena(frames: Uint8Array, frameSize: number, inPort?: number): void;
  /** Writes n descriptors for arena frames (first + k × stride) % modulo, times start + k × step. */
  selectArena(first: number, n: number, stride: number, modulo: number, startNs: number, stepNs: number): void;
  /** Runs a partial pipeline on the loaded descriptors; returns a checksum of its results. */
  runPartial(mode: PartialMode, meterMod?: number): number;
}

/** Path of the bench module (the production exports plus the partial pipelines and probes). */
export function benchWasmPath(debug = false): string {
  return defaultWasmPath().replace(/payflow\.wasm$/, debug ? 'payflow.bench.debug.wasm' : 'payflow.bench.wasm');
}

function checkBatch(n: number): void {
  if (n < 1 || n > MAX_BATCH) throw new DataPlaneError('bad_argument', `a batch holds 1..${MAX_BATCH} frames, got ${n}`);
}

function checkArena(frames: Uint8Array, frameSize: number): void {
  if (!(frameSize > 0) || frames.length % frameSize !== 0) throw new DataPlaneError('bad_argument', 'arena length must be a multiple of frameSize');
}

export class PartialEngine extends Engine implements PartialDataPlane {
  private readonly batchPartial: (n: number, mode: number, meterMod: number) => number;
  private arenaFrameSize = 0;
  private arenaPort = 0;

  constructor(options: Omit<EngineOptions, 'wasmPath'> = {}) {
    super({ ...options, wasmPath: benchWasmPath(options.debug) });
    const f = this.instanceExports['batchPartial'];
    if (typeof f !== 'function') throw new DataPlaneError('abi_mismatch', `${benchWasmPath(options.debug)} has no batchPartial export`);
    this.batchPartial = f as (n: number, mode: number, meterMod: number) => number;
  }

  /** Bytes of state per meter in the wasm module. */
  meterBytesPerMeter(): number {
    return METER_BYTES;
  }

  loadArena(frames: Uint8Array, frameSize: number, inPort = 0): void {
    checkArena(frames, frameSize);
    this.reserveInput(frames.length);
    this.u8.set(frames, this.input);
    this.arenaFrameSize = frameSize;
    this.arenaPort = inPort;
    this.loaded = 0;
  }

  selectArena(first: number, n: number, stride: number, modulo: number, startNs: number, stepNs: number): void {
    checkBatch(n);
    const u32 = this.u32, size = this.arenaFrameSize, port = this.arenaPort;
    const step = stride % modulo;
    let idx = first % modulo;
    let d = this.desc >> 2;
    for (let k = 0; k < n; k++, d += DESC_BYTES >> 2) {
      const t = startNs + k * stepNs;
      const lo = t >>> 0;
      u32[d + (D_OFFSET >> 2)] = idx * size;
      u32[d + (D_LENGTH >> 2)] = size;
      u32[d + (D_TIME >> 2)] = lo; // u64: low and high words
      u32[d + (D_TIME >> 2) + 1] = (t - lo) / 4294967296;
      u32[d + (D_IN_PORT >> 2)] = port;
      idx += step;
      if (idx >= modulo) idx -= modulo;
    }
    this.loaded = n;
  }

  runPartial(mode: PartialMode, meterMod = 1): number {
    return this.batchPartial(this.loaded, mode, Math.max(1, meterMod));
  }
}

/** The twin of PartialEngine: assembly/partial.ts step for step on the ReferenceEngine. */
export class PartialReferenceEngine extends ReferenceEngine implements PartialDataPlane {
  private arenaFrameSize = 0;
  private arenaPort = 0;

  loadArena(frames: Uint8Array, frameSize: number, inPort = 0): void {
    checkArena(frames, frameSize);
    if (frames.length > this.input.length) this.input = new Uint8Array((frames.length + 4095) & ~4095);
    this.input.set(frames);
    this.arenaFrameSize = frameSize;
    this.arenaPort = inPort;
    this.loaded = 0;
  }

  selectArena(first: number, n: number, stride: number, modulo: number, startNs: number, stepNs: number): void {
    checkBatch(n);
    const step = stride % modulo;
    let idx = first % modulo;
    for (let k = 0; k < n; k++) {
      this.descOffset[k] = idx * this.arenaFrameSize;
      this.descLength[k] = this.arenaFrameSize;
      this.descTime[k] = startNs + k * stepNs;
      this.descPort[k] = this.arenaPort;
      idx += step;
      if (idx >= modulo) idx -= modulo;
    }
    this.loaded = n;
  }

  runPartial(mode: PartialMode, meterMod = 1): number {
    const n = this.loaded, key = this.key, buf = this.input;
    meterMod = Math.max(1, meterMod);
    this.rules.rebuild();
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const off = this.descOffset[i]!, len = this.descLength[i]!;
      if (off > buf.length || len > buf.length - off) continue;
      if (mode === PARTIAL_METER) {
        sum = (sum + this.meters.color(i % meterMod, this.descTime[i]!, len, 0)) >>> 0;
        continue;
      }
      const reason = parseFrame(buf, off, len, this.descPort[i]!, key);
      if (mode === PARTIAL_PARSE || reason !== R_OK) {
        sum = (sum + reason + key.u16[K_SPORT >> 1]!) >>> 0;
        continue;
      }
      if (mode === PARTIAL_EXACT) {
        const idx = this.table.find(key.u32, 0, hashKey(key.u32, 0, 0));
        if (idx >= 0) sum = (sum + (this.table.u8[idx * ENTRY_BYTES + E_CLASS]! & 63) + 1) >>> 0;
        else this.counterValues[C_CACHE_MISSES]++;
      } else {
        sum = (sum + this.rules.classify(key.u32, key.u16) + 1) >>> 0;
      }
    }
    return sum;
  }
}

/** The wasm (bench module) or TypeScript engine with the benchmark aids. */
export function makePartialEngine(impl: 'wasm' | 'ts', options: Omit<EngineOptions, 'wasmPath'> = {}): PartialEngine | PartialReferenceEngine {
  return impl === 'wasm' ? new PartialEngine(options) : new PartialReferenceEngine(options);
}

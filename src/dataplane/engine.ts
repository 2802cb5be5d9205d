// Engine: the WebAssembly data plane (build/payflow.wasm) behind a typed API. It owns the
// memory layout of src/dataplane/layout.ts: one input buffer inside wasm memory for the
// frames of a batch (grown in 4 KiB steps only when a batch outgrows it, as undici does for
// llhttp), the descriptor and verdict arrays, the key and rule staging areas. A batch is one
// call across the boundary; configuration calls are few and may allocate (inside wasm, once).
// The plain-TypeScript twin with the same interface is reference/engine.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { batchArg, readCounters, readFlow, readVerdict } from './flows.js';
import { encodeAction, encodeKey, encodeRule } from './keys.js';
import {
  ABI_VERSION, MAX_METERS, MAX_RULES, D_IN_PORT, D_LENGTH, D_OFFSET, D_TIME, DESC_BYTES, ENTRY_BYTES, MAX_BATCH,
  VERDICT_BYTES,
} from './layout.js';
import {
  DataPlaneError, checkId, type BatchResult, type ClassParams, type DataPlane, type EngineCounters, type EngineOptions,
  type FlowKeyFields, type FlowRecord, type MeterParams, type RuleAction, type Verdict, type WildcardRule,
} from './types.js';

interface WasmExports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  engineInit(flowCapacity: number, ruleCapacity: number, initialInput: number): number;
  batch(n: number): number;
  batchPartial(n: number, mode: number, meterMod: number): number;
  inputBuffer(minBytes: number): number;
  inputBufferSize(): number;
  descriptorAddress(): number;
  verdictAddress(): number;
  counterAddress(): number;
  counterCount(): number;
  keyAddress(): number;
  entryAddress(): number;
  flowsInUse(): number;
  flowTableMemory(): number;
  flowNextUsed(from: number): number;
  flowInsert(action: number, cls: number, queue: number, dscp: number, meter: number, nowNs: bigint): number;
  flowLookup(): number;
  flowDelete(): number;
  flowExpireIdle(nowNs: bigint, idleNs: bigint): number;
  ruleStagingAddress(): number;
  ruleStore(id: number): number;
  ruleRemove(id: number): number;
  rulesCommit(): void;
  tuples(): number;
  defaultAction(action: number, cls: number, queue: number, dscp: number, meter: number): void;
  bestEffort(cls: number, queue: number, dscp: number): void;
  meterInit(capacity: number): void;
  meterSet(id: number, mode: number, colorAware: number, cir: bigint, cbs: bigint, eirOrPir: bigint, ebsOrPbs: bigint, nowNs: bigint): number;
  meterDelete(id: number): void;
  classSet(cls: number, basePrice: number, cmaxBps: number, targetBps: number, maxPrice: number, mode: number, ewmaWindowNs: bigint): number;
  classSetReserved(cls: number, reservedBps: number): void;
  pricingTick(nowNs: bigint): void;
  classPrice(cls: number): number;
  classDemand(cls: number): number;
}

const moduleCache = new Map<string, WebAssembly.Module>();

/** Path of the release (or debug) build next to the package root. */
export function defaultWasmPath(debug = false): string {
  // dist/src/dataplane/engine.js and src/dataplane/engine.ts both sit three levels below the root
  const here = fileURLToPath(import.meta.url);
  const root = here.replace(/[\\/](dist[\\/])?src[\\/]dataplane[\\/]engine\.[jt]s$/, '');
  return `${root}/build/${debug ? 'payflow.debug.wasm' : 'payflow.wasm'}`;
}

function ns(x: number): bigint {
  if (!Number.isFinite(x) || x < 0) throw new DataPlaneError('bad_argument', `time must be a non-negative number of ns, got ${x}`);
  return BigInt(Math.trunc(x));
}

export class Engine implements DataPlane {
  readonly flowCapacity: number;
  readonly ruleCapacity: number;
  readonly meterCapacity: number;
  private readonly w: WasmExports;
  private u8!: Uint8Array;
  private u32!: Uint32Array;
  private counterView!: BigUint64Array;
  private input = 0;
  private inputSize = 0;
  private readonly desc: number;
  private readonly verdicts: number;
  private readonly keyAt: number;
  private readonly staging: number;
  private readonly entries: number;
  private readonly counterAt: number;
  private loaded = 0;
  private arenaFrameSize = 0;
  private arenaPort = 0;
  private readonly meterBytesGlobal: WebAssembly.Global | undefined;

  /** Loads and configures a module (synchronous: node compiles the module in-thread). */
  static create(options: EngineOptions = {}): Engine {
    return new Engine(options);
  }

  constructor(options: EngineOptions = {}) {
    this.flowCapacity = options.flowCapacity ?? 65536;
    this.ruleCapacity = options.ruleCapacity ?? 16384;
    this.meterCapacity = options.meterCapacity ?? 65536;
    for (const [name, v, max] of [['flowCapacity', this.flowCapacity, 1 << 24], ['ruleCapacity', this.ruleCapacity, MAX_RULES], ['meterCapacity', this.meterCapacity, MAX_METERS]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new DataPlaneError('bad_argument', `${name} must be an integer in [1, ${max}]`);
    }
    const path = options.wasmPath ?? defaultWasmPath(options.debug);
    let mod = moduleCache.get(path);
    if (!mod) {
      mod = new WebAssembly.Module(readFileSync(path));
      moduleCache.set(path, mod);
    }
    const instance = new WebAssembly.Instance(mod, {
      env: {
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new DataPlaneError('wasm_abort', `data plane aborted at ${line}:${col}`);
        },
      },
    });
    this.w = instance.exports as unknown as WasmExports;
    const mb = (instance.exports as Record<string, unknown>)['METER_BYTES'];
    this.meterBytesGlobal = mb instanceof WebAssembly.Global ? mb : undefined;
    if (this.w.abiVersion() !== ABI_VERSION) throw new DataPlaneError('abi_mismatch', `${path}: ABI ${this.w.abiVersion()}, expected ${ABI_VERSION}`);
    this.w.meterInit(this.meterCapacity);
    if (this.w.engineInit(this.flowCapacity, this.ruleCapacity, 64 * 1024) !== 0) throw new DataPlaneError('init', 'engineInit failed');
    this.desc = this.w.descriptorAddress() >>> 0;
    this.verdicts = this.w.verdictAddress() >>> 0;
    this.keyAt = this.w.keyAddress() >>> 0;
    this.staging = this.w.ruleStagingAddress() >>> 0;
    this.entries = this.w.entryAddress() >>> 0;
    this.counterAt = this.w.counterAddress() >>> 0;
    this.input = this.w.inputBuffer(0) >>> 0;
    this.inputSize = this.w.inputBufferSize();
    this.refresh();
  }

  private refresh(): void {
    const buf = this.w.memory.buffer;
    if (this.u8?.buffer === buf) return;
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf);
    this.counterView = new BigUint64Array(buf, this.counterAt, this.w.counterCount());
  }

  // ---- classes and prices (B's pricing module) ----
  setClass(cls: number, p: ClassParams): void {
    const mode = p.mode === 'tatonnement' ? 1 : p.mode === 'exponential' ? 0 : -1;
    if (mode < 0) throw new DataPlaneError('bad_argument', `unknown pricing mode ${String(p.mode)}`);
    const rc = this.w.classSet(cls, p.basePrice, p.cmaxBps, p.targetBps, p.maxPrice, mode, ns(p.ewmaWindowNs));
    if (rc !== 0) throw new DataPlaneError('class_error', `classSet(${cls}) failed with code ${rc}`);
  }
  setReserved(cls: number, reservedBps: number): void {
    this.w.classSetReserved(cls, reservedBps);
  }
  tick(nowNs: number): void {
    this.w.pricingTick(ns(nowNs));
  }
  price(cls: number): number {
    return this.w.classPrice(cls);
  }
  demand(cls: number): number {
    return this.w.classDemand(cls);
  }
  setBestEffort(cls: number, queue: number, dscp: number): void {
    const a = encodeAction({ action: 'forward', class: cls, queue, dscp }, this.meterCapacity);
    this.w.bestEffort(a.cls, a.queue, a.dscp);
  }

  // ---- meters (B's meter module) ----
  setMeter(id: number, p: MeterParams, nowNs: number): void {
    const tr = p.mode === 'trTCM';
    if (!tr && p.mode !== 'srTCM') throw new DataPlaneError('bad_argument', `unknown meter mode ${String(p.mode)}`);
    const big = (x: number | undefined) => BigInt(Math.trunc(x ?? 0));
    for (const v of [p.cir, p.cbs, p.eir ?? 0, p.ebs ?? 0, p.pir ?? 0, p.pbs ?? 0]) {
      if (!Number.isFinite(v) || v < 0) throw new DataPlaneError('bad_argument', 'meter rates and bursts must be non-negative numbers');
    }
    const rc = this.w.meterSet(id >>> 0, tr ? 1 : 0, p.colorAware ? 1 : 0, big(p.cir), big(p.cbs), big(tr ? p.pir : p.eir), big(tr ? p.pbs : p.ebs), ns(nowNs));
    if (rc !== 0) throw new DataPlaneError('meter_error', `meterSet(${id}) failed with code ${rc}`);
  }
  deleteMeter(id: number): void {
    this.w.meterDelete(id >>> 0);
  }

  // ---- rules ----
  setRule(id: number, rule: WildcardRule): void {
    checkId('rule', id, this.ruleCapacity);
    encodeRule(rule, this.meterCapacity, this.u8, this.staging);
    const rc = this.w.ruleStore(id);
    if (rc !== 0) throw new DataPlaneError('rule_error', `ruleStore(${id}) failed with code ${rc}`);
  }
  deleteRule(id: number): void {
    checkId('rule', id, this.ruleCapacity);
    this.w.ruleRemove(id);
  }
  /** Rebuilds the rule index now (otherwise the next batch does). */
  commitRules(): void {
    this.w.rulesCommit();
  }
  get tupleCount(): number {
    this.w.rulesCommit();
    return this.w.tuples();
  }
  setDefaultAction(action: RuleAction): void {
    const a = encodeAction(action, this.meterCapacity);
    this.w.defaultAction(a.action, a.cls, a.queue, a.dscp, a.meter);
  }

  // ---- exact-match flows ----
  insertFlow(key: FlowKeyFields, action: RuleAction, nowNs = 0): number {
    const a = encodeAction(action, this.meterCapacity);
    encodeKey(key, this.u8, this.keyAt);
    const id = this.w.flowInsert(a.action, a.cls, a.queue, a.dscp, a.meter, ns(nowNs));
    if (id < 0) throw new DataPlaneError('table_full', `flow table full (${this.flowCapacity} flows)`);
    return id;
  }
  lookupFlow(key: FlowKeyFields): number {
    encodeKey(key, this.u8, this.keyAt);
    return this.w.flowLookup();
  }
  deleteFlow(key: FlowKeyFields): boolean {
    encodeKey(key, this.u8, this.keyAt);
    return this.w.flowDelete() === 0;
  }
  expireIdle(nowNs: number, idleNs: number): number {
    return this.w.flowExpireIdle(ns(nowNs), ns(idleNs));
  }
  get flowsInUse(): number {
    return this.w.flowsInUse();
  }
  flowTableBytesPerFlow(): number {
    return (this.w.flowTableMemory() >>> 0) / this.flowCapacity;
  }

  // ---- batches ----
  load(frames: readonly Uint8Array[], timestampsNs: number | readonly number[], inPorts?: number | readonly number[]): void {
    const n = frames.length;
    if (n < 1 || n > MAX_BATCH) throw new DataPlaneError('bad_argument', `a batch holds 1..${MAX_BATCH} frames, got ${n}`);
    let total = 0;
    for (const f of frames) total += f.length;
    if (total > this.inputSize) {
      this.input = this.w.inputBuffer(total) >>> 0;
      this.inputSize = this.w.inputBufferSize();
      this.refresh();
    }
    const u8 = this.u8, u32 = this.u32;
    let off = 0;
    for (let i = 0; i < n; i++) {
      const f = frames[i]!;
      u8.set(f, this.input + off);
      const d = (this.desc + i * DESC_BYTES) >> 2;
      const t = batchArg(timestampsNs, i, 0);
      u32[d + (D_OFFSET >> 2)] = off;
      u32[d + (D_LENGTH >> 2)] = f.length;
      u32[d + (D_TIME >> 2)] = t % 4294967296;
      u32[d + (D_TIME >> 2) + 1] = Math.floor(t / 4294967296);
      u32[d + (D_IN_PORT >> 2)] = batchArg(inPorts, i, 0);
      off += f.length;
    }
    this.loaded = n;
  }

  retime(startNs: number, stepNs: number): void {
    const u32 = this.u32;
    for (let i = 0; i < this.loaded; i++) {
      const d = (this.desc + i * DESC_BYTES + D_TIME) >> 2;
      const t = startNs + i * stepNs;
      u32[d] = t % 4294967296;
      u32[d + 1] = Math.floor(t / 4294967296);
    }
  }

  run(): BatchResult {
    const n = this.w.batch(this.loaded);
    const raw = this.u8.subarray(this.verdicts, this.verdicts + n * VERDICT_BYTES);
    const u8 = this.u8, u32 = this.u32, desc = this.desc, input = this.input;
    return {
      count: n,
      raw,
      verdict: (i: number): Verdict => readVerdict(raw, i),
      frame: (i: number): Uint8Array => {
        const d = (desc + i * DESC_BYTES) >> 2;
        const at = input + u32[d + (D_OFFSET >> 2)]!;
        return u8.subarray(at, at + u32[d + (D_LENGTH >> 2)]!);
      },
    };
  }

  loadArena(frames: Uint8Array, frameSize: number, inPort = 0): void {
    if (!(frameSize > 0) || frames.length % frameSize !== 0) throw new DataPlaneError('bad_argument', 'arena length must be a multiple of frameSize');
    if (frames.length > this.inputSize) {
      this.input = this.w.inputBuffer(frames.length) >>> 0;
      this.inputSize = this.w.inputBufferSize();
      this.refresh();
    }
    this.u8.set(frames, this.input);
    this.arenaFrameSize = frameSize;
    this.arenaPort = inPort;
    this.loaded = 0;
  }

  selectArena(first: number, n: number, stride: number, modulo: number, startNs: number, stepNs: number): void {
    if (n < 1 || n > MAX_BATCH) throw new DataPlaneError('bad_argument', `a batch holds 1..${MAX_BATCH} frames, got ${n}`);
    const u32 = this.u32, size = this.arenaFrameSize, port = this.arenaPort;
    const step = stride % modulo;
    let idx = first % modulo;
    let d = this.desc >> 2;
    for (let k = 0; k < n; k++, d += DESC_BYTES >> 2) {
      const t = startNs + k * stepNs;
      const lo = t >>> 0;
      u32[d] = idx * size; // D_OFFSET
      u32[d + 1] = size; // D_LENGTH
      u32[d + 2] = lo; // D_TIME, low and high words
      u32[d + 3] = (t - lo) / 4294967296;
      u32[d + 4] = port; // D_IN_PORT
      idx += step;
      if (idx >= modulo) idx -= modulo;
    }
    this.loaded = n;
  }

  runPartial(mode: 1 | 2 | 3 | 4, meterMod = 1): number {
    return this.w.batchPartial(this.loaded, mode, Math.max(1, meterMod));
  }

  /** Bytes of state per meter in the wasm module (B's METER_BYTES). */
  meterBytesPerMeter(): number {
    const g = this.meterBytesGlobal;
    return g ? Number(g.value) : NaN;
  }

  process(frames: readonly Uint8Array[], timestampsNs: number | readonly number[], inPorts?: number | readonly number[]): BatchResult {
    this.load(frames, timestampsNs, inPorts);
    return this.run();
  }

  // ---- dumps ----
  flow(id: number): FlowRecord | null {
    if (!Number.isInteger(id) || id < 0 || id >= this.flowCapacity) return null;
    if (this.w.flowNextUsed(id) !== id) return null;
    return readFlow(this.u8, this.entries + id * ENTRY_BYTES, id, true);
  }
  flows(): FlowRecord[] {
    const out: FlowRecord[] = [];
    for (let i = this.w.flowNextUsed(0); i >= 0; i = this.w.flowNextUsed(i + 1)) out.push(readFlow(this.u8, this.entries + i * ENTRY_BYTES, i, true));
    return out;
  }
  counters(): EngineCounters {
    const c = this.counterView;
    return readCounters((i) => Number(c[i]));
  }
  /** Bytes of wasm linear memory (for memory-per-flow figures). */
  get memoryBytes(): number {
    return this.w.memory.buffer.byteLength;
  }
}


// Engine: the WebAssembly data plane (build/payflow.wasm) behind a typed API. It owns the
// memory layout of src/dataplane/layout.ts (generated with assembly/layout.ts from one table,
// scripts/gen-layout.mjs): one input buffer inside wasm memory for the frames of a batch
// (grown in 4 KiB steps only when a batch outgrows it, as undici does for llhttp), the
// descriptor and verdict arrays, the key, rule, meter and class staging areas, the price and
// demand tables — all found through the module's region table. A batch is one call across the
// boundary; configuration calls are few and may allocate (inside wasm, once).
// The plain-TypeScript twin with the same interface is reference/engine.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { batchArg, readCounters, readFlow, readVerdict } from './flows.js';
import { encodeAction, encodeClassExcess, encodeKey, encodeRule } from './keys.js';
import {
  ABI_VERSION, COP_RESERVED, COP_SET, COUNTER_COUNT, D_IN_PORT, D_LENGTH, D_OFFSET, D_TIME, DESC_BYTES, ENTRY_BYTES, MAX_BATCH, MAX_CLASSES,
  MAX_METERS, MAX_RULES, MOP_DELETE, MOP_SET, REGION_BYTES, RG_CLASS_STAGING, RG_COUNTERS, RG_DEMANDS, RG_DESCRIPTORS, RG_ENTRIES, RG_FLOW_TABLE_BYTES,
  RG_INPUT, RG_INPUT_SIZE, RG_KEY, RG_METER_STAGING, RG_PRICES, RG_RULE_STAGING, RG_VERDICTS, VERDICT_BYTES,
} from './layout.js';
import { classRecordStatus, meterRecordStatus, writeClassRecord, writeMeterRecord } from './staging.js';
import {
  DataPlaneError, checkId, type BatchResult, type ClassExcessPolicy, type ClassParams, type DataPlane, type EngineCounters, type EngineOptions,
  type FlowKeyFields, type FlowRecord, type MeterParams, type RuleAction, type Verdict, type WildcardRule,
} from './types.js';

/** The exports of build/payflow.wasm (docs/dataplane.md; test/dataplane/exports.test.ts holds the list). */
export interface WasmExports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  engineInit(flowCapacity: number, ruleCapacity: number, meterCapacity: number, initialInput: number): number;
  regionTable(): number;
  inputBuffer(minBytes: number): number;
  batch(n: number): number;
  flowInsert(action: number, cls: number, queue: number, dscp: number, meter: number, nowNs: bigint): number;
  flowLookup(): number;
  flowDelete(): number;
  flowExpireIdle(nowNs: bigint, idleNs: bigint): number;
  flowNextUsed(from: number): number;
  flowsInUse(): number;
  ruleStore(id: number): number;
  ruleRemove(id: number): number;
  rulesCommit(): number;
  defaultAction(action: number, cls: number, queue: number, dscp: number, meter: number): void;
  bestEffort(cls: number, queue: number, dscp: number): void;
  classExcess(cls: number, word: number): void;
  metersConfigure(n: number): number;
  classesConfigure(n: number): number;
  pricingTick(nowNs: bigint): void;
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
  protected readonly w: WasmExports;
  /** every export of the instance (a bench module adds entry points to WasmExports) */
  protected readonly instanceExports: WebAssembly.Exports;
  protected u8!: Uint8Array;
  protected u32!: Uint32Array;
  private view!: DataView;
  private counterView!: BigUint64Array;
  private priceView!: Float64Array;
  private demandView!: Float64Array;
  protected input = 0;
  protected inputSize = 0;
  protected readonly desc: number;
  private readonly regions: number;
  private readonly verdicts: number;
  private readonly keyAt: number;
  private readonly staging: number;
  private readonly meterStaging: number;
  private readonly classStaging: number;
  private readonly entries: number;
  private readonly counterAt: number;
  private readonly pricesAt: number;
  private readonly demandsAt: number;
  private readonly flowTableBytes: number;
  /** descriptors written for the next run() */
  protected loaded = 0;

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
    this.instanceExports = instance.exports;
    this.w = instance.exports as unknown as WasmExports;
    if (typeof this.w.abiVersion !== 'function' || this.w.abiVersion() !== ABI_VERSION) {
      const found = typeof this.w.abiVersion === 'function' ? String(this.w.abiVersion()) : 'none';
      throw new DataPlaneError('abi_mismatch', `${path}: ABI ${found}, expected ${ABI_VERSION}`);
    }
    if (this.w.engineInit(this.flowCapacity, this.ruleCapacity, this.meterCapacity, 64 * 1024) !== 0) throw new DataPlaneError('init', 'engineInit failed');
    this.regions = this.w.regionTable() >>> 0;
    const table = new Uint32Array(this.w.memory.buffer, this.regions, REGION_BYTES >> 2);
    const region = (field: number): number => table[field >> 2]!;
    this.desc = region(RG_DESCRIPTORS);
    this.verdicts = region(RG_VERDICTS);
    this.keyAt = region(RG_KEY);
    this.staging = region(RG_RULE_STAGING);
    this.meterStaging = region(RG_METER_STAGING);
    this.classStaging = region(RG_CLASS_STAGING);
    this.entries = region(RG_ENTRIES);
    this.counterAt = region(RG_COUNTERS);
    this.pricesAt = region(RG_PRICES);
    this.demandsAt = region(RG_DEMANDS);
    this.flowTableBytes = region(RG_FLOW_TABLE_BYTES);
    this.refresh();
    this.readInput();
  }

  /** (Re)creates the views on wasm memory when it has grown. */
  private refresh(): void {
    const buf = this.w.memory.buffer;
    if (this.u8?.buffer === buf) return;
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf);
    this.view = new DataView(buf);
    this.counterView = new BigUint64Array(buf, this.counterAt, COUNTER_COUNT);
    this.priceView = new Float64Array(buf, this.pricesAt, MAX_CLASSES);
    this.demandView = new Float64Array(buf, this.demandsAt, MAX_CLASSES);
  }

  private readInput(): void {
    this.input = this.u32[(this.regions + RG_INPUT) >> 2]!;
    this.inputSize = this.u32[(this.regions + RG_INPUT_SIZE) >> 2]!;
  }

  /** Makes the input buffer hold at least `bytes` (the module allocates a larger one if needed). */
  protected reserveInput(bytes: number): void {
    if (bytes <= this.inputSize) return;
    this.w.inputBuffer(bytes);
    this.refresh();
    this.readInput();
  }

  // ---- classes and prices ----
  setClass(cls: number, p: ClassParams): void {
    const mode = p.mode === 'tatonnement' ? 1 : p.mode === 'exponential' ? 0 : -1;
    if (mode < 0) throw new DataPlaneError('bad_argument', `unknown pricing mode ${String(p.mode)}`);
    const rc = this.configureClass({
      cls, op: COP_SET, mode, basePrice: p.basePrice, cmaxBps: p.cmaxBps, targetBps: p.targetBps, maxPrice: p.maxPrice, windowNs: ns(p.ewmaWindowNs), reservedBps: 0,
    });
    if (rc !== 0) throw new DataPlaneError('class_error', `classSet(${cls}) failed with code ${rc}`);
  }
  setReserved(cls: number, reservedBps: number): void {
    // an unconfigured class or a negative / non-finite value is ignored, as in the twin
    this.configureClass({ cls, op: COP_RESERVED, mode: 0, basePrice: 0, cmaxBps: 0, targetBps: 0, maxPrice: 0, windowNs: 0n, reservedBps });
  }
  private configureClass(record: Parameters<typeof writeClassRecord>[2]): number {
    this.refresh();
    writeClassRecord(this.view, this.classStaging, record);
    this.w.classesConfigure(1);
    return classRecordStatus(this.view, this.classStaging);
  }
  tick(nowNs: number): void {
    this.w.pricingTick(ns(nowNs));
  }
  price(cls: number): number {
    const c = cls >>> 0; // the conversion a u32 wasm parameter applies
    return c < MAX_CLASSES ? this.priceView[c]! : 0;
  }
  demand(cls: number): number {
    const c = cls >>> 0;
    return c < MAX_CLASSES ? this.demandView[c]! : 0;
  }
  setBestEffort(cls: number, queue: number, dscp: number): void {
    const a = encodeAction({ action: 'forward', class: cls, queue, dscp }, this.meterCapacity);
    this.w.bestEffort(a.cls, a.queue, a.dscp);
  }
  setClassExcess(cls: number, policy: ClassExcessPolicy): void {
    const x = encodeClassExcess(cls, policy);
    this.w.classExcess(x.cls, x.word);
  }

  // ---- meters ----
  setMeter(id: number, p: MeterParams, nowNs: number): void {
    const tr = p.mode === 'trTCM';
    if (!tr && p.mode !== 'srTCM') throw new DataPlaneError('bad_argument', `unknown meter mode ${String(p.mode)}`);
    const big = (x: number | undefined) => BigInt(Math.trunc(x ?? 0));
    for (const v of [p.cir, p.cbs, p.eir ?? 0, p.ebs ?? 0, p.pir ?? 0, p.pbs ?? 0]) {
      if (!Number.isFinite(v) || v < 0) throw new DataPlaneError('bad_argument', 'meter rates and bursts must be non-negative numbers');
    }
    const rc = this.configureMeter({
      id: id >>> 0, op: MOP_SET, mode: tr ? 1 : 0, colorAware: p.colorAware ? 1 : 0, cir: big(p.cir), cbs: big(p.cbs),
      eirOrPir: big(tr ? p.pir : p.eir), ebsOrPbs: big(tr ? p.pbs : p.ebs), nowNs: ns(nowNs),
    });
    if (rc !== 0) throw new DataPlaneError('meter_error', `meterSet(${id}) failed with code ${rc}`);
  }
  deleteMeter(id: number): void {
    this.configureMeter({ id: id >>> 0, op: MOP_DELETE, mode: 0, colorAware: 0, cir: 0n, cbs: 0n, eirOrPir: 0n, ebsOrPbs: 0n, nowNs: 0n });
  }
  private configureMeter(record: Parameters<typeof writeMeterRecord>[2]): number {
    this.refresh();
    writeMeterRecord(this.view, this.meterStaging, record);
    this.w.metersConfigure(1);
    return meterRecordStatus(this.view, this.meterStaging);
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
    return this.w.rulesCommit();
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
    return this.flowTableBytes / this.flowCapacity;
  }

  // ---- batches ----
  load(frames: readonly Uint8Array[], timestampsNs: number | readonly number[], inPorts?: number | readonly number[]): void {
    const n = frames.length;
    if (n < 1 || n > MAX_BATCH) throw new DataPlaneError('bad_argument', `a batch holds 1..${MAX_BATCH} frames, got ${n}`);
    let total = 0;
    for (const f of frames) total += f.length;
    this.reserveInput(total);
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


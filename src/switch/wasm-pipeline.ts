// The switch's OpenFlow pipeline on the WebAssembly datapath (build/payflow-switch.wasm,
// assembly/switch/; OpenFlow Switch Specification 1.3.5 §5). The control plane is the
// TypeScript pipeline's (pipeline.ts: flow-mod semantics of §6.4, statistics, timeouts,
// meter-mod checks), and every change it makes to a table or a meter is compiled into the
// module's tables incrementally (one rule added, reprogrammed or removed per changed entry).
// Frames are switched in wasm a batch at a time: the frames go into the module's input
// buffer, one call classifies and acts on all of them, and the verdicts and output records
// are executed here against the PacketSink (outputs, FLOOD/ALL expansion, packet-ins).
// Groups (§5.6) are mirrored the same way, one slot per group id, their buckets staged like a
// rule's ops. Rule, meter and group counters live in the module and are read back before
// anything reports them (flow stats, FLOW_REMOVED, expiry, meter and group stats).
// docs/switch.md draws the layout.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  OFPFC, OFPFF, OFPGC, OFPGMFC, OFPM, OFPMC, OFPMF, OFPMMFC, OFPFMFC, OFPP,
  type FlowModMessage, type FlowStats, type FlowStatsRequest, type GroupModMessage, type GroupStats, type MeterBand, type MeterStats, type TableStats,
} from '../openflow/codec/index.js';
import {
  R_OK, SW_ABI_VERSION, SW_MAX_BANDS, SW_MAX_BATCH, SW_STAGING_OPS,
  SWB_BYTES, SWB_DEPTH, SWB_OCTETS, SWB_PACKETS, SWB_PER_MS, SWB_PREC, SWB_TOKENS, SWB_TYPE,
  SWC_BYTES, SWC_LAST_USED, SWC_OCTETS, SWC_PACKETS, SWD_BYTES, SWD_IN_PORT, SWD_LENGTH, SWD_OFFSET, SWD_TABLE,
  SWM_BAND, SWM_BANDS, SWM_BYTES, SWM_FLAGS, SWM_LAST, SWM_OCTETS, SWM_PACKETS, SWMF_PKTPS,
  SWO_BYTES, SWO_FRAME, SWO_LEN, SWO_MAX_LEN, SWO_PIN_REASON, SWO_PORT, SWO_QUEUE, SWO_RULE, SWO_TABLE,
  SWOP_ARG, SWOP_BYTES, SWOP_GROUP, SWOP_KIND, SWOP_MAX_LEN, SWOP_VALUE,
  SWG_BUCKET, SWG_BYTES, SWG_OCTETS, SWG_PACKETS, SWGB_BYTES, SWGB_OCTETS, SWGB_PACKETS, SWGS_BUCKETS, SWGS_COUNTS, SWGS_TYPE, SWGS_WEIGHTS,
  SWRG_GROUPS, SWRG_GROUP_STAGING,
  SWR_APPLY_COUNT, SWR_FLAGS, SWR_GOTO, SWR_MASK, SWR_META_MASK, SWR_META_VALUE, SWR_METER, SWR_OPS, SWR_PRIORITY, SWR_SEQ,
  SWR_STAGING_BYTES, SWR_TABLE, SWR_VALUE, SWR_WRITE_COUNT, SWRF_CLEAR, SWRF_METADATA, SWRF_TABLE_MISS, SWRF_WRITE,
  SWRG_BYTES, SWRG_DESCRIPTORS, SWRG_INPUT, SWRG_INPUT_SIZE, SWRG_METERS, SWRG_OUTPUTS, SWRG_RULE_COUNTERS, SWRG_RULE_STAGING,
  SWRG_TABLE_COUNTERS, SWRG_VERDICTS, SWV_BYTES, SWV_COUNT, SWV_FIRST, SWV_REASON,
} from '../dataplane/layout.js';
import { compileMatch, type CompiledMatch } from './fields.js';
import { MAX_GROUPS, type Group } from './groups.js';
import { MeterTable, type Meter, type MeterModError } from './meters.js';
import { N_TABLES, OP_GROUP, Pipeline, type FlowEntry, type OfError, type Op, type PacketContext, type PacketSink, type RemovedFlow } from './pipeline.js';

/** The exports of build/payflow-switch.wasm (test/switch/exports.test.ts holds the list). */
interface SwitchExports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  switchInit(ruleCapacity: number, meterCapacity: number, groupCapacity: number, initialInput: number): number;
  regionTable(): number;
  inputBuffer(minBytes: number): number;
  batch(n: number, nowMs: number): number;
  ruleAdd(id: number): number;
  ruleProgram(id: number): number;
  ruleRemove(id: number): number;
  meterSet(slot: number): number;
  meterRemove(slot: number): number;
  groupSet(slot: number): number;
  groupRemove(slot: number): number;
}

export interface WasmPipelineOptions {
  /** rules over all tables (default 65536) */
  ruleCapacity?: number;
  /** meters (default 4096) */
  meterCapacity?: number;
  wasmPath?: string;
  debug?: boolean;
}

/** Path of the switch module (release or debug build) next to the package root. */
export function switchWasmPath(debug = false): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.replace(/[\\/](dist[\\/])?src[\\/]switch[\\/]wasm-pipeline\.[jt]s$/, '');
  return `${root}/build/${debug ? 'payflow-switch.debug.wasm' : 'payflow-switch.wasm'}`;
}

const moduleCache = new Map<string, WebAssembly.Module>();
const NO_COOKIE = 0xffffffffffffffffn;
const OFPMBT_DROP = 1;
const OFPMBT_DSCP_REMARK = 2;

/** One instance of the switch module and views on its memory. */
class SwitchModule {
  readonly w: SwitchExports;
  u8!: Uint8Array;
  u32!: Uint32Array;
  view!: DataView;
  input = 0;
  inputSize = 0;
  readonly descriptors: number;
  readonly verdicts: number;
  readonly outputs: number;
  readonly staging: number;
  readonly ruleCounters: number;
  readonly meters: number;
  readonly tableCounters: number;
  readonly groups: number;
  readonly groupStaging: number;
  private readonly regions: number;

  constructor(readonly ruleCapacity: number, readonly meterCapacity: number, path: string) {
    let mod = moduleCache.get(path);
    if (!mod) {
      mod = new WebAssembly.Module(readFileSync(path));
      moduleCache.set(path, mod);
    }
    const instance = new WebAssembly.Instance(mod, {
      env: {
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`switch datapath aborted at ${line}:${col}`);
        },
      },
    });
    this.w = instance.exports as unknown as SwitchExports;
    if (typeof this.w.abiVersion !== 'function' || this.w.abiVersion() !== SW_ABI_VERSION) {
      throw new Error(`${path}: switch ABI ${typeof this.w.abiVersion === 'function' ? this.w.abiVersion() : 'none'}, expected ${SW_ABI_VERSION}`);
    }
    if (this.w.switchInit(ruleCapacity, meterCapacity, MAX_GROUPS, SW_MAX_BATCH * 2048) !== 0) throw new Error('switchInit failed');
    this.regions = this.w.regionTable() >>> 0;
    const table = new Uint32Array(this.w.memory.buffer, this.regions, SWRG_BYTES >> 2);
    const region = (field: number): number => table[field >> 2]!;
    this.descriptors = region(SWRG_DESCRIPTORS);
    this.verdicts = region(SWRG_VERDICTS);
    this.outputs = region(SWRG_OUTPUTS);
    this.staging = region(SWRG_RULE_STAGING);
    this.ruleCounters = region(SWRG_RULE_COUNTERS);
    this.meters = region(SWRG_METERS);
    this.tableCounters = region(SWRG_TABLE_COUNTERS);
    this.groups = region(SWRG_GROUPS);
    this.groupStaging = region(SWRG_GROUP_STAGING);
    this.refresh();
  }

  /** (Re)creates the views when memory has grown, and rereads the input buffer's place. */
  refresh(): void {
    const buf = this.w.memory.buffer;
    if (this.u8?.buffer !== buf) {
      this.u8 = new Uint8Array(buf);
      this.u32 = new Uint32Array(buf);
      this.view = new DataView(buf);
    }
    this.input = this.view.getUint32(this.regions + SWRG_INPUT, true);
    this.inputSize = this.view.getUint32(this.regions + SWRG_INPUT_SIZE, true);
  }

  reserveInput(bytes: number): void {
    if (bytes <= this.inputSize) return;
    this.w.inputBuffer(bytes);
    this.refresh();
  }

  u64(at: number): number {
    return this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 2 ** 32;
  }

  setU64(at: number, v: number): void {
    this.view.setUint32(at, v % 2 ** 32, true);
    this.view.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
  }
}

/** The meter table whose token buckets and counters live in the module (slot per meter id). */
class WasmMeterTable extends MeterTable {
  private readonly slots = new Map<number, number>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  constructor(private readonly mod: SwitchModule) {
    super();
  }

  /** slot + 1 of a meter id, 0 when there is none */
  slotRef(meterId: number): number {
    const s = this.slots.get(meterId);
    return s === undefined ? 0 : s + 1;
  }

  override modify(command: number, flags: number, meterId: number, bands: MeterBand[], nowMs: number): MeterModError | undefined {
    const existing = this.meters.get(meterId);
    if (existing) this.pull(existing); // MODIFY keeps the meter's counters
    if (command === OFPMC.ADD || command === OFPMC.MODIFY) {
      if (bands.length > SW_MAX_BANDS) return { code: OFPMMFC.OUT_OF_BANDS, reason: `at most ${SW_MAX_BANDS} bands per meter` };
      if (command === OFPMC.ADD && !existing && !this.slots.has(meterId) && this.freeSlots.length === 0 && this.nextSlot >= this.mod.meterCapacity) {
        return { code: OFPMMFC.OUT_OF_METERS, reason: `all ${this.mod.meterCapacity} meters are in use` };
      }
    }
    const before = command === OFPMC.DELETE ? [...this.meters.keys()] : [];
    const error = super.modify(command, flags, meterId, bands, nowMs);
    if (error) return error;
    if (command === OFPMC.DELETE) {
      for (const id of before) if (!this.meters.has(id)) this.release(id);
      return undefined;
    }
    const meter = this.meters.get(meterId)!;
    let slot = this.slots.get(meterId);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.nextSlot++;
      this.slots.set(meterId, slot);
    }
    this.push(meter, slot);
    if (this.mod.w.meterSet(slot) !== 0) throw new Error(`meterSet(${slot}) refused meter ${meterId}`);
    return undefined;
  }

  override stats(meterId: number, nowMs: number): MeterStats[] {
    if (meterId === OFPM.ALL) for (const m of this.meters.values()) this.pull(m);
    else {
      const m = this.meters.get(meterId);
      if (m) this.pull(m);
    }
    return super.stats(meterId, nowMs);
  }

  private release(meterId: number): void {
    const slot = this.slots.get(meterId);
    if (slot === undefined) return;
    this.mod.w.meterRemove(slot);
    this.slots.delete(meterId);
    this.freeSlots.push(slot);
  }

  /** Reads a meter's buckets and counters back from the module. */
  private pull(m: Meter): void {
    const slot = this.slots.get(m.id);
    if (slot === undefined) return;
    const mod = this.mod;
    const at = mod.meters + slot * SWM_BYTES;
    m.packetsIn = mod.u64(at + SWM_PACKETS);
    m.bytesIn = mod.u64(at + SWM_OCTETS);
    m.lastRefill = mod.view.getFloat64(at + SWM_LAST, true);
    m.state.forEach((band, i) => {
      const b = at + SWM_BAND + i * SWB_BYTES;
      band.tokens = mod.view.getFloat64(b + SWB_TOKENS, true);
      band.packets = mod.u64(b + SWB_PACKETS);
      band.bytes = mod.u64(b + SWB_OCTETS);
    });
  }

  private push(m: Meter, slot: number): void {
    const mod = this.mod;
    const v = mod.view;
    const at = mod.meters + slot * SWM_BYTES;
    mod.u8.fill(0, at, at + SWM_BYTES);
    v.setUint32(at + SWM_FLAGS, (m.flags & OFPMF.PKTPS) !== 0 ? SWMF_PKTPS : 0, true);
    v.setUint32(at + SWM_BANDS, m.state.length, true);
    v.setFloat64(at + SWM_LAST, m.lastRefill, true);
    mod.setU64(at + SWM_PACKETS, m.packetsIn);
    mod.setU64(at + SWM_OCTETS, m.bytesIn);
    m.state.forEach((band, i) => {
      const b = at + SWM_BAND + i * SWB_BYTES;
      v.setUint32(b + SWB_TYPE, band.type === OFPMBT_DROP ? OFPMBT_DROP : OFPMBT_DSCP_REMARK, true);
      v.setUint32(b + SWB_PREC, band.precLevel, true);
      v.setFloat64(b + SWB_PER_MS, band.perMs, true);
      v.setFloat64(b + SWB_DEPTH, band.depth, true);
      v.setFloat64(b + SWB_TOKENS, band.tokens, true);
      mod.setU64(b + SWB_PACKETS, band.packets);
      mod.setU64(b + SWB_OCTETS, band.bytes);
    });
  }
}

interface Mirrored {
  id: number;
  program: FlowEntry['program'];
  instructions: FlowEntry['instructions'];
  key: string;
}

/** Identity of an entry for the "identical entry" rule of an add (§6.4): table, priority, match. */
function entryKey(tableId: number, priority: number, m: CompiledMatch): string {
  return `${tableId}/${priority}/${Buffer.from(m.value.buffer, m.value.byteOffset, m.value.length).toString('hex')}/${Buffer.from(m.mask.buffer, m.mask.byteOffset, m.mask.length).toString('hex')}`;
}

export class WasmPipeline extends Pipeline {
  private readonly mod: SwitchModule;
  private readonly wasmMeters: WasmMeterTable;
  private readonly mirrored = new Map<FlowEntry, Mirrored>();
  private readonly byKey = new Map<string, FlowEntry>();
  private readonly byId: (FlowEntry | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private nextId = 0;
  private readonly one = new Uint32Array(1);
  private readonly groupSlots = new Map<number, number>();
  private readonly freeGroupSlots: number[] = [];
  private nextGroupSlot = 0;

  constructor(validPorts: () => ReadonlySet<number>, options: WasmPipelineOptions = {}) {
    const ruleCapacity = options.ruleCapacity ?? 65536;
    const meterCapacity = options.meterCapacity ?? 4096;
    const mod = new SwitchModule(ruleCapacity, meterCapacity, options.wasmPath ?? switchWasmPath(options.debug));
    const meters = new WasmMeterTable(mod);
    super(validPorts, meters);
    this.mod = mod;
    this.wasmMeters = meters;
  }

  // ---- control plane: mirror every table change into the module ------------------------------

  /** The identical entry from the index of mirrored entries (every entry of the tables is one). */
  protected override identicalIndex(table: readonly FlowEntry[], tableId: number, priority: number, match: CompiledMatch): number {
    const e = this.byKey.get(entryKey(tableId, priority, match));
    return e ? table.indexOf(e) : -1;
  }

  override flowMod(msg: FlowModMessage): { error?: OfError; removed: RemovedFlow[] } {
    let replaced: FlowEntry | undefined;
    if (msg.command === OFPFC.ADD && msg.tableId < N_TABLES) {
      const c = compileMatch(msg.match);
      if (c.ok) replaced = this.byKey.get(entryKey(msg.tableId, msg.priority, c.match));
      if (replaced) this.pull(replaced); // an identical entry's counters carry over
    }
    const result = super.flowMod(msg);
    const cmd = msg.command;
    if (cmd === OFPFC.DELETE || cmd === OFPFC.DELETE_STRICT) {
      for (const r of result.removed) this.unmirror(r.entry);
      return result;
    }
    if (msg.tableId >= N_TABLES) return result;
    const table = this.tables[msg.tableId]!;
    if (cmd === OFPFC.ADD) {
      const added = this.addedEntry(table, msg);
      if (!added) return result;
      if (replaced) this.unmirror(replaced);
      const status = this.mirror(added);
      if (status !== 0) {
        table.splice(table.indexOf(added), 1);
        return { error: { errorType: 5, code: OFPFMFC.TABLE_FULL, reason: `the wasm datapath has no room for this flow (${status})` }, removed: result.removed };
      }
      return result;
    }
    if (cmd === OFPFC.MODIFY || cmd === OFPFC.MODIFY_STRICT) {
      for (const e of table) {
        const m = this.mirrored.get(e);
        if (!m || m.program === e.program) continue;
        this.stage(e);
        const status = this.mod.w.ruleProgram(m.id);
        if (status !== 0) {
          e.program = m.program;
          e.instructions = m.instructions;
          return { error: { errorType: 5, code: OFPFMFC.TABLE_FULL, reason: `the wasm datapath has no room for this program (${status})` }, removed: result.removed };
        }
        m.program = e.program;
        m.instructions = e.instructions;
        if ((msg.flags & OFPFF.RESET_COUNTS) !== 0) this.pushCounters(e, m.id);
      }
    }
    return result;
  }

  override groupMod(msg: GroupModMessage): { error?: OfError; removed: RemovedFlow[] } {
    const old = this.groups.get(msg.groupId);
    if (old) this.pullGroup(old); // a modified group's counters carry over
    const before = [...this.groups.keys()];
    const result = super.groupMod(msg);
    if (result.error) return result;
    for (const r of result.removed) this.unmirror(r.entry);
    if (msg.command === OFPGC.DELETE) {
      for (const id of before) if (!this.groups.has(id)) this.releaseGroup(id);
      return result;
    }
    const g = this.groups.get(msg.groupId)!;
    let slot = this.groupSlots.get(g.id);
    const fresh = slot === undefined;
    slot ??= this.freeGroupSlots.pop() ?? this.nextGroupSlot++;
    const status = this.stageGroup(g) ? this.mod.w.groupSet(slot) : -1;
    if (status !== 0) {
      if (old) this.groups.set(old.id, old);
      else this.groups.delete(g.id);
      if (fresh) this.freeGroupSlots.push(slot);
      return { error: { errorType: 6, code: OFPGMFC.OUT_OF_BUCKETS, reason: `the wasm datapath has no room for these buckets (${status})` }, removed: result.removed };
    }
    this.groupSlots.set(g.id, slot);
    return result;
  }

  override groupStats(groupId: number): GroupStats[] {
    for (const g of this.groups.values()) this.pullGroup(g);
    return super.groupStats(groupId);
  }

  /** Stages a group's type, weights and bucket ops; false when its ops do not fit the staging area. */
  private stageGroup(g: Group<Op>): boolean {
    const mod = this.mod;
    const v = mod.view;
    const s = mod.groupStaging;
    const total = g.buckets.reduce((n, b) => n + b.ops.length, 0);
    if (total > SW_STAGING_OPS) return false;
    mod.u8.fill(0, mod.staging, mod.staging + SWR_STAGING_BYTES);
    v.setUint32(s + SWGS_TYPE, g.type, true);
    v.setUint32(s + SWGS_BUCKETS, g.buckets.length, true);
    let k = 0;
    g.buckets.forEach((b, i) => {
      v.setUint32(s + SWGS_WEIGHTS + 4 * i, b.bucket.weight, true);
      v.setUint32(s + SWGS_COUNTS + 4 * i, b.ops.length, true);
      for (const op of b.ops) this.stageOp(mod.staging + SWR_OPS + k++ * SWOP_BYTES, op);
    });
    return true;
  }

  private releaseGroup(id: number): void {
    const slot = this.groupSlots.get(id);
    if (slot === undefined) return;
    this.mod.w.groupRemove(slot);
    this.groupSlots.delete(id);
    this.freeGroupSlots.push(slot);
  }

  private pullGroupId(id: number): void {
    const g = this.groups.get(id);
    if (g) this.pullGroup(g);
  }

  /** Writes a group's counters into the module (after the TypeScript pipeline counted in them). */
  private pushGroupId(id: number): void {
    const g = this.groups.get(id);
    const slot = this.groupSlots.get(id);
    if (!g || slot === undefined) return;
    const mod = this.mod;
    const at = mod.groups + slot * SWG_BYTES;
    mod.setU64(at + SWG_PACKETS, g.packets);
    mod.setU64(at + SWG_OCTETS, g.bytes);
    g.buckets.forEach((b, i) => {
      mod.setU64(at + SWG_BUCKET + i * SWGB_BYTES + SWGB_PACKETS, b.packets);
      mod.setU64(at + SWG_BUCKET + i * SWGB_BYTES + SWGB_OCTETS, b.bytes);
    });
  }

  /** Reads a group's counters back from the module. */
  private pullGroup(g: Group<Op>): void {
    const slot = this.groupSlots.get(g.id);
    if (slot === undefined) return;
    const mod = this.mod;
    const at = mod.groups + slot * SWG_BYTES;
    g.packets = mod.u64(at + SWG_PACKETS);
    g.bytes = mod.u64(at + SWG_OCTETS);
    g.buckets.forEach((b, i) => {
      b.packets = mod.u64(at + SWG_BUCKET + i * SWGB_BYTES + SWGB_PACKETS);
      b.bytes = mod.u64(at + SWG_BUCKET + i * SWGB_BYTES + SWGB_OCTETS);
    });
  }

  override meterDeleted(meterId: number): RemovedFlow[] {
    const removed = super.meterDeleted(meterId);
    for (const r of removed) this.unmirror(r.entry);
    return removed;
  }

  override expire(nowMs: number): RemovedFlow[] {
    this.pullAll();
    const removed = super.expire(nowMs);
    for (const r of removed) this.unmirror(r.entry);
    return removed;
  }

  override flowStats(req: FlowStatsRequest): { ok: true; stats: FlowStats[] } | { ok: false; error: OfError } {
    this.pullAll();
    return super.flowStats(req);
  }

  override aggregate(req: FlowStatsRequest): { ok: true; packetCount: bigint; byteCount: bigint; flowCount: number } | { ok: false; error: OfError } {
    this.pullAll();
    return super.aggregate(req);
  }

  override tableStats(): TableStats[] {
    for (let t = 0; t < N_TABLES; t++) {
      this.lookups[t] = this.mod.u64(this.mod.tableCounters + t * 16);
      this.matched[t] = this.mod.u64(this.mod.tableCounters + t * 16 + 8);
    }
    return super.tableStats();
  }

  /** The entry an add just inserted: the last of its priority (tables are in descending priority). */
  private addedEntry(table: FlowEntry[], msg: FlowModMessage): FlowEntry | undefined {
    let lo = 0;
    let hi = table.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (table[mid]!.priority < msg.priority) hi = mid;
      else lo = mid + 1;
    }
    const e = table[lo - 1];
    return e && e.match === msg.match && !this.mirrored.has(e) ? e : undefined;
  }

  private mirror(e: FlowEntry): number {
    const id = this.freeIds.pop() ?? this.nextId;
    if (id >= this.mod.ruleCapacity) return -4;
    this.stage(e);
    const v = this.mod.view;
    v.setUint32(this.mod.staging + SWR_PRIORITY, e.priority, true);
    v.setUint32(this.mod.staging + SWR_TABLE, e.tableId, true);
    v.setUint32(this.mod.staging + SWR_SEQ, e.seq >>> 0, true);
    const status = this.mod.w.ruleAdd(id);
    if (status !== 0) {
      if (id !== this.nextId) this.freeIds.push(id);
      return status;
    }
    if (id === this.nextId) this.nextId++;
    const key = entryKey(e.tableId, e.priority, e.compiled);
    this.mirrored.set(e, { id, program: e.program, instructions: e.instructions, key });
    this.byKey.set(key, e);
    this.byId[id] = e;
    this.pushCounters(e, id);
    return 0;
  }

  private unmirror(e: FlowEntry): void {
    const m = this.mirrored.get(e);
    if (!m) return;
    this.pull(e);
    this.mod.w.ruleRemove(m.id);
    this.mirrored.delete(e);
    if (this.byKey.get(m.key) === e) this.byKey.delete(m.key);
    this.byId[m.id] = undefined;
    this.freeIds.push(m.id);
  }

  /** Writes an entry's match and program into the rule staging record. */
  private stage(e: FlowEntry): void {
    const mod = this.mod;
    const s = mod.staging;
    const u8 = mod.u8;
    const v = mod.view;
    u8.fill(0, s, s + SWR_STAGING_BYTES);
    u8.set(e.compiled.value, s + SWR_VALUE);
    u8.set(e.compiled.mask, s + SWR_MASK);
    const p = e.program;
    v.setUint32(s + SWR_PRIORITY, e.priority, true);
    v.setUint32(s + SWR_TABLE, e.tableId, true);
    v.setUint32(s + SWR_SEQ, e.seq >>> 0, true);
    v.setUint32(s + SWR_METER, p.meterId !== 0 ? this.wasmMeters.slotRef(p.meterId) : 0, true);
    v.setInt32(s + SWR_GOTO, p.gotoTable, true);
    let flags = 0;
    if (p.clear) flags |= SWRF_CLEAR;
    if (p.metadata) {
      flags |= SWRF_METADATA;
      v.setBigUint64(s + SWR_META_VALUE, BigInt.asUintN(64, p.metadata.value), false);
      v.setBigUint64(s + SWR_META_MASK, BigInt.asUintN(64, p.metadata.mask), false);
    }
    if (e.isTableMiss) flags |= SWRF_TABLE_MISS;
    if (p.write) flags |= SWRF_WRITE;
    v.setUint32(s + SWR_FLAGS, flags, true);
    const apply = p.apply ?? [];
    const write = p.write ?? [];
    if (apply.length + write.length > SW_STAGING_OPS) throw new Error(`a flow may carry at most ${SW_STAGING_OPS} actions on the wasm datapath`);
    v.setUint32(s + SWR_APPLY_COUNT, apply.length, true);
    v.setUint32(s + SWR_WRITE_COUNT, write.length, true);
    [...apply, ...write].forEach((op, i) => this.stageOp(s + SWR_OPS + i * SWOP_BYTES, op));
  }

  private stageOp(at: number, op: Op): void {
    const v = this.mod.view;
    v.setUint8(at + SWOP_KIND, op.op);
    v.setUint16(at + SWOP_MAX_LEN, op.maxLen & 0xffff, true);
    v.setUint32(at + SWOP_ARG, (op.op === SWOP_GROUP ? (this.groupSlots.get(op.arg) ?? 0xffffffff) : op.arg) >>> 0, true);
    if (op.value) this.mod.u8.set(op.value, at + SWOP_VALUE);
  }

  private pushCounters(e: FlowEntry, id: number): void {
    const at = this.mod.ruleCounters + id * SWC_BYTES;
    this.mod.setU64(at + SWC_PACKETS, e.packets);
    this.mod.setU64(at + SWC_OCTETS, e.bytes);
    this.mod.view.setFloat64(at + SWC_LAST_USED, e.lastUsed, true);
  }

  private pull(e: FlowEntry): void {
    const m = this.mirrored.get(e);
    if (!m) return;
    const at = this.mod.ruleCounters + m.id * SWC_BYTES;
    e.packets = this.mod.u64(at + SWC_PACKETS);
    e.bytes = this.mod.u64(at + SWC_OCTETS);
    e.lastUsed = this.mod.view.getFloat64(at + SWC_LAST_USED, true);
  }

  private pullAll(): void {
    for (const e of this.mirrored.keys()) this.pull(e);
  }

  // ---- the packet path -------------------------------------------------------------------------

  override process(ctx: PacketContext, sink: PacketSink, startTable = 0): void {
    this.one[0] = ctx.len;
    this.run(ctx.frame, ctx.at, 0, this.one, 1, ctx.inPort, !ctx.private, startTable, sink);
  }

  /**
   * A packet-out's own action list runs in the TypeScript pipeline (output TABLE goes through
   * the module). Its group actions count in the module's group counters, which group stats
   * read: each named group's counters are read back before and written back after.
   */
  override packetOut(actions: Op[], ctx: PacketContext, sink: PacketSink): void {
    for (const op of actions) if (op.op === OP_GROUP) this.pullGroupId(op.arg);
    super.packetOut(actions, ctx, sink);
    for (const op of actions) if (op.op === OP_GROUP) this.pushGroupId(op.arg);
  }

  override processBatch(frames: Uint8Array, stride: number, lengths: ArrayLike<number>, n: number, inPort: number, sink: PacketSink): void {
    for (let done = 0; done < n; done += SW_MAX_BATCH) {
      const count = Math.min(SW_MAX_BATCH, n - done);
      this.run(frames, done * stride, stride, done === 0 ? lengths : Array.prototype.slice.call(lengths, done, done + count), count, inPort, true, 0, sink);
    }
  }

  /** Copies frames into the module, switches them in one call, and executes the verdicts in order. */
  private run(frames: Uint8Array, first: number, stride: number, lengths: ArrayLike<number>, n: number, inPort: number, shared: boolean, startTable: number, sink: PacketSink): void {
    const mod = this.mod;
    let longest = 0;
    for (let i = 0; i < n; i++) if (lengths[i]! > longest) longest = lengths[i]!;
    // Frames in slots of `stride` bytes go in with one copy of the whole block; a lone frame by itself.
    const step = stride >= longest ? stride : (longest + 7) & ~7;
    mod.reserveInput(n * step);
    const u8 = mod.u8;
    const u32 = mod.u32;
    if (step === stride) u8.set(frames.subarray(first, first + (n - 1) * stride + longest), mod.input);
    else for (let i = 0; i < n; i++) u8.set(frames.subarray(first + i * stride, first + i * stride + lengths[i]!), mod.input + i * step);
    for (let i = 0; i < n; i++) {
      const d = (mod.descriptors + i * SWD_BYTES) >> 2;
      u32[d + (SWD_OFFSET >> 2)] = i * step;
      u32[d + (SWD_LENGTH >> 2)] = lengths[i]!;
      u32[d + (SWD_IN_PORT >> 2)] = inPort >>> 0;
      u32[d + (SWD_TABLE >> 2)] = startTable;
    }
    mod.w.batch(n, this.now);
    const v = mod.view;
    for (let i = 0; i < n; i++) {
      const vd = mod.verdicts + i * SWV_BYTES;
      if (u8[vd + SWV_REASON] !== R_OK) this.malformed++;
      const count = u8[vd + SWV_COUNT]! | (u8[vd + SWV_COUNT + 1]! << 8);
      if (count === 0) continue;
      const at = first + i * stride;
      const firstOut = u32[(vd + SWV_FIRST) >> 2]!;
      for (let k = 0; k < count; k++) {
        const o = mod.outputs + (firstOut + k) * SWO_BYTES;
        const port = u32[(o + SWO_PORT) >> 2]!;
        if (port === 0) continue; // cancelled (no room for a snapshot)
        const len = u32[(o + SWO_LEN) >> 2]!;
        const addr = u32[(o + SWO_FRAME) >> 2]!;
        const buf = addr === 0 ? frames : u8;
        const off = addr === 0 ? at : addr;
        const sh = addr === 0 && shared;
        if (port === OFPP.CONTROLLER) {
          const rule = v.getInt32(o + SWO_RULE, true);
          const entry = rule >= 0 ? this.byId[rule] : undefined;
          const reason = u8[o + SWO_PIN_REASON]!;
          sink.packetIn(buf, off, len, v.getUint16(o + SWO_MAX_LEN, true), reason, rule >= 0 ? u8[o + SWO_TABLE]! : 0, entry?.cookie ?? NO_COOKIE, inPort);
        } else {
          const queue = u32[(o + SWO_QUEUE) >> 2]!;
          if (port === OFPP.FLOOD || port === OFPP.ALL) {
            for (const p of sink.portNumbers) if (p !== inPort) sink.output(p, buf, off, len, sh, queue);
          } else sink.output(port, buf, off, len, sh, queue);
        }
      }
    }
  }
}

// ReferenceEngine: the plain-TypeScript twin of the wasm Engine — same interface, same
// algorithms, same records (layout.ts), written to be read. It is the test oracle of the
// differential test and the "ts" baseline of the benchmarks. Like the wasm module it allocates
// its tables once; a batch touches only typed arrays (no per-packet objects).
import { batchArg, readCounters, readFlow, readVerdict } from '../flows.js';
import { encodeAction, encodeClassExcess, encodeKey, encodeRule } from '../keys.js';
import {
  ACT_DOWNGRADE, ACT_DROP, ACT_FORWARD, C_ACTION, C_BYTES, C_CACHE_HITS, C_CACHE_MISSES, C_COLOR, C_FLOWS_EXPIRED,
  C_FLOWS_INSERTED, C_PACKETS, C_REASON, C_REWRITES, C_TABLE_FULL, COUNTER_COUNT, DSCP_KEEP, E_BYTES,
  E_CHARGE, E_CLASS, E_DSCP, E_GEN, E_LAST_SEEN, E_METER_QUEUE, E_PACKETS, E_RULE, EB_DROP, EB_KEEP, EB_PINNED, EB_USED, ENTRY_BYTES,
  K_TOS, MAX_BATCH, MAX_METERS, MAX_RULES, R_BAD_DESCRIPTOR, R_OK, RA_DROP, RL_ACTION, RL_CLASS, RL_DSCP, RL_METER, RL_QUEUE, RULE_BYTES,
  V_ACTION, V_CLASS, V_COLOR, V_DSCP, V_FLAGS, V_FLOW, V_QUEUE, V_REASON, V_RULE, VERDICT_BYTES, VF_CACHE_HIT,
  VF_NEW_FLOW, VF_REWRITTEN, VF_UNTRACKED,
} from '../layout.js';
import {
  DataPlaneError, checkId, type BatchResult, type ClassExcessPolicy, type ClassParams, type DataPlane, type EngineCounters, type EngineOptions,
  type FlowKeyFields, type FlowRecord, type MeterParams, type RuleAction, type Verdict, type WildcardRule,
} from '../types.js';
import { hashKey } from './hash.js';
import { FlowTable } from './flowtable.js';
import { ReferenceMeters } from './meter.js';
import { KeyBuffer, parseFrame } from './parser.js';
import { ReferencePricing } from './pricing.js';
import { RuleSet } from './rules.js';

const EW = ENTRY_BYTES >> 2;
const EF = ENTRY_BYTES >> 3;

/** RFC 2597 drop precedence of an AF codepoint as a colour; other codepoints are green. */
export function preColorOf(dscp: number): number {
  const x = dscp >> 3, y = (dscp >> 1) & 3;
  return x >= 1 && x <= 4 && (dscp & 1) === 0 && y >= 1 ? y - 1 : 0;
}

/** RFC 1624 eqn. 3: checksum after one 16-bit word changed. */
export function checksumAdjust(hc: number, oldWord: number, newWord: number): number {
  let s = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Writes the DSCP into the IP header at buf[ip], keeping ECN; fixes the IPv4 checksum. */
export function rewriteDscp(buf: Uint8Array, ip: number, version: number, dscp: number): void {
  if (version === 4) {
    const b0 = buf[ip]!, tos = buf[ip + 1]!;
    const newTos = (dscp << 2) | (tos & 3);
    buf[ip + 1] = newTos;
    const nc = checksumAdjust((buf[ip + 10]! << 8) | buf[ip + 11]!, (b0 << 8) | tos, (b0 << 8) | newTos);
    buf[ip + 10] = nc >> 8;
    buf[ip + 11] = nc & 0xff;
  } else {
    const b0 = buf[ip]!, b1 = buf[ip + 1]!;
    const tc = ((b0 & 15) << 4) | (b1 >> 4);
    const newTc = (dscp << 2) | (tc & 3);
    buf[ip] = (b0 & 0xf0) | (newTc >> 4);
    buf[ip + 1] = ((newTc & 15) << 4) | (b1 & 15);
  }
}

export class ReferenceEngine implements DataPlane {
  readonly flowCapacity: number;
  readonly ruleCapacity: number;
  readonly meterCapacity: number;
  protected readonly table: FlowTable;
  protected readonly rules: RuleSet;
  protected readonly meters: ReferenceMeters;
  private readonly pricing = new ReferencePricing();
  protected readonly key = new KeyBuffer();
  private readonly staging = new Uint8Array(RULE_BYTES);
  protected readonly counterValues = new Float64Array(COUNTER_COUNT);
  protected input = new Uint8Array(64 * 1024);
  protected readonly descOffset = new Uint32Array(MAX_BATCH);
  protected readonly descLength = new Uint32Array(MAX_BATCH);
  protected readonly descTime = new Float64Array(MAX_BATCH);
  protected readonly descPort = new Uint32Array(MAX_BATCH);
  private readonly verdictBuf = new ArrayBuffer(MAX_BATCH * VERDICT_BYTES);
  private readonly v8 = new Uint8Array(this.verdictBuf);
  private readonly v16 = new Uint16Array(this.verdictBuf);
  private readonly v32 = new Int32Array(this.verdictBuf);
  /** descriptors written for the next run() */
  protected loaded = 0;
  // default action and best effort
  private defAction = 0;
  private defClass = 0;
  private defDscp = DSCP_KEEP;
  private defQueue = 0;
  private defMeter = -1;
  private beClass = 0;
  private beQueue = 0;
  private beDscp = 0;
  /** per class, the excess policy word (keys.ts encodeClassExcess) */
  private readonly classPolicies = new Uint32Array(64);
  // the decision in hand
  private curAction = 0;
  private curClass = 0;
  private curDscp = 0;
  private curQueue = 0;
  private curMeter = -1;
  private curRule = -1;

  constructor(options: EngineOptions = {}) {
    this.flowCapacity = options.flowCapacity ?? 65536;
    this.ruleCapacity = options.ruleCapacity ?? 16384;
    this.meterCapacity = options.meterCapacity ?? 65536;
    for (const [name, v, max] of [['flowCapacity', this.flowCapacity, 1 << 24], ['ruleCapacity', this.ruleCapacity, MAX_RULES], ['meterCapacity', this.meterCapacity, MAX_METERS]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new DataPlaneError('bad_argument', `${name} must be an integer in [1, ${max}]`);
    }
    this.table = new FlowTable(this.flowCapacity);
    this.rules = new RuleSet(this.ruleCapacity);
    this.meters = new ReferenceMeters(this.meterCapacity);
  }

  // ---- classes and prices ----
  setClass(cls: number, p: ClassParams): void {
    const rc = this.pricing.setClass(cls, p);
    if (rc !== 0) throw new DataPlaneError('class_error', `setClass(${cls}) failed with code ${rc}`);
  }
  setReserved(cls: number, reservedBps: number): void {
    this.pricing.setReserved(cls, reservedBps);
  }
  tick(nowNs: number): void {
    this.pricing.tick(nowNs);
  }
  price(cls: number): number {
    return this.pricing.price(cls);
  }
  demand(cls: number): number {
    return this.pricing.demand(cls);
  }
  setBestEffort(cls: number, queue: number, dscp: number): void {
    const a = encodeAction({ action: 'forward', class: cls, queue, dscp }, this.meterCapacity);
    this.beClass = a.cls;
    this.beQueue = a.queue;
    this.beDscp = a.dscp & 63;
  }
  setClassExcess(cls: number, policy: ClassExcessPolicy): void {
    const x = encodeClassExcess(cls, policy);
    this.classPolicies[x.cls] = x.word;
  }
  /** 0 forward, 1 downgrade, 2 drop: what a yellow (1) or red (2) packet of class cls gets (assembly/actions.ts excessAction). */
  private excessAction(cls: number, color: number): number {
    const w = this.classPolicies[cls & 63]!;
    if (color === 1) {
      const y = w & 3;
      return y === 0 ? 1 : y === 1 ? 2 : 0;
    }
    return (w & 4) !== 0 ? 1 : 2;
  }

  // ---- meters ----
  setMeter(id: number, p: MeterParams, nowNs: number): void {
    const rc = this.meters.set(id, p, nowNs);
    if (rc !== 0) throw new DataPlaneError('meter_error', `meterSet(${id}) failed with code ${rc}`);
  }
  deleteMeter(id: number): void {
    this.meters.delete(id);
  }

  // ---- rules ----
  setRule(id: number, rule: WildcardRule): void {
    checkId('rule', id, this.ruleCapacity);
    encodeRule(rule, this.meterCapacity, this.staging);
    const rc = this.rules.set(id, this.staging);
    if (rc !== 0) throw new DataPlaneError('rule_error', `setRule(${id}) failed with code ${rc}`);
  }
  deleteRule(id: number): void {
    checkId('rule', id, this.ruleCapacity);
    this.rules.delete(id);
  }
  commitRules(): void {
    this.rules.rebuild();
  }
  get tupleCount(): number {
    this.rules.rebuild();
    return this.rules.tupleCount;
  }
  setDefaultAction(action: RuleAction): void {
    const a = encodeAction(action, this.meterCapacity);
    this.defAction = a.action;
    this.defClass = a.cls;
    this.defQueue = a.queue;
    this.defDscp = a.dscp;
    this.defMeter = a.meter;
  }

  // ---- exact-match flows ----
  insertFlow(key: FlowKeyFields, action: RuleAction, nowNs = 0): number {
    const a = encodeAction(action, this.meterCapacity);
    encodeKey(key, this.key.u8);
    const h = hashKey(this.key.u32, 0, 0);
    let idx = this.table.find(this.key.u32, 0, h);
    if (idx < 0) idx = this.table.add(this.key.u32, 0, h, nowNs);
    if (idx < 0) throw new DataPlaneError('table_full', `flow table full (${this.flowCapacity} flows)`);
    this.curAction = a.action;
    this.curClass = a.cls;
    this.curQueue = a.queue;
    this.curDscp = a.dscp;
    this.curMeter = a.meter;
    this.curRule = -1;
    this.storeDecision(idx);
    this.table.u8[idx * ENTRY_BYTES + E_CLASS] |= EB_PINNED;
    return idx;
  }
  lookupFlow(key: FlowKeyFields): number {
    encodeKey(key, this.key.u8);
    return this.table.find(this.key.u32, 0, hashKey(this.key.u32, 0, 0));
  }
  deleteFlow(key: FlowKeyFields): boolean {
    const idx = this.lookupFlow(key);
    if (idx < 0) return false;
    this.table.remove(idx);
    return true;
  }
  expireIdle(nowNs: number, idleNs: number): number {
    const n = this.table.expire(nowNs, idleNs);
    this.counterValues[C_FLOWS_EXPIRED] += n;
    return n;
  }
  get flowsInUse(): number {
    return this.table.count;
  }
  flowTableBytesPerFlow(): number {
    return this.table.bytes() / this.flowCapacity;
  }

  // ---- batches ----
  load(frames: readonly Uint8Array[], timestampsNs: number | readonly number[], inPorts?: number | readonly number[]): void {
    const n = frames.length;
    if (n < 1 || n > MAX_BATCH) throw new DataPlaneError('bad_argument', `a batch holds 1..${MAX_BATCH} frames, got ${n}`);
    let total = 0;
    for (const f of frames) total += f.length;
    if (total > this.input.length) this.input = new Uint8Array((total + 4095) & ~4095);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const f = frames[i]!;
      this.input.set(f, off);
      this.descOffset[i] = off;
      this.descLength[i] = f.length;
      this.descTime[i] = batchArg(timestampsNs, i, 0);
      this.descPort[i] = batchArg(inPorts, i, 0);
      off += f.length;
    }
    this.loaded = n;
  }

  run(): BatchResult {
    const n = this.processBatch(this.loaded);
    const raw = this.v8.subarray(0, n * VERDICT_BYTES);
    return {
      count: n,
      raw,
      verdict: (i: number): Verdict => readVerdict(raw, i),
      frame: (i: number): Uint8Array => this.input.subarray(this.descOffset[i]!, this.descOffset[i]! + this.descLength[i]!),
    };
  }

  process(frames: readonly Uint8Array[], timestampsNs: number | readonly number[], inPorts?: number | readonly number[]): BatchResult {
    this.load(frames, timestampsNs, inPorts);
    return this.run();
  }

  private decideByRules(): void {
    const id = this.rules.classify(this.key.u32, this.key.u16);
    this.curRule = id;
    if (id < 0) {
      this.curAction = this.defAction;
      this.curClass = this.defClass;
      this.curDscp = this.defDscp;
      this.curQueue = this.defQueue;
      this.curMeter = this.defMeter;
    } else {
      const r = id * RULE_BYTES, u8 = this.rules.u8;
      this.curAction = u8[r + RL_ACTION]!;
      this.curClass = u8[r + RL_CLASS]!;
      this.curDscp = u8[r + RL_DSCP]!;
      this.curQueue = u8[r + RL_QUEUE]!;
      this.curMeter = this.rules.i32[(r + RL_METER) >> 2]!;
    }
  }

  private storeDecision(idx: number): void {
    const t = this.table, e = idx * ENTRY_BYTES;
    t.u32[(e + E_METER_QUEUE) >> 2] = (((this.curMeter + 1) & 0xffffff) | (this.curQueue << 24)) >>> 0;
    t.u16[(e + E_RULE) >> 1] = this.curRule + 1;
    t.u8[e + E_CLASS] = this.curClass | (this.curAction === RA_DROP ? EB_DROP : 0);
    t.u8[e + E_DSCP] = (this.curDscp === DSCP_KEEP ? EB_KEEP : this.curDscp & 63) | EB_USED;
    t.u32[(e + E_GEN) >> 2] = this.rules.generation;
  }

  private loadDecision(idx: number): void {
    const t = this.table, e = idx * ENTRY_BYTES;
    const mq = t.u32[(e + E_METER_QUEUE) >> 2]!;
    this.curMeter = (mq & 0xffffff) - 1;
    this.curQueue = mq >>> 24;
    this.curRule = t.u16[(e + E_RULE) >> 1]! - 1;
    const cb = t.u8[e + E_CLASS]!;
    this.curClass = cb & 63;
    this.curAction = cb & EB_DROP ? RA_DROP : 0;
    const db = t.u8[e + E_DSCP]!;
    this.curDscp = db & EB_KEEP ? DSCP_KEEP : db & 63;
  }

  private writeVerdict(i: number, action: number, color: number, reason: number, dscp: number, queue: number, cls: number, flags: number, flow: number, rule: number): void {
    const v = i * VERDICT_BYTES;
    const v8 = this.v8;
    v8[v + V_ACTION] = action;
    v8[v + V_COLOR] = color;
    v8[v + V_REASON] = reason;
    v8[v + V_DSCP] = dscp;
    this.v16[(v + V_QUEUE) >> 1] = queue;
    v8[v + V_CLASS] = cls;
    v8[v + V_FLAGS] = flags;
    this.v32[(v + V_FLOW) >> 2] = flow;
    this.v32[(v + V_RULE) >> 2] = rule;
  }

  private countPacket(bytes: number, action: number, color: number, reason: number): void {
    const c = this.counterValues;
    c[C_PACKETS]++;
    c[C_BYTES] += bytes;
    c[C_ACTION + action]++;
    c[C_COLOR + color]++;
    c[C_REASON + reason]++;
  }

  /** The pipeline of assembly/pipeline.ts, step for step. */
  private processBatch(n: number): number {
    if (n > MAX_BATCH) n = MAX_BATCH;
    this.rules.rebuild();
    const gen = this.rules.generation;
    const key = this.key, table = this.table, c = this.counterValues, buf = this.input;
    for (let i = 0; i < n; i++) {
      const off = this.descOffset[i]!, len = this.descLength[i]!, now = this.descTime[i]!;
      if (off > buf.length || len > buf.length - off) {
        this.writeVerdict(i, ACT_DROP, 0, R_BAD_DESCRIPTOR, 0, 0, 0, 0, -1, -1);
        this.countPacket(len, ACT_DROP, 0, R_BAD_DESCRIPTOR);
        continue;
      }
      const reason = parseFrame(buf, off, len, this.descPort[i]!, key);
      if (reason !== R_OK) {
        this.writeVerdict(i, ACT_DROP, 0, reason, 0, 0, 0, 0, -1, -1);
        this.countPacket(len, ACT_DROP, 0, reason);
        continue;
      }
      const h = hashKey(key.u32, 0, 0);
      let flags = 0;
      let idx = table.find(key.u32, 0, h);
      if (idx >= 0) {
        if ((table.u8[idx * ENTRY_BYTES + E_CLASS]! & EB_PINNED) !== 0 || table.u32[idx * EW + (E_GEN >> 2)] === gen) {
          this.loadDecision(idx);
          flags |= VF_CACHE_HIT;
          c[C_CACHE_HITS]++;
        } else {
          this.decideByRules();
          this.storeDecision(idx);
          c[C_CACHE_MISSES]++;
        }
      } else {
        this.decideByRules();
        c[C_CACHE_MISSES]++;
        idx = table.add(key.u32, 0, h, now);
        if (idx >= 0) {
          this.storeDecision(idx);
          flags |= VF_NEW_FLOW;
          c[C_FLOWS_INSERTED]++;
        } else {
          flags |= VF_UNTRACKED;
          c[C_TABLE_FULL]++;
        }
      }
      const inDscp = key.u8[K_TOS]! >> 2;
      let color = 0;
      let action: number;
      let outDscp = inDscp;
      let queue = 0;
      let cls = 0;
      if (this.curAction === RA_DROP) {
        action = ACT_DROP;
      } else {
        if (this.curMeter >= 0) color = this.meters.color(this.curMeter, now, len, preColorOf(inDscp));
        const byColor = color === 0 ? 0 : this.excessAction(this.curClass, color);
        if (byColor === 0) {
          action = ACT_FORWARD;
          cls = this.curClass;
          queue = this.curQueue;
          if (this.curDscp !== DSCP_KEEP) outDscp = this.curDscp & 63;
        } else if (byColor === 1) {
          action = ACT_DOWNGRADE;
          const w = this.classPolicies[this.curClass & 63]!;
          if ((w & 8) !== 0) {
            cls = (w >>> 8) & 63;
            queue = (w >>> 16) & 255;
            outDscp = (w >>> 24) & 63;
          } else {
            cls = this.beClass;
            queue = this.beQueue;
            outDscp = this.beDscp;
          }
        } else {
          action = ACT_DROP;
        }
      }
      const forwarded = action !== ACT_DROP;
      if (forwarded) {
        if (outDscp !== inDscp && key.ipVersion !== 0) {
          rewriteDscp(buf, off + key.l3, key.ipVersion, outDscp);
          flags |= VF_REWRITTEN;
          c[C_REWRITES]++;
        }
        this.pricing.account(cls, len);
      } else {
        outDscp = inDscp;
      }
      if (idx >= 0) {
        const f = table.f64, e = idx * EF;
        f[e + (E_LAST_SEEN >> 3)] = now;
        f[e + (E_PACKETS >> 3) + color]++;
        f[e + (E_BYTES >> 3) + color] += len;
        if (forwarded) f[e + (E_CHARGE >> 3)] += len * 8e-6 * this.pricing.price(cls);
      }
      this.writeVerdict(i, action, color, R_OK, outDscp, queue, cls, flags, idx, this.curRule);
      this.countPacket(len, action, color, R_OK);
    }
    return n;
  }

  // ---- dumps ----
  flow(id: number): FlowRecord | null {
    if (!this.table.used(id)) return null;
    return readFlow(this.table.u8, id * ENTRY_BYTES, id, false);
  }
  flows(): FlowRecord[] {
    const out: FlowRecord[] = [];
    for (let i = this.table.next(0); i >= 0; i = this.table.next(i + 1)) out.push(readFlow(this.table.u8, i * ENTRY_BYTES, i, false));
    return out;
  }
  counters(): EngineCounters {
    const c = this.counterValues;
    return readCounters((i) => c[i]!);
  }
}

// The OpenFlow 1.3 pipeline of the software switch (OpenFlow Switch Specification 1.3.5
// §5 "OpenFlow Tables"): N_TABLES flow tables of prioritised entries, matched in order
// from table 0 (§5.1), with goto_table, write_metadata, apply/clear/write actions and the
// meter instruction (§5.9), the action set executed at the end of the pipeline in the
// order of §5.10, the table-miss entry (§5.4, none means drop), flow-mod add / modify /
// delete in strict and non-strict forms with cookies, out_port filters and the
// OFPFF_* flags (§6.4), and idle / hard timeouts (§5.5) reported as FLOW_REMOVED.
//
// Supported actions: output (a port, IN_PORT, FLOOD, ALL, CONTROLLER with max_len, TABLE
// in packet-out), set_field on ip_dscp and ip_ecn (the IPv4 header checksum updated as in
// RFC 1624, the IPv6 traffic class rewritten), eth_src and eth_dst, and set_queue (the
// queue id goes with each output to the port's egress queues). Anything else is refused at flow-mod time with the error §7.4.4
// names, so the hot path only ever meets actions it can execute. The hot path never
// throws on a frame: a frame the parser refuses is counted and switched on the fields it has.
import {
  OFPBAC, OFPBIC, OFPBRC, OFPFC, OFPFF, OFPFMFC, OFPM, OFPMMFC, OFPP, OFPR, OFPRR, OFPTT, OFP_NO_BUFFER,
  type Action, type FlowModMessage, type FlowStats, type FlowStatsRequest, type Instruction, type Match, type TableStats,
} from '../openflow/codec/index.js';
import { R_OK } from '../dataplane/layout.js';
import {
  F_ETH_DST, F_ETH_SRC, F_IP_DSCP, F_IP_ECN, F_METADATA, PacketFields, compileMatch, covers, matches, overlaps, sameMatch, writeOxmValue,
  type CompiledMatch,
} from './fields.js';
import { METER_DROP, METER_REMARK, MeterTable } from './meters.js';

export const N_TABLES = 64;

const OP_OUTPUT = 1;
const OP_SET_DSCP = 2;
const OP_SET_ECN = 3;
const OP_SET_ETH_DST = 4;
const OP_SET_ETH_SRC = 5;
const OP_SET_QUEUE = 6;

interface Op {
  op: number;
  /** output port, DSCP, ECN or queue id */
  arg: number;
  maxLen: number;
  mac?: Uint8Array;
}

/** The slot of each op kind in the action set, in §5.10 execution order (set-field, qos, output). */
const ACTION_SET_SLOT: Record<number, number> = { [OP_SET_DSCP]: 0, [OP_SET_ECN]: 1, [OP_SET_ETH_DST]: 2, [OP_SET_ETH_SRC]: 3, [OP_SET_QUEUE]: 4, [OP_OUTPUT]: 5 };
const ACTION_SET_SIZE = 6;

interface Program {
  meterId: number;
  apply: Op[] | undefined;
  clear: boolean;
  write: Op[] | undefined;
  metadata: { value: bigint; mask: bigint } | undefined;
  gotoTable: number;
}

export interface FlowEntry {
  tableId: number;
  priority: number;
  cookie: bigint;
  flags: number;
  idleTimeout: number;
  hardTimeout: number;
  match: Match;
  compiled: CompiledMatch;
  instructions: Instruction[];
  program: Program;
  packets: number;
  bytes: number;
  installedAt: number;
  lastUsed: number;
  /** insertion order, so equal priorities keep the older entry first */
  seq: number;
  isTableMiss: boolean;
}

/** An OpenFlow error to send back: type and code (§7.4.4). */
export interface OfError {
  errorType: number;
  code: number;
  reason: string;
}

const ERR = { BAD_REQUEST: 1, BAD_ACTION: 2, BAD_INSTRUCTION: 3, BAD_MATCH: 4, FLOW_MOD_FAILED: 5, METER_MOD_FAILED: 12 } as const;

export interface RemovedFlow {
  entry: FlowEntry;
  reason: number;
  nowMs: number;
}

/** Where the pipeline sends packets: ports by number, and the controller. */
export interface PacketSink {
  readonly portNumbers: readonly number[];
  /**
   * `shared` says the frame is still the received slot and may go out without a copy;
   * `queueId` is the egress queue set_queue chose (0 when none did).
   */
  output(portNo: number, frame: Uint8Array, at: number, len: number, shared: boolean, queueId: number): void;
  packetIn(frame: Uint8Array, at: number, len: number, maxLen: number, reason: number, tableId: number, cookie: bigint, inPort: number): void;
}

/** The packet being processed: its bytes, and whether outputs already reference them. */
export interface PacketContext {
  frame: Uint8Array;
  at: number;
  len: number;
  inPort: number;
  /** false while `frame` is the received slot nobody else holds a copy of */
  private: boolean;
  /** outputs queued so far point at the received slot, so changes must go to a copy */
  referenced: boolean;
}

/**
 * What the datapath thread drives: the TypeScript pipeline below, or the WebAssembly one
 * (wasm-pipeline.ts), which keeps this class's control plane and switches frames in wasm.
 */
export interface SwitchPipeline {
  /** clock in ms, set by the caller once per batch */
  now: number;
  /** frames the parser refused (switched on the fields it had) */
  readonly malformed: number;
  readonly meters: MeterTable;
  flowMod(msg: FlowModMessage): { error?: OfError; removed: RemovedFlow[] };
  meterDeleted(meterId: number): RemovedFlow[];
  expire(nowMs: number): RemovedFlow[];
  flowStats(req: FlowStatsRequest): { ok: true; stats: FlowStats[] } | { ok: false; error: OfError };
  aggregate(req: FlowStatsRequest): { ok: true; packetCount: bigint; byteCount: bigint; flowCount: number } | { ok: false; error: OfError };
  tableStats(): TableStats[];
  /** Switches frames i = 0..n-1 of one port: bytes at i × stride of `frames`, lengths[i] long. */
  processBatch(frames: Uint8Array, stride: number, lengths: ArrayLike<number>, n: number, inPort: number, sink: PacketSink): void;
  compilePacketOutActions(actions: Action[]): Op[] | OfError;
  packetOut(actions: Op[], ctx: PacketContext, sink: PacketSink): void;
}

export class Pipeline implements SwitchPipeline {
  readonly tables: FlowEntry[][] = Array.from({ length: N_TABLES }, () => []);
  readonly lookups = new Float64Array(N_TABLES);
  readonly matched = new Float64Array(N_TABLES);
  readonly fields = new PacketFields();
  /** frames the parser refused (switched on the fields it had) */
  malformed = 0;
  /** clock in ms, set by the caller once per batch */
  now = 0;
  private seq = 0;
  private readonly scratch = new Uint8Array(2048);
  private readonly actionSet: (Op | undefined)[] = new Array<Op | undefined>(ACTION_SET_SIZE).fill(undefined);
  private queueId = 0;

  private readonly batchCtx: PacketContext = { frame: this.scratch, at: 0, len: 0, inPort: 0, private: false, referenced: false };

  constructor(
    readonly validPorts: () => ReadonlySet<number>,
    readonly meters: MeterTable = new MeterTable(),
  ) {}

  // ---- flow-mod (§6.4) --------------------------------------------------------------------

  /** Applies a flow-mod. Returns the error to report (if any) and the entries it removed. */
  flowMod(msg: FlowModMessage): { error?: OfError; removed: RemovedFlow[] } {
    const removed: RemovedFlow[] = [];
    const cmd = msg.command;
    if (cmd === OFPFC.DELETE || cmd === OFPFC.DELETE_STRICT) {
      if (msg.tableId !== OFPTT.ALL && msg.tableId >= N_TABLES) return { error: err(ERR.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID, `table ${msg.tableId}`), removed };
      const filter = compileMatch(msg.match);
      if (!filter.ok) return { error: err(ERR.BAD_MATCH, filter.code, filter.reason), removed };
      for (const table of this.selectTables(msg.tableId)) {
        const keep: FlowEntry[] = [];
        for (const e of table) {
          const hit = this.selected(e, msg, filter.match, cmd === OFPFC.DELETE_STRICT) && outputsTo(e, msg.outPort);
          if (hit) {
            removed.push({ entry: e, reason: OFPRR.DELETE, nowMs: this.now });
            this.meterUse(e, -1);
          } else keep.push(e);
        }
        table.splice(0, table.length, ...keep);
      }
      return { removed };
    }
    if (cmd !== OFPFC.ADD && cmd !== OFPFC.MODIFY && cmd !== OFPFC.MODIFY_STRICT) return { error: err(ERR.FLOW_MOD_FAILED, OFPFMFC.BAD_COMMAND, `command ${cmd}`), removed };
    if (msg.tableId >= N_TABLES) return { error: err(ERR.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID, `table ${msg.tableId}`), removed };
    const compiled = compileMatch(msg.match);
    if (!compiled.ok) return { error: err(ERR.BAD_MATCH, compiled.code, compiled.reason), removed };
    const program = this.compileInstructions(msg.instructions, msg.tableId);
    if ('errorType' in program) return { error: program, removed };
    const table = this.tables[msg.tableId]!;
    const bufferError = msg.bufferId !== OFP_NO_BUFFER ? err(ERR.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, 'the switch buffers no packets') : undefined;

    if (cmd === OFPFC.ADD) {
      if ((msg.flags & OFPFF.CHECK_OVERLAP) !== 0) {
        for (const e of table) {
          if (e.priority === msg.priority && overlaps(e.compiled, compiled.match) && !sameMatch(e.compiled, compiled.match)) {
            return { error: err(ERR.FLOW_MOD_FAILED, OFPFMFC.OVERLAP, 'overlaps an entry of the same priority'), removed };
          }
        }
      }
      const entry: FlowEntry = {
        tableId: msg.tableId,
        priority: msg.priority,
        cookie: msg.cookie,
        flags: msg.flags,
        idleTimeout: msg.idleTimeout,
        hardTimeout: msg.hardTimeout,
        match: msg.match,
        compiled: compiled.match,
        instructions: msg.instructions,
        program,
        packets: 0,
        bytes: 0,
        installedAt: this.now,
        lastUsed: this.now,
        seq: this.seq++,
        isTableMiss: msg.priority === 0 && msg.match.length === 0,
      };
      const old = table.findIndex((e) => e.priority === msg.priority && sameMatch(e.compiled, compiled.match));
      if (old >= 0) {
        // §6.4: an identical entry is replaced; its counters carry over unless OFPFF_RESET_COUNTS.
        const prev = table[old]!;
        if ((msg.flags & OFPFF.RESET_COUNTS) === 0) {
          entry.packets = prev.packets;
          entry.bytes = prev.bytes;
        }
        this.meterUse(prev, -1);
        table.splice(old, 1);
      }
      let at = table.findIndex((e) => e.priority < entry.priority);
      if (at < 0) at = table.length;
      table.splice(at, 0, entry);
      this.meterUse(entry, 1);
      return bufferError ? { error: bufferError, removed } : { removed };
    }
    // MODIFY / MODIFY_STRICT: change the instructions of the entries selected, keep counters.
    for (const e of table) {
      if (!this.selected(e, msg, compiled.match, cmd === OFPFC.MODIFY_STRICT)) continue;
      this.meterUse(e, -1);
      e.instructions = msg.instructions;
      e.program = program;
      this.meterUse(e, 1);
      if ((msg.flags & OFPFF.RESET_COUNTS) !== 0) {
        e.packets = 0;
        e.bytes = 0;
      }
    }
    return bufferError ? { error: bufferError, removed } : { removed };
  }

  /** Deletes the entries that use a meter being deleted (§7.3.4.4). */
  meterDeleted(meterId: number): RemovedFlow[] {
    const removed: RemovedFlow[] = [];
    for (const table of this.tables) {
      for (let i = table.length - 1; i >= 0; i--) {
        const e = table[i]!;
        if (e.program.meterId !== 0 && (meterId === OFPM.ALL || e.program.meterId === meterId)) {
          removed.push({ entry: e, reason: OFPRR.METER_DELETE, nowMs: this.now });
          table.splice(i, 1);
        }
      }
    }
    return removed;
  }

  /** Removes the entries whose idle or hard timeout has passed (§5.5). */
  expire(nowMs: number): RemovedFlow[] {
    const removed: RemovedFlow[] = [];
    for (const table of this.tables) {
      for (let i = table.length - 1; i >= 0; i--) {
        const e = table[i]!;
        let reason = -1;
        if (e.hardTimeout > 0 && nowMs - e.installedAt >= e.hardTimeout * 1000) reason = OFPRR.HARD_TIMEOUT;
        else if (e.idleTimeout > 0 && nowMs - e.lastUsed >= e.idleTimeout * 1000) reason = OFPRR.IDLE_TIMEOUT;
        if (reason < 0) continue;
        table.splice(i, 1);
        this.meterUse(e, -1);
        removed.push({ entry: e, reason, nowMs });
      }
    }
    return removed;
  }

  // ---- statistics (§7.3.5) ----------------------------------------------------------------

  flowStats(req: FlowStatsRequest): { ok: true; stats: FlowStats[] } | { ok: false; error: OfError } {
    const selected = this.selectForStats(req);
    if (!selected.ok) return selected;
    return {
      ok: true,
      stats: selected.entries.map((e) => {
        const age = Math.max(0, this.now - e.installedAt);
        return {
          tableId: e.tableId,
          durationSec: Math.floor(age / 1000),
          durationNsec: Math.floor((age % 1000) * 1e6),
          priority: e.priority,
          idleTimeout: e.idleTimeout,
          hardTimeout: e.hardTimeout,
          flags: e.flags,
          cookie: e.cookie,
          packetCount: BigInt(e.packets),
          byteCount: BigInt(e.bytes),
          match: e.match,
          instructions: e.instructions,
        };
      }),
    };
  }

  aggregate(req: FlowStatsRequest): { ok: true; packetCount: bigint; byteCount: bigint; flowCount: number } | { ok: false; error: OfError } {
    const selected = this.selectForStats(req);
    if (!selected.ok) return selected;
    let packets = 0;
    let bytes = 0;
    for (const e of selected.entries) {
      packets += e.packets;
      bytes += e.bytes;
    }
    return { ok: true, packetCount: BigInt(packets), byteCount: BigInt(bytes), flowCount: selected.entries.length };
  }

  tableStats(): TableStats[] {
    return this.tables.map((t, i) => ({ tableId: i, activeCount: t.length, lookupCount: BigInt(this.lookups[i]!), matchedCount: BigInt(this.matched[i]!) }));
  }

  // ---- the packet path (§5.1) --------------------------------------------------------------

  /** Runs one packet through the tables and executes what they say. Never throws on a frame. */
  process(ctx: PacketContext, sink: PacketSink, startTable = 0): void {
    const fields = this.fields;
    fields.extract(ctx.frame, ctx.at, ctx.len, ctx.inPort);
    if (fields.reason !== R_OK) this.malformed++;
    const set = this.actionSet;
    let setUsed = false;
    this.queueId = 0;
    let tableId = startTable;
    for (;;) {
      this.lookups[tableId]!++;
      const entry = this.lookup(tableId, fields.bytes);
      if (!entry) {
        if (setUsed) set.fill(undefined);
        return; // §5.4: no table-miss entry, the packet is dropped
      }
      this.matched[tableId]!++;
      entry.packets++;
      entry.bytes += ctx.len;
      entry.lastUsed = this.now;
      const p = entry.program;
      if (p.meterId !== 0) {
        const meter = this.meters.meters.get(p.meterId);
        if (meter) {
          const verdict = this.meters.apply(meter, ctx.len, fields.bytes[F_IP_DSCP]!, this.now);
          if (verdict === METER_DROP) {
            if (setUsed) set.fill(undefined);
            return;
          }
          if (verdict === METER_REMARK) this.setTos(ctx, this.meters.remarkedDscp, -1);
        }
      }
      if (p.apply) this.execute(p.apply, ctx, sink, entry);
      if (p.clear && setUsed) set.fill(undefined);
      if (p.write) {
        setUsed = true;
        for (const op of p.write) set[ACTION_SET_SLOT[op.op]!] = op;
      }
      if (p.metadata) this.writeMetadata(p.metadata.value, p.metadata.mask);
      if (p.gotoTable < 0) break;
      tableId = p.gotoTable;
    }
    if (!setUsed) return;
    for (let i = 0; i < ACTION_SET_SIZE; i++) {
      const op = set[i];
      if (op) this.executeOne(op, ctx, sink, undefined);
    }
    set.fill(undefined);
  }

  processBatch(frames: Uint8Array, stride: number, lengths: ArrayLike<number>, n: number, inPort: number, sink: PacketSink): void {
    const ctx = this.batchCtx;
    for (let i = 0; i < n; i++) {
      ctx.frame = frames;
      ctx.at = i * stride;
      ctx.len = lengths[i]!;
      ctx.inPort = inPort;
      ctx.private = false;
      ctx.referenced = false;
      this.process(ctx, sink);
    }
  }

  /** Executes a packet-out's action list (§7.3.7); output TABLE runs the pipeline. */
  packetOut(actions: Op[], ctx: PacketContext, sink: PacketSink): void {
    this.fields.extract(ctx.frame, ctx.at, ctx.len, ctx.inPort);
    this.queueId = 0;
    for (const op of actions) {
      if (op.op === OP_OUTPUT && op.arg === OFPP.TABLE) this.process(ctx, sink);
      else this.executeOne(op, ctx, sink, undefined);
    }
  }

  /** Compiles an action list for packet-out, with the same checks as a flow-mod's. */
  compilePacketOutActions(actions: Action[]): Op[] | OfError {
    return this.compileActions(actions, true);
  }

  private lookup(tableId: number, fields: Uint8Array): FlowEntry | undefined {
    const table = this.tables[tableId]!;
    for (let i = 0; i < table.length; i++) {
      const e = table[i]!;
      if (matches(e.compiled, fields)) return e;
    }
    return undefined;
  }

  private execute(ops: Op[], ctx: PacketContext, sink: PacketSink, entry: FlowEntry): void {
    for (let i = 0; i < ops.length; i++) this.executeOne(ops[i]!, ctx, sink, entry);
  }

  private executeOne(op: Op, ctx: PacketContext, sink: PacketSink, entry: FlowEntry | undefined): void {
    switch (op.op) {
      case OP_OUTPUT:
        this.output(op, ctx, sink, entry);
        return;
      case OP_SET_DSCP:
        this.setTos(ctx, op.arg, -1);
        return;
      case OP_SET_ECN:
        this.setTos(ctx, -1, op.arg);
        return;
      case OP_SET_ETH_DST:
      case OP_SET_ETH_SRC: {
        if (ctx.len < 14) return;
        this.ownFrame(ctx);
        const at = op.op === OP_SET_ETH_DST ? 0 : 6;
        ctx.frame.set(op.mac!, ctx.at + at);
        this.fields.bytes.set(op.mac!, op.op === OP_SET_ETH_DST ? F_ETH_DST : F_ETH_SRC);
        return;
      }
      case OP_SET_QUEUE:
        this.queueId = op.arg;
        return;
    }
  }

  private output(op: Op, ctx: PacketContext, sink: PacketSink, entry: FlowEntry | undefined): void {
    const port = op.arg;
    if (port === OFPP.CONTROLLER) {
      const reason = entry?.isTableMiss ? OFPR.NO_MATCH : OFPR.ACTION;
      sink.packetIn(ctx.frame, ctx.at, ctx.len, op.maxLen, reason, entry?.tableId ?? 0, entry?.cookie ?? 0xffffffffffffffffn, ctx.inPort);
      return;
    }
    const shared = !ctx.private;
    if (port === OFPP.FLOOD || port === OFPP.ALL) {
      for (const p of sink.portNumbers) if (p !== ctx.inPort) sink.output(p, ctx.frame, ctx.at, ctx.len, shared, this.queueId);
    } else if (port === OFPP.IN_PORT) {
      sink.output(ctx.inPort, ctx.frame, ctx.at, ctx.len, shared, this.queueId);
    } else if (port !== ctx.inPort) {
      // §5.12: a packet goes back out of its ingress port only through OFPP_IN_PORT.
      sink.output(port, ctx.frame, ctx.at, ctx.len, shared, this.queueId);
    } else return;
    if (shared) ctx.referenced = true;
  }

  /** Before changing the frame: if outputs already point at the received slot, switch to a copy. */
  private ownFrame(ctx: PacketContext): void {
    if (ctx.private || !ctx.referenced) return;
    this.scratch.set(ctx.frame.subarray(ctx.at, ctx.at + ctx.len), 0);
    ctx.frame = this.scratch;
    ctx.at = 0;
    ctx.private = true;
  }

  /** Sets DSCP and/or ECN (−1 keeps one) in the IPv4 TOS or IPv6 traffic class. */
  private setTos(ctx: PacketContext, dscp: number, ecn: number): void {
    const key = this.fields.key;
    if (key.ipVersion === 0) return;
    this.ownFrame(ctx);
    const f = ctx.frame;
    const ip = ctx.at + key.l3;
    const oldTos = key.ipVersion === 4 ? f[ip + 1]! : ((f[ip]! & 0x0f) << 4) | (f[ip + 1]! >> 4);
    const newTos = ((dscp >= 0 ? dscp : oldTos >> 2) << 2) | (ecn >= 0 ? ecn : oldTos & 3);
    if (newTos === oldTos) return;
    if (key.ipVersion === 4) {
      f[ip + 1] = newTos;
      // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the 16-bit word holding version/IHL and TOS.
      const oldWord = (f[ip]! << 8) | oldTos;
      const newWord = (f[ip]! << 8) | newTos;
      let sum = (~((f[ip + 10]! << 8) | f[ip + 11]!) & 0xffff) + (~oldWord & 0xffff) + newWord;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      const check = ~sum & 0xffff;
      f[ip + 10] = check >> 8;
      f[ip + 11] = check & 0xff;
    } else {
      f[ip] = (f[ip]! & 0xf0) | (newTos >> 4);
      f[ip + 1] = ((newTos & 0x0f) << 4) | (f[ip + 1]! & 0x0f);
    }
    this.fields.bytes[F_IP_DSCP] = newTos >> 2;
    this.fields.bytes[F_IP_ECN] = newTos & 3;
  }

  private writeMetadata(value: bigint, mask: bigint): void {
    const b = this.fields.bytes;
    let cur = 0n;
    for (let i = 0; i < 8; i++) cur = (cur << 8n) | BigInt(b[F_METADATA + i]!);
    writeOxmValue('metadata', (cur & ~mask) | (value & mask), b, F_METADATA, 8);
  }

  // ---- compiling instructions (§5.9, §7.2.4, §7.2.5) -----------------------------------------

  private compileInstructions(instructions: Instruction[], tableId: number): Program | OfError {
    const program: Program = { meterId: 0, apply: undefined, clear: false, write: undefined, metadata: undefined, gotoTable: -1 };
    const seen = new Set<string>();
    for (const ins of instructions) {
      if (seen.has(ins.type)) return err(ERR.BAD_INSTRUCTION, OFPBIC.UNSUP_INST, `instruction ${ins.type} twice`);
      seen.add(ins.type);
      switch (ins.type) {
        case 'goto_table':
          if (ins.tableId <= tableId || ins.tableId >= N_TABLES) return err(ERR.BAD_INSTRUCTION, OFPBIC.BAD_TABLE_ID, `goto_table ${ins.tableId} from table ${tableId}`);
          program.gotoTable = ins.tableId;
          break;
        case 'write_metadata':
          program.metadata = { value: ins.metadata, mask: ins.metadataMask };
          break;
        case 'apply_actions': {
          const ops = this.compileActions(ins.actions, false);
          if (!Array.isArray(ops)) return ops;
          program.apply = ops;
          break;
        }
        case 'write_actions': {
          const ops = this.compileActions(ins.actions, false);
          if (!Array.isArray(ops)) return ops;
          const slots = new Set<number>();
          for (const op of ops) {
            const slot = ACTION_SET_SLOT[op.op]!;
            if (slots.has(slot)) return err(ERR.BAD_ACTION, OFPBAC.UNSUPPORTED_ORDER, 'an action set holds one action of each type');
            slots.add(slot);
          }
          program.write = ops;
          break;
        }
        case 'clear_actions':
          program.clear = true;
          break;
        case 'meter':
          if (!this.meters.meters.has(ins.meterId)) return err(ERR.METER_MOD_FAILED, OFPMMFC.UNKNOWN_METER, `no meter ${ins.meterId}`);
          program.meterId = ins.meterId;
          break;
        default:
          return err(ERR.BAD_INSTRUCTION, OFPBIC.UNKNOWN_INST, `instruction ${ins.type} is not supported`);
      }
    }
    return program;
  }

  private compileActions(actions: Action[], packetOut: boolean): Op[] | OfError {
    const ops: Op[] = [];
    const ports = this.validPorts();
    for (const a of actions) {
      switch (a.type) {
        case 'output': {
          const reserved = a.port === OFPP.IN_PORT || a.port === OFPP.FLOOD || a.port === OFPP.ALL || a.port === OFPP.CONTROLLER || (packetOut && a.port === OFPP.TABLE);
          if (!reserved && !ports.has(a.port)) return err(ERR.BAD_ACTION, OFPBAC.BAD_OUT_PORT, `output to port ${a.port}`);
          ops.push({ op: OP_OUTPUT, arg: a.port, maxLen: a.maxLen });
          break;
        }
        case 'set_queue':
          ops.push({ op: OP_SET_QUEUE, arg: a.queueId, maxLen: 0 });
          break;
        case 'set_field': {
          const f = a.field;
          if (f.field === 'ip_dscp' && typeof f.value === 'number' && f.value < 64) ops.push({ op: OP_SET_DSCP, arg: f.value, maxLen: 0 });
          else if (f.field === 'ip_ecn' && typeof f.value === 'number' && f.value < 4) ops.push({ op: OP_SET_ECN, arg: f.value, maxLen: 0 });
          else if ((f.field === 'eth_dst' || f.field === 'eth_src') && typeof f.value === 'string' && f.mask === undefined) {
            const mac = new Uint8Array(6);
            if (!writeOxmValue(f.field, f.value, mac, 0, 6)) return err(ERR.BAD_ACTION, OFPBAC.BAD_SET_ARGUMENT, `bad MAC ${f.value}`);
            ops.push({ op: f.field === 'eth_dst' ? OP_SET_ETH_DST : OP_SET_ETH_SRC, arg: 0, maxLen: 0, mac });
          } else return err(ERR.BAD_ACTION, OFPBAC.BAD_SET_TYPE, `set_field on ${f.field} is not supported`);
          break;
        }
        case 'group':
          return err(ERR.BAD_ACTION, OFPBAC.BAD_OUT_GROUP, `group ${a.groupId}: the switch has no group table yet`);
        default:
          return err(ERR.BAD_ACTION, OFPBAC.BAD_TYPE, `action ${a.type} is not supported`);
      }
    }
    return ops;
  }

  // ---- selection helpers ------------------------------------------------------------------

  private selectTables(tableId: number): FlowEntry[][] {
    return tableId === OFPTT.ALL ? this.tables : [this.tables[tableId]!];
  }

  private selected(e: FlowEntry, msg: FlowModMessage, filter: CompiledMatch, strict: boolean): boolean {
    if (msg.cookieMask !== 0n && (e.cookie & msg.cookieMask) !== (msg.cookie & msg.cookieMask)) return false;
    if (strict) return e.priority === msg.priority && sameMatch(e.compiled, filter);
    return covers(filter, e.compiled);
  }

  private selectForStats(req: FlowStatsRequest): { ok: true; entries: FlowEntry[] } | { ok: false; error: OfError } {
    if (req.tableId !== OFPTT.ALL && req.tableId >= N_TABLES) return { ok: false, error: err(ERR.BAD_REQUEST, OFPBRC.BAD_TABLE_ID, `table ${req.tableId}`) };
    const filter = compileMatch(req.match);
    if (!filter.ok) return { ok: false, error: err(ERR.BAD_MATCH, filter.code, filter.reason) };
    const entries: FlowEntry[] = [];
    for (const table of this.selectTables(req.tableId)) {
      for (const e of table) {
        if (req.cookieMask !== 0n && (e.cookie & req.cookieMask) !== (req.cookie & req.cookieMask)) continue;
        if (!covers(filter.match, e.compiled) || !outputsTo(e, req.outPort)) continue;
        entries.push(e);
      }
    }
    return { ok: true, entries };
  }

  private meterUse(e: FlowEntry, delta: number): void {
    if (e.program.meterId === 0) return;
    const m = this.meters.meters.get(e.program.meterId);
    if (m) m.flowCount = Math.max(0, m.flowCount + delta);
  }
}

/** The out_port filter of delete and stats requests (§6.4): OFPP_ANY passes every entry. */
function outputsTo(e: FlowEntry, outPort: number): boolean {
  if (outPort === OFPP.ANY) return true;
  for (const ins of e.instructions) {
    if (ins.type !== 'apply_actions' && ins.type !== 'write_actions') continue;
    if (ins.actions.some((a) => a.type === 'output' && a.port === outPort)) return true;
  }
  return false;
}

function err(errorType: number, code: number, reason: string): OfError {
  return { errorType, code, reason };
}

export type { Op };

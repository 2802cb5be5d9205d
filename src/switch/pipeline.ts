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
// RFC 1624, the IPv6 traffic class rewritten), eth_src and eth_dst, vlan_vid and vlan_pcp,
// IPv4 / IPv6 addresses, TCP / UDP ports and ICMP type / code (checksums in rewrite.ts),
// push_vlan (0x8100, 0x88a8) and pop_vlan, group (§5.6: all, select, indirect; groups.ts),
// and set_queue (the queue id goes with each output to the port's egress queues). Anything
// else is refused at flow-mod time with the error §7.4.4 names, so the hot path only ever
// meets actions it can execute. A rewrite that needs a header the packet lacks does
// nothing. The hot path never throws on a frame: a frame the parser refuses is counted and
// switched on the fields it has.
import {
  OFPBAC, OFPBIC, OFPBRC, OFPFC, OFPFF, OFPFMFC, OFPG, OFPGC, OFPGT, OFPM, OFPMMFC, OFPP, OFPR, OFPRR, OFPTT, OFP_NO_BUFFER,
  type Action, type FlowModMessage, type FlowStats, type FlowStatsRequest, type GroupDesc, type GroupModMessage, type GroupStats, type Instruction, type Match, type TableStats,
} from '../openflow/codec/index.js';
import { R_OK } from '../dataplane/layout.js';
import {
  F_ETH_DST, F_ETH_SRC, F_ICMP_CODE, F_ICMP_TYPE, F_IP_DSCP, F_IP_ECN, F_IP_PROTO, F_IPV4_DST, F_IPV4_SRC, F_IPV6_DST, F_IPV6_SRC, F_L4_DST, F_L4_SRC,
  F_METADATA, F_VLAN_VID, FIELDS_LEN, PacketFields, compileMatch, covers, matches, overlaps, sameMatch, writeOxmValue,
  type CompiledMatch,
} from './fields.js';
import { checkGroupMod, groupDesc, makeGroup, selectBucket, type Group, type GroupBucket } from './groups.js';
import { METER_DROP, METER_REMARK, MeterTable } from './meters.js';
import { setIcmp, setIpv4Address, setIpv6Address, setTransportPort, type HeaderPlace } from './rewrite.js';

export const N_TABLES = 64;

const OP_OUTPUT = 1;
const OP_SET_DSCP = 2;
const OP_SET_ECN = 3;
const OP_SET_ETH_DST = 4;
const OP_SET_ETH_SRC = 5;
const OP_SET_QUEUE = 6;
const OP_SET_VLAN_VID = 7;
const OP_SET_VLAN_PCP = 8;
const OP_SET_IPV4_SRC = 9;
const OP_SET_IPV4_DST = 10;
const OP_SET_IPV6_SRC = 11;
const OP_SET_IPV6_DST = 12;
const OP_SET_L4_SRC = 13;
const OP_SET_L4_DST = 14;
const OP_SET_ICMP_TYPE = 15;
const OP_SET_ICMP_CODE = 16;
const OP_PUSH_VLAN = 17;
const OP_POP_VLAN = 18;
export const OP_GROUP = 19;

interface Op {
  op: number;
  /** output port, DSCP, ECN, queue id, VLAN id / PCP, L4 port, ICMP type / code, ethertype or group id */
  arg: number;
  /** max_len of an output; the IP protocol a port or ICMP rewrite applies to */
  maxLen: number;
  /** a MAC, IPv4 or IPv6 address */
  value?: Uint8Array;
}

/**
 * The slot of each op kind in the action set, in §5.10 execution order: pop, push, the
 * set-fields, qos (set_queue), group, output (output only when there is no group).
 */
const ACTION_SET_SLOT: Record<number, number> = {
  [OP_POP_VLAN]: 0, [OP_PUSH_VLAN]: 1, [OP_SET_DSCP]: 2, [OP_SET_ECN]: 3, [OP_SET_ETH_DST]: 4, [OP_SET_ETH_SRC]: 5,
  [OP_SET_VLAN_VID]: 6, [OP_SET_VLAN_PCP]: 7, [OP_SET_IPV4_SRC]: 8, [OP_SET_IPV4_DST]: 9, [OP_SET_IPV6_SRC]: 10, [OP_SET_IPV6_DST]: 11,
  [OP_SET_L4_SRC]: 12, [OP_SET_L4_DST]: 13, [OP_SET_ICMP_TYPE]: 14, [OP_SET_ICMP_CODE]: 15, [OP_SET_QUEUE]: 16, [OP_GROUP]: 17, [OP_OUTPUT]: 18,
};
const ACTION_SET_SIZE = 19;
const SLOT_GROUP = 17;
const SLOT_OUTPUT = 18;
const SCRATCH_BYTES = 65536 + 64;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;

/** set_field targets beyond DSCP / ECN / MACs: op kind, size and, for ports and ICMP, the IP protocol. */
const SET_FIELD_OPS: Partial<Record<string, { op: number; size: number; proto?: number }>> = {
  vlan_vid: { op: OP_SET_VLAN_VID, size: 0 },
  vlan_pcp: { op: OP_SET_VLAN_PCP, size: 0 },
  ipv4_src: { op: OP_SET_IPV4_SRC, size: 4 },
  ipv4_dst: { op: OP_SET_IPV4_DST, size: 4 },
  ipv6_src: { op: OP_SET_IPV6_SRC, size: 16 },
  ipv6_dst: { op: OP_SET_IPV6_DST, size: 16 },
  tcp_src: { op: OP_SET_L4_SRC, size: 0, proto: 6 },
  tcp_dst: { op: OP_SET_L4_DST, size: 0, proto: 6 },
  udp_src: { op: OP_SET_L4_SRC, size: 0, proto: 17 },
  udp_dst: { op: OP_SET_L4_DST, size: 0, proto: 17 },
  icmpv4_type: { op: OP_SET_ICMP_TYPE, size: 0, proto: 1 },
  icmpv4_code: { op: OP_SET_ICMP_CODE, size: 0, proto: 1 },
  icmpv6_type: { op: OP_SET_ICMP_TYPE, size: 0, proto: 58 },
  icmpv6_code: { op: OP_SET_ICMP_CODE, size: 0, proto: 58 },
};

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

const ERR = { BAD_REQUEST: 1, BAD_ACTION: 2, BAD_INSTRUCTION: 3, BAD_MATCH: 4, FLOW_MOD_FAILED: 5, GROUP_MOD_FAILED: 6, METER_MOD_FAILED: 12 } as const;

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
  groupMod(msg: GroupModMessage): { error?: OfError; removed: RemovedFlow[] };
  groupStats(groupId: number): GroupStats[];
  groupDescs(): GroupDesc[];
  expire(nowMs: number): RemovedFlow[];
  flowStats(req: FlowStatsRequest): { ok: true; stats: FlowStats[] } | { ok: false; error: OfError };
  aggregate(req: FlowStatsRequest): { ok: true; packetCount: bigint; byteCount: bigint; flowCount: number } | { ok: false; error: OfError };
  tableStats(): TableStats[];
  /** Switches frames i = 0..n-1 of one port: bytes at i × stride of `frames`, lengths[i] long. */
  processBatch(frames: Uint8Array, stride: number, lengths: ArrayLike<number>, n: number, inPort: number, sink: PacketSink): void;
  compilePacketOutActions(actions: Action[]): Op[] | OfError;
  packetOut(actions: Op[], ctx: PacketContext, sink: PacketSink): void;
}

/**
 * A table is sorted by priority, highest first, and by age within a priority: the index of
 * the first entry of a lower priority than `priority`, where a new entry of that priority goes.
 */
function insertionPoint(table: readonly FlowEntry[], priority: number): number {
  let lo = 0;
  let hi = table.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid]!.priority >= priority) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
  readonly groups = new Map<number, Group<Op>>();
  private seq = 0;
  // Room for the largest frame and pushed tags, so rewrites of a private copy happen in place.
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly bucketScratch = new Uint8Array(SCRATCH_BYTES);
  private readonly savedFields = new Uint8Array(FIELDS_LEN);
  private readonly savedKey = new Uint8Array(52);
  private readonly place: HeaderPlace = { ipVersion: 0, l3: 0, l4: -1, proto: 0 };
  private readonly actionSet: (Op | undefined)[] = new Array<Op | undefined>(ACTION_SET_SIZE).fill(undefined);
  private queueId = 0;

  private readonly batchCtx: PacketContext = { frame: this.scratch, at: 0, len: 0, inPort: 0, private: false, referenced: false };
  private readonly bucketCtx: PacketContext = { frame: this.bucketScratch, at: 0, len: 0, inPort: 0, private: true, referenced: false };

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
          const hit = this.selected(e, msg, filter.match, cmd === OFPFC.DELETE_STRICT) && outputsTo(e, msg.outPort) && usesGroup(e, msg.outGroup);
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
      const old = this.identicalIndex(table, msg.tableId, msg.priority, compiled.match);
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
      table.splice(insertionPoint(table, entry.priority), 0, entry);
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

  /**
   * Where the entry of this priority and match is in `table` (the identical entry an add
   * replaces, §6.4), or -1. A scan here; an index where a subclass keeps one.
   */
  protected identicalIndex(table: readonly FlowEntry[], _tableId: number, priority: number, match: CompiledMatch): number {
    const from = insertionPoint(table, priority + 1);
    for (let i = from; i < table.length && table[i]!.priority === priority; i++) if (sameMatch(table[i]!.compiled, match)) return i;
    return -1;
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

  // ---- group-mod (§6.5) ------------------------------------------------------------------------

  /** Applies a group-mod; deleting a group deletes the flows that use it (OFPRR_GROUP_DELETE). */
  groupMod(msg: GroupModMessage): { error?: OfError; removed: RemovedFlow[] } {
    const removed: RemovedFlow[] = [];
    const refused = checkGroupMod(msg, this.groups);
    if (refused) return { error: refused, removed };
    if (msg.command === OFPGC.DELETE) {
      const ids = msg.groupId === OFPG.ALL ? [...this.groups.keys()] : this.groups.has(msg.groupId) ? [msg.groupId] : [];
      for (const id of ids) {
        for (const table of this.tables) {
          for (let i = table.length - 1; i >= 0; i--) {
            const e = table[i]!;
            if (!programUsesGroup(e.program, id)) continue;
            removed.push({ entry: e, reason: OFPRR.GROUP_DELETE, nowMs: this.now });
            table.splice(i, 1);
            this.meterUse(e, -1);
          }
        }
        this.groups.delete(id);
      }
      return { removed };
    }
    const ops: Op[][] = [];
    for (const b of msg.buckets) {
      const compiled = this.compileActions(b.actions, false);
      if (!Array.isArray(compiled)) return { error: compiled, removed };
      ops.push(compiled);
    }
    this.groups.set(msg.groupId, makeGroup(msg, ops, this.groups.get(msg.groupId), this.now));
    return { removed };
  }

  /** Group statistics (§7.3.5.9) of one group or of all (OFPG_ALL). */
  groupStats(groupId: number): GroupStats[] {
    const selected = groupId === OFPG.ALL ? [...this.groups.values()] : this.groups.has(groupId) ? [this.groups.get(groupId)!] : [];
    return selected.map((g) => {
      let refCount = 0;
      for (const table of this.tables) for (const e of table) if (programUsesGroup(e.program, g.id)) refCount++;
      const age = Math.max(0, this.now - g.createdAt);
      return {
        groupId: g.id,
        refCount,
        packetCount: BigInt(g.packets),
        byteCount: BigInt(g.bytes),
        durationSec: Math.floor(age / 1000),
        durationNsec: Math.floor((age % 1000) * 1e6),
        bucketStats: g.buckets.map((b) => ({ packetCount: BigInt(b.packets), byteCount: BigInt(b.bytes) })),
      };
    });
  }

  /** Group descriptions (§7.3.5.10), by group id. */
  groupDescs(): GroupDesc[] {
    return [...this.groups.values()].sort((a, b) => a.id - b.id).map(groupDesc);
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
    for (let i = 0; i < SLOT_GROUP; i++) {
      const op = set[i];
      if (op) this.executeOne(op, ctx, sink, undefined);
    }
    const last = set[SLOT_GROUP] ?? set[SLOT_OUTPUT]; // §5.10: with a group, the output action is ignored
    if (last) this.executeOne(last, ctx, sink, undefined);
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
        ctx.frame.set(op.value!, ctx.at + at);
        this.fields.bytes.set(op.value!, op.op === OP_SET_ETH_DST ? F_ETH_DST : F_ETH_SRC);
        return;
      }
      case OP_SET_QUEUE:
        this.queueId = op.arg;
        return;
      case OP_SET_VLAN_VID:
      case OP_SET_VLAN_PCP: {
        if (!tagged(ctx)) return;
        this.ownFrame(ctx);
        const f = ctx.frame;
        const tci = (f[ctx.at + 14]! << 8) | f[ctx.at + 15]!;
        const next = op.op === OP_SET_VLAN_VID ? (tci & 0xf000) | (op.arg & 0x0fff) : (tci & 0x1fff) | ((op.arg & 7) << 13);
        f[ctx.at + 14] = next >> 8;
        f[ctx.at + 15] = next & 0xff;
        if (op.op === OP_SET_VLAN_VID) {
          this.fields.bytes[F_VLAN_VID] = 0x10 | ((op.arg >> 8) & 0x0f);
          this.fields.bytes[F_VLAN_VID + 1] = op.arg & 0xff;
        }
        return;
      }
      case OP_SET_IPV4_SRC:
      case OP_SET_IPV4_DST: {
        if (this.fields.key.ipVersion !== 4) return;
        this.ownFrame(ctx);
        const src = op.op === OP_SET_IPV4_SRC;
        setIpv4Address(ctx.frame, this.headerPlace(ctx), src ? 12 : 16, op.value!);
        this.fields.bytes.set(op.value!, src ? F_IPV4_SRC : F_IPV4_DST);
        return;
      }
      case OP_SET_IPV6_SRC:
      case OP_SET_IPV6_DST: {
        if (this.fields.key.ipVersion !== 6) return;
        this.ownFrame(ctx);
        const src = op.op === OP_SET_IPV6_SRC;
        setIpv6Address(ctx.frame, this.headerPlace(ctx), src ? 8 : 24, op.value!);
        this.fields.bytes.set(op.value!, src ? F_IPV6_SRC : F_IPV6_DST);
        return;
      }
      case OP_SET_L4_SRC:
      case OP_SET_L4_DST: {
        const key = this.fields.key;
        if (key.ipVersion === 0 || key.l4 === 0 || this.fields.bytes[F_IP_PROTO] !== op.maxLen) return;
        this.ownFrame(ctx);
        const src = op.op === OP_SET_L4_SRC;
        setTransportPort(ctx.frame, this.headerPlace(ctx), src ? 0 : 2, op.arg);
        const at = src ? F_L4_SRC : F_L4_DST;
        this.fields.bytes[at] = op.arg >> 8;
        this.fields.bytes[at + 1] = op.arg & 0xff;
        return;
      }
      case OP_SET_ICMP_TYPE:
      case OP_SET_ICMP_CODE: {
        const key = this.fields.key;
        if (key.ipVersion === 0 || key.l4 === 0 || this.fields.bytes[F_IP_PROTO] !== op.maxLen) return;
        this.ownFrame(ctx);
        const type = op.op === OP_SET_ICMP_TYPE;
        setIcmp(ctx.frame, this.headerPlace(ctx), type ? 0 : 1, op.arg);
        this.fields.bytes[type ? F_ICMP_TYPE : F_ICMP_CODE] = op.arg;
        return;
      }
      case OP_PUSH_VLAN:
        this.pushVlan(ctx, op.arg);
        return;
      case OP_POP_VLAN:
        this.popVlan(ctx);
        return;
      case OP_GROUP:
        this.runGroup(op.arg, ctx, sink, entry);
        return;
    }
  }

  /** The parser's header offsets for the frame as it now lies in ctx. */
  private headerPlace(ctx: PacketContext): HeaderPlace {
    const key = this.fields.key;
    const h = this.place;
    h.ipVersion = key.ipVersion;
    h.l3 = ctx.at + key.l3;
    h.l4 = key.l4 === 0 ? -1 : ctx.at + key.l4;
    h.proto = this.fields.bytes[F_IP_PROTO]!;
    return h;
  }

  /** Moves the frame into the scratch buffer (for changes of length, which a receive slot cannot take). */
  private moveToScratch(ctx: PacketContext): void {
    this.scratch.set(ctx.frame.subarray(ctx.at, ctx.at + ctx.len), 0);
    ctx.frame = this.scratch;
    ctx.at = 0;
    ctx.private = true;
  }

  /** push_vlan: a new outer tag with this ethertype, VID and PCP copied from the old outer tag (else 0). */
  private pushVlan(ctx: PacketContext, ethertype: number): void {
    if (ctx.len < 14) return;
    const tci = tagged(ctx) ? (ctx.frame[ctx.at + 14]! << 8) | ctx.frame[ctx.at + 15]! : 0;
    if (!ctx.private || ctx.at + ctx.len + 4 > ctx.frame.length) this.moveToScratch(ctx);
    const f = ctx.frame;
    const at = ctx.at;
    f.copyWithin(at + 16, at + 12, at + ctx.len);
    f[at + 12] = ethertype >> 8;
    f[at + 13] = ethertype & 0xff;
    f[at + 14] = tci >> 8;
    f[at + 15] = tci & 0xff;
    ctx.len += 4;
    this.refreshFields(ctx);
  }

  /** pop_vlan: removes the outer tag (a frame without one is left alone). */
  private popVlan(ctx: PacketContext): void {
    if (!tagged(ctx)) return;
    if (!ctx.private) this.moveToScratch(ctx);
    ctx.frame.copyWithin(ctx.at + 4, ctx.at, ctx.at + 12);
    ctx.at += 4;
    ctx.len -= 4;
    this.refreshFields(ctx);
  }

  /** Re-reads the headers after a tag was pushed or popped; in_port and metadata stay. */
  private refreshFields(ctx: PacketContext): void {
    const b = this.fields.bytes;
    const metadata = b.slice(F_METADATA, F_METADATA + 8);
    this.fields.extract(ctx.frame, ctx.at, ctx.len, ctx.inPort);
    b.set(metadata, F_METADATA);
  }

  /** The group action (§5.6.1): every bucket of an all group, the one a select group picks, the indirect one. */
  private runGroup(groupId: number, ctx: PacketContext, sink: PacketSink, entry: FlowEntry | undefined): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    g.packets++;
    g.bytes += ctx.len;
    if (g.type === OFPGT.ALL) {
      for (const b of g.buckets) this.runBucket(b, ctx, sink, entry);
      return;
    }
    const b = selectBucket(g, this.fields.bytes);
    if (b) this.runBucket(b, ctx, sink, entry);
  }

  /** Runs a bucket's actions on a clone of the packet; the packet itself stays as it was. */
  private runBucket(b: GroupBucket<Op>, ctx: PacketContext, sink: PacketSink, entry: FlowEntry | undefined): void {
    b.packets++;
    b.bytes += ctx.len;
    const fields = this.fields;
    const key = fields.key;
    this.savedFields.set(fields.bytes);
    this.savedKey.set(key.u8);
    const { l3, l4, ipVersion } = key;
    const queueId = this.queueId;
    const clone = this.bucketCtx;
    this.bucketScratch.set(ctx.frame.subarray(ctx.at, ctx.at + ctx.len), 0);
    clone.frame = this.bucketScratch;
    clone.at = 0;
    clone.len = ctx.len;
    clone.inPort = ctx.inPort;
    clone.private = true;
    clone.referenced = false;
    for (const op of b.ops) this.executeOne(op, clone, sink, entry);
    fields.bytes.set(this.savedFields);
    key.u8.set(this.savedKey);
    key.l3 = l3;
    key.l4 = l4;
    key.ipVersion = ipVersion;
    this.queueId = queueId;
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
            ops.push({ op: f.field === 'eth_dst' ? OP_SET_ETH_DST : OP_SET_ETH_SRC, arg: 0, maxLen: 0, value: mac });
          } else {
            if (f.field === 'unknown') return err(ERR.BAD_ACTION, OFPBAC.BAD_SET_TYPE, 'set_field on an unknown field');
            const op = compileSetField(f.field, f.value, f.mask);
            if ('errorType' in op) return op;
            ops.push(op);
          }
          break;
        }
        case 'push_vlan':
          if (a.ethertype !== ETH_P_8021Q && a.ethertype !== ETH_P_8021AD) return err(ERR.BAD_ACTION, OFPBAC.BAD_ARGUMENT, `push_vlan ethertype 0x${a.ethertype.toString(16)}: 0x8100 or 0x88a8`);
          ops.push({ op: OP_PUSH_VLAN, arg: a.ethertype, maxLen: 0 });
          break;
        case 'pop_vlan':
          ops.push({ op: OP_POP_VLAN, arg: 0, maxLen: 0 });
          break;
        case 'group':
          if (!this.groups.has(a.groupId)) return err(ERR.BAD_ACTION, OFPBAC.BAD_OUT_GROUP, `no group ${a.groupId}`);
          ops.push({ op: OP_GROUP, arg: a.groupId, maxLen: 0 });
          break;
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
        if (!covers(filter.match, e.compiled) || !outputsTo(e, req.outPort) || !usesGroup(e, req.outGroup)) continue;
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

/** The out_group filter of delete and stats requests (§6.4): OFPG_ANY passes every entry. */
function usesGroup(e: FlowEntry, groupId: number): boolean {
  if (groupId === OFPG.ANY) return true;
  return programUsesGroup(e.program, groupId);
}

function programUsesGroup(p: Program, groupId: number): boolean {
  for (const ops of [p.apply, p.write]) if (ops?.some((op) => op.op === OP_GROUP && op.arg === groupId)) return true;
  return false;
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

/** A frame with an outer 802.1Q / 802.1ad tag (and room for it). */
function tagged(ctx: PacketContext): boolean {
  if (ctx.len < 18) return false;
  const et = (ctx.frame[ctx.at + 12]! << 8) | ctx.frame[ctx.at + 13]!;
  return et === ETH_P_8021Q || et === ETH_P_8021AD || et === 0x9100;
}

/** Compiles set_field on a VLAN, address, port or ICMP field (the table SET_FIELD_OPS). */
function compileSetField(field: string, value: unknown, mask: unknown): Op | OfError {
  const spec = SET_FIELD_OPS[field];
  if (!spec || mask !== undefined) return err(ERR.BAD_ACTION, OFPBAC.BAD_SET_TYPE, `set_field on ${field}${mask !== undefined ? ' with a mask' : ''} is not supported`);
  if (spec.size > 0) {
    const bytes = new Uint8Array(spec.size);
    if (!writeOxmValue(field as never, value, bytes, 0, spec.size)) return err(ERR.BAD_ACTION, OFPBAC.BAD_SET_ARGUMENT, `bad value for ${field}`);
    return { op: spec.op, arg: 0, maxLen: 0, value: bytes };
  }
  const limit = field === 'vlan_vid' ? 0x1fff : field === 'vlan_pcp' ? 7 : spec.proto === 1 || spec.proto === 58 ? 0xff : 0xffff;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > limit) return err(ERR.BAD_ACTION, OFPBAC.BAD_SET_ARGUMENT, `bad value for ${field}`);
  return { op: spec.op, arg: field === 'vlan_vid' ? value & 0x0fff : value, maxLen: spec.proto ?? 0 };
}

function err(errorType: number, code: number, reason: string): OfError {
  return { errorType, code, reason };
}

export type { Op };

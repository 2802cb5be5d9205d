// The software switch's OpenFlow agent (OpenFlow Switch Specification 1.3.5 §6.3 "OpenFlow
// Channel Connections", §7 "The OpenFlow Protocol"): it dials its controller (`tcp:`),
// redialling with a doubling backoff, or listens for controllers (`ptcp:`), speaks OpenFlow
// 1.3 through the project's codec and framing, answers what the switch itself knows
// (hello, echo, features, configuration, port description and statistics, descriptions,
// meter features, role, async config) and hands everything that touches the flow tables or
// the meters to the datapath thread in arrival order — a barrier goes the same way, so its
// reply follows every earlier request, and so do queue-get-config (§7.3.6) and queue stats,
// since the datapath owns the egress queues. Anything it does not implement is refused with the
// error §7.4.4 names. Group-mods and group statistics go to the datapath too (§5.6).
// On losing the controller it dialled (§6.3.6 "Connection Interruption") it keeps its flows
// either way: fail-secure (the default) goes on switching through them and sends nothing to a
// controller; fail-standalone switches as a learning bridge (standalone.ts) until a controller
// is back, then through the flow table the controller left, unchanged (existing entries
// remain, §6.3.6). Flows expire on their timeouts in both modes.
import { EventEmitter } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  OFPAT, OFPBRC, OFPET, OFPHFC, OFPTFFC, OFPMBT, OFPMF, OFPPF, OFPPR, OFPPS, OFP_NO_BUFFER, decodeMessage, encodeMessage,
  type MultipartReplyBody, type MultipartRequestMessage, type OfpMessage, type Port, type PortStats,
} from '../openflow/codec/index.js';
import { MessageFramer } from '../openflow/framing.js';
import { C_RX_BYTES, C_RX_DROPPED, C_RX_ERRORS, C_RX_MALFORMED, C_RX_PACKETS, C_TX_BYTES, C_TX_DROPPED, C_TX_ERRORS, C_TX_PACKETS, DEFAULT_BATCH, PORT_COUNTERS, interfaceInfo } from './ports.js';
import { N_TABLES } from './pipeline.js';
import type { Scheduler } from './egress-queues.js';
import { PAYFLOW_SWITCH_DESC } from '../util/flow-queues.js';
import { groupFeatures } from './groups.js';
import { tableFeatures } from './table-features.js';
import { DatapathWaker } from './wake.js';
import { DP_COUNTERS, DP_MALFORMED, DP_PACKET_IN_DROPPED, type DatapathConfig, type DatapathEvent, type DatapathRequest } from './protocol.js';

export interface SwitchOptions {
  /** interface names; port numbers 1, 2, … in this order */
  ports: string[];
  /** dial this controller (tcp:HOST:PORT) */
  controller?: { host: string; port: number };
  /** listen for controllers (ptcp:PORT) */
  listen?: { host: string; port: number };
  dpid?: bigint;
  batch?: number;
  /** port rates in bits/s by interface name: the switch shapes those ports' output to them */
  portRatesBps?: Record<string, number>;
  /** egress queue weights by queue id (default 1) */
  queueWeights?: [number, number][];
  /** how a port's queues share it: deficit round robin (default) or strict priority */
  scheduler?: Scheduler;
  /** the datapath: the WebAssembly pipeline (default) or its TypeScript twin */
  datapath?: 'wasm' | 'ts';
  /** without the dialled controller: keep to the flow table (secure, default) or be a learning bridge (standalone) */
  failMode?: 'secure' | 'standalone';
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface SwitchEvents {
  /** one line for the operator's log */
  log: [string];
}

/** Flow stats replies are split so no message nears the 64 KiB limit. */
const FLOWS_PER_REPLY = 64;
const TABLES_PER_REPLY = 16;
const PORT_WATCH_MS = 1000;
const OFPC_FLOW_STATS = 1;
const OFPC_TABLE_STATS = 2;
const OFPC_PORT_STATS = 4;
const OFPC_GROUP_STATS = 8;
const OFPC_QUEUE_STATS = 64;
/** The actions a bucket may hold, as ofp_action_type bits (§7.3.5.11): output, push/pop VLAN, set_queue, set_field. */
const GROUP_ACTIONS = (1 << OFPAT.OUTPUT) | (1 << OFPAT.PUSH_VLAN) | (1 << OFPAT.POP_VLAN) | (1 << OFPAT.SET_QUEUE) | (1 << OFPAT.SET_FIELD);

class Channel {
  readonly framer = new MessageFramer();
  ready = false;
  constructor(readonly id: number, readonly socket: Socket, readonly dialled: boolean) {}
  send(msg: OfpMessage): void {
    if (this.socket.destroyed) return;
    this.socket.write(encodeMessage(msg, { checkPrerequisites: false }));
  }
}

export class SoftwareSwitch extends EventEmitter<SwitchEvents> {
  readonly dpid: bigint;
  private readonly worker: Worker;
  private readonly waker: DatapathWaker;
  private readonly counters: Float64Array;
  private readonly channels = new Map<number, Channel>();
  private nextChannel = 1;
  private server: Server | undefined;
  private stopped = false;
  private redial: NodeJS.Timeout | undefined;
  private portWatch: NodeJS.Timeout | undefined;
  private portState: Port[];
  private readonly started = Date.now();
  private bridging = false;
  private missSendLen = 128;
  private xid = 1;

  private constructor(private readonly options: SwitchOptions, worker: Worker, waker: DatapathWaker, counters: Float64Array) {
    super();
    this.worker = worker;
    this.waker = waker;
    this.counters = counters;
    this.portState = options.ports.map((name, i) => describePort(name, i + 1, options.portRatesBps?.[name]));
    this.dpid = options.dpid ?? dpidFromMac(this.portState[0]!.hwAddr);
  }

  /** Opens the ports in the datapath thread, then dials or listens. Rejects with the reason a port could not open. */
  static async start(options: SwitchOptions): Promise<SoftwareSwitch> {
    if (options.ports.length === 0) throw new Error('the switch needs at least one --port');
    for (const name of options.ports) interfaceInfo(name); // a clear error for a missing interface, before any thread starts
    const counters = new SharedArrayBuffer(8 * (options.ports.length * PORT_COUNTERS + DP_COUNTERS));
    const waker = new DatapathWaker();
    const data: DatapathConfig = {
      ports: options.ports,
      batch: options.batch ?? DEFAULT_BATCH,
      datapath: options.datapath ?? 'wasm',
      counters,
      egress: { ratesBps: options.ports.map((name) => options.portRatesBps?.[name] ?? 0), weights: options.queueWeights ?? [], scheduler: options.scheduler ?? 'drr' },
      wake: waker.channel,
    };
    const worker = new Worker(new URL('./datapath-worker.js', import.meta.url), { workerData: data });
    // Closed once the datapath thread is gone (stopped, or failed to start), never while it polls it.
    worker.once('exit', () => waker.close());
    const startupLog: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const onMessage = (e: DatapathEvent): void => {
        if (e.kind === 'log') startupLog.push(e.message);
        if (e.kind === 'ready') resolve();
        else if (e.kind === 'failed') reject(new Error(e.message));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    const sw = new SoftwareSwitch(options, worker, waker, new Float64Array(counters));
    worker.on('message', (e: DatapathEvent) => sw.onDatapath(e));
    worker.on('error', (err) => sw.emit('log', `datapath failed: ${err.message}`));
    if (startupLog.length > 0) {
      // What the datapath said while opening the ports goes to the first 'log' listener.
      const events = sw as EventEmitter;
      const replay = (event: string | symbol): void => {
        if (event !== 'log') return;
        events.off('newListener', replay);
        process.nextTick(() => startupLog.forEach((line) => sw.emit('log', line)));
      };
      events.on('newListener', replay);
    }
    if (options.listen) await sw.listen(options.listen);
    if (options.controller) {
      if (sw.standalone) sw.setStandalone(true);
      sw.dial(options.controller, options.retryMinMs ?? 500);
    }
    sw.portWatch = setInterval(() => sw.watchPorts(), PORT_WATCH_MS);
    sw.portWatch.unref();
    return sw;
  }

  private get standalone(): boolean {
    return this.options.failMode === 'standalone';
  }

  /** Whether frames go through the learning bridge (fail-standalone without a controller). */
  get bridgingNow(): boolean {
    return this.bridging;
  }

  private setStandalone(on: boolean): void {
    if (on === this.bridging) return;
    this.bridging = on;
    this.post({ kind: 'standalone', on });
    this.emit('log', on ? 'no controller: switching as a learning bridge (fail-standalone)' : 'controller connected: switching through its flow table');
  }

  get listenAddress(): AddressInfo | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Frames the parser refused since start (switched on the fields it had). */
  get malformedFrames(): number {
    return this.counters[this.options.ports.length * PORT_COUNTERS + DP_MALFORMED]!;
  }

  get packetInsDropped(): number {
    return this.counters[this.options.ports.length * PORT_COUNTERS + DP_PACKET_IN_DROPPED]!;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.redial) clearTimeout(this.redial);
    if (this.portWatch) clearInterval(this.portWatch);
    for (const ch of this.channels.values()) ch.socket.destroy();
    this.channels.clear();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.post({ kind: 'stop' });
    // The grace timer is cleared as soon as the worker is gone: a pending timer would keep the
    // process alive for the rest of it.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (grace = setTimeout(r, 2000)))]);
    clearTimeout(grace);
    await this.worker.terminate();
  }

  // ---- connections ------------------------------------------------------------------------

  private listen(at: { host: string; port: number }): Promise<void> {
    const server = createServer((socket) => this.attach(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private dial(target: { host: string; port: number }, waitMs: number): void {
    if (this.stopped) return;
    const socket = connect(target.port, target.host);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      this.emit('log', `connected to controller ${target.host}:${target.port}`);
      this.attach(socket, true);
    });
    socket.once('close', () => {
      if (this.stopped) return;
      const min = this.options.retryMinMs ?? 500;
      const next = connected ? min : Math.min(waitMs * 2, this.options.retryMaxMs ?? 8000);
      if (connected) {
        this.emit('log', `lost controller ${target.host}:${target.port}; keeping flows (${this.standalone ? 'fail-standalone' : 'fail-secure'}), redialling`);
        if (this.standalone) this.setStandalone(true);
      }
      this.redial = setTimeout(() => this.dial(target, next), connected ? min : waitMs);
    });
    socket.on('error', () => {});
  }

  private attach(socket: Socket, dialled = false): void {
    socket.setNoDelay(true);
    const ch = new Channel(this.nextChannel++, socket, dialled);
    this.channels.set(ch.id, ch);
    socket.on('error', () => {});
    socket.on('close', () => this.channels.delete(ch.id));
    socket.on('data', (chunk: Buffer) => {
      const { messages, violation } = ch.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      for (const bytes of messages) this.onMessage(ch, bytes);
      if (violation) {
        ch.send({ type: 'error', xid: violation.header.xid, errorType: OFPET.BAD_REQUEST, code: violation.code, data: violation.data });
        socket.end();
      }
    });
    ch.send({ type: 'hello', xid: this.xid++, versions: [4] });
  }

  // ---- messages from a controller -----------------------------------------------------------

  private onMessage(ch: Channel, bytes: Uint8Array): void {
    const head = bytes.slice(0, 64);
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) {
      const xid = bytes.length >= 8 ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(4) : 0;
      const e = decoded.error.ofpError ?? { type: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN };
      ch.send({ type: 'error', xid, errorType: e.type, code: e.code, data: head });
      return;
    }
    const msg = decoded.message;
    if (!ch.ready) {
      if (msg.type !== 'hello') return;
      const versions = msg.versions ?? [bytes[0]!];
      if (!versions.includes(4) && bytes[0]! < 4) {
        ch.send({ type: 'error', xid: msg.xid, errorType: OFPET.HELLO_FAILED, code: OFPHFC.INCOMPATIBLE, data: new TextEncoder().encode('this switch speaks OpenFlow 1.3 (0x04) only') });
        ch.socket.end();
        return;
      }
      ch.ready = true;
      ch.framer.version = 4;
      if (ch.dialled) this.setStandalone(false);
      return;
    }
    const conn = ch.id;
    switch (msg.type) {
      case 'hello':
        return;
      case 'echo_request':
        ch.send({ type: 'echo_reply', xid: msg.xid, data: msg.data });
        return;
      case 'echo_reply':
        return;
      case 'features_request':
        ch.send({
          type: 'features_reply',
          xid: msg.xid,
          datapathId: this.dpid,
          nBuffers: 0,
          nTables: N_TABLES,
          auxiliaryId: 0,
          capabilities: OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS | OFPC_GROUP_STATS | OFPC_QUEUE_STATS,
          reserved: 0,
        });
        return;
      case 'get_config_request':
        ch.send({ type: 'get_config_reply', xid: msg.xid, flags: 0, missSendLen: this.missSendLen });
        return;
      case 'set_config':
        this.missSendLen = msg.missSendLen;
        return;
      case 'role_request':
        ch.send({ type: 'role_reply', xid: msg.xid, role: msg.role === 0 ? 1 : msg.role, generationId: msg.generationId });
        return;
      case 'get_async_request':
        ch.send({ type: 'get_async_reply', xid: msg.xid, packetInMask: [3, 0], portStatusMask: [7, 7], flowRemovedMask: [15, 0] });
        return;
      case 'set_async':
      case 'table_mod':
        return; // OpenFlow 1.3 table config bits are deprecated; async masks are not filtered yet
      case 'barrier_request':
        this.post({ kind: 'barrier', conn, xid: msg.xid });
        return;
      case 'flow_mod':
        this.post({ kind: 'flow_mod', conn, xid: msg.xid, msg, head });
        return;
      case 'meter_mod':
        this.post({ kind: 'meter_mod', conn, xid: msg.xid, msg, head });
        return;
      case 'group_mod':
        this.post({ kind: 'group_mod', conn, xid: msg.xid, msg, head });
        return;
      case 'packet_out':
        this.post({ kind: 'packet_out', conn, xid: msg.xid, msg, head });
        return;
      case 'multipart_request':
        this.onMultipart(ch, msg, head);
        return;
      case 'queue_get_config_request':
        this.post({ kind: 'queue_config', conn, xid: msg.xid, port: msg.port, head });
        return;
      case 'experimenter':
        ch.send({ type: 'error', xid: msg.xid, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_EXPERIMENTER, data: head });
        return;
      default:
        // port_mod and the switch-to-controller types.
        ch.send({ type: 'error', xid: msg.xid, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_TYPE, data: head });
    }
  }

  private onMultipart(ch: Channel, msg: MultipartRequestMessage, head: Uint8Array): void {
    const reply = (body: MultipartReplyBody): void => ch.send({ type: 'multipart_reply', xid: msg.xid, flags: 0, body });
    const body = msg.body;
    switch (body.bodyType) {
      case 'desc':
        reply({ bodyType: 'desc', ...PAYFLOW_SWITCH_DESC, swDesc: 'payflow 0.1.0', serialNum: 'None', dpDesc: this.options.ports.join(',') });
        return;
      case 'port_desc':
        reply({ bodyType: 'port_desc', ports: this.portState });
        return;
      case 'port_stats':
        reply({ bodyType: 'port_stats', stats: this.portStats(body.portNo) });
        return;
      case 'meter_features':
        reply({ bodyType: 'meter_features', maxMeter: 0xffff, bandTypes: (1 << OFPMBT.DROP) | (1 << OFPMBT.DSCP_REMARK), capabilities: OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS, maxBands: 8, maxColor: 0 });
        return;
      case 'group_features':
        reply({ bodyType: 'group_features', ...groupFeatures(GROUP_ACTIONS) });
        return;
      case 'table_features': {
        if (body.tables.length > 0) {
          ch.send({ type: 'error', xid: msg.xid, errorType: OFPET.TABLE_FEATURES_FAILED, code: OFPTFFC.EPERM, data: head });
          return;
        }
        const tables = tableFeatures();
        for (let i = 0; i < tables.length; i += TABLES_PER_REPLY) {
          const more = i + TABLES_PER_REPLY < tables.length ? 1 : 0;
          ch.send({ type: 'multipart_reply', xid: msg.xid, flags: more, body: { bodyType: 'table_features', tables: tables.slice(i, i + TABLES_PER_REPLY) } });
        }
        return;
      }
      case 'flow':
      case 'aggregate':
      case 'table':
      case 'meter':
      case 'meter_config':
      case 'group':
      case 'group_desc':
      case 'queue':
        this.post({ kind: 'multipart', conn: ch.id, xid: msg.xid, body, head });
        return;
      default:
        ch.send({ type: 'error', xid: msg.xid, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_MULTIPART, data: head });
    }
  }

  // ---- events from the datapath -------------------------------------------------------------

  private onDatapath(e: DatapathEvent): void {
    switch (e.kind) {
      case 'error':
        this.channels.get(e.conn)?.send({ type: 'error', xid: e.xid, errorType: e.errorType, code: e.code, data: e.head });
        return;
      case 'barrier':
        this.channels.get(e.conn)?.send({ type: 'barrier_reply', xid: e.xid });
        return;
      case 'queue_config':
        this.channels.get(e.conn)?.send({ type: 'queue_get_config_reply', xid: e.xid, port: e.port, queues: e.queues });
        return;
      case 'multipart': {
        const ch = this.channels.get(e.conn);
        if (!ch) return;
        if (e.body.bodyType === 'flow' && e.body.stats.length > FLOWS_PER_REPLY) {
          const stats = e.body.stats;
          for (let i = 0; i < stats.length; i += FLOWS_PER_REPLY) {
            const more = i + FLOWS_PER_REPLY < stats.length ? 1 : 0;
            ch.send({ type: 'multipart_reply', xid: e.xid, flags: more, body: { bodyType: 'flow', stats: stats.slice(i, i + FLOWS_PER_REPLY) } });
          }
        } else ch.send({ type: 'multipart_reply', xid: e.xid, flags: 0, body: e.body });
        return;
      }
      case 'packet_in':
        this.broadcast({
          type: 'packet_in',
          xid: 0,
          bufferId: OFP_NO_BUFFER,
          totalLen: e.totalLen,
          reason: e.reason,
          tableId: e.tableId,
          cookie: e.cookie,
          match: [{ field: 'in_port', value: e.inPort }],
          data: e.data,
        });
        return;
      case 'flow_removed':
        this.broadcast({ type: 'flow_removed', xid: 0, ...e.msg });
        return;
      case 'log':
        this.emit('log', e.message);
        return;
      default:
        return;
    }
  }

  private broadcast(msg: OfpMessage): void {
    for (const ch of this.channels.values()) if (ch.ready) ch.send(msg);
  }

  private post(req: DatapathRequest): void {
    this.worker.postMessage(req);
    this.waker.posted();
  }

  // ---- ports --------------------------------------------------------------------------------

  private portStats(portNo: number): PortStats[] {
    const age = Date.now() - this.started;
    return this.portState
      .filter((p) => portNo === 0xffffffff || p.portNo === portNo)
      .map((p) => {
        const c = this.counters.subarray((p.portNo - 1) * PORT_COUNTERS, p.portNo * PORT_COUNTERS);
        const n = (i: number): bigint => BigInt(c[i]!);
        return {
          portNo: p.portNo,
          rxPackets: n(C_RX_PACKETS),
          txPackets: n(C_TX_PACKETS),
          rxBytes: n(C_RX_BYTES),
          txBytes: n(C_TX_BYTES),
          rxDropped: n(C_RX_DROPPED),
          txDropped: n(C_TX_DROPPED),
          rxErrors: n(C_RX_ERRORS),
          txErrors: n(C_TX_ERRORS),
          // frames the parser refused: the closest of the spec's receive error counters
          rxFrameErr: n(C_RX_MALFORMED),
          rxOverErr: 0n,
          rxCrcErr: 0n,
          collisions: 0n,
          durationSec: Math.floor(age / 1000),
          durationNsec: (age % 1000) * 1e6,
        };
      });
  }

  /** Reports link changes as port-status OFPPR_MODIFY (§7.4.3). */
  private watchPorts(): void {
    this.portState = this.portState.map((old) => {
      let now: Port;
      try {
        now = describePort(old.name, old.portNo, this.options.portRatesBps?.[old.name]);
      } catch {
        now = { ...old, state: OFPPS.LINK_DOWN };
      }
      if (now.state !== old.state) {
        this.emit('log', `port ${old.portNo} (${old.name}) is ${now.state === OFPPS.LIVE ? 'up' : 'down'}`);
        this.broadcast({ type: 'port_status', xid: 0, reason: OFPPR.MODIFY, desc: now });
      }
      return now;
    });
  }
}

/** A port's description; a shaped port reports its rate as its speed. */
function describePort(name: string, portNo: number, rateBps: number | undefined): Port {
  const info = interfaceInfo(name);
  const speedKbps = rateBps ? Math.max(1, Math.round(rateBps / 1000)) : (info.speedMbps ?? 10_000) * 1000;
  return {
    portNo,
    hwAddr: info.mac,
    name,
    config: 0,
    state: info.up ? OFPPS.LIVE : OFPPS.LINK_DOWN,
    curr: OFPPF['10GB_FD'] | OFPPF.COPPER,
    advertised: 0,
    supported: 0,
    peer: 0,
    currSpeed: speedKbps,
    maxSpeed: speedKbps,
  };
}

/** Like Open vSwitch: the datapath id is the first port's MAC address in the low 48 bits. */
function dpidFromMac(mac: string): bigint {
  return BigInt(`0x${mac.replaceAll(':', '') || '0'}`);
}

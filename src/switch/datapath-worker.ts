// The switch's datapath thread: owns the ports (AF_PACKET sockets), the OpenFlow pipeline
// and the meters, and runs the forwarding loop — take a batch per port from its receive ring
// (or recvmmsg), classify and act on each frame (across ports in arrival order when a port
// queues), send what each port got with one send(2) on its transmit ring (or one sendmmsg),
// hand the receive slots back — in slices of a
// few milliseconds, so that requests from the agent (flow-mods, packet-outs, barriers,
// statistics) are handled between slices, in order. When every port is idle it blocks in
// poll(2) on its ports and on the agent's wake eventfd (wake.ts) instead of spinning: a frame
// or a request ends the wait at once, and only the next flow-expiry check (or, while a shaped
// port has frames to let out, their next departure) bounds it. A port with a rate sends
// through its egress queues (egress-queues.ts, in WebAssembly egress-wasm.ts), which are
// serviced on every turn of the loop.
// In fail-standalone mode, while the agent has no controller, frames bypass the OpenFlow
// tables and go through a learning bridge (standalone.ts); the tables stay as they were.
import { parentPort, workerData } from 'node:worker_threads';
import {
  OFPCML_NO_BUFFER, OFPM, OFPMC, OFPP, type FlowRemovedMessage, type MultipartReplyBody, type MultipartRequestBody, type PacketQueue, type QueueStats,
} from '../openflow/codec/index.js';
import { PortEgress, type PortScheduler } from './egress-queues.js';
import { WasmPortEgress } from './egress-wasm.js';
import { libc, POLLIN } from './libc.js';
import { C_RX_MALFORMED, openPort, PacketPort, PORT_COUNTERS, SLOT_SIZE, type PortIo, type SwitchPort } from './ports.js';
import { Pipeline, type OfError, type PacketSink, type RemovedFlow, type SwitchPipeline } from './pipeline.js';
import { LearningSwitch } from './standalone.js';
import { WakeListener } from './wake.js';
import { WasmPipeline } from './wasm-pipeline.js';
import { DP_COUNTERS, DP_MALFORMED, DP_PACKET_IN_DROPPED, type DatapathConfig, type DatapathEvent, type DatapathRequest } from './protocol.js';

const SLICE_MS = 4;
/** How often idle and hard timeouts are checked; an idle datapath sleeps at most this long. */
const EXPIRY_EVERY_MS = 250;
/** packet-ins allowed per slice; more are dropped and counted, so a flood cannot swamp the agent */
const PACKET_INS_PER_SLICE = 64;

const port = parentPort;
if (!port) throw new Error('datapath-worker runs as a worker thread');
const config = workerData as DatapathConfig;
const wake = new WakeListener(config.wake);
const post = (event: DatapathEvent): void => port.postMessage(event);

const allCounters = new Float64Array(config.counters);
const dpCounters = allCounters.subarray(config.ports.length * PORT_COUNTERS, config.ports.length * PORT_COUNTERS + DP_COUNTERS);
let ports: SwitchPort[];
/** PAYFLOW_SWITCH_IO=mmsg keeps the ports on recvmmsg/sendmmsg (for comparison); rings otherwise. */
const io: PortIo = process.env.PAYFLOW_SWITCH_IO === 'mmsg' ? 'mmsg' : 'ring';
/** PAYFLOW_SWITCH_RING_FRAMES: slots per ring (the receive queue's bound), DEFAULT_RING_FRAMES otherwise. */
const ringFrames = Number(process.env.PAYFLOW_SWITCH_RING_FRAMES) || undefined;
/** PAYFLOW_SWITCH_RX_WAIT_MS: longest wait in a receive ring (0: no bound), DEFAULT_RX_MAX_WAIT_MS otherwise. */
const maxWaitMs = process.env.PAYFLOW_SWITCH_RX_WAIT_MS ? Number(process.env.PAYFLOW_SWITCH_RX_WAIT_MS) : undefined;
try {
  ports = config.ports.map((name, i) => {
    const opened = openPort(name, i + 1, allCounters.subarray(i * PORT_COUNTERS, (i + 1) * PORT_COUNTERS), { batch: config.batch, io, ...(ringFrames ? { ringFrames } : {}), ...(maxWaitMs !== undefined && maxWaitMs >= 0 ? { maxWaitMs } : {}) });
    if (opened.fallback) post({ kind: 'log', message: opened.fallback });
    return opened.port;
  });
} catch (err) {
  post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exit(0);
}
const portNumbers = ports.map((p) => p.portNo);
const validPorts = new Set(portNumbers);
const pipeline: SwitchPipeline = config.datapath === 'ts' ? new Pipeline(() => validPorts) : new WasmPipeline(() => validPorts);
const start = performance.now();
const clock = (): number => performance.now() - start;
const queueWeights = new Map(config.egress.weights);
// A shaped port's scheduler runs in WebAssembly with the wasm datapath; the TypeScript twin otherwise.
const egress: PortScheduler[] = ports.map((_, i) => {
  const rate = config.egress.ratesBps[i] ?? 0;
  return config.datapath === 'ts' || rate <= 0
    ? new PortEgress(rate, queueWeights, config.egress.scheduler, 0, config.egress.limitBytes)
    : new WasmPortEgress(rate, queueWeights, config.egress.scheduler, 0, config.egress.limitBytes);
});
const shapedPorts = ports.filter((_, i) => egress[i]!.shaped);
/** per port: copies a frame its egress lets out into the port's send batch */
const senders = ports.map((p) => (bytes: Uint8Array, at: number, len: number): void => p.queueCopy(bytes, at, len));

let current: SwitchPort = ports[0]!;
const bridge = new LearningSwitch();
let standalone = false;
let packetInBudget = PACKET_INS_PER_SLICE;

const sink: PacketSink = {
  portNumbers,
  output(portNo, frame, at, len, shared, queueId) {
    const out = ports[portNo - 1];
    if (!out) return;
    const queues = egress[portNo - 1]!;
    if (queues.shaped) {
      queues.enqueue(queueId, frame, at, len, pipeline.now);
      return;
    }
    queues.countDirect(queueId, len, pipeline.now);
    // A shared frame is still in its receive slot: a recvmmsg port sends it from there. (`frame`
    // may start at a later slot of the port's receive block: its frames are switched in runs.)
    if (shared && out instanceof PacketPort && current instanceof PacketPort && frame.buffer === current.rx.buffer) {
      out.queueReceived(current, (frame.byteOffset - current.rx.byteOffset + at) / SLOT_SIZE, len);
    } else out.queueCopy(frame, at, len);
  },
  packetIn(frame, at, len, maxLen, reason, tableId, cookie, inPort) {
    if (packetInBudget <= 0) {
      dpCounters[DP_PACKET_IN_DROPPED]!++;
      return;
    }
    packetInBudget--;
    const n = maxLen === OFPCML_NO_BUFFER ? len : Math.min(len, maxLen);
    post({ kind: 'packet_in', reason, tableId, cookie, inPort, totalLen: len, data: frame.slice(at, at + n) });
  },
};

/** Lets out of each shaped port what its rate allows, then sends every port's batch. */
function transmit(now: number): void {
  for (const p of shapedPorts) egress[p.portNo - 1]!.service(now, senders[p.portNo - 1]!);
  for (const out of ports) out.flush();
}

/** frames each port took in this turn of the loop (index: port number - 1) */
const received = new Uint32Array(ports.length);
/** the next of them to switch, while they are switched in arrival order */
const nextFrame = new Uint32Array(ports.length);
/** the port that goes first among frames that arrived at the same time */
let tieBreak = 0;

/** Switches `n` frames of port `p`'s last receive, from its frame `first`. */
function switchFrames(p: SwitchPort, first: number, n: number): void {
  current = p;
  const offset = p.rxFirst + first * p.rxStride;
  const frames = offset === 0 ? p.rx : p.rx.subarray(offset);
  const lengths = first === 0 ? p.rxLengths : p.rxLengths.subarray(first);
  if (standalone) {
    const malformedBefore = bridge.malformed;
    bridge.processBatch(frames, p.rxStride, lengths, n, p.portNo, sink, pipeline.now);
    p.counters[C_RX_MALFORMED]! += bridge.malformed - malformedBefore;
  } else {
    const malformedBefore = pipeline.malformed;
    pipeline.processBatch(frames, p.rxStride, lengths, n, p.portNo, sink);
    p.counters[C_RX_MALFORMED]! += pipeline.malformed - malformedBefore;
  }
}

/**
 * Switches the frames that several ports took in this turn in the order they arrived, so that
 * an egress queue fed by more than one port admits and drops them as a FIFO would. Taken a
 * port's batch at a time, the first port read would get every place freed since the last turn
 * and its senders more than their share of an overloaded port. The order is the kernel's
 * receive stamps; should a frame lack one, each port's batch is taken as spread evenly over the turn.
 * Consecutive frames of one port still go through the pipeline as one batch.
 */
function switchInArrivalOrder(): void {
  let stamped = true;
  for (const p of ports) for (let i = 0; i < received[p.portNo - 1]! && stamped; i++) if (Number.isNaN(p.arrivalMs(i))) stamped = false;
  const arrival = (i: number, frame: number): number => (stamped ? ports[i]!.arrivalMs(frame) : (frame + 0.5) / received[i]!);
  nextFrame.fill(0);
  // Ties (common without stamps: one frame from each port) go to each port in turn.
  tieBreak = tieBreak + 1 >= ports.length ? 0 : tieBreak + 1;
  for (;;) {
    let first = -1;
    let firstAt = Infinity;
    let secondAt = Infinity;
    for (let j = 0, i = tieBreak; j < ports.length; j++, i = i + 1 === ports.length ? 0 : i + 1) {
      if (nextFrame[i]! >= received[i]!) continue;
      const at = arrival(i, nextFrame[i]!);
      if (at < firstAt) {
        secondAt = firstAt;
        firstAt = at;
        first = i;
      } else if (at < secondAt) secondAt = at;
    }
    if (first < 0) return;
    const from = nextFrame[first]!;
    let end = from + 1;
    while (end < received[first]! && arrival(first, end) <= secondAt) end++;
    switchFrames(ports[first]!, from, end - from);
    nextFrame[first] = end;
  }
}

function forwardSlice(): void {
  const deadline = clock() + SLICE_MS;
  packetInBudget = PACKET_INS_PER_SLICE;
  do {
    pipeline.now = clock();
    if (shapedPorts.length > 0) transmit(pipeline.now);
    let got = 0;
    let busyPorts = 0;
    for (const p of ports) {
      const n = p.receive();
      received[p.portNo - 1] = n;
      got += n;
      if (n > 0) busyPorts++;
    }
    if (got > 0) {
      // Only a shaped port queues, so only there does the order between ports decide anything.
      if (busyPorts > 1 && shapedPorts.length > 0) switchInArrivalOrder();
      else for (const p of ports) if (received[p.portNo - 1]! > 0) switchFrames(p, 0, received[p.portNo - 1]!);
      transmit(pipeline.now);
      for (const p of ports) if (received[p.portNo - 1]! > 0) p.release();
    }
    if (got === 0 && idleWait(pipeline.now) <= 0) break;
  } while (clock() < deadline);
  dpCounters[DP_MALFORMED] = pipeline.malformed + bridge.malformed;
}

/** poll(2) set of every port, then the wake eventfd */
const idleFds = new Uint8Array(8 * (ports.length + 1));
{
  const v = new DataView(idleFds.buffer);
  [...ports.map((p) => p.fileDescriptor), wake.fd].forEach((fd, i) => {
    v.setInt32(i * 8, fd, true);
    v.setInt16(i * 8 + 4, POLLIN, true);
  });
}
const wakeRevents = new DataView(idleFds.buffer, ports.length * 8 + 6, 2);

/**
 * Blocks until a port has frames (returns > 0), or a request from the agent, the next expiry
 * check or a shaped port's next departure is due (returns 0: the slice ends so they are seen).
 */
function idleWait(now: number): number {
  if (!wake.sleep()) return 0;
  const ready = libc().poll(idleFds, ports.length + 1, idlePollMs(now));
  const woken = ready > 0 && (wakeRevents.getInt16(0, true) & POLLIN) !== 0;
  wake.awake(woken);
  return woken ? 0 : ready;
}

function idlePollMs(now: number): number {
  for (const p of shapedPorts) if (egress[p.portNo - 1]!.backlog > 0) return 1;
  return Math.max(1, Math.ceil(lastExpiry + EXPIRY_EVERY_MS - now));
}

let lastExpiry = 0;
function expire(): void {
  const now = clock();
  if (now - lastExpiry < EXPIRY_EVERY_MS) return;
  lastExpiry = now;
  reportRemoved(pipeline.expire(now));
}

function reportRemoved(removed: RemovedFlow[]): void {
  for (const { entry: e, reason, nowMs } of removed) {
    if ((e.flags & 1) === 0) continue; // OFPFF_SEND_FLOW_REM
    const age = Math.max(0, nowMs - e.installedAt);
    const msg: Omit<FlowRemovedMessage, 'xid' | 'type'> = {
      cookie: e.cookie,
      priority: e.priority,
      reason,
      tableId: e.tableId,
      durationSec: Math.floor(age / 1000),
      durationNsec: Math.floor((age % 1000) * 1e6),
      idleTimeout: e.idleTimeout,
      hardTimeout: e.hardTimeout,
      packetCount: BigInt(e.packets),
      byteCount: BigInt(e.bytes),
      match: e.match,
    };
    post({ kind: 'flow_removed', msg });
  }
}

function fail(req: { conn: number; xid: number; head: Uint8Array }, e: OfError): void {
  post({ kind: 'error', conn: req.conn, xid: req.xid, errorType: e.errorType, code: e.code, reason: e.reason, head: req.head });
}

function multipart(body: MultipartRequestBody): MultipartReplyBody | OfError {
  switch (body.bodyType) {
    case 'flow': {
      const r = pipeline.flowStats(body);
      return r.ok ? { bodyType: 'flow', stats: r.stats } : r.error;
    }
    case 'aggregate': {
      const r = pipeline.aggregate(body);
      return r.ok ? { bodyType: 'aggregate', packetCount: r.packetCount, byteCount: r.byteCount, flowCount: r.flowCount } : r.error;
    }
    case 'table':
      return { bodyType: 'table', stats: pipeline.tableStats() };
    case 'meter':
      return { bodyType: 'meter', stats: pipeline.meters.stats(body.meterId, clock()) };
    case 'meter_config':
      return { bodyType: 'meter_config', meters: pipeline.meters.configs(body.meterId) };
    case 'group':
      return { bodyType: 'group', stats: pipeline.groupStats(body.groupId) };
    case 'group_desc':
      return { bodyType: 'group_desc', groups: pipeline.groupDescs() };
    case 'queue': {
      const selected = queuePorts(body.portNo);
      if (!Array.isArray(selected)) return selected;
      const now = clock();
      const stats: QueueStats[] = [];
      for (const p of selected) {
        for (const q of egress[p - 1]!.stats(body.queueId)) {
          const age = Math.max(0, now - q.createdAt);
          stats.push({ portNo: p, queueId: q.queueId, txBytes: BigInt(q.txBytes), txPackets: BigInt(q.txPackets), txErrors: BigInt(q.txErrors), durationSec: Math.floor(age / 1000), durationNsec: Math.floor((age % 1000) * 1e6) });
        }
      }
      if (stats.length === 0 && body.queueId !== 0xffffffff) return { errorType: 9, code: 1, reason: `no queue ${body.queueId}` }; // OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_QUEUE
      return { bodyType: 'queue', stats };
    }
    default:
      return { errorType: 1, code: 2, reason: `multipart ${body.bodyType} is not handled by the datapath` }; // OFPBRC_BAD_MULTIPART
  }
}

/** The ports a queue request names (OFPP_ANY: all), or the error for an unknown port. */
function queuePorts(portNo: number): number[] | OfError {
  if (portNo === OFPP.ANY) return portNumbers;
  if (validPorts.has(portNo)) return [portNo];
  return { errorType: 9, code: 0, reason: `no port ${portNo}` }; // OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_PORT
}

/** A port's queues for queue-get-config: under DRR each has min_rate = its weight's share (‰). */
function queueConfig(portNo: number): PacketQueue[] | OfError {
  const selected = queuePorts(portNo);
  if (!Array.isArray(selected)) return selected;
  const queues: PacketQueue[] = [];
  for (const p of selected) {
    const e = egress[p - 1]!;
    const all = e.stats(0xffffffff);
    const total = all.reduce((sum, q) => sum + q.weight, 0);
    for (const q of all) {
      const drr = e.shaped && e.scheduler === 'drr';
      queues.push({ queueId: q.queueId, port: p, properties: drr ? [{ type: 'min_rate', rate: Math.round((1000 * q.weight) / total) }] : [] });
    }
  }
  return queues;
}

function handle(req: DatapathRequest): void {
  pipeline.now = clock();
  switch (req.kind) {
    case 'flow_mod': {
      const r = pipeline.flowMod(req.msg);
      if (r.error) fail(req, r.error);
      reportRemoved(r.removed);
      return;
    }
    case 'group_mod': {
      const r = pipeline.groupMod(req.msg);
      if (r.error) fail(req, r.error);
      reportRemoved(r.removed);
      return;
    }
    case 'meter_mod': {
      const m = req.msg;
      const e = pipeline.meters.modify(m.command, m.flags, m.meterId, m.bands, clock());
      if (e) {
        fail(req, { errorType: 12, code: e.code, reason: e.reason }); // OFPET_METER_MOD_FAILED
        return;
      }
      if (m.command === OFPMC.DELETE) reportRemoved(pipeline.meterDeleted(m.meterId === OFPM.ALL ? OFPM.ALL : m.meterId));
      return;
    }
    case 'packet_out': {
      const m = req.msg;
      const ops = pipeline.compilePacketOutActions(m.actions);
      if (!Array.isArray(ops)) {
        fail(req, ops);
        return;
      }
      if (m.bufferId !== 0xffffffff) {
        fail(req, { errorType: 1, code: 8, reason: 'the switch buffers no packets' }); // OFPBRC_BUFFER_UNKNOWN
        return;
      }
      if (m.inPort !== OFPP.CONTROLLER && m.inPort !== OFPP.ANY && !validPorts.has(m.inPort)) {
        fail(req, { errorType: 1, code: 11, reason: `in_port ${m.inPort}` }); // OFPBRC_BAD_PORT
        return;
      }
      const frame = new Uint8Array(m.data);
      pipeline.packetOut(ops, { frame, at: 0, len: frame.length, inPort: m.inPort, private: true, referenced: false }, sink);
      transmit(clock());
      return;
    }
    case 'multipart': {
      const body = multipart(req.body);
      if ('errorType' in body) fail(req, body);
      else post({ kind: 'multipart', conn: req.conn, xid: req.xid, body });
      return;
    }
    case 'queue_config': {
      const queues = queueConfig(req.port);
      if (!Array.isArray(queues)) fail(req, queues);
      else post({ kind: 'queue_config', conn: req.conn, xid: req.xid, port: req.port, queues });
      return;
    }
    case 'barrier':
      post({ kind: 'barrier', conn: req.conn, xid: req.xid });
      return;
    case 'standalone':
      standalone = req.on;
      bridge.clear();
      return;
    case 'stop':
      for (const p of ports) p.close();
      process.exit(0);
  }
}

port.on('message', (req: DatapathRequest) => {
  wake.handled();
  try {
    handle(req);
  } catch (err) {
    // A request the checks above let through must not take the datapath down.
    if (req.kind !== 'stop' && req.kind !== 'barrier' && req.kind !== 'standalone') fail(req, { errorType: 1, code: 0, reason: `internal error: ${String(err)}` });
  }
});

function loop(): void {
  forwardSlice();
  expire();
  setImmediate(loop);
}

post({ kind: 'ready' });
setImmediate(loop);

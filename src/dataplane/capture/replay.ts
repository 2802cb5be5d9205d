// Replays a capture file through the data plane (`payflow replay`, docs/replay.md): streams the
// packets (classic pcap or pcapng), turns each into an Ethernet frame (other link types get a
// synthetic Ethernet header or are counted as unsupported), hands them to the engine in batches
// with their capture time (ns since the first packet) and ingress port (the pcapng interface
// id), ticks the pricing every `tickNs` of capture time, and gathers per-flow counts and the
// packet rate achieved. Frames that are not IP (ARP, LLDP, ...) have no addresses or ports to
// key a flow by, so they are listed as one row per EtherType. A capture cut short (the file ends inside a record or block, as when
// tcpdump is killed mid-write) is replayed up to the cut and the result says where it ends.
import { Engine } from '../engine.js';
import { ReferenceEngine } from '../reference/engine.js';
import type { DataPlane, EngineCounters } from '../types.js';
import { CaptureError, openCapture, type CaptureFormat } from './index.js';
import { applyReplayRules, type ReplayRules } from './replay-rules.js';
import { etherTypeName, isIpEtherType } from './ethertypes.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETH_HEADER = 14;
/** Frames staged for one batch share this buffer (grown only for an outsize batch). */
const STAGING_BYTES = 1 << 20;

export interface ReplayOptions {
  /** 'wasm' (default): the WebAssembly Engine; 'ts': the ReferenceEngine */
  engine?: 'wasm' | 'ts';
  rules?: ReplayRules;
  /** frames per engine call, 1..1024 (default 256) */
  batchSize?: number;
  /** exact-match flow capacity (default 262144); flows beyond it are counted but not listed */
  flowCapacity?: number;
  /** called about every progressIntervalMs of wall time */
  onProgress?: (p: ReplayProgress) => void;
  progressIntervalMs?: number;
}

export interface ReplayProgress {
  packets: number;
  bytesRead: number;
  fileSize: number;
  elapsedSeconds: number;
}

/**
 * One row of the result: an exact-match IP flow, or (`ip` false) every frame of one non-IP
 * EtherType together, whose src and dst are null and whose IP fields are zero.
 */
export interface ReplayFlow {
  /** the frame's EtherType (after any VLAN tags): 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP, ... */
  etherType: number;
  /** its short name ("ipv4", "arp", "lldp"), null for one without a name */
  etherTypeName: string | null;
  ip: boolean;
  src: string | null;
  dst: string | null;
  proto: number;
  sport: number;
  dport: number;
  flowLabel: number;
  dscp: number;
  packets: number;
  bytes: number;
  /** packets by colour: green, yellow, red */
  colors: [number, number, number];
  charge: number;
  class: number;
}

/** Where a truncated capture ends: everything before `offset` was replayed. */
export interface ReplayTruncation {
  /** byte offset where the incomplete record (pcap) or block (pcapng) starts */
  offset: number;
  /** packet records complete before the cut: all replayed, and counted in `packets` */
  records: number;
  /** size of the file in bytes */
  fileSize: number;
  /** the reader's description of the cut ("record 15 at byte 3310 cut short: ...") */
  message: string;
}

export interface ReplayResult {
  format: CaptureFormat;
  engine: 'wasm' | 'ts';
  /** every packet in the file (truncated: every complete one before the cut) */
  packets: number;
  /** packets the parser refused (any reason but OK) plus packets of an unsupported link type */
  malformed: number;
  unsupportedLinkType: number;
  flows: ReplayFlow[];
  counters: EngineCounters;
  /** capture time from the first to the last packet, ns */
  captureSpanNs: number;
  wallSeconds: number;
  /** time spent inside the engine's batch calls */
  engineSeconds: number;
  classes: { id: number; price: number; demand: number }[];
  /** null when the file ends at a record or block boundary; else where the capture was cut */
  truncated: ReplayTruncation | null;
}

/** Writes packet `data` of link type `linkType` as an Ethernet frame at out[at]; returns its length, or -1 if unsupported. */
export function toEthernet(linkType: number, data: Uint8Array, out: Uint8Array, at: number): number {
  const synth = (etherType: number, payload: Uint8Array): number => {
    out.fill(0, at, at + 12);
    out[at + 12] = etherType >> 8;
    out[at + 13] = etherType & 0xff;
    out.set(payload, at + ETH_HEADER);
    return ETH_HEADER + payload.length;
  };
  const byVersion = (payload: Uint8Array): number => {
    const v = payload.length > 0 ? payload[0]! >> 4 : 0;
    return v === 4 ? synth(0x0800, payload) : v === 6 ? synth(0x86dd, payload) : -1;
  };
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      out.set(data, at);
      return data.length;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return byVersion(data);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // 4-byte address family (NULL: byte order of the capturing host; LOOP: network order)
      if (data.length < 4) return -1;
      const family = data[0] === 0 ? (data[2]! << 8) | data[3]! : data[0]! | (data[1]! << 8);
      const payload = data.subarray(4);
      if (family === 2) return synth(0x0800, payload);
      if (family === 10 || family === 24 || family === 28 || family === 30) return synth(0x86dd, payload);
      return -1;
    }
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_LINUX_SLL2: {
      const header = linkType === LINKTYPE_LINUX_SLL ? 16 : 20;
      if (data.length < header) return -1;
      const protoAt = linkType === LINKTYPE_LINUX_SLL ? 14 : 0;
      const etherType = (data[protoAt]! << 8) | data[protoAt + 1]!;
      if (etherType < 0x600) return -1; // an 802.2 / 802.3 frame, not an EtherType
      return synth(etherType, data.subarray(header));
    }
    default:
      return -1;
  }
}

export async function replayCapture(path: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024) throw new RangeError(`batch size ${batchSize} is not in 1..1024`);
  const reader = await openCapture(path);
  const kind = options.engine ?? 'wasm';
  let engine: DataPlane;
  try {
    const engineOptions = { flowCapacity: options.flowCapacity ?? 262_144 };
    engine = kind === 'ts' ? new ReferenceEngine(engineOptions) : new Engine(engineOptions);
    if (options.rules) applyReplayRules(engine, options.rules);
  } catch (err) {
    await reader.close();
    throw err;
  }
  const rules = options.rules;
  const pricing = rules !== undefined && rules.classes.length > 0;
  const tickNs = rules?.tickNs ?? 1e9;

  let staging = new Uint8Array(STAGING_BYTES);
  let stagedBytes = 0;
  const frames: Uint8Array[] = [];
  const times: number[] = [];
  const ports: number[] = [];
  let packets = 0;
  let unsupported = 0;
  let firstTs: bigint | null = null;
  let lastT = 0;
  let nextTick = tickNs;
  let engineNs = 0n;
  const started = process.hrtime.bigint();
  let lastProgress = Date.now();
  const progressEvery = options.progressIntervalMs ?? 1000;

  const flush = (): void => {
    if (frames.length === 0) return;
    const t0 = process.hrtime.bigint();
    engine.process(frames, times, ports);
    engineNs += process.hrtime.bigint() - t0;
    frames.length = 0;
    times.length = 0;
    ports.length = 0;
    stagedBytes = 0;
  };

  let truncated: ReplayTruncation | null = null;
  try {
    if (pricing) engine.tick(0);
    // the try/catch is around the loop, not in it, to leave the per-packet path as it was
    try {
      for (;;) {
        let p = reader.tryNext();
        if (p === undefined) p = await reader.next();
        if (p === null) break;
        packets++;
        if (firstTs === null) firstTs = p.timestampNs;
        // capture time relative to the first packet; never before it, never backwards
        const rel = Number(p.timestampNs - firstTs);
        const t = rel > lastT ? rel : lastT;
        lastT = t;
        if (pricing && t >= nextTick) {
          flush();
          const boundary = Math.floor(t / tickNs) * tickNs;
          engine.tick(boundary);
          nextTick = boundary + tickNs;
        }
        const need = p.data.length + ETH_HEADER;
        if (stagedBytes + need > staging.length) {
          flush();
          if (need > staging.length) staging = new Uint8Array(need * 2);
        }
        const len = toEthernet(p.linkType, p.data, staging, stagedBytes);
        if (len < 0) {
          unsupported++;
          continue;
        }
        frames.push(staging.subarray(stagedBytes, stagedBytes + len));
        times.push(t);
        ports.push(p.interfaceId); // pcapng: the interface is the ingress port (classic pcap: 0)
        stagedBytes += len;
        if (frames.length === batchSize) flush();
        if (options.onProgress && (packets & 1023) === 0 && Date.now() - lastProgress >= progressEvery) {
          lastProgress = Date.now();
          options.onProgress({
            packets,
            bytesRead: reader.position,
            fileSize: reader.size,
            elapsedSeconds: Number(process.hrtime.bigint() - started) / 1e9,
          });
        }
      }
    } catch (err) {
      // a capture cut short: the packets before the cut are counted and go through the engine
      // below like any others; everything else (corrupt, io) stays an error
      if (!(err instanceof CaptureError) || err.code !== 'truncated') throw err;
      truncated = { offset: err.offset, records: err.packetsBefore, fileSize: reader.size, message: err.message };
    }
    flush();
    if (pricing && lastT > 0) engine.tick(lastT);
  } finally {
    await reader.close();
  }

  const counters = engine.counters();
  let refused = 0;
  counters.reasons.forEach((n, reason) => {
    if (reason !== 0) refused += n;
  });
  const flows: ReplayFlow[] = [];
  const nonIp = new Map<number, ReplayFlow>();
  for (const f of engine.flows()) {
    const packets = f.packets[0] + f.packets[1] + f.packets[2];
    const bytes = f.bytes[0] + f.bytes[1] + f.bytes[2];
    if (isIpEtherType(f.ethertype)) {
      flows.push({
        etherType: f.ethertype,
        etherTypeName: etherTypeName(f.ethertype),
        ip: true,
        src: f.src,
        dst: f.dst,
        proto: f.proto,
        sport: f.sport,
        dport: f.dport,
        flowLabel: f.flowLabel,
        dscp: f.dscp,
        packets,
        bytes,
        colors: [...f.packets],
        charge: f.charge,
        class: f.class,
      });
      continue;
    }
    // the engine keeps one flow per (port, VLAN, EtherType) for these: sum them per EtherType
    let row = nonIp.get(f.ethertype);
    if (!row) {
      row = { etherType: f.ethertype, etherTypeName: etherTypeName(f.ethertype), ip: false, src: null, dst: null, proto: 0, sport: 0, dport: 0, flowLabel: 0, dscp: 0, packets: 0, bytes: 0, colors: [0, 0, 0], charge: 0, class: f.class };
      nonIp.set(f.ethertype, row);
      flows.push(row);
    }
    row.packets += packets;
    row.bytes += bytes;
    for (let c = 0; c < 3; c++) row.colors[c as 0 | 1 | 2] += f.packets[c as 0 | 1 | 2];
    row.charge += f.charge;
  }
  flows.sort((a, b) => b.bytes - a.bytes || b.packets - a.packets);
  return {
    format: reader.format,
    engine: kind,
    packets,
    malformed: refused + unsupported,
    unsupportedLinkType: unsupported,
    flows,
    counters,
    captureSpanNs: lastT,
    wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    engineSeconds: Number(engineNs) / 1e9,
    classes: (rules?.classes ?? []).map((c) => ({ id: c.id, price: engine.price(c.id), demand: engine.demand(c.id) })),
    truncated,
  };
}

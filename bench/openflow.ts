// OpenFlow 1.3 codec benchmarks: decode and encode of the three messages a controller
// handles most — flow-mod (what it sends per reservation), packet-in (what a table miss
// brings) and flow-stats replies (what it polls for accounting). Rates are messages per
// second; `batch` is the number of messages one operation handles. The flow-stats reply
// carries FLOW_STATS_ENTRIES flows, reported in `extra`.
import type { BenchCase, BenchSuite } from './harness.js';
import {
  applyActions,
  decodeMessage,
  encodeMessage,
  flowMod,
  meterInstruction,
  output,
  setField,
  type FlowStats,
  type OfpMessage,
} from '../src/openflow/codec/index.js';

const BATCH = 100;
const FLOW_STATS_ENTRIES = 10;

function reservationFlowMod(i: number): OfpMessage {
  return flowMod({
    xid: i,
    cookie: BigInt(i),
    priority: 1000,
    idleTimeout: 60,
    match: [
      { field: 'in_port', value: 1 },
      { field: 'eth_type', value: 0x86dd },
      { field: 'ipv6_src', value: '2001:db8::10' },
      { field: 'ipv6_dst', value: '2001:db8::20' },
      { field: 'ipv6_flabel', value: 0x12345 + i, mask: 0xfffff },
      { field: 'ip_proto', value: 17 },
      { field: 'udp_dst', value: 5001 },
    ],
    instructions: [meterInstruction(7), applyActions(setField({ field: 'ip_dscp', value: 46 }), output(2))],
  });
}

function tableMissPacketIn(i: number): OfpMessage {
  const frame = new Uint8Array(128);
  frame.fill(0xab);
  return {
    type: 'packet_in',
    xid: i,
    bufferId: 0xffffffff,
    totalLen: frame.length,
    reason: 0,
    tableId: 0,
    cookie: 0n,
    match: [{ field: 'in_port', value: 3 }],
    data: frame,
  };
}

function flowStatsReply(i: number): OfpMessage {
  const stats: FlowStats[] = [];
  for (let n = 0; n < FLOW_STATS_ENTRIES; n++) {
    const mod = reservationFlowMod(n) as Extract<OfpMessage, { type: 'flow_mod' }>;
    stats.push({
      tableId: 0,
      durationSec: 100 + n,
      durationNsec: 500,
      priority: mod.priority,
      idleTimeout: mod.idleTimeout,
      hardTimeout: 0,
      flags: 0,
      cookie: mod.cookie,
      packetCount: BigInt(1000 * n),
      byteCount: BigInt(1_400_000 * n),
      match: mod.match,
      instructions: mod.instructions,
    });
  }
  return { type: 'multipart_reply', xid: i, flags: 0, body: { bodyType: 'flow', stats } };
}

const MESSAGES: { name: string; make: (i: number) => OfpMessage; extra?: Record<string, number> }[] = [
  { name: 'flow_mod', make: reservationFlowMod },
  { name: 'packet_in', make: tableMissPacketIn },
  { name: 'flow_stats_reply', make: flowStatsReply, extra: { flowsPerReply: FLOW_STATS_ENTRIES } },
];

function decodeCase(name: string, make: (i: number) => OfpMessage, extra?: Record<string, number>): BenchCase {
  return {
    name: `openflow.decode.${name}`,
    impl: 'ts',
    batch: BATCH,
    setup() {
      const wire = Array.from({ length: BATCH }, (_, i) => encodeMessage(make(i)));
      let failures = 0;
      return {
        run() {
          for (let i = 0; i < BATCH; i++) if (!decodeMessage(wire[i]!).ok) failures++;
        },
        extra: () => ({ bytesPerMessage: wire[0]!.length, ...(extra ?? {}), ...(failures ? { failures } : {}) }),
      };
    },
  };
}

function encodeCase(name: string, make: (i: number) => OfpMessage, extra?: Record<string, number>): BenchCase {
  return {
    name: `openflow.encode.${name}`,
    impl: 'ts',
    batch: BATCH,
    setup() {
      const messages = Array.from({ length: BATCH }, (_, i) => make(i));
      let bytes = 0;
      return {
        run() {
          for (let i = 0; i < BATCH; i++) bytes = encodeMessage(messages[i]!).length;
        },
        extra: () => ({ bytesPerMessage: bytes, ...(extra ?? {}) }),
      };
    },
  };
}

export const openflowSuite: BenchSuite = {
  name: 'openflow',
  cases: () => MESSAGES.flatMap((m) => [decodeCase(m.name, m.make, m.extra), encodeCase(m.name, m.make, m.extra)]),
};

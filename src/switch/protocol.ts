// The messages between the switch's OpenFlow agent (main thread) and its datapath (a
// worker thread that owns the ports, the flow tables and the meters). Both directions are
// FIFO (worker_threads message ports keep order), which is what makes a barrier reply
// mean "every earlier request has been applied" (OpenFlow 1.3.5 §6.2 "Message Handling").
import type { EgressConfig } from './egress-queues.js';
import type { WakeChannel } from './wake.js';
import type {
  FlowModMessage, FlowRemovedMessage, GroupModMessage, MeterModMessage, MultipartReplyBody, MultipartRequestBody, PacketOutMessage, PacketQueue,
} from '../openflow/codec/index.js';

/** The first bytes of a request, echoed in an error reply (§7.4.4: at least 64). */
type Head = Uint8Array;

export type DatapathRequest =
  | { kind: 'flow_mod'; conn: number; xid: number; msg: FlowModMessage; head: Head }
  | { kind: 'meter_mod'; conn: number; xid: number; msg: MeterModMessage; head: Head }
  | { kind: 'group_mod'; conn: number; xid: number; msg: GroupModMessage; head: Head }
  | { kind: 'packet_out'; conn: number; xid: number; msg: PacketOutMessage; head: Head }
  | { kind: 'multipart'; conn: number; xid: number; body: MultipartRequestBody; head: Head }
  | { kind: 'queue_config'; conn: number; xid: number; port: number; head: Head }
  | { kind: 'barrier'; conn: number; xid: number }
  /** fail-standalone: switch as a learning bridge (true) or through the OpenFlow tables again (false) */
  | { kind: 'standalone'; on: boolean }
  | { kind: 'stop' };

export type DatapathEvent =
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  /** a line for the switch's log (e.g. a port that fell back from rings to recvmmsg) */
  | { kind: 'log'; message: string }
  | { kind: 'error'; conn: number; xid: number; errorType: number; code: number; reason: string; head: Head }
  | { kind: 'barrier'; conn: number; xid: number }
  | { kind: 'multipart'; conn: number; xid: number; body: MultipartReplyBody }
  | { kind: 'queue_config'; conn: number; xid: number; port: number; queues: PacketQueue[] }
  | { kind: 'packet_in'; reason: number; tableId: number; cookie: bigint; inPort: number; totalLen: number; data: Uint8Array }
  | { kind: 'flow_removed'; msg: Omit<FlowRemovedMessage, 'xid' | 'type'> };

export interface DatapathConfig {
  ports: string[];
  batch: number;
  /** port rates, queue weights and the scheduler */
  egress: EgressConfig;
  /** which pipeline switches frames: build/payflow-switch.wasm, or the TypeScript twin */
  datapath: 'wasm' | 'ts';
  /** Float64Array(ports × PORT_COUNTERS) of per-port counters, then DP_COUNTERS datapath counters */
  counters: SharedArrayBuffer;
  /** the agent writes to it after each request, so an idle datapath blocked in poll(2) handles it at once */
  wake: WakeChannel;
}

/** Datapath-wide counters after the per-port ones. */
export const DP_MALFORMED = 0;
export const DP_PACKET_IN_DROPPED = 1;
export const DP_COUNTERS = 2;

// OpenFlow 1.3.5 messages (ONF TS-023 §7.1 header, §7.3 controller-to-switch messages,
// §7.4 asynchronous messages, §7.5 symmetric messages): one TypeScript type per message,
// a discriminated union on `type` (the spec's ofp_type names in snake_case), and
// MESSAGE_TABLE mapping each OFPT_* code to the message's decoder and encoder — the shape
// of Ryu's ofproto_v1_3_parser.py, where every message class registers its parser.
//
// decodeMessage never throws: every failure, including a bug-triggered exception, comes
// back as `{ ok: false, error: { offset, reason } }`. encodeMessage throws OfpEncodeError
// with a path into the message when the input is invalid.
import { OfpEncodeError, Reader, Writer, DecodeFailure, checkBytes, checkUint, checkUint64, show } from './buffer.js';
import { OFPHET_VERSIONBITMAP, OFPT, OFP_HEADER_LEN, OFP_VERSION } from './constants.js';
import { OFPBRC, OFPET } from './errors.js';
import { decodeActions, encodeActions, type Action } from './actions.js';
import { decodeBuckets, encodeBuckets, type Bucket } from './group.js';
import { decodeInstructions, encodeInstructions, type Instruction } from './instructions.js';
import { decodeMeterBands, encodeMeterBands, type MeterBand } from './meter-bands.js';
import { MULTIPART_CODES, MULTIPART_TABLE, type MultipartReplyBody, type MultipartRequestBody } from './multipart.js';
import { decodeMatch, encodeMatch, type Match } from './oxm.js';
import { decodePort, encodePort, writeMac, type Port } from './port.js';
import { decodePacketQueue, encodePacketQueue, type PacketQueue } from './queue.js';
import { formatMac } from '../../util/addresses.js';

// ---- header ---------------------------------------------------------------------------------

/** ofp_header (§7.1) */
export interface OfpHeader {
  version: number;
  type: number;
  length: number;
  xid: number;
}

/** The 8-byte header at `offset`, or undefined when fewer than 8 bytes are there. */
export function readHeader(bytes: Uint8Array, offset = 0): OfpHeader | undefined {
  if (offset < 0 || bytes.length - offset < OFP_HEADER_LEN) return undefined;
  return {
    version: bytes[offset]!,
    type: bytes[offset + 1]!,
    length: (bytes[offset + 2]! << 8) | bytes[offset + 3]!,
    xid: ((bytes[offset + 4]! << 24) | (bytes[offset + 5]! << 16) | (bytes[offset + 6]! << 8) | bytes[offset + 7]!) >>> 0,
  };
}

// ---- message types --------------------------------------------------------------------------

/** Hello (§7.5.1); `versions` from the version-bitmap element, when the peer sent one. */
export interface HelloMessage {
  type: 'hello';
  xid: number;
  versions?: number[];
  /** hello elements other than the version bitmap, kept raw */
  unknownElements?: { elementType: number; data: Uint8Array }[];
}

/**
 * Error (§7.4.4). For OFPET_EXPERIMENTER (0xffff) `code` is the experimenter's exp_type
 * and `experimenter` is set. Names: errorTypeName / errorCodeName in errors.ts.
 */
export interface ErrorMessage {
  type: 'error';
  xid: number;
  errorType: number;
  code: number;
  experimenter?: number;
  /** at least 64 bytes of the failed request, or an ASCII text for HELLO_FAILED */
  data: Uint8Array;
}

export interface EchoMessage {
  type: 'echo_request' | 'echo_reply';
  xid: number;
  data: Uint8Array;
}

/** Experimenter (§7.5.4) */
export interface ExperimenterMessage {
  type: 'experimenter';
  xid: number;
  experimenter: number;
  expType: number;
  data: Uint8Array;
}

/** Messages with nothing after the header. */
export interface EmptyMessage {
  type:
    | 'features_request'
    | 'get_config_request'
    | 'barrier_request'
    | 'barrier_reply'
    | 'get_async_request';
  xid: number;
}

/** Switch features (§7.3.1) */
export interface FeaturesReplyMessage {
  type: 'features_reply';
  xid: number;
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  auxiliaryId: number;
  capabilities: number;
  /** the 32-bit reserved field, kept so a message encodes back unchanged */
  reserved: number;
}

/** Switch configuration (§7.3.2) */
export interface SwitchConfigMessage {
  type: 'get_config_reply' | 'set_config';
  xid: number;
  flags: number;
  missSendLen: number;
}

/** Packet-in (§7.4.1) */
export interface PacketInMessage {
  type: 'packet_in';
  xid: number;
  bufferId: number;
  totalLen: number;
  reason: number;
  tableId: number;
  cookie: bigint;
  match: Match;
  data: Uint8Array;
}

/** Flow removed (§7.4.2) */
export interface FlowRemovedMessage {
  type: 'flow_removed';
  xid: number;
  cookie: bigint;
  priority: number;
  reason: number;
  tableId: number;
  durationSec: number;
  durationNsec: number;
  idleTimeout: number;
  hardTimeout: number;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
}

/** Port status (§7.4.3) */
export interface PortStatusMessage {
  type: 'port_status';
  xid: number;
  reason: number;
  desc: Port;
}

/** Packet-out (§7.3.7) */
export interface PacketOutMessage {
  type: 'packet_out';
  xid: number;
  bufferId: number;
  inPort: number;
  actions: Action[];
  data: Uint8Array;
}

/** Flow table modification (§7.3.4.1) */
export interface FlowModMessage {
  type: 'flow_mod';
  xid: number;
  cookie: bigint;
  cookieMask: bigint;
  tableId: number;
  command: number;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
  flags: number;
  match: Match;
  instructions: Instruction[];
}

/** Group table modification (§7.3.4.2) */
export interface GroupModMessage {
  type: 'group_mod';
  xid: number;
  command: number;
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

/** Port modification (§7.3.4.3) */
export interface PortModMessage {
  type: 'port_mod';
  xid: number;
  portNo: number;
  hwAddr: string;
  config: number;
  mask: number;
  advertise: number;
}

/** Table modification (§7.3.3) */
export interface TableModMessage {
  type: 'table_mod';
  xid: number;
  tableId: number;
  config: number;
}

/** Meter modification (§7.3.4.4) */
export interface MeterModMessage {
  type: 'meter_mod';
  xid: number;
  command: number;
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

/** Multipart request (§7.3.5); `flags` OFPMPF_REQ_MORE = 1 */
export interface MultipartRequestMessage {
  type: 'multipart_request';
  xid: number;
  flags: number;
  body: MultipartRequestBody;
}

/** Multipart reply (§7.3.5); `flags` OFPMPF_REPLY_MORE = 1 */
export interface MultipartReplyMessage {
  type: 'multipart_reply';
  xid: number;
  flags: number;
  body: MultipartReplyBody;
}

/** Queue configuration request (§7.3.6) */
export interface QueueGetConfigRequestMessage {
  type: 'queue_get_config_request';
  xid: number;
  port: number;
}

/** Queue configuration reply (§7.3.6) */
export interface QueueGetConfigReplyMessage {
  type: 'queue_get_config_reply';
  xid: number;
  port: number;
  queues: PacketQueue[];
}

/** Role request and reply (§7.3.9); role is OFPCR_ROLE_* */
export interface RoleMessage {
  type: 'role_request' | 'role_reply';
  xid: number;
  role: number;
  generationId: bigint;
}

/** Asynchronous configuration (§7.3.10): [master/equal mask, slave mask] each */
export interface AsyncConfigMessage {
  type: 'get_async_reply' | 'set_async';
  xid: number;
  packetInMask: [number, number];
  portStatusMask: [number, number];
  flowRemovedMask: [number, number];
}

export type OfpMessage =
  | HelloMessage
  | ErrorMessage
  | EchoMessage
  | ExperimenterMessage
  | EmptyMessage
  | FeaturesReplyMessage
  | SwitchConfigMessage
  | PacketInMessage
  | FlowRemovedMessage
  | PortStatusMessage
  | PacketOutMessage
  | FlowModMessage
  | GroupModMessage
  | PortModMessage
  | TableModMessage
  | MeterModMessage
  | MultipartRequestMessage
  | MultipartReplyMessage
  | QueueGetConfigRequestMessage
  | QueueGetConfigReplyMessage
  | RoleMessage
  | AsyncConfigMessage;

export type OfpMessageType = OfpMessage['type'];
/**
 * The message type `T` of the union, e.g. `OfpMessageOf<'flow_mod'>`. Members that share
 * one interface across several types (EchoMessage is echo_request and echo_reply) are
 * found too, with their `type` narrowed to T.
 */
export type OfpMessageOf<T extends OfpMessageType> = OfpMessage extends infer M
  ? M extends { type: infer U }
    ? T extends U
      ? Omit<M, 'type'> & { type: T }
      : never
    : never
  : never;

export interface OfpDecodeError {
  /** byte offset in the message where decoding failed */
  offset: number;
  reason: string;
  /** the header's message type, when the header could be read */
  type?: number;
  /** the error a switch or controller would answer with (OFPET_BAD_REQUEST, ...) */
  ofpError?: { type: number; code: number };
}

export type OfpDecodeResult = { ok: true; message: OfpMessage } | { ok: false; error: OfpDecodeError };

export interface EncodeOptions {
  /**
   * Check OXM prerequisites (§7.2.3.6) in the matches of flow-mods and flow/aggregate
   * stats requests. Default true; turn off only to reproduce what a peer sent.
   */
  checkPrerequisites?: boolean;
}

// ---- the table ------------------------------------------------------------------------------

interface MessageCodec {
  name: OfpMessageType;
  /** the body after the header, inside `[r.pos, r.end)` */
  decode(r: Reader, xid: number): OfpMessage;
  encode(w: Writer, msg: OfpMessage, path: string, checkPrereqs: boolean): void;
}

function codec<T extends OfpMessageType>(
  name: T,
  decode: (r: Reader, xid: number) => OfpMessageOf<T>,
  encode: (w: Writer, msg: OfpMessageOf<T>, path: string, checkPrereqs: boolean) => void,
): MessageCodec {
  return { name, decode, encode } as unknown as MessageCodec;
}

function emptyCodec(name: EmptyMessage['type']): MessageCodec {
  return codec(
    name,
    (_r, xid) => ({ type: name, xid }),
    () => {},
  );
}

const echoCodec = (name: EchoMessage['type']) =>
  codec(
    name,
    (r, xid) => ({ type: name, xid, data: r.rest() }),
    (w, m, p) => w.bytes(checkBytes(m.data, p, 'data')),
  );

const switchConfigCodec = (name: SwitchConfigMessage['type']) =>
  codec(
    name,
    (r, xid) => {
      const flags = r.u16();
      return { type: name, xid, flags, missSendLen: r.u16() };
    },
    (w, m, p) => {
      w.u16(checkUint(m.flags, 16, p, 'flags'));
      w.u16(checkUint(m.missSendLen, 16, p, 'missSendLen'));
    },
  );

const roleCodec = (name: RoleMessage['type']) =>
  codec(
    name,
    (r, xid) => {
      const role = r.u32();
      r.skip(4);
      return { type: name, xid, role, generationId: r.u64() };
    },
    (w, m, p) => {
      w.u32(checkUint(m.role, 32, p, 'role'));
      w.zeros(4);
      w.u64(checkUint64(m.generationId, p, 'generationId'));
    },
  );

function maskPair(r: Reader): [number, number] {
  return [r.u32(), r.u32()];
}

const asyncCodec = (name: AsyncConfigMessage['type']) =>
  codec(
    name,
    (r, xid) => ({ type: name, xid, packetInMask: maskPair(r), portStatusMask: maskPair(r), flowRemovedMask: maskPair(r) }),
    (w, m, p) => {
      for (const key of ['packetInMask', 'portStatusMask', 'flowRemovedMask'] as const) {
        const pair = m[key];
        if (!Array.isArray(pair) || pair.length !== 2) throw new OfpEncodeError(`${p}.${key}`, 'expected [master, slave] masks');
        w.u32(checkUint(pair[0], 32, `${p}.${key}[0]`));
        w.u32(checkUint(pair[1], 32, `${p}.${key}[1]`));
      }
    },
  );

function decodeHello(r: Reader, xid: number): HelloMessage {
  const msg: HelloMessage = { type: 'hello', xid };
  while (r.pos < r.end) {
    const start = r.pos;
    r.need(4, 'hello element header');
    const elementType = r.u16();
    const length = r.u16();
    if (length < 4) r.fail(`hello element length ${length} < 4`, start + 2);
    r.pos = start;
    r.within(length, 'hello element', () => {
      r.pos += 4;
      if (elementType === OFPHET_VERSIONBITMAP) {
        const versions: number[] = [];
        for (let word = 0; r.remaining() >= 4; word++) {
          const bits = r.u32();
          for (let bit = 0; bit < 32; bit++) if ((bits >>> bit) & 1) versions.push(word * 32 + bit);
        }
        msg.versions = versions;
      } else {
        (msg.unknownElements ??= []).push({ elementType, data: r.rest() });
      }
    });
    // Elements are padded to 8 bytes; a final element may omit its padding.
    r.skip(Math.min(((length + 7) & ~7) - length, r.end - r.pos));
  }
  return msg;
}

function encodeHello(w: Writer, m: HelloMessage, p: string): void {
  if (m.versions !== undefined) {
    if (!Array.isArray(m.versions)) throw new OfpEncodeError(`${p}.versions`, 'expected a list of version numbers');
    let max = 0;
    for (const [i, v] of m.versions.entries()) {
      checkUint(v, 8, `${p}.versions[${i}]`);
      max = Math.max(max, v);
    }
    const words = (max >> 5) + 1;
    const start = w.pos;
    w.u16(OFPHET_VERSIONBITMAP);
    w.u16(4 + 4 * words);
    const bitmap = new Array<number>(words).fill(0);
    for (const v of m.versions) bitmap[v >> 5] = (bitmap[v >> 5]! | (1 << (v & 31))) >>> 0;
    for (const word of bitmap) w.u32(word >>> 0);
    w.pad8(start);
  }
  const elements = m.unknownElements ?? [];
  if (!Array.isArray(elements)) throw new OfpEncodeError(`${p}.unknownElements`, 'expected a list');
  for (const [i, e] of elements.entries()) {
    if (e === null || typeof e !== 'object') throw new OfpEncodeError(`${p}.unknownElements[${i}]`, 'expected an element object');
    const data = checkBytes(e.data, `${p}.unknownElements[${i}].data`);
    const start = w.pos;
    w.u16(checkUint(e.elementType, 16, `${p}.unknownElements[${i}].elementType`));
    w.u16(4 + data.length);
    w.bytes(data);
    w.pad8(start);
  }
}

export const MESSAGE_TABLE: Record<number, MessageCodec> = {
  [OFPT.HELLO]: codec('hello', decodeHello, encodeHello),
  [OFPT.ERROR]: codec(
    'error',
    (r, xid) => {
      const errorType = r.u16();
      if (errorType === OFPET.EXPERIMENTER) {
        const code = r.u16();
        const experimenter = r.u32();
        return { type: 'error', xid, errorType, code, experimenter, data: r.rest() };
      }
      const code = r.u16();
      return { type: 'error', xid, errorType, code, data: r.rest() };
    },
    (w, m, p) => {
      w.u16(checkUint(m.errorType, 16, p, 'errorType'));
      w.u16(checkUint(m.code, 16, p, 'code'));
      if (m.errorType === OFPET.EXPERIMENTER) w.u32(checkUint(m.experimenter ?? 0, 32, p, 'experimenter'));
      w.bytes(checkBytes(m.data, p, 'data'));
    },
  ),
  [OFPT.ECHO_REQUEST]: echoCodec('echo_request'),
  [OFPT.ECHO_REPLY]: echoCodec('echo_reply'),
  [OFPT.EXPERIMENTER]: codec(
    'experimenter',
    (r, xid) => {
      const experimenter = r.u32();
      const expType = r.u32();
      return { type: 'experimenter', xid, experimenter, expType, data: r.rest() };
    },
    (w, m, p) => {
      w.u32(checkUint(m.experimenter, 32, p, 'experimenter'));
      w.u32(checkUint(m.expType, 32, p, 'expType'));
      w.bytes(checkBytes(m.data, p, 'data'));
    },
  ),
  [OFPT.FEATURES_REQUEST]: emptyCodec('features_request'),
  [OFPT.FEATURES_REPLY]: codec(
    'features_reply',
    (r, xid) => {
      const datapathId = r.u64();
      const nBuffers = r.u32();
      const nTables = r.u8();
      const auxiliaryId = r.u8();
      r.skip(2);
      const capabilities = r.u32();
      const reserved = r.u32();
      return { type: 'features_reply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities, reserved };
    },
    (w, m, p) => {
      w.u64(checkUint64(m.datapathId, p, 'datapathId'));
      w.u32(checkUint(m.nBuffers, 32, p, 'nBuffers'));
      w.u8(checkUint(m.nTables, 8, p, 'nTables'));
      w.u8(checkUint(m.auxiliaryId, 8, p, 'auxiliaryId'));
      w.zeros(2);
      w.u32(checkUint(m.capabilities, 32, p, 'capabilities'));
      w.u32(checkUint(m.reserved ?? 0, 32, p, 'reserved'));
    },
  ),
  [OFPT.GET_CONFIG_REQUEST]: emptyCodec('get_config_request'),
  [OFPT.GET_CONFIG_REPLY]: switchConfigCodec('get_config_reply'),
  [OFPT.SET_CONFIG]: switchConfigCodec('set_config'),
  [OFPT.PACKET_IN]: codec(
    'packet_in',
    (r, xid) => {
      const bufferId = r.u32();
      const totalLen = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const cookie = r.u64();
      const match = decodeMatch(r);
      r.skip(2);
      return { type: 'packet_in', xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.rest() };
    },
    (w, m, p) => {
      w.u32(checkUint(m.bufferId, 32, p, 'bufferId'));
      w.u16(checkUint(m.totalLen, 16, p, 'totalLen'));
      w.u8(checkUint(m.reason, 8, p, 'reason'));
      w.u8(checkUint(m.tableId, 8, p, 'tableId'));
      w.u64(checkUint64(m.cookie, p, 'cookie'));
      encodeMatch(w, m.match, `${p}.match`, false);
      w.zeros(2);
      w.bytes(checkBytes(m.data, p, 'data'));
    },
  ),
  [OFPT.FLOW_REMOVED]: codec(
    'flow_removed',
    (r, xid) => {
      const cookie = r.u64();
      const priority = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const durationSec = r.u32();
      const durationNsec = r.u32();
      const idleTimeout = r.u16();
      const hardTimeout = r.u16();
      const packetCount = r.u64();
      const byteCount = r.u64();
      const match = decodeMatch(r);
      return {
        type: 'flow_removed',
        xid,
        cookie,
        priority,
        reason,
        tableId,
        durationSec,
        durationNsec,
        idleTimeout,
        hardTimeout,
        packetCount,
        byteCount,
        match,
      };
    },
    (w, m, p) => {
      w.u64(checkUint64(m.cookie, p, 'cookie'));
      w.u16(checkUint(m.priority, 16, p, 'priority'));
      w.u8(checkUint(m.reason, 8, p, 'reason'));
      w.u8(checkUint(m.tableId, 8, p, 'tableId'));
      w.u32(checkUint(m.durationSec, 32, p, 'durationSec'));
      w.u32(checkUint(m.durationNsec, 32, p, 'durationNsec'));
      w.u16(checkUint(m.idleTimeout, 16, p, 'idleTimeout'));
      w.u16(checkUint(m.hardTimeout, 16, p, 'hardTimeout'));
      w.u64(checkUint64(m.packetCount, p, 'packetCount'));
      w.u64(checkUint64(m.byteCount, p, 'byteCount'));
      encodeMatch(w, m.match, `${p}.match`, false);
    },
  ),
  [OFPT.PORT_STATUS]: codec(
    'port_status',
    (r, xid) => {
      const reason = r.u8();
      r.skip(7);
      return { type: 'port_status', xid, reason, desc: decodePort(r) };
    },
    (w, m, p) => {
      w.u8(checkUint(m.reason, 8, p, 'reason'));
      w.zeros(7);
      encodePort(w, m.desc, `${p}.desc`);
    },
  ),
  [OFPT.PACKET_OUT]: codec(
    'packet_out',
    (r, xid) => {
      const bufferId = r.u32();
      const inPort = r.u32();
      const actionsLen = r.u16();
      r.skip(6);
      const actions = decodeActions(r, actionsLen);
      return { type: 'packet_out', xid, bufferId, inPort, actions, data: r.rest() };
    },
    (w, m, p) => {
      w.u32(checkUint(m.bufferId, 32, p, 'bufferId'));
      w.u32(checkUint(m.inPort, 32, p, 'inPort'));
      const lenAt = w.pos;
      w.u16(0);
      w.zeros(6);
      const start = w.pos;
      encodeActions(w, m.actions, `${p}.actions`);
      w.patch16(lenAt, w.pos - start);
      w.bytes(checkBytes(m.data, p, 'data'));
    },
  ),
  [OFPT.FLOW_MOD]: codec(
    'flow_mod',
    (r, xid) => {
      const cookie = r.u64();
      const cookieMask = r.u64();
      const tableId = r.u8();
      const command = r.u8();
      const idleTimeout = r.u16();
      const hardTimeout = r.u16();
      const priority = r.u16();
      const bufferId = r.u32();
      const outPort = r.u32();
      const outGroup = r.u32();
      const flags = r.u16();
      r.skip(2);
      const match = decodeMatch(r);
      const instructions = decodeInstructions(r);
      return {
        type: 'flow_mod',
        xid,
        cookie,
        cookieMask,
        tableId,
        command,
        idleTimeout,
        hardTimeout,
        priority,
        bufferId,
        outPort,
        outGroup,
        flags,
        match,
        instructions,
      };
    },
    (w, m, p, checkPrereqs) => {
      w.u64(checkUint64(m.cookie, p, 'cookie'));
      w.u64(checkUint64(m.cookieMask, p, 'cookieMask'));
      w.u8(checkUint(m.tableId, 8, p, 'tableId'));
      w.u8(checkUint(m.command, 8, p, 'command'));
      w.u16(checkUint(m.idleTimeout, 16, p, 'idleTimeout'));
      w.u16(checkUint(m.hardTimeout, 16, p, 'hardTimeout'));
      w.u16(checkUint(m.priority, 16, p, 'priority'));
      w.u32(checkUint(m.bufferId, 32, p, 'bufferId'));
      w.u32(checkUint(m.outPort, 32, p, 'outPort'));
      w.u32(checkUint(m.outGroup, 32, p, 'outGroup'));
      w.u16(checkUint(m.flags, 16, p, 'flags'));
      w.zeros(2);
      encodeMatch(w, m.match, `${p}.match`, checkPrereqs);
      encodeInstructions(w, m.instructions, `${p}.instructions`);
    },
  ),
  [OFPT.GROUP_MOD]: codec(
    'group_mod',
    (r, xid) => {
      const command = r.u16();
      const groupType = r.u8();
      r.skip(1);
      const groupId = r.u32();
      return { type: 'group_mod', xid, command, groupType, groupId, buckets: decodeBuckets(r) };
    },
    (w, m, p) => {
      w.u16(checkUint(m.command, 16, p, 'command'));
      w.u8(checkUint(m.groupType, 8, p, 'groupType'));
      w.zeros(1);
      w.u32(checkUint(m.groupId, 32, p, 'groupId'));
      encodeBuckets(w, m.buckets, `${p}.buckets`);
    },
  ),
  [OFPT.PORT_MOD]: codec(
    'port_mod',
    (r, xid) => {
      const portNo = r.u32();
      r.skip(4);
      r.need(8, 'hw_addr');
      const hwAddr = formatMac(r.bytes, r.pos);
      r.skip(8);
      const config = r.u32();
      const mask = r.u32();
      const advertise = r.u32();
      r.skip(4);
      return { type: 'port_mod', xid, portNo, hwAddr, config, mask, advertise };
    },
    (w, m, p) => {
      w.u32(checkUint(m.portNo, 32, p, 'portNo'));
      w.zeros(4);
      writeMac(w, m.hwAddr, `${p}.hwAddr`);
      w.zeros(2);
      w.u32(checkUint(m.config, 32, p, 'config'));
      w.u32(checkUint(m.mask, 32, p, 'mask'));
      w.u32(checkUint(m.advertise, 32, p, 'advertise'));
      w.zeros(4);
    },
  ),
  [OFPT.TABLE_MOD]: codec(
    'table_mod',
    (r, xid) => {
      const tableId = r.u8();
      r.skip(3);
      return { type: 'table_mod', xid, tableId, config: r.u32() };
    },
    (w, m, p) => {
      w.u8(checkUint(m.tableId, 8, p, 'tableId'));
      w.zeros(3);
      w.u32(checkUint(m.config, 32, p, 'config'));
    },
  ),
  [OFPT.MULTIPART_REQUEST]: codec(
    'multipart_request',
    (r, xid) => {
      const start = r.pos;
      const mpType = r.u16();
      const flags = r.u16();
      r.skip(4);
      const entry = MULTIPART_TABLE[mpType];
      if (!entry) multipartFail(mpType, start);
      return { type: 'multipart_request', xid, flags, body: entry.decodeRequest(r) };
    },
    (w, m, p, checkPrereqs) => {
      const code = multipartCode(m.body, p);
      w.u16(code);
      w.u16(checkUint(m.flags, 16, p, 'flags'));
      w.zeros(4);
      MULTIPART_TABLE[code]!.encodeRequest(w, m.body, `${p}.body`, checkPrereqs);
    },
  ),
  [OFPT.MULTIPART_REPLY]: codec(
    'multipart_reply',
    (r, xid) => {
      const start = r.pos;
      const mpType = r.u16();
      const flags = r.u16();
      r.skip(4);
      const entry = MULTIPART_TABLE[mpType];
      if (!entry) multipartFail(mpType, start);
      return { type: 'multipart_reply', xid, flags, body: entry.decodeReply(r) };
    },
    (w, m, p) => {
      const code = multipartCode(m.body, p);
      w.u16(code);
      w.u16(checkUint(m.flags, 16, p, 'flags'));
      w.zeros(4);
      MULTIPART_TABLE[code]!.encodeReply(w, m.body, `${p}.body`);
    },
  ),
  [OFPT.BARRIER_REQUEST]: emptyCodec('barrier_request'),
  [OFPT.BARRIER_REPLY]: emptyCodec('barrier_reply'),
  [OFPT.QUEUE_GET_CONFIG_REQUEST]: codec(
    'queue_get_config_request',
    (r, xid) => {
      const port = r.u32();
      r.skip(4);
      return { type: 'queue_get_config_request', xid, port };
    },
    (w, m, p) => {
      w.u32(checkUint(m.port, 32, p, 'port'));
      w.zeros(4);
    },
  ),
  [OFPT.QUEUE_GET_CONFIG_REPLY]: codec(
    'queue_get_config_reply',
    (r, xid) => {
      const port = r.u32();
      r.skip(4);
      const queues: PacketQueue[] = [];
      while (r.pos < r.end) queues.push(decodePacketQueue(r));
      return { type: 'queue_get_config_reply', xid, port, queues };
    },
    (w, m, p) => {
      w.u32(checkUint(m.port, 32, p, 'port'));
      w.zeros(4);
      if (!Array.isArray(m.queues)) throw new OfpEncodeError(`${p}.queues`, 'expected a list');
      m.queues.forEach((q, i) => encodePacketQueue(w, q, `${p}.queues[${i}]`));
    },
  ),
  [OFPT.ROLE_REQUEST]: roleCodec('role_request'),
  [OFPT.ROLE_REPLY]: roleCodec('role_reply'),
  [OFPT.GET_ASYNC_REQUEST]: emptyCodec('get_async_request'),
  [OFPT.GET_ASYNC_REPLY]: asyncCodec('get_async_reply'),
  [OFPT.SET_ASYNC]: asyncCodec('set_async'),
  [OFPT.METER_MOD]: codec(
    'meter_mod',
    (r, xid) => {
      const command = r.u16();
      const flags = r.u16();
      const meterId = r.u32();
      return { type: 'meter_mod', xid, command, flags, meterId, bands: decodeMeterBands(r) };
    },
    (w, m, p) => {
      w.u16(checkUint(m.command, 16, p, 'command'));
      w.u16(checkUint(m.flags, 16, p, 'flags'));
      w.u32(checkUint(m.meterId, 32, p, 'meterId'));
      encodeMeterBands(w, m.bands, `${p}.bands`);
    },
  ),
};

/** message name → OFPT_* code */
export const MESSAGE_CODES = new Map<string, number>(
  Object.entries(MESSAGE_TABLE).map(([code, c]) => [c.name, Number(code)]),
);

class MultipartTypeFailure extends DecodeFailure {}

/** An unknown OFPMP_* type: its own failure class, so the suggested reply is OFPBRC_BAD_MULTIPART. */
function multipartFail(mpType: number, start: number): never {
  throw new MultipartTypeFailure(start, `unknown multipart type ${mpType}`);
}

function multipartCode(body: { bodyType: string } | undefined, path: string): number {
  if (body === null || typeof body !== 'object') throw new OfpEncodeError(`${path}.body`, 'expected a multipart body');
  const code = MULTIPART_CODES.get(body.bodyType);
  if (code === undefined) throw new OfpEncodeError(`${path}.body.bodyType`, `unknown multipart body type ${show(body.bodyType)}`);
  return code;
}

// ---- entry points ---------------------------------------------------------------------------

/** Decodes one complete message (header included). Never throws. */
export function decodeMessage(bytes: Uint8Array): OfpDecodeResult {
  if (!(bytes instanceof Uint8Array)) {
    return { ok: false, error: { offset: 0, reason: 'input is not a Uint8Array' } };
  }
  const header = readHeader(bytes);
  if (!header) {
    return { ok: false, error: { offset: 0, reason: `truncated header: ${bytes.length} bytes, need ${OFP_HEADER_LEN}` } };
  }
  const type = header.type;
  if (header.length < OFP_HEADER_LEN) {
    return fail(2, `length field ${header.length} < ${OFP_HEADER_LEN}`, type, OFPBRC.BAD_LEN);
  }
  if (header.length !== bytes.length) {
    return fail(2, `length field ${header.length} != ${bytes.length} bytes given`, type, OFPBRC.BAD_LEN);
  }
  // Hello's body is the same in every version (§7.5.1), so it decodes whatever the
  // version, which is what version negotiation needs; everything else must be 1.3.
  if (header.version !== OFP_VERSION && type !== OFPT.HELLO) {
    return fail(0, `version 0x${header.version.toString(16)} is not OpenFlow 1.3 (0x04)`, type, OFPBRC.BAD_VERSION);
  }
  const entry = MESSAGE_TABLE[type];
  if (!entry) return fail(1, `unknown message type ${type}`, type, OFPBRC.BAD_TYPE);
  const r = new Reader(bytes, OFP_HEADER_LEN, header.length);
  try {
    const message = entry.decode(r, header.xid);
    if (r.pos !== r.end) {
      return fail(r.pos, `${r.end - r.pos} unexpected bytes after the ${entry.name} body`, type, OFPBRC.BAD_LEN);
    }
    return { ok: true, message };
  } catch (e) {
    if (e instanceof MultipartTypeFailure) return fail(e.offset, e.reason, type, OFPBRC.BAD_MULTIPART);
    if (e instanceof DecodeFailure) return fail(e.offset, `${entry.name}: ${e.reason}`, type, OFPBRC.BAD_LEN);
    // Not expected: a decoder bug must still not escape as an exception.
    return fail(r.pos, `${entry.name}: internal decoder error: ${e instanceof Error ? e.message : String(e)}`, type, OFPBRC.BAD_LEN);
  }
}

function fail(offset: number, reason: string, type: number, code: number): OfpDecodeResult {
  return { ok: false, error: { offset, reason, type, ofpError: { type: OFPET.BAD_REQUEST, code } } };
}

/** Encodes a message, header included. Throws OfpEncodeError on invalid input. */
export function encodeMessage(msg: OfpMessage, options: EncodeOptions = {}): Uint8Array {
  if (msg === null || typeof msg !== 'object') throw new OfpEncodeError('message', 'expected a message object');
  const code = MESSAGE_CODES.get(msg.type);
  if (code === undefined) throw new OfpEncodeError('message.type', `unknown message type ${show(msg.type)}`);
  const w = new Writer();
  w.u8(OFP_VERSION);
  w.u8(code);
  w.u16(0);
  w.u32(checkUint(msg.xid, 32, msg.type, 'xid'));
  MESSAGE_TABLE[code]!.encode(w, msg, msg.type, options.checkPrerequisites ?? true);
  if (w.pos > 0xffff) throw new OfpEncodeError(msg.type, `message of ${w.pos} bytes exceeds the 65535-byte limit`);
  w.patch16(2, w.pos);
  return w.finish();
}

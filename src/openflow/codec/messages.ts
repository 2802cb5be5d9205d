// OpenFlow 1.3.5 messages (ONF TS-023 §7.1 header, §7.3 controller-to-switch messages,
// §7.4 asynchronous messages, §7.5 symmetric messages): one TypeScript type per message,
// a discriminated union on `type` (the spec's ofp_type names in snake_case), and
// MESSAGE_TABLE mapping each OFPT_* code to the layout of the message's body, from which
// layout.ts derives both its decoder and its encoder — the shape of Ryu's
// ofproto_v1_3_parser.py, where every message class registers its pack string.
//
// decodeMessage never throws: every failure, including a bug-triggered exception, comes
// back as `{ ok: false, error: { offset, reason } }`. encodeMessage throws OfpEncodeError
// with a path into the message when the input is invalid.
import { OfpEncodeError, Reader, Writer, DecodeFailure, checkBytes, checkUint, show } from './buffer.js';
import { OFPHET_VERSIONBITMAP, OFPT, OFP_HEADER_LEN, OFP_VERSION } from './constants.js';
import { OFPBRC, OFPET } from './error-codes.js';
import { actionList, type Action } from './actions.js';
import { checkFlowModSetFields } from './flow-mod-rules.js';
import { bucketList, type Bucket } from './group.js';
import { instructionList, type Instruction } from './instructions.js';
import { bytes, lengthOf, list, mac, pad, struct, tuple, u16, u32, u64, u8, type Member } from './layout.js';
import { meterBandList, type MeterBand } from './meter-bands.js';
import { MULTIPART_CODES, MULTIPART_TABLE, type MultipartReplyBody, type MultipartRequestBody } from './multipart.js';
import { checkedMatch, reportedMatch, type Match } from './oxm.js';
import { PORT, type Port } from './port.js';
import { PACKET_QUEUE, type PacketQueue } from './queue.js';

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
 * and `experimenter` is set. Names: errorTypeName / errorCodeName in error-codes.ts.
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
   * Check the spec's rules beyond the wire layout, which a switch enforces: in the matches
   * of flow-mods and flow/aggregate stats requests, OXM prerequisites present and listed
   * first (§7.2.3.6), no field twice, no value bit outside its mask (§7.2.3.5); in a
   * flow-mod's set-field actions, settable fields only, no mask, prerequisites established
   * (§7.2.5). Default true; turn off only to reproduce what a peer sent.
   */
  checkPrerequisites?: boolean;
}

// ---- the table ------------------------------------------------------------------------------

interface MessageCodec {
  name: OfpMessageType;
  /** the body after the header, inside `[r.pos, r.end)` */
  decode(r: Reader, xid: number): OfpMessage;
  encode(w: Writer, msg: OfpMessage, path: string, checkRules: boolean): void;
}

/** The members of a message's body, after the header (`type` and `xid` live in the header). */
type Body<T extends OfpMessageType> = readonly Member<Omit<OfpMessageOf<T>, 'type' | 'xid'>>[];

/**
 * A message whose body is one layout, plus the spec's rules beyond it (checked after
 * encoding, when the caller asks for rules).
 */
function message<T extends OfpMessageType>(
  name: T,
  members: Body<T>,
  rules?: (msg: OfpMessageOf<T>, path: string) => void,
): MessageCodec {
  const body = struct<Omit<OfpMessageOf<T>, 'type' | 'xid'>>(name, members);
  const decodeBody = body.decoderWith(['type', 'xid']);
  return {
    name,
    decode: (r, xid) => decodeBody(r, name, xid) as unknown as OfpMessage,
    encode(w, msg, path, checkRules) {
      body.writeFrom(w, msg, path, checkRules);
      if (checkRules && rules !== undefined) rules(msg as OfpMessageOf<T>, path);
    },
  };
}

function codec<T extends OfpMessageType>(
  name: T,
  decode: (r: Reader, xid: number) => OfpMessageOf<T>,
  encode: (w: Writer, msg: OfpMessageOf<T>, path: string, checkRules: boolean) => void,
): MessageCodec {
  return { name, decode, encode } as unknown as MessageCodec;
}

const ECHO: Body<'echo_request'> = [['data', bytes]];
const SWITCH_CONFIG: Body<'set_config'> = [['flags', u16], ['missSendLen', u16]];
const ROLE: Body<'role_request'> = [['role', u32], pad(4), ['generationId', u64]];
/** each mask is [master or equal, slave] */
const ASYNC_CONFIG: Body<'set_async'> = [
  ['packetInMask', tuple(2, u32)],
  ['portStatusMask', tuple(2, u32)],
  ['flowRemovedMask', tuple(2, u32)],
];

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

/**
 * Multipart request and reply (§7.3.5): type, flags, 4 bytes of padding, then the body
 * whose layout MULTIPART_TABLE gives for that type. The type code belongs to the body on
 * the TypeScript side (`body.bodyType`) but precedes the flags on the wire, hence this
 * small hand-written frame around the table's layouts.
 */
function multipartMessage(name: 'multipart_request' | 'multipart_reply', side: 'request' | 'reply'): MessageCodec {
  return codec(
    name,
    (r, xid) => {
      const start = r.pos;
      const mpType = r.u16();
      const flags = r.u16();
      r.skip(4);
      const entry = MULTIPART_TABLE[mpType];
      if (!entry) multipartFail(mpType, start);
      const body = entry[side].decode(r, entry.name);
      return { type: name, xid, flags, body } as OfpMessageOf<typeof name>;
    },
    (w, m, p, checkRules) => {
      const code = multipartCode(m.body, p);
      w.u16(code);
      w.u16(checkUint(m.flags, 16, p, 'flags'));
      w.zeros(4);
      MULTIPART_TABLE[code]![side].encode(w, m.body, `${p}.body`, checkRules);
    },
  );
}

/**
 * enum ofp_type → the message's body layout, in the spec's order (§7.1). The layouts are
 * the spec's C structs after their ofp_header, member by member; `pad(n)` is the spec's
 * `uint8_t pad[n]`. Nested structures (ofp_match, ofp_port, ofp_bucket, ...) are the
 * wire types of their own modules.
 */
export const MESSAGE_TABLE: Record<number, MessageCodec> = {
  [OFPT.HELLO]: codec('hello', decodeHello, encodeHello),
  /** ofp_error_msg; for OFPET_EXPERIMENTER, ofp_error_experimenter_msg (exp_type in `code`) */
  [OFPT.ERROR]: message('error', [
    ['errorType', u16],
    ['code', u16],
    ['experimenter', u32, { when: (m) => m.errorType === OFPET.EXPERIMENTER, default: 0 }],
    ['data', bytes],
  ]),
  [OFPT.ECHO_REQUEST]: message('echo_request', ECHO),
  [OFPT.ECHO_REPLY]: message('echo_reply', ECHO),
  /** ofp_experimenter_header */
  [OFPT.EXPERIMENTER]: message('experimenter', [['experimenter', u32], ['expType', u32], ['data', bytes]]),
  [OFPT.FEATURES_REQUEST]: message('features_request', []),
  /** ofp_switch_features */
  [OFPT.FEATURES_REPLY]: message('features_reply', [
    ['datapathId', u64],
    ['nBuffers', u32],
    ['nTables', u8],
    ['auxiliaryId', u8],
    pad(2),
    ['capabilities', u32],
    ['reserved', u32, { default: 0 }],
  ]),
  [OFPT.GET_CONFIG_REQUEST]: message('get_config_request', []),
  /** ofp_switch_config */
  [OFPT.GET_CONFIG_REPLY]: message('get_config_reply', SWITCH_CONFIG),
  [OFPT.SET_CONFIG]: message('set_config', SWITCH_CONFIG),
  /** ofp_packet_in */
  [OFPT.PACKET_IN]: message('packet_in', [
    ['bufferId', u32],
    ['totalLen', u16],
    ['reason', u8],
    ['tableId', u8],
    ['cookie', u64],
    ['match', reportedMatch],
    pad(2),
    ['data', bytes],
  ]),
  /** ofp_flow_removed */
  [OFPT.FLOW_REMOVED]: message('flow_removed', [
    ['cookie', u64],
    ['priority', u16],
    ['reason', u8],
    ['tableId', u8],
    ['durationSec', u32],
    ['durationNsec', u32],
    ['idleTimeout', u16],
    ['hardTimeout', u16],
    ['packetCount', u64],
    ['byteCount', u64],
    ['match', reportedMatch],
  ]),
  /** ofp_port_status */
  [OFPT.PORT_STATUS]: message('port_status', [['reason', u8], pad(7), ['desc', PORT]]),
  /** ofp_packet_out: actions_len counts the bytes of the actions, the frame follows them */
  [OFPT.PACKET_OUT]: message('packet_out', [
    ['bufferId', u32],
    ['inPort', u32],
    lengthOf('actions'),
    pad(6),
    ['actions', actionList],
    ['data', bytes],
  ]),
  /** ofp_flow_mod; its match and set-field actions must also follow the spec's rules */
  [OFPT.FLOW_MOD]: message(
    'flow_mod',
    [
      ['cookie', u64],
      ['cookieMask', u64],
      ['tableId', u8],
      ['command', u8],
      ['idleTimeout', u16],
      ['hardTimeout', u16],
      ['priority', u16],
      ['bufferId', u32],
      ['outPort', u32],
      ['outGroup', u32],
      ['flags', u16],
      pad(2),
      ['match', checkedMatch],
      ['instructions', instructionList],
    ],
    checkFlowModSetFields,
  ),
  /** ofp_group_mod */
  [OFPT.GROUP_MOD]: message('group_mod', [['command', u16], ['groupType', u8], pad(1), ['groupId', u32], ['buckets', bucketList]]),
  /** ofp_port_mod */
  [OFPT.PORT_MOD]: message('port_mod', [
    ['portNo', u32],
    pad(4),
    ['hwAddr', mac],
    pad(2),
    ['config', u32],
    ['mask', u32],
    ['advertise', u32],
    pad(4),
  ]),
  /** ofp_table_mod */
  [OFPT.TABLE_MOD]: message('table_mod', [['tableId', u8], pad(3), ['config', u32]]),
  [OFPT.MULTIPART_REQUEST]: multipartMessage('multipart_request', 'request'),
  [OFPT.MULTIPART_REPLY]: multipartMessage('multipart_reply', 'reply'),
  [OFPT.BARRIER_REQUEST]: message('barrier_request', []),
  [OFPT.BARRIER_REPLY]: message('barrier_reply', []),
  /** ofp_queue_get_config_request */
  [OFPT.QUEUE_GET_CONFIG_REQUEST]: message('queue_get_config_request', [['port', u32], pad(4)]),
  /** ofp_queue_get_config_reply */
  [OFPT.QUEUE_GET_CONFIG_REPLY]: message('queue_get_config_reply', [['port', u32], pad(4), ['queues', list(PACKET_QUEUE)]]),
  /** ofp_role_request */
  [OFPT.ROLE_REQUEST]: message('role_request', ROLE),
  [OFPT.ROLE_REPLY]: message('role_reply', ROLE),
  [OFPT.GET_ASYNC_REQUEST]: message('get_async_request', []),
  /** ofp_async_config */
  [OFPT.GET_ASYNC_REPLY]: message('get_async_reply', ASYNC_CONFIG),
  [OFPT.SET_ASYNC]: message('set_async', ASYNC_CONFIG),
  /** ofp_meter_mod */
  [OFPT.METER_MOD]: message('meter_mod', [['command', u16], ['flags', u16], ['meterId', u32], ['bands', meterBandList]]),
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

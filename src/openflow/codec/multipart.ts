// Multipart messages (OpenFlow 1.3.5 §7.3.5, enum ofp_multipart_type): the request and
// reply bodies of desc, flow, aggregate, table, port stats, queue stats, group, group desc,
// group features, meter, meter config, meter features, table features, port desc and
// experimenter. MULTIPART_TABLE maps each OFPMP_* code to its body name and the wire
// layouts (layout.ts) of its request and reply bodies; a reply split with
// OFPMPF_REPLY_MORE decodes message by message (the runtime concatenates).
import type { Reader, Writer } from './buffer.js';
import { OFPMP } from './constants.js';
import { GROUP_DESC, GROUP_FEATURES, GROUP_STATS, type GroupDesc, type GroupFeatures, type GroupStats } from './group.js';
import { instructionList, type Instruction } from './instructions.js';
import { bytes, list, ownLength, pad, str, struct, u16, u32, u64, u8, type Member, type StructType } from './layout.js';
import { meterBandList, type MeterBand } from './meter-bands.js';
import { checkedMatch, reportedMatch, type Match } from './oxm.js';
import { PORT, type Port } from './port.js';
import { TABLE_FEATURES, type TableFeatures } from './table-features.js';

// ---- body types ----------------------------------------------------------------------------

/** ofp_flow_stats_request / ofp_aggregate_stats_request (§7.3.5.2, §7.3.5.3) */
export interface FlowStatsRequest {
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

/** ofp_flow_stats (§7.3.5.2) */
export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  instructions: Instruction[];
}

/** ofp_desc (§7.3.5.1) */
export interface Desc {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

/** ofp_aggregate_stats_reply (§7.3.5.3) */
export interface AggregateStats {
  packetCount: bigint;
  byteCount: bigint;
  flowCount: number;
}

/** ofp_table_stats (§7.3.5.4) */
export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

/** ofp_port_stats (§7.3.5.6) */
export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  durationSec: number;
  durationNsec: number;
}

/** ofp_queue_stats (§7.3.5.8) */
export interface QueueStats {
  portNo: number;
  queueId: number;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  durationSec: number;
  durationNsec: number;
}

/** ofp_meter_stats (§7.3.5.12) */
export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bandStats: { packetBandCount: bigint; byteBandCount: bigint }[];
}

/** ofp_meter_config (§7.3.5.13) */
export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

/** ofp_meter_features (§7.3.5.14) */
export interface MeterFeatures {
  maxMeter: number;
  bandTypes: number;
  capabilities: number;
  maxBands: number;
  maxColor: number;
}

/** ofp_experimenter_multipart_header (§7.3.5.15) and the bytes that follow */
export interface ExperimenterMultipart {
  experimenter: number;
  expType: number;
  data: Uint8Array;
}

export type MultipartRequestBody =
  | { bodyType: 'desc' }
  | ({ bodyType: 'flow' } & FlowStatsRequest)
  | ({ bodyType: 'aggregate' } & FlowStatsRequest)
  | { bodyType: 'table' }
  | { bodyType: 'port_stats'; portNo: number }
  | { bodyType: 'queue'; portNo: number; queueId: number }
  | { bodyType: 'group'; groupId: number }
  | { bodyType: 'group_desc' }
  | { bodyType: 'group_features' }
  | { bodyType: 'meter'; meterId: number }
  | { bodyType: 'meter_config'; meterId: number }
  | { bodyType: 'meter_features' }
  /** empty `tables` asks for the current features; a list sets them */
  | { bodyType: 'table_features'; tables: TableFeatures[] }
  | { bodyType: 'port_desc' }
  | ({ bodyType: 'experimenter' } & ExperimenterMultipart);

export type MultipartReplyBody =
  | ({ bodyType: 'desc' } & Desc)
  | { bodyType: 'flow'; stats: FlowStats[] }
  | ({ bodyType: 'aggregate' } & AggregateStats)
  | { bodyType: 'table'; stats: TableStats[] }
  | { bodyType: 'port_stats'; stats: PortStats[] }
  | { bodyType: 'queue'; stats: QueueStats[] }
  | { bodyType: 'group'; stats: GroupStats[] }
  | { bodyType: 'group_desc'; groups: GroupDesc[] }
  | ({ bodyType: 'group_features' } & GroupFeatures)
  | { bodyType: 'meter'; stats: MeterStats[] }
  | { bodyType: 'meter_config'; meters: MeterConfig[] }
  | ({ bodyType: 'meter_features' } & MeterFeatures)
  | { bodyType: 'table_features'; tables: TableFeatures[] }
  | { bodyType: 'port_desc'; ports: Port[] }
  | ({ bodyType: 'experimenter' } & ExperimenterMultipart);

export type MultipartBodyType = MultipartRequestBody['bodyType'];
/** One member of the request-body union, e.g. `MultipartRequestBodyOf<'flow'>`. */
export type MultipartRequestBodyOf<K extends MultipartBodyType> = Extract<MultipartRequestBody, { bodyType: K }>;
/** One member of the reply-body union, e.g. `MultipartReplyBodyOf<'meter_config'>`. */
export type MultipartReplyBodyOf<K extends MultipartBodyType> = Extract<MultipartReplyBody, { bodyType: K }>;

// ---- entry layouts (the spec's structs, member by member) --------------------------------

/** ofp_flow_stats_request and ofp_aggregate_stats_request (the same layout) */
const FLOW_STATS_REQUEST: Member<FlowStatsRequest>[] = [
  ['tableId', u8],
  pad(3),
  ['outPort', u32],
  ['outGroup', u32],
  pad(4),
  ['cookie', u64],
  ['cookieMask', u64],
  ['match', checkedMatch],
];

const FLOW_STATS = struct<FlowStats>('flow stats', [
  ownLength,
  ['tableId', u8],
  pad(1),
  ['durationSec', u32],
  ['durationNsec', u32],
  ['priority', u16],
  ['idleTimeout', u16],
  ['hardTimeout', u16],
  ['flags', u16],
  pad(4),
  ['cookie', u64],
  ['packetCount', u64],
  ['byteCount', u64],
  // a switch reports what it has; the match rules are the sender's business
  ['match', reportedMatch],
  ['instructions', instructionList],
]);

const DESC_STR_LEN = 256;
const SERIAL_NUM_LEN = 32;

const TABLE_STATS = struct<TableStats>('table stats', [['tableId', u8], pad(3), ['activeCount', u32], ['lookupCount', u64], ['matchedCount', u64]]);

const PORT_STATS = struct<PortStats>('port stats', [
  ['portNo', u32],
  pad(4),
  ['rxPackets', u64],
  ['txPackets', u64],
  ['rxBytes', u64],
  ['txBytes', u64],
  ['rxDropped', u64],
  ['txDropped', u64],
  ['rxErrors', u64],
  ['txErrors', u64],
  ['rxFrameErr', u64],
  ['rxOverErr', u64],
  ['rxCrcErr', u64],
  ['collisions', u64],
  ['durationSec', u32],
  ['durationNsec', u32],
]);

const QUEUE_STATS = struct<QueueStats>('queue stats', [
  ['portNo', u32],
  ['queueId', u32],
  ['txBytes', u64],
  ['txPackets', u64],
  ['txErrors', u64],
  ['durationSec', u32],
  ['durationNsec', u32],
]);

/** ofp_meter_band_stats */
const METER_BAND_STATS = struct<MeterStats['bandStats'][number]>('meter band stats', [['packetBandCount', u64], ['byteBandCount', u64]]);

/** ofp_meter_stats: its length sits after meter_id */
const METER_STATS = struct<MeterStats>('meter stats', [
  ['meterId', u32],
  ownLength,
  pad(6),
  ['flowCount', u32],
  ['packetInCount', u64],
  ['byteInCount', u64],
  ['durationSec', u32],
  ['durationNsec', u32],
  ['bandStats', list(METER_BAND_STATS)],
]);

const METER_CONFIG = struct<MeterConfig>('meter config', [ownLength, ['flags', u16], ['meterId', u32], ['bands', meterBandList]]);

const EXPERIMENTER: Member<ExperimenterMultipart>[] = [['experimenter', u32], ['expType', u32], ['data', bytes]];

/** ofp_port_multipart_request, ofp_group_multipart_request, ofp_meter_multipart_request: an id and padding */
function idRequest<K extends string>(key: K): Member<Record<K, number>>[] {
  return [[key, u32] as Member<Record<K, number>>, pad(4)];
}

// ---- the table -------------------------------------------------------------------------------

type Req<K extends MultipartBodyType> = Omit<MultipartRequestBodyOf<K>, 'bodyType'>;
type Rep<K extends MultipartBodyType> = Omit<MultipartReplyBodyOf<K>, 'bodyType'>;

/** One side of a multipart type: its body after the multipart header. */
interface BodyCodec {
  decode(r: Reader, bodyType: MultipartBodyType): MultipartRequestBody & MultipartReplyBody;
  encode(w: Writer, body: object, path: string, checkRules: boolean): void;
}

interface MultipartCodec {
  name: MultipartBodyType;
  request: BodyCodec;
  reply: BodyCodec;
}

function bodyCodec<T>(layout: StructType<T>): BodyCodec {
  return { decode: layout.decoderWith(['bodyType']) as BodyCodec['decode'], encode: layout.writeFrom };
}

function entry<K extends MultipartBodyType>(name: K, request: readonly Member<Req<K>>[], reply: readonly Member<Rep<K>>[]): MultipartCodec {
  return { name, request: bodyCodec(struct(`${name} request`, request)), reply: bodyCodec(struct(`${name} reply`, reply)) };
}

/**
 * enum ofp_multipart_type → the layouts of its request and reply bodies (§7.3.5), in
 * the style of Ryu's `_STATS_MSG_TYPES` registry. A body that is an array of entries
 * decodes as many entries as the message holds.
 */
export const MULTIPART_TABLE: Record<number, MultipartCodec> = {
  /** ofp_desc */
  [OFPMP.DESC]: entry(
    'desc',
    [],
    [
      ['mfrDesc', str(DESC_STR_LEN)],
      ['hwDesc', str(DESC_STR_LEN)],
      ['swDesc', str(DESC_STR_LEN)],
      ['serialNum', str(SERIAL_NUM_LEN)],
      ['dpDesc', str(DESC_STR_LEN)],
    ],
  ),
  [OFPMP.FLOW]: entry('flow', FLOW_STATS_REQUEST, [['stats', list(FLOW_STATS)]]),
  /** ofp_aggregate_stats_reply */
  [OFPMP.AGGREGATE]: entry('aggregate', FLOW_STATS_REQUEST, [['packetCount', u64], ['byteCount', u64], ['flowCount', u32], pad(4)]),
  [OFPMP.TABLE]: entry('table', [], [['stats', list(TABLE_STATS)]]),
  [OFPMP.PORT_STATS]: entry('port_stats', idRequest('portNo'), [['stats', list(PORT_STATS)]]),
  /** ofp_queue_stats_request */
  [OFPMP.QUEUE]: entry('queue', [['portNo', u32], ['queueId', u32]], [['stats', list(QUEUE_STATS)]]),
  [OFPMP.GROUP]: entry('group', idRequest('groupId'), [['stats', list(GROUP_STATS)]]),
  [OFPMP.GROUP_DESC]: entry('group_desc', [], [['groups', list(GROUP_DESC)]]),
  [OFPMP.GROUP_FEATURES]: entry('group_features', [], GROUP_FEATURES.members),
  [OFPMP.METER]: entry('meter', idRequest('meterId'), [['stats', list(METER_STATS)]]),
  [OFPMP.METER_CONFIG]: entry('meter_config', idRequest('meterId'), [['meters', list(METER_CONFIG)]]),
  /** ofp_meter_features */
  [OFPMP.METER_FEATURES]: entry(
    'meter_features',
    [],
    [['maxMeter', u32], ['bandTypes', u32], ['capabilities', u32], ['maxBands', u8], ['maxColor', u8], pad(2)],
  ),
  /** an empty list asks for the current features; a list sets them */
  [OFPMP.TABLE_FEATURES]: entry('table_features', [['tables', list(TABLE_FEATURES)]], [['tables', list(TABLE_FEATURES)]]),
  [OFPMP.PORT_DESC]: entry('port_desc', [], [['ports', list(PORT)]]),
  /** ofp_experimenter_multipart_header and the bytes that follow */
  [OFPMP.EXPERIMENTER]: entry('experimenter', EXPERIMENTER, EXPERIMENTER),
};

export const MULTIPART_CODES = new Map<string, number>(
  Object.entries(MULTIPART_TABLE).map(([code, c]) => [c.name, Number(code)]),
);

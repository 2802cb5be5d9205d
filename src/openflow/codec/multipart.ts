// Multipart messages (OpenFlow 1.3.5 §7.3.5, enum ofp_multipart_type): the request and
// reply bodies of desc, flow, aggregate, table, port stats, queue stats, group, group desc,
// group features, meter, meter config, meter features, table features, port desc and
// experimenter. MULTIPART_TABLE maps each OFPMP_* code to its body name and the four
// codec functions, in the style of Ryu's `_STATS_MSG_TYPES` registry. Bodies that are
// arrays of entries decode as many entries as the message holds; a reply split with
// OFPMPF_REPLY_MORE decodes message by message (the runtime concatenates).
import { OfpEncodeError, Reader, Writer, checkBytes, checkUint, checkUint64 } from './buffer.js';
import { OFPMP } from './constants.js';
import {
  decodeGroupDesc,
  decodeGroupFeatures,
  decodeGroupStats,
  encodeGroupDesc,
  encodeGroupFeatures,
  encodeGroupStats,
  type GroupDesc,
  type GroupFeatures,
  type GroupStats,
} from './group.js';
import { decodeInstructions, encodeInstructions, type Instruction } from './instructions.js';
import { decodeMeterBands, encodeMeterBands, type MeterBand } from './meter-bands.js';
import { decodeMatch, encodeMatch, type Match } from './oxm.js';
import { OFP_PORT_LEN, decodePort, encodePort, type Port } from './port.js';
import { decodeTableFeatures, encodeTableFeatures, type TableFeatures } from './table-features.js';

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

const PORT_STATS_COUNTERS = [
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxDropped',
  'txDropped',
  'rxErrors',
  'txErrors',
  'rxFrameErr',
  'rxOverErr',
  'rxCrcErr',
  'collisions',
] as const;

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

// ---- entry codecs ----------------------------------------------------------------------------

function decodeList<T>(r: Reader, one: (r: Reader) => T): T[] {
  const out: T[] = [];
  while (r.pos < r.end) out.push(one(r));
  return out;
}

function encodeList<T>(w: Writer, list: readonly T[], path: string, one: (w: Writer, item: T, path: string) => void): void {
  if (!Array.isArray(list)) throw new OfpEncodeError(path, 'expected a list');
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (item === null || typeof item !== 'object') throw new OfpEncodeError(`${path}[${i}]`, 'expected an object');
    one(w, item, `${path}[${i}]`);
  }
}

function decodeFlowStatsRequest(r: Reader): FlowStatsRequest {
  const tableId = r.u8();
  r.skip(3);
  const outPort = r.u32();
  const outGroup = r.u32();
  r.skip(4);
  const cookie = r.u64();
  const cookieMask = r.u64();
  const match = decodeMatch(r);
  return { tableId, outPort, outGroup, cookie, cookieMask, match };
}

function encodeFlowStatsRequest(w: Writer, b: FlowStatsRequest, path: string, checkPrereqs: boolean): void {
  w.u8(checkUint(b.tableId, 8, path, 'tableId'));
  w.zeros(3);
  w.u32(checkUint(b.outPort, 32, path, 'outPort'));
  w.u32(checkUint(b.outGroup, 32, path, 'outGroup'));
  w.zeros(4);
  w.u64(checkUint64(b.cookie, path, 'cookie'));
  w.u64(checkUint64(b.cookieMask, path, 'cookieMask'));
  encodeMatch(w, b.match, `${path}.match`, checkPrereqs);
}

function decodeFlowStats(r: Reader): FlowStats {
  const start = r.pos;
  r.need(2, 'flow stats length');
  const length = r.u16();
  if (length < 48) r.fail(`flow stats length ${length} < 48`, start);
  r.pos = start;
  const outer = r.enter(length, 'flow stats');
  r.pos += 2;
  const tableId = r.u8();
  r.skip(1);
  const durationSec = r.u32();
  const durationNsec = r.u32();
  const priority = r.u16();
  const idleTimeout = r.u16();
  const hardTimeout = r.u16();
  const flags = r.u16();
  r.skip(4);
  const cookie = r.u64();
  const packetCount = r.u64();
  const byteCount = r.u64();
  const match = decodeMatch(r);
  const instructions = decodeInstructions(r);
  r.leave(outer);
  return { tableId, durationSec, durationNsec, priority, idleTimeout, hardTimeout, flags, cookie, packetCount, byteCount, match, instructions };
}

function encodeFlowStats(w: Writer, s: FlowStats, path: string): void {
  const start = w.pos;
  w.u16(0);
  w.u8(checkUint(s.tableId, 8, path, 'tableId'));
  w.zeros(1);
  w.u32(checkUint(s.durationSec, 32, path, 'durationSec'));
  w.u32(checkUint(s.durationNsec, 32, path, 'durationNsec'));
  w.u16(checkUint(s.priority, 16, path, 'priority'));
  w.u16(checkUint(s.idleTimeout, 16, path, 'idleTimeout'));
  w.u16(checkUint(s.hardTimeout, 16, path, 'hardTimeout'));
  w.u16(checkUint(s.flags, 16, path, 'flags'));
  w.zeros(4);
  w.u64(checkUint64(s.cookie, path, 'cookie'));
  w.u64(checkUint64(s.packetCount, path, 'packetCount'));
  w.u64(checkUint64(s.byteCount, path, 'byteCount'));
  // A switch reports what it has; prerequisites are the sender's business.
  encodeMatch(w, s.match, `${path}.match`, false);
  encodeInstructions(w, s.instructions, `${path}.instructions`);
  const len = w.pos - start;
  if (len > 0xffff) throw new OfpEncodeError(path, 'flow stats entry too long');
  w.patch16(start, len);
}

const DESC_STR_LEN = 256;
const SERIAL_NUM_LEN = 32;

function decodeDesc(r: Reader): Desc {
  r.need(4 * DESC_STR_LEN + SERIAL_NUM_LEN, 'ofp_desc');
  return {
    mfrDesc: r.fixedString(DESC_STR_LEN),
    hwDesc: r.fixedString(DESC_STR_LEN),
    swDesc: r.fixedString(DESC_STR_LEN),
    serialNum: r.fixedString(SERIAL_NUM_LEN),
    dpDesc: r.fixedString(DESC_STR_LEN),
  };
}

function encodeDesc(w: Writer, d: Desc, path: string): void {
  w.fixedString(d.mfrDesc, DESC_STR_LEN, `${path}.mfrDesc`);
  w.fixedString(d.hwDesc, DESC_STR_LEN, `${path}.hwDesc`);
  w.fixedString(d.swDesc, DESC_STR_LEN, `${path}.swDesc`);
  w.fixedString(d.serialNum, SERIAL_NUM_LEN, `${path}.serialNum`);
  w.fixedString(d.dpDesc, DESC_STR_LEN, `${path}.dpDesc`);
}

function decodeTableStats(r: Reader): TableStats {
  r.need(24, 'table stats');
  const tableId = r.u8();
  r.skip(3);
  return { tableId, activeCount: r.u32(), lookupCount: r.u64(), matchedCount: r.u64() };
}

function encodeTableStats(w: Writer, s: TableStats, path: string): void {
  w.u8(checkUint(s.tableId, 8, path, 'tableId'));
  w.zeros(3);
  w.u32(checkUint(s.activeCount, 32, path, 'activeCount'));
  w.u64(checkUint64(s.lookupCount, path, 'lookupCount'));
  w.u64(checkUint64(s.matchedCount, path, 'matchedCount'));
}

function decodePortStats(r: Reader): PortStats {
  r.need(112, 'port stats');
  const portNo = r.u32();
  r.skip(4);
  const s = { portNo } as PortStats;
  for (const key of PORT_STATS_COUNTERS) s[key] = r.u64();
  s.durationSec = r.u32();
  s.durationNsec = r.u32();
  return s;
}

function encodePortStats(w: Writer, s: PortStats, path: string): void {
  w.u32(checkUint(s.portNo, 32, path, 'portNo'));
  w.zeros(4);
  for (const key of PORT_STATS_COUNTERS) w.u64(checkUint64(s[key], `${path}.${key}`));
  w.u32(checkUint(s.durationSec, 32, path, 'durationSec'));
  w.u32(checkUint(s.durationNsec, 32, path, 'durationNsec'));
}

function decodeQueueStats(r: Reader): QueueStats {
  r.need(40, 'queue stats');
  return {
    portNo: r.u32(),
    queueId: r.u32(),
    txBytes: r.u64(),
    txPackets: r.u64(),
    txErrors: r.u64(),
    durationSec: r.u32(),
    durationNsec: r.u32(),
  };
}

function encodeQueueStats(w: Writer, s: QueueStats, path: string): void {
  w.u32(checkUint(s.portNo, 32, path, 'portNo'));
  w.u32(checkUint(s.queueId, 32, path, 'queueId'));
  w.u64(checkUint64(s.txBytes, path, 'txBytes'));
  w.u64(checkUint64(s.txPackets, path, 'txPackets'));
  w.u64(checkUint64(s.txErrors, path, 'txErrors'));
  w.u32(checkUint(s.durationSec, 32, path, 'durationSec'));
  w.u32(checkUint(s.durationNsec, 32, path, 'durationNsec'));
}

function decodeMeterStats(r: Reader): MeterStats {
  const start = r.pos;
  r.need(40, 'meter stats');
  const meterId = r.u32();
  const len = r.u16();
  if (len < 40) r.fail(`meter stats length ${len} < 40`, start + 4);
  r.pos = start;
  return r.within(len, 'meter stats', () => {
    r.pos += 12;
    const flowCount = r.u32();
    const packetInCount = r.u64();
    const byteInCount = r.u64();
    const durationSec = r.u32();
    const durationNsec = r.u32();
    const bandStats: MeterStats['bandStats'] = [];
    while (r.pos < r.end) bandStats.push({ packetBandCount: r.u64(), byteBandCount: r.u64() });
    return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bandStats };
  });
}

function encodeMeterStats(w: Writer, s: MeterStats, path: string): void {
  const start = w.pos;
  w.u32(checkUint(s.meterId, 32, path, 'meterId'));
  w.u16(0);
  w.zeros(6);
  w.u32(checkUint(s.flowCount, 32, path, 'flowCount'));
  w.u64(checkUint64(s.packetInCount, path, 'packetInCount'));
  w.u64(checkUint64(s.byteInCount, path, 'byteInCount'));
  w.u32(checkUint(s.durationSec, 32, path, 'durationSec'));
  w.u32(checkUint(s.durationNsec, 32, path, 'durationNsec'));
  encodeList(w, s.bandStats, `${path}.bandStats`, (w2, b, p) => {
    w2.u64(checkUint64(b.packetBandCount, p, 'packetBandCount'));
    w2.u64(checkUint64(b.byteBandCount, p, 'byteBandCount'));
  });
  w.patch16(start + 4, w.pos - start);
}

function decodeMeterConfig(r: Reader): MeterConfig {
  const start = r.pos;
  r.need(8, 'meter config');
  const length = r.u16();
  if (length < 8) r.fail(`meter config length ${length} < 8`, start);
  r.pos = start;
  return r.within(length, 'meter config', () => {
    r.pos += 2;
    const flags = r.u16();
    const meterId = r.u32();
    return { flags, meterId, bands: decodeMeterBands(r) };
  });
}

function encodeMeterConfig(w: Writer, c: MeterConfig, path: string): void {
  const start = w.pos;
  w.u16(0);
  w.u16(checkUint(c.flags, 16, path, 'flags'));
  w.u32(checkUint(c.meterId, 32, path, 'meterId'));
  encodeMeterBands(w, c.bands, `${path}.bands`);
  w.patch16(start, w.pos - start);
}

function decodeMeterFeatures(r: Reader): MeterFeatures {
  r.need(16, 'meter features');
  const maxMeter = r.u32();
  const bandTypes = r.u32();
  const capabilities = r.u32();
  const maxBands = r.u8();
  const maxColor = r.u8();
  r.skip(2);
  return { maxMeter, bandTypes, capabilities, maxBands, maxColor };
}

function encodeMeterFeatures(w: Writer, f: MeterFeatures, path: string): void {
  w.u32(checkUint(f.maxMeter, 32, path, 'maxMeter'));
  w.u32(checkUint(f.bandTypes, 32, path, 'bandTypes'));
  w.u32(checkUint(f.capabilities, 32, path, 'capabilities'));
  w.u8(checkUint(f.maxBands, 8, path, 'maxBands'));
  w.u8(checkUint(f.maxColor, 8, path, 'maxColor'));
  w.zeros(2);
}

function decodeExperimenter(r: Reader): ExperimenterMultipart {
  const experimenter = r.u32();
  const expType = r.u32();
  return { experimenter, expType, data: r.rest() };
}

function encodeExperimenter(w: Writer, e: ExperimenterMultipart, path: string): void {
  w.u32(checkUint(e.experimenter, 32, path, 'experimenter'));
  w.u32(checkUint(e.expType, 32, path, 'expType'));
  w.bytes(checkBytes(e.data, path, 'data'));
}

function expectEmpty(r: Reader, what: string): void {
  if (r.pos !== r.end) r.fail(`${what} request has an unexpected body of ${r.end - r.pos} bytes`);
}

function u32Pad(r: Reader): number {
  const v = r.u32();
  r.skip(4);
  return v;
}

// ---- the table -------------------------------------------------------------------------------

interface MultipartCodec {
  name: MultipartBodyType;
  decodeRequest(r: Reader): MultipartRequestBody;
  decodeReply(r: Reader): MultipartReplyBody;
  encodeRequest(w: Writer, body: MultipartRequestBody, path: string, checkPrereqs: boolean): void;
  encodeReply(w: Writer, body: MultipartReplyBody, path: string): void;
}

type Req<K extends MultipartBodyType> = MultipartRequestBodyOf<K>;
type Rep<K extends MultipartBodyType> = MultipartReplyBodyOf<K>;

function entry<K extends MultipartBodyType>(c: {
  name: K;
  decodeRequest(r: Reader): Req<K>;
  decodeReply(r: Reader): Rep<K>;
  encodeRequest(w: Writer, body: Req<K>, path: string, checkPrereqs: boolean): void;
  encodeReply(w: Writer, body: Rep<K>, path: string): void;
}): MultipartCodec {
  return c as unknown as MultipartCodec;
}

const noRequestBody = <K extends MultipartBodyType>(name: K) => ({
  decodeRequest: (r: Reader) => {
    expectEmpty(r, name);
    return { bodyType: name } as Req<K>;
  },
  encodeRequest: () => {},
});

export const MULTIPART_TABLE: Record<number, MultipartCodec> = {
  [OFPMP.DESC]: entry({
    name: 'desc',
    ...noRequestBody('desc'),
    decodeReply: (r) => ({ bodyType: 'desc', ...decodeDesc(r) }),
    encodeReply: (w, b, p) => encodeDesc(w, b, p),
  }),
  [OFPMP.FLOW]: entry({
    name: 'flow',
    decodeRequest: (r) => ({ bodyType: 'flow', ...decodeFlowStatsRequest(r) }),
    encodeRequest: (w, b, p, c) => encodeFlowStatsRequest(w, b, p, c),
    decodeReply: (r) => ({ bodyType: 'flow', stats: decodeList(r, decodeFlowStats) }),
    encodeReply: (w, b, p) => encodeList(w, b.stats, `${p}.stats`, encodeFlowStats),
  }),
  [OFPMP.AGGREGATE]: entry({
    name: 'aggregate',
    decodeRequest: (r) => ({ bodyType: 'aggregate', ...decodeFlowStatsRequest(r) }),
    encodeRequest: (w, b, p, c) => encodeFlowStatsRequest(w, b, p, c),
    decodeReply: (r) => {
      r.need(24, 'aggregate stats');
      const packetCount = r.u64();
      const byteCount = r.u64();
      const flowCount = r.u32();
      r.skip(4);
      return { bodyType: 'aggregate', packetCount, byteCount, flowCount };
    },
    encodeReply: (w, b, p) => {
      w.u64(checkUint64(b.packetCount, p, 'packetCount'));
      w.u64(checkUint64(b.byteCount, p, 'byteCount'));
      w.u32(checkUint(b.flowCount, 32, p, 'flowCount'));
      w.zeros(4);
    },
  }),
  [OFPMP.TABLE]: entry({
    name: 'table',
    ...noRequestBody('table'),
    decodeReply: (r) => ({ bodyType: 'table', stats: decodeList(r, decodeTableStats) }),
    encodeReply: (w, b, p) => encodeList(w, b.stats, `${p}.stats`, encodeTableStats),
  }),
  [OFPMP.PORT_STATS]: entry({
    name: 'port_stats',
    decodeRequest: (r) => ({ bodyType: 'port_stats', portNo: u32Pad(r) }),
    encodeRequest: (w, b, p) => {
      w.u32(checkUint(b.portNo, 32, p, 'portNo'));
      w.zeros(4);
    },
    decodeReply: (r) => ({ bodyType: 'port_stats', stats: decodeList(r, decodePortStats) }),
    encodeReply: (w, b, p) => encodeList(w, b.stats, `${p}.stats`, encodePortStats),
  }),
  [OFPMP.QUEUE]: entry({
    name: 'queue',
    decodeRequest: (r) => {
      const portNo = r.u32();
      return { bodyType: 'queue', portNo, queueId: r.u32() };
    },
    encodeRequest: (w, b, p) => {
      w.u32(checkUint(b.portNo, 32, p, 'portNo'));
      w.u32(checkUint(b.queueId, 32, p, 'queueId'));
    },
    decodeReply: (r) => ({ bodyType: 'queue', stats: decodeList(r, decodeQueueStats) }),
    encodeReply: (w, b, p) => encodeList(w, b.stats, `${p}.stats`, encodeQueueStats),
  }),
  [OFPMP.GROUP]: entry({
    name: 'group',
    decodeRequest: (r) => ({ bodyType: 'group', groupId: u32Pad(r) }),
    encodeRequest: (w, b, p) => {
      w.u32(checkUint(b.groupId, 32, p, 'groupId'));
      w.zeros(4);
    },
    decodeReply: (r) => ({ bodyType: 'group', stats: decodeList(r, decodeGroupStats) }),
    encodeReply: (w, b, p) => encodeList(w, b.stats, `${p}.stats`, encodeGroupStats),
  }),
  [OFPMP.GROUP_DESC]: entry({
    name: 'group_desc',
    ...noRequestBody('group_desc'),
    decodeReply: (r) => ({ bodyType: 'group_desc', groups: decodeList(r, decodeGroupDesc) }),
    encodeReply: (w, b, p) => encodeList(w, b.groups, `${p}.groups`, encodeGroupDesc),
  }),
  [OFPMP.GROUP_FEATURES]: entry({
    name: 'group_features',
    ...noRequestBody('group_features'),
    decodeReply: (r) => ({ bodyType: 'group_features', ...decodeGroupFeatures(r) }),
    encodeReply: (w, b, p) => encodeGroupFeatures(w, b, p),
  }),
  [OFPMP.METER]: entry({
    name: 'meter',
    decodeRequest: (r) => ({ bodyType: 'meter', meterId: u32Pad(r) }),
    encodeRequest: (w, b, p) => {
      w.u32(checkUint(b.meterId, 32, p, 'meterId'));
      w.zeros(4);
    },
    decodeReply: (r) => ({ bodyType: 'meter', stats: decodeList(r, decodeMeterStats) }),
    encodeReply: (w, b, p) => encodeList(w, b.stats, `${p}.stats`, encodeMeterStats),
  }),
  [OFPMP.METER_CONFIG]: entry({
    name: 'meter_config',
    decodeRequest: (r) => ({ bodyType: 'meter_config', meterId: u32Pad(r) }),
    encodeRequest: (w, b, p) => {
      w.u32(checkUint(b.meterId, 32, p, 'meterId'));
      w.zeros(4);
    },
    decodeReply: (r) => ({ bodyType: 'meter_config', meters: decodeList(r, decodeMeterConfig) }),
    encodeReply: (w, b, p) => encodeList(w, b.meters, `${p}.meters`, encodeMeterConfig),
  }),
  [OFPMP.METER_FEATURES]: entry({
    name: 'meter_features',
    ...noRequestBody('meter_features'),
    decodeReply: (r) => ({ bodyType: 'meter_features', ...decodeMeterFeatures(r) }),
    encodeReply: (w, b, p) => encodeMeterFeatures(w, b, p),
  }),
  [OFPMP.TABLE_FEATURES]: entry({
    name: 'table_features',
    decodeRequest: (r) => ({ bodyType: 'table_features', tables: decodeList(r, decodeTableFeatures) }),
    encodeRequest: (w, b, p) => encodeList(w, b.tables, `${p}.tables`, encodeTableFeatures),
    decodeReply: (r) => ({ bodyType: 'table_features', tables: decodeList(r, decodeTableFeatures) }),
    encodeReply: (w, b, p) => encodeList(w, b.tables, `${p}.tables`, encodeTableFeatures),
  }),
  [OFPMP.PORT_DESC]: entry({
    name: 'port_desc',
    ...noRequestBody('port_desc'),
    decodeReply: (r) => {
      if ((r.end - r.pos) % OFP_PORT_LEN !== 0) r.fail(`port desc body of ${r.end - r.pos} bytes is not a multiple of ${OFP_PORT_LEN}`);
      return { bodyType: 'port_desc', ports: decodeList(r, decodePort) };
    },
    encodeReply: (w, b, p) => encodeList(w, b.ports, `${p}.ports`, encodePort),
  }),
  [OFPMP.EXPERIMENTER]: entry({
    name: 'experimenter',
    decodeRequest: (r) => ({ bodyType: 'experimenter', ...decodeExperimenter(r) }),
    encodeRequest: (w, b, p) => encodeExperimenter(w, b, p),
    decodeReply: (r) => ({ bodyType: 'experimenter', ...decodeExperimenter(r) }),
    encodeReply: (w, b, p) => encodeExperimenter(w, b, p),
  }),
};

export const MULTIPART_CODES = new Map<string, number>(
  Object.entries(MULTIPART_TABLE).map(([code, c]) => [c.name, Number(code)]),
);

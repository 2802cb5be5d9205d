// The OpenFlow 1.3.5 codec's public API (OpenFlow Switch Specification 1.3.5, ONF TS-023,
// chapter 7 "The OpenFlow Protocol"): message types, decodeMessage / encodeMessage, the
// 8-byte header reader the framing layer needs, the spec's constants and the error
// type/code name tables. Every other module of this folder is an implementation detail
// re-exported here as far as callers need it.
export {
  OFP_VERSION,
  OFP_HEADER_LEN,
  OFP_MAX_MESSAGE_LEN,
  OFPT,
  OFPMP,
  OFPMPF_REQ_MORE,
  OFPMPF_REPLY_MORE,
  OFPP,
  OFPG,
  OFPTT,
  OFPM,
  OFPCML_NO_BUFFER,
  OFPCML_MAX,
  OFP_NO_BUFFER,
  OFPVID_PRESENT,
  OFPVID_NONE,
  OFPXMC,
  OFPIT,
  OFPAT,
  OFPFC,
  OFPFF,
  OFPGC,
  OFPGT,
  OFPMC,
  OFPMF,
  OFPMBT,
  OFPPC,
  OFPPS,
  OFPPF,
  OFPC,
  OFPC_FRAG,
  OFPR,
  OFPRR,
  OFPPR,
  OFPCR_ROLE,
  OFPQT,
  OFPTFPT,
  OFPHET_VERSIONBITMAP,
  NX_EXPERIMENTER_ID,
  ONF_EXPERIMENTER_ID,
} from './constants.js';
export {
  OFPET,
  OFPHFC,
  OFPBRC,
  OFPBAC,
  OFPBIC,
  OFPBMC,
  OFPFMFC,
  OFPGMFC,
  OFPPMFC,
  OFPTMFC,
  OFPQOFC,
  OFPSCFC,
  OFPRRFC,
  OFPMMFC,
  OFPTFFC,
  errorTypeName,
  errorCodeName,
} from './error-codes.js';
export { OfpEncodeError } from './buffer.js';
export { readHeader, decodeMessage, encodeMessage, MESSAGE_TABLE, MESSAGE_CODES } from './messages.js';
export type {
  OfpHeader,
  OfpMessage,
  OfpMessageType,
  OfpMessageOf,
  OfpDecodeResult,
  OfpDecodeError,
  EncodeOptions,
  HelloMessage,
  ErrorMessage,
  EchoMessage,
  ExperimenterMessage,
  EmptyMessage,
  FeaturesReplyMessage,
  SwitchConfigMessage,
  PacketInMessage,
  FlowRemovedMessage,
  PortStatusMessage,
  PacketOutMessage,
  FlowModMessage,
  GroupModMessage,
  PortModMessage,
  TableModMessage,
  MeterModMessage,
  MultipartRequestMessage,
  MultipartReplyMessage,
  QueueGetConfigRequestMessage,
  QueueGetConfigReplyMessage,
  RoleMessage,
  AsyncConfigMessage,
} from './messages.js';
export { MULTIPART_TABLE } from './multipart.js';
export type {
  MultipartRequestBody,
  MultipartReplyBody,
  MultipartBodyType,
  MultipartRequestBodyOf,
  MultipartReplyBodyOf,
  FlowStatsRequest,
  FlowStats,
  Desc,
  AggregateStats,
  TableStats,
  PortStats,
  QueueStats,
  MeterStats,
  MeterConfig,
  MeterFeatures,
  ExperimenterMultipart,
} from './multipart.js';
export { OXM_FIELD_NAMES, checkPrerequisites } from './oxm.js';
export type { Oxm, OxmKnown, OxmUnknown, OxmId, OxmFieldName, OxmValueOf, Match } from './oxm.js';
export type { Action, ActionType } from './actions.js';
export type { Instruction } from './instructions.js';
export type { MeterBand } from './meter-bands.js';
export type { Bucket, GroupStats, GroupDesc, GroupFeatures } from './group.js';
export type { Port } from './port.js';
export type { PacketQueue, QueueProperty } from './queue.js';
export type { TableFeatures, TableFeatureProperty, TlvId } from './table-features.js';
export {
  OFP_DEFAULT_PRIORITY,
  flowMod,
  meterMod,
  packetOut,
  flowStatsRequest,
  portStatsRequest,
  meterStatsRequest,
  meterConfigRequest,
  output,
  setField,
  applyActions,
  writeActions,
  meterInstruction,
  gotoTable,
  dropBand,
  ipv4Mask,
  ipv6Mask,
} from './builders.js';
export { formatIpv6, parseIpv4, formatIpv4 } from '../../util/addresses.js';
export { toJsonSafe } from './inspect.js';
export type { JsonSafe } from './inspect.js';

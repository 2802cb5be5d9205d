// The library's public exports: `import { ... } from 'payflow'`.
export { runSuites, formatTable } from '../bench/harness.js';
export type { BenchCase, BenchSuite, BenchResult, BenchOptions } from '../bench/harness.js';
// Payments (ledgers, redemption, channels, signed quotes, ledger HTTP service) and the SQLite store: docs/payments.md.
export * from './payments/index.js';
export * from './store/index.js';
// OpenFlow 1.3 codec (docs/openflow.md): the entry points flat, the whole codec as `openflowCodec`.
export * as openflowCodec from './openflow/codec/index.js';
export { decodeMessage, encodeMessage, readHeader, OfpEncodeError, errorTypeName, errorCodeName, OFP_VERSION, OFP_HEADER_LEN } from './openflow/codec/index.js';
export type { OfpMessage, OfpMessageType, OfpMessageOf, OfpHeader, OfpDecodeResult, OfpDecodeError, EncodeOptions as OfpEncodeOptions } from './openflow/codec/index.js';
// OpenFlow 1.3 runtime: framing, switch connections, the listener (docs/openflow-runtime.md).
export { MessageFramer } from './openflow/framing.js';
export type { FramerOptions, FramerOutput, FramingViolation } from './openflow/framing.js';
export { SwitchConnection, REPLY_TYPE, formatDatapathId } from './openflow/connection.js';
export type { ConnectionOptions, ConnectionEvents, ConnectionState, RequestType, Request as OfpRequest, ReplyOf, MessageOf, Outgoing, RoleName } from './openflow/connection.js';
export { OpenFlowListener, OFP_TCP_PORT } from './openflow/listener.js';
export type { ListenerOptions, ListenerEvents } from './openflow/listener.js';
export { appendMultipartBody, MultipartMismatchError } from './openflow/multipart.js';
export { OpenFlowRuntimeError, OfpErrorReply, ConnectionClosedError, RequestTimeoutError, HelloFailedError, ReplyDecodeError, OutboundQueueFullError } from './openflow/errors.js';
// Controller foundations (docs/configuration.md): payflow.yaml config, units, topology and LLDP, QoS classes and admission control.
export * from './config/index.js';
export { parseRate, parseDuration, rateBps, durationMs, formatRate, formatDuration, UnitsError, MAX_RATE_BPS, MAX_DURATION_MS, type UnitsResult, type RateLimits, type DurationLimits } from './util/units.js';
export * from './controller/index.js';
export * from './qos/index.js';

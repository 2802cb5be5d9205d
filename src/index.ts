// The library's public exports: `import { ... } from 'payflow'`.
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
export { SwitchConnection, REPLY_TYPE } from './openflow/connection.js';
export type { ConnectionOptions, ConnectionEvents, ConnectionState, RequestType, Request as OfpRequest, ReplyOf, MessageOf, Outgoing, RoleName } from './openflow/connection.js';
export { OpenFlowListener, OFP_TCP_PORT } from './openflow/listener.js';
export type { ListenerOptions, ListenerEvents } from './openflow/listener.js';
export { appendMultipartBody, MultipartMismatchError } from './openflow/multipart.js';
export { OpenFlowRuntimeError, OfpErrorReply, ConnectionClosedError, RequestTimeoutError, HelloFailedError, ReplyDecodeError, OutboundQueueFullError } from './openflow/errors.js';
// Controller foundations (docs/configuration.md): payflow.yaml config, units, topology and LLDP, QoS classes and admission control.
export * from './config/index.js';
export { parseRate, parseDuration, rateBps, durationMs, formatRate, formatDuration, UnitsError, MAX_RATE_BPS, MAX_DURATION_MS, type UnitsResult, type RateLimits, type DurationLimits } from './util/units.js';
export * from './network/index.js';
export * from './qos/index.js';
// Meters and prices, twins of the wasm ones (docs/pricing-meters.md); capture files and replay (docs/replay.md).
export { ReferenceMeters, Color, meterErrorText, ReferencePricing, classErrorText, openCapture, CaptureReader, CaptureError, detectCaptureFormat, replayCapture, loadReplayRules, parseReplayRules, RulesFileError, type CapturePacket, type CaptureFormat, type CaptureErrorCode, type ReplayOptions, type ReplayResult, type ReplayTruncation, type ReplayFlow, type ReplayProgress, type ReplayRules } from './dataplane/capture/exports.js';
// Data plane (docs/dataplane.md): the wasm Engine, its TypeScript twin and their shared types.
export { Engine, ReferenceEngine, defaultWasmPath, DataPlaneError, Action as DataPlaneAction, Reason as DataPlaneReason, reasonName as dataPlaneReasonName, encodeKey, decodeKey, dataplaneLayout, type DataPlane, type FlowKeyFields, type RuleAction, type WildcardRule, type PortMatch, type FlowRecord, type EngineCounters, type EngineOptions, type Verdict, type BatchResult, type MeterParams, type ClassParams } from './dataplane/index.js';
// Controller, reservation side (docs/controller.md): the reservation service, its vocabulary, refusals and tables, pricing agent, HTTP API and its errors, client, startController.
export { ReservationService, type ReservationServiceOptions } from './reservations/service.js';
export { RESERVATION_STATES, pathView, pathFromView, type ReservationState, type QuoteRequest, type ExtensionQuoteRequest, type PaymentRequest, type QuoteView, type ReservationView, type PathView } from './reservations/types.js';
export { Refusal, type RefusalCode } from './reservations/refusal.js';
export { ReservationStore, type StoredQuote, type StoredReservation, type RecordedPayment } from './reservations/store.js';
export { controllerMigrations, CONTROLLER_COMPONENT } from './reservations/migrations.js';
export { startController, StaticNetwork, type StartOptions, type RunningController } from './app/main.js';
export { PricingAgent, type PricingEngine, type PricingAgentOptions, type ClassPrice, type PricePoint, type ClassRevenue } from './pricing/agent.js';
export { buildApi, type ApiOptions } from './api/server.js';
export { startLedgerApi } from './api/ledger-server.js';
export { REFUSAL_STATUS, errorResponse, type ErrorBody } from './api/errors.js';
export { createMetrics, type MetricsSources } from './api/metrics.js';
export { ApiClient, ApiError, type MenuView } from './api/client.js';

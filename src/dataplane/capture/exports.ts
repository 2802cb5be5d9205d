// The public surface of the meters/pricing twins and the capture/replay area, re-exported by
// src/index.ts in one block (docs/pricing-meters.md, docs/replay.md).
export { ReferenceMeters, Color, meterErrorText } from '../reference/meter.js';
export { ReferencePricing, classErrorText } from '../reference/pricing.js';
export { openCapture, CaptureReader, CaptureError, detectCaptureFormat } from './index.js';
export type { CapturePacket, CaptureFormat, CaptureErrorCode } from './index.js';
export { replayCapture } from './replay.js';
export type { ReplayOptions, ReplayResult, ReplayFlow, ReplayProgress, ReplayTruncation } from './replay.js';
export { loadReplayRules, parseReplayRules, RulesFileError } from './replay-rules.js';
export type { ReplayRules } from './replay-rules.js';

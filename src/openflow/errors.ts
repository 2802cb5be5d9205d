// Typed errors of the OpenFlow runtime. The central one, OfpErrorReply, is an OFPT_ERROR
// message a switch sent in answer to one of our requests (OpenFlow Switch Specification
// 1.3.5, ONF TS-023, §7.4.4 "Error Message"), turned into an exception that names its
// type and code the way the spec does (OFPET_METER_MOD_FAILED / OFPMMFC_BAD_BAND).
import { errorCodeName, errorTypeName, type ErrorMessage, type OfpDecodeError } from './codec/index.js';

/** Base class: `instanceof OpenFlowRuntimeError` catches everything the runtime throws. */
export class OpenFlowRuntimeError extends Error {
  override readonly name: string = 'OpenFlowRuntimeError';
}

/** The switch answered a request with OFPT_ERROR. */
export class OfpErrorReply extends OpenFlowRuntimeError {
  override readonly name = 'OfpErrorReply';
  /** numeric OFPET_* type and its code */
  readonly errorType: number;
  readonly code: number;
  /** 'OFPET_METER_MOD_FAILED' */
  readonly typeName: string;
  /** 'OFPMMFC_BAD_BAND' */
  readonly codeName: string;
  /** set for OFPET_EXPERIMENTER errors */
  readonly experimenter: number | undefined;
  /** the start of the refused request as the switch echoed it (§7.4.4: at least 64 bytes) */
  readonly data: Uint8Array;
  readonly xid: number;
  /** the message type of the request that failed, when known ('meter_mod') */
  readonly requestType: string | undefined;
  readonly datapathId: bigint | undefined;

  constructor(error: ErrorMessage, context: { requestType?: string; datapathId?: bigint } = {}) {
    const typeName = errorTypeName(error.errorType);
    const codeName = error.experimenter !== undefined ? `experimenter 0x${error.experimenter.toString(16)} type ${error.code}` : errorCodeName(error.errorType, error.code);
    super(`switch refused ${context.requestType ?? 'request'} (xid ${error.xid}): ${typeName} / ${codeName}`);
    this.errorType = error.errorType;
    this.code = error.code;
    this.typeName = typeName;
    this.codeName = codeName;
    this.experimenter = error.experimenter;
    this.data = error.data;
    this.xid = error.xid;
    this.requestType = context.requestType;
    this.datapathId = context.datapathId;
  }
}

/** The connection closed (or was closed) while a request waited for its reply. */
export class ConnectionClosedError extends OpenFlowRuntimeError {
  override readonly name = 'ConnectionClosedError';
  constructor(readonly reason: string) {
    super(`OpenFlow connection closed: ${reason}`);
  }
}

/** No reply within the request's timeout. */
export class RequestTimeoutError extends OpenFlowRuntimeError {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly requestType: string,
    readonly xid: number,
    readonly timeoutMs: number,
  ) {
    super(`no reply to ${requestType} (xid ${xid}) within ${timeoutMs} ms`);
  }
}

/** Version negotiation failed (§6.3.1): the peer does not speak OpenFlow 1.3. */
export class HelloFailedError extends OpenFlowRuntimeError {
  override readonly name = 'HelloFailedError';
  constructor(
    message: string,
    /** versions the peer offered (bitmap, or its header version) */
    readonly peerVersions: number[],
  ) {
    super(message);
  }
}

/** A reply arrived that the codec could not decode; the request it answers fails with this. */
export class ReplyDecodeError extends OpenFlowRuntimeError {
  override readonly name = 'ReplyDecodeError';
  constructor(readonly decodeError: OfpDecodeError) {
    super(`undecodable reply at byte ${decodeError.offset}: ${decodeError.reason}`);
  }
}

/** The outbound queue would exceed its limit: the peer reads too slowly. */
export class OutboundQueueFullError extends OpenFlowRuntimeError {
  override readonly name = 'OutboundQueueFullError';
  constructor(
    readonly queuedBytes: number,
    readonly limitBytes: number,
  ) {
    super(`outbound queue full: ${queuedBytes} bytes queued, limit ${limitBytes}`);
  }
}

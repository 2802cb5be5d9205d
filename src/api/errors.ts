// How the HTTP API answers an error (RFC 9110 section 15 status codes): every error is
// JSON `{ "error": { "code", "message", ...details } }` with a fitting status. This module is
// the one place where the reservation side's refusal codes become statuses (the table
// below: 400 bad input, 402 payment problems, 404 unknown id, 409 a conflict with the
// current state — no capacity, with the bottleneck link and the largest rate that fits
// now —, 410 expired quote, 422 unknown host or a reused Idempotency-Key, 401 an unsigned or
// badly signed request, 403 a request by someone who is not the owner, 429 too many
// requests, 503 the switches or the price function failed), and where fastify's own
// errors (schema, JSON, media type, size) are answered.
import type { FastifyError } from 'fastify';
import { Refusal, type RefusalCode } from '../reservations/refusal.js';

export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

const PAYMENT = 402;

/** The HTTP status of each refusal. */
export const REFUSAL_STATUS: Readonly<Record<RefusalCode, number>> = {
  bad_request: 400,
  bad_rate: 400,
  bad_duration: 400,
  bad_address: 400,
  bad_match: 400,
  unknown_class: 400,
  price_too_large: 400,
  bad_quote: 400,
  wrong_quote: 400,
  bad_payment: 400,
  unknown_host: 422,
  no_path: 422,
  capacity_unavailable: 409,
  capacity_unknown: 409,
  duplicate: 409,
  flow_label_in_use: 409,
  quote_used: 409,
  class_withdrawn: 409,
  channel_bound: 409,
  channel_expiring: 409,
  beyond_channel: 409,
  payment_usable: 409,
  unknown_payment: 404,
  not_payer: 403,
  grace_expired: 410,
  faucet_disabled: 403,
  not_active: 409,
  unknown_quote: 404,
  unknown_reservation: 404,
  quote_expired: 410,
  price_unavailable: 503,
  enforcement_failed: 503,
  too_many_active: 409,
  // who may do what: 401 the request does not prove who sent it, 403 the sender may not
  signature_missing: 401,
  signature_malformed: 401,
  signature_invalid: 401,
  signature_stale: 401,
  signature_replayed: 401,
  token_missing: 401,
  token_invalid: 401,
  not_owner: 403,
  not_allowed: 403,
  idempotency_mismatch: 422,
  idempotency_in_progress: 409,
  rate_limited: 429,
  refund_unsupported: 409,
  refund_failed: 503,
  // the ledger's reasons
  unknown: PAYMENT,
  not_final: PAYMENT,
  wrong_recipient: PAYMENT,
  too_little: PAYMENT,
  memo_mismatch: PAYMENT,
  already_redeemed: PAYMENT,
  bad_signature: PAYMENT,
  // the payment channel's reasons
  replayed: PAYMENT,
  reordered: PAYMENT,
  over_deposit: PAYMENT,
  unknown_channel: PAYMENT,
  closed: PAYMENT,
  malformed: PAYMENT,
  wrong_ledger: PAYMENT,
  channels_unavailable: PAYMENT,
};

/**
 * Refusals that clients have always seen under a broader code: a quote whose class was
 * withdrawn is answered as 'unknown_class' (with 409, since the quote was valid when made).
 */
const SENT_AS: Partial<Record<RefusalCode, string>> = { class_withdrawn: 'unknown_class' };

export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof Refusal) {
    return { status: REFUSAL_STATUS[err.code], body: { error: { ...err.details, code: SENT_AS[err.code] ?? err.code, message: err.message } } };
  }
  if (!(err instanceof Error)) return internal();
  const fe = err as FastifyError;
  if (fe.validation) return answer(400, 'bad_request', fe.message);
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) return answer(400, 'bad_json', 'the body is not valid JSON');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return answer(400, 'bad_json', 'the body is empty');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return answer(415, 'unsupported_media_type', 'send application/json');
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return answer(413, 'too_large', 'the body is too large');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return answer(fe.statusCode, 'bad_request', fe.message);
  return internal();
}

/** No route matches the request. */
export function routeNotFound(method: string, url: string): { status: number; body: ErrorBody } {
  return answer(404, 'not_found', `no route ${method} ${url}`);
}

function answer(status: number, code: string, message: string): { status: number; body: ErrorBody } {
  return { status, body: { error: { code, message } } };
}

function internal(): { status: number; body: ErrorBody } {
  return answer(500, 'internal', 'internal error');
}

// Why the reservation side says no: a Refusal carries a stable code (part of the public
// contract: clients branch on it), a message for people, and details for programs (the
// bottleneck link of a capacity refusal). Refusals say nothing about transport: the HTTP
// API decides which status each code gets (src/api/errors.ts).
import type { AdmissionRefusal, Bottleneck } from '../qos/admission.js';
import type { PreorderResult } from '../qos/quote.js';
import type { RefusalReason as LedgerRefusal } from '../payments/ledger.js';
import type { VoucherRefusal } from '../payments/channels.js';

export type RefusalCode =
  // the request itself
  | 'bad_request'
  | 'bad_rate'
  | 'bad_duration'
  | 'bad_address'
  | 'bad_match'
  | 'unknown_class'
  | 'price_too_large'
  | 'unknown_host'
  | 'no_path'
  // capacity and price
  | 'capacity_unavailable'
  | 'capacity_unknown'
  | 'duplicate'
  /** the IPv6 flow label is held by another active reservation of the same source */
  | 'flow_label_in_use'
  | 'price_unavailable'
  // quotes
  | 'bad_quote'
  | 'unknown_quote'
  | 'wrong_quote'
  | 'quote_used'
  | 'quote_expired'
  /** the class a quote was made for is no longer offered (the configuration changed) */
  | 'class_withdrawn'
  // payments: the ledger's and the payment channel's own reasons, and ours
  | LedgerRefusal
  | VoucherRefusal
  | 'bad_payment'
  | 'wrong_ledger'
  | 'channels_unavailable'
  | 'channel_bound'
  /** the channel times out sooner than reservations.channelMinLifetime */
  | 'channel_expiring'
  /** the voucher would buy time past the channel's timeout minus the settlement margin */
  | 'beyond_channel'
  // payments that could not buy what they were sent for
  /** the payment can still buy its quote: use it (it is not stranded) */
  | 'payment_usable'
  /** no payment to the operator with this proof names a quote of this controller */
  | 'unknown_payment'
  /** signed by someone other than the payment's payer */
  | 'not_payer'
  /** the claim came after reservations.stranded.grace */
  | 'grace_expired'
  /** on a production ledger: minting is for testbed ledgers only */
  | 'faucet_disabled'
  // reservations
  | 'unknown_reservation'
  | 'not_active'
  /** the switches did not take it; the payment was not consumed */
  | 'enforcement_failed'
  /** the payer already holds reservations.maxActivePerPayer reservations in force */
  | 'too_many_active'
  // who may do what
  /** signed, but not by the reservation's owner */
  | 'not_owner'
  /** an operator token without the scope this needs */
  | 'not_allowed'
  | 'signature_missing'
  | 'signature_malformed'
  /** the signature does not verify, or its key is unknown */
  | 'signature_invalid'
  /** the signed timestamp is outside the accepted window */
  | 'signature_stale'
  /** the nonce was used before */
  | 'signature_replayed'
  /** a route that needs an operator token (minting) was called without one */
  | 'token_missing'
  | 'token_invalid'
  // retries and limits
  /** an Idempotency-Key reused with another request */
  | 'idempotency_mismatch'
  /** the first request with this Idempotency-Key has not finished */
  | 'idempotency_in_progress'
  | 'rate_limited'
  // refunds
  /** this ledger cannot pay a cancellation's refund back */
  | 'refund_unsupported'
  /** the refund transfer was refused by the ledger; the reservation stays active */
  | 'refund_failed';

export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export function capacityRefusal(classId: string, requestedBps: number, maxFitBps: number, bottleneck: Bottleneck): Refusal {
  return new Refusal('capacity_unavailable', `${requestedBps} bit/s of ${classId} does not fit on ${bottleneck.resource}: at most ${maxFitBps} bit/s fits now`, {
    classId,
    requestedBps,
    maxFitBps,
    bottleneck,
  });
}

type QuoteRefusal = Extract<PreorderResult, { ok: false }>['refusal'];

/** Admission control's and the preorder's refusals in the reservation side's words. */
export function admissionRefusal(refusal: AdmissionRefusal | QuoteRefusal): Refusal {
  switch (refusal.code) {
    case 'insufficient-capacity':
      return capacityRefusal(refusal.classId, refusal.requestedBps, refusal.maxFitBps, refusal.bottleneck);
    case 'unknown-class':
      return new Refusal('unknown_class', refusal.message);
    case 'invalid-rate':
      return new Refusal('bad_rate', refusal.message);
    case 'invalid-duration':
      return new Refusal('bad_duration', refusal.message);
    case 'unknown-capacity':
    case 'empty-path':
      return new Refusal('capacity_unknown', refusal.message);
    case 'duplicate-id':
      return new Refusal('duplicate', refusal.message);
    case 'invalid-request':
    case 'price-unavailable':
      return new Refusal('price_unavailable', refusal.message);
  }
}

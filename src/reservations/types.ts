// The vocabulary of the reservation side (PayFlow's preorder, pricing seed sections 4–5):
// what a client asks a quote for, and the views of quotes and reservations that the
// service returns. The HTTP API, its client and the CLI use these same types, so a quote
// request has one shape from the command line to the service.
import type { Bottleneck } from '../qos/admission.js';
import type { PaymentProof } from '../payments/ledger.js';
import type { SignedQuote, SignedReceipt } from '../payments/quotes.js';
import type { FlowMatch, HopQueue } from '../network/contracts.js';
import type { Path } from '../network/topology.js';
import { formatDpid, parseDpid } from '../util/dpid.js';

export type ReservationState = 'installing' | 'active' | 'expired' | 'cancelled' | 'failed';
export const RESERVATION_STATES: readonly ReservationState[] = ['installing', 'active', 'expired', 'cancelled', 'failed'];

/**
 * A quote for a new reservation: the flow (src, dst and optionally proto, ports, flow
 * label), the class, the rate and the duration. Values arrive from the wire, so the
 * service checks every one of them; a request without a rate is refused (bad_rate).
 */
export interface QuoteRequest {
  src: string;
  dst: string;
  /** default: the first class that is not best effort */
  classId?: string;
  /** bits/s as a number, or a rate text ("5mbit") */
  rate?: number | string;
  /** ms as a number, or a duration text ("60s") */
  duration: number | string;
  proto?: number;
  srcPort?: number;
  dstPort?: number;
  /** IPv6 flow label (RFC 6437, 20 bits), or 'auto': the controller picks one unused by the source's active reservations */
  flowLabel?: number | 'auto';
}

/** A quote to extend an active reservation by `duration` (same class, rate and path). */
export interface ExtensionQuoteRequest {
  reservationId: string;
  /** ms as a number, or a duration text ("60s") */
  duration: number | string;
}

/** A payment for a quote: the quote's id and the proof of the transfer on the ledger. */
export interface PaymentRequest {
  quoteId: string;
  payment: PaymentProof;
}

export interface QuoteView {
  quote: SignedQuote['quote'];
  signature: string;
  /** currency units per Mbit/s per second */
  unitPrice: number;
  /** currency units */
  totalPrice: number;
  available: boolean;
  maxFitBps: number;
  bottleneck: Bottleneck | null;
}

export interface PathView {
  hops: { dpid: string; inPort: number; outPort: number }[];
  resources: string[];
}

export interface ReservationView {
  id: string;
  state: ReservationState;
  quoteId: string;
  classId: string;
  rateBps: number;
  burstBits: number;
  dscp: number;
  match: FlowMatch;
  path: PathView;
  createdAt: number;
  startsAt: number;
  expiresAt: number;
  endedAt: number | null;
  /** base units, decimal string: everything paid for it */
  paid: string;
  receipt: SignedReceipt | null;
  reason: string | null;
  /** the account that paid for it and may read, extend and cancel it (null: the ledger did not name the payer) */
  owner: string | null;
  /** its own egress queue on each hop whose switch owns its queues (a `payflow switch`); empty towards Open vSwitch */
  queues?: HopQueue[];
}

/** What a cancellation gave back (base units as decimal strings). */
export interface RefundView {
  to: string;
  unusedMs: number;
  gross: string;
  fee: string;
  amount: string;
  /** the ledger transfer; null when nothing was due */
  transfer: string | null;
}

/** Who asks: the holder of an account's key (a signed request), or the operator (an admin token). */
export type Requester = { kind: 'account'; address: string } | { kind: 'operator'; token: string };

/** What anyone may see of the reservations: per class, how many are in force and their reserved rate. */
export interface LoadView {
  at: number;
  active: number;
  reservedBps: number;
  classes: { classId: string; active: number; reservedBps: number }[];
}

export function pathView(path: Path): PathView {
  return { hops: path.hops.map((h) => ({ dpid: formatDpid(h.dpid), inPort: h.inPort, outPort: h.outPort })), resources: [...path.resources] };
}

export function pathFromView(view: PathView): Path {
  return {
    hops: view.hops.map((h) => {
      const d = parseDpid(h.dpid);
      if (!d.ok) throw new Error(`stored path has a bad dpid ${h.dpid}`);
      return { dpid: d.dpid, inPort: h.inPort, outPort: h.outPort };
    }),
    resources: [...view.resources],
  };
}

/**
 * A payment that could not buy what it was sent for, as claimed by its payer: refunded
 * (refund) or credited towards a new quote at the old price (credit). Amounts in base units.
 */
export interface StrandedView {
  payment: PaymentProof;
  quoteId: string;
  payer: string;
  amount: string;
  /** why it could not buy that quote: quote_expired, quote_used, too_little, not_active */
  reason: string;
  policy: 'credit' | 'refund';
  /** policy refund: the transfer that paid it back */
  refund: { transfer: string; amount: string } | null;
  /** policy credit: the quote it pays for (reserve with it and the same payment) until `until` */
  credit: { quote: QuoteView; until: number } | null;
}

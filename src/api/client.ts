// A small typed client of the controller's HTTP API: what `payflow reserve`, `payflow
// quote` and `payflow reservations` use, and what another program can import. It speaks
// the reservation side's vocabulary (src/reservations/types.ts). Given a signer (the key
// that paid, request-signature.ts) it signs every request, which reading, extending and
// cancelling a reservation need; given an operator token it sends it instead.
import type { ExtensionQuoteRequest, LoadView, QuoteRequest, QuoteView, RefundView, ReservationState, ReservationView, StrandedView } from '../reservations/types.js';
import type { ClassPrice, ClassRevenue, PricePoint } from '../pricing/agent.js';
import type { PaymentProof } from '../payments/ledger.js';
import type { Voucher } from '../payments/channels.js';
import { requestJson } from '../util/json-http.js';
import { SIGNATURE_HEADER, signRequest, type RequestSigner } from './request-signature.js';

export interface ApiClientOptions {
  /** signs each request (PayFlow-Signature) */
  signer?: RequestSigner;
  /** an operator token (Authorization: Bearer), instead of a signer */
  token?: string;
}

/** Per call: the Idempotency-Key that makes a retry return the first answer. */
export interface RetryOptions {
  idempotencyKey?: string;
}

/**
 * An error answer as the client sees it: the HTTP status (0 when the controller could not
 * be reached), the API's error code, its message and details. On the controller's side
 * the same answer began as a Refusal of the reservation side (src/reservations/refusal.ts)
 * or a bad request, and got its status in src/api/errors.ts.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface MenuView {
  classes: { id: string; name: string; dscp: number; bestEffort: boolean; share: number; target: number; basePrice: number; maxPrice: number; price: number }[];
  limits: { minRateBps: number; maxRateBps: number; minDurationMs: number; maxDurationMs: number; quoteTtlMs: number };
  ledger: { kind: 'local' | 'iota'; payTo: string; baseUnitsPerCurrencyUnit: number };
}

export class ApiClient {
  readonly base: string;

  /** baseUrl: the controller, e.g. http://127.0.0.1:8080 */
  constructor(
    baseUrl: string,
    private readonly options: ApiClientOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /** Whether requests carry a signature or an operator token. */
  get signs(): boolean {
    return this.options.signer !== undefined || this.options.token !== undefined;
  }

  /** Where the controller serves its local ledger (for LedgerHttpClient). */
  get ledgerUrl(): string {
    return `${this.base}/v1/ledger`;
  }

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, retry: RetryOptions = {}): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (this.options.token !== undefined) headers['authorization'] = `Bearer ${this.options.token}`;
    else if (this.options.signer) headers[SIGNATURE_HEADER] = signRequest(this.options.signer, { method, path, body: text });
    if (retry.idempotencyKey !== undefined) headers['idempotency-key'] = retry.idempotencyKey;
    const r = await requestJson<T>(this.base, method, path, text, 'the controller', headers);
    if (!r.ok) throw new ApiError(r.failure.status, r.failure.code, r.failure.message, r.failure.details);
    return r.value;
  }

  menu(): Promise<MenuView> {
    return this.call('GET', '/v1/menu');
  }

  quote(request: QuoteRequest): Promise<QuoteView> {
    return this.call('POST', '/v1/quotes', request);
  }

  quoteExtension(reservationId: string, duration: number | string): Promise<QuoteView> {
    const request: ExtensionQuoteRequest = { reservationId, duration };
    return this.call('POST', '/v1/quotes', request);
  }

  reserve(quoteId: string, payment: PaymentProof, retry: RetryOptions = {}): Promise<ReservationView> {
    return this.call('POST', '/v1/reservations', { quoteId, payment }, retry);
  }

  extend(reservationId: string, quoteId: string, payment: PaymentProof, retry: RetryOptions = {}): Promise<ReservationView> {
    return this.call('POST', `/v1/reservations/${encodeURIComponent(reservationId)}/extensions`, { quoteId, payment }, retry);
  }

  /** Extends a reservation by a channel voucher (the channel must pay the controller's operator). */
  payVoucher(reservationId: string, voucher: Voucher, retry: RetryOptions = {}): Promise<ReservationView & { extendedByMs: number }> {
    return this.call('POST', `/v1/reservations/${encodeURIComponent(reservationId)}/vouchers`, { voucher }, retry);
  }

  /** Claims a payment that could not buy `quoteId` back (refund or credit, the controller's policy); signed by its payer. */
  claimStranded(quoteId: string, payment: PaymentProof): Promise<StrandedView> {
    return this.call('POST', '/v1/payments/stranded', { quoteId, payment });
  }

  /** One reservation in full (signed by its owner, or with an operator token). */
  reservation(id: string): Promise<ReservationView & { refund: RefundView | null }> {
    return this.call('GET', `/v1/reservations/${encodeURIComponent(id)}`);
  }

  /** What anyone may see without signing: the reservations in force per class. */
  async load(): Promise<LoadView> {
    return (await this.call<{ load: LoadView }>('GET', '/v1/reservations')).load;
  }

  /** The signer's own reservations (all of them with an operator token). */
  async reservations(options: { state?: ReservationState; limit?: number } = {}): Promise<ReservationView[]> {
    if (!this.options.signer && this.options.token === undefined) throw new ApiError(0, 'signature_missing', 'listing reservations needs the key that paid for them (a signer) or an operator token; load() shows the load without');
    const q = new URLSearchParams();
    if (options.state) q.set('state', options.state);
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    const qs = q.toString();
    return (await this.call<{ reservations: ReservationView[] }>('GET', `/v1/reservations${qs ? `?${qs}` : ''}`)).reservations;
  }

  /** Cancels a reservation; the answer says what was refunded. */
  cancel(id: string): Promise<ReservationView & { refund: RefundView | null }> {
    return this.call('DELETE', `/v1/reservations/${encodeURIComponent(id)}`);
  }

  prices(history = false): Promise<{ at: number; prices: ClassPrice[]; history?: PricePoint[] }> {
    return this.call('GET', `/v1/prices${history ? '?history=true' : ''}`);
  }

  revenue(): Promise<{ classes: ClassRevenue[]; total: string; unsettled: string }> {
    return this.call('GET', '/v1/revenue');
  }

  topology(): Promise<Record<string, unknown>> {
    return this.call('GET', '/v1/topology');
  }
}

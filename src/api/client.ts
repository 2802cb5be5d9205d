// A small typed client of the controller's HTTP API: what `payflow reserve`, `payflow
// quote` and `payflow reservations` use, and what another program can import. It speaks
// the reservation side's vocabulary (src/reservations/types.ts).
import type { ExtensionQuoteRequest, QuoteRequest, QuoteView, ReservationState, ReservationView } from '../reservations/types.js';
import type { ClassPrice, ClassRevenue, PricePoint } from '../pricing/agent.js';
import type { PaymentProof } from '../payments/ledger.js';
import type { Voucher } from '../payments/channels.js';
import { requestJson } from '../util/json-http.js';

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
  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /** Where the controller serves its local ledger (for LedgerHttpClient). */
  get ledgerUrl(): string {
    return `${this.base}/v1/ledger`;
  }

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const r = await requestJson<T>(this.base, method, path, body, 'the controller');
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

  reserve(quoteId: string, payment: PaymentProof): Promise<ReservationView> {
    return this.call('POST', '/v1/reservations', { quoteId, payment });
  }

  extend(reservationId: string, quoteId: string, payment: PaymentProof): Promise<ReservationView> {
    return this.call('POST', `/v1/reservations/${encodeURIComponent(reservationId)}/extensions`, { quoteId, payment });
  }

  /** Extends a reservation by a channel voucher (the channel must pay the controller's operator). */
  payVoucher(reservationId: string, voucher: Voucher): Promise<ReservationView & { extendedByMs: number }> {
    return this.call('POST', `/v1/reservations/${encodeURIComponent(reservationId)}/vouchers`, { voucher });
  }

  reservation(id: string): Promise<ReservationView> {
    return this.call('GET', `/v1/reservations/${encodeURIComponent(id)}`);
  }

  async reservations(options: { state?: ReservationState; limit?: number } = {}): Promise<ReservationView[]> {
    const q = new URLSearchParams();
    if (options.state) q.set('state', options.state);
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    const qs = q.toString();
    return (await this.call<{ reservations: ReservationView[] }>('GET', `/v1/reservations${qs ? `?${qs}` : ''}`)).reservations;
  }

  cancel(id: string): Promise<ReservationView> {
    return this.call('DELETE', `/v1/reservations/${encodeURIComponent(id)}`);
  }

  prices(history = false): Promise<{ at: number; prices: ClassPrice[]; history?: PricePoint[] }> {
    return this.call('GET', `/v1/prices${history ? '?history=true' : ''}`);
  }

  revenue(): Promise<{ classes: ClassRevenue[]; total: string }> {
    return this.call('GET', '/v1/revenue');
  }

  topology(): Promise<Record<string, unknown>> {
    return this.call('GET', '/v1/topology');
  }
}

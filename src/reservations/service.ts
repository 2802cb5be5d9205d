// The reservation service (issue 5, items 2, 4 and 6; PayFlow's preorder, pricing seed 004
// sections 4–5): menu → quote (availability along the path + the current price, signed
// with the operator's key, valid for reservations.quoteTtl; no payment, nothing reserved)
// → reservation with a payment proof (verified through the Ledger, bound to the quote id
// by the memo, redeemed once) → admitted on every link of the path (AdmissionControl) →
// installed in the switches (Enforcer.install, barrier-confirmed) → active → expired (the
// controller's timer) or cancelled; extension by another payment for the same reservation.
//
// Money and state, decided here:
// - A payment is checked on the ledger first (no write); then ONE SQLite transaction
//   records the redemption (payment_redemptions, the table redeemPayment uses: its primary
//   key decides races between connections and processes), marks the quote used, and
//   stores the reservation ('installing') and the payment (revenue). Admission happens in
//   memory just before that transaction and is undone if it throws.
// - If the switches refuse the installation, admission is released, the redemption and the
//   payment row are deleted and the quote is usable again: the payment stays redeemable, so
//   the client may retry with the same proof while the quote is valid (answer 503). The
//   reservation row stays as 'failed' with the reason.
// - A crash between that transaction and the end of the installation leaves an
//   'installing' row: it was paid, so on start it is restored like an active one.
// - On start every paid, unexpired reservation (installing or active) goes back into
//   admission control (restore: no capacity check, it was paid) and into the switches
//   (Enforcer.restore); expired ones are marked expired. Nothing is charged or redeemed
//   again: redemptions are rows, not memory.
// - Cancelling ends the reservation at once and refunds nothing.
// - Bad input changes no row: every check that can refuse runs before the first write.
import type { Logger } from 'pino';
import type { PayflowConfig } from '../config/schema.js';
import type { Ledger, PaymentProof } from '../payments/ledger.js';
import type { SigningKey } from '../payments/keys.js';
import { signQuote, signReceipt, type SignedQuote, type SignedReceipt, type Terms } from '../payments/quotes.js';
import { checkVoucher, type ChannelBook, type Voucher } from '../payments/channels.js';
import type { AdmissionControl, Bottleneck } from '../qos/admission.js';
import type { ServiceClass, ServiceClasses } from '../qos/classes.js';
import { quoteReservation } from '../qos/quote.js';
import type { PricingAgent } from '../pricing/agent.js';
import type { Store } from '../store/index.js';
import { parseDuration, parseRate } from '../util/units.js';
import type { EnforcedReservation, Enforcer, FlowMatch } from '../network/contracts.js';
import { formatDpid, parseDpid } from '../util/dpid.js';
import { normaliseHostAddress, type Path, type Topology } from '../network/topology.js';
import { randomBytes } from 'node:crypto';

/** A refusal with its HTTP status and error code (the API sends `{ error: { code, message, ...details } }`). */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type ReservationState = 'installing' | 'active' | 'expired' | 'cancelled' | 'failed';
export const RESERVATION_STATES: readonly ReservationState[] = ['installing', 'active', 'expired', 'cancelled', 'failed'];

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
  flowLabel?: number;
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
}

export interface ReservationServiceOptions {
  store: Store;
  config: PayflowConfig;
  classes: ServiceClasses;
  admission: AdmissionControl;
  topology: () => Topology;
  enforcer: Enforcer;
  ledger: Ledger;
  /** signs quotes and receipts (the operator) */
  operatorKey: SigningKey;
  pricing: PricingAgent;
  /** the operator's channel book (local ledger): extensions paid by vouchers; absent = not offered */
  channels?: ChannelBook;
  logger: Logger;
  now?: () => number;
}

interface Row {
  id: string;
  quote_id: string;
  state: ReservationState;
  class_id: string;
  rate_bps: number;
  burst_bits: number;
  dscp: number;
  match: string;
  path: string;
  created_at: number;
  starts_at: number;
  expires_at: number;
  ended_at: number | null;
  paid: bigint;
  receipt: string | null;
  reason: string | null;
}

interface QuoteRow {
  id: string;
  signed: string;
  kind: 'new' | 'extension';
  reservation_id: string | null;
  class_id: string;
  amount: bigint;
  expires_at: number;
  used_by: string | null;
}

interface NewTerms {
  kind: 'new';
  classId: string;
  rateBps: number;
  durationMs: number;
  match: FlowMatch;
}

const MAX_AMOUNT = (1n << 63n) - 1n;

export class ReservationService {
  private readonly store: Store;
  private readonly now: () => number;
  private readonly log: Logger;
  /** active reservations as enforced, by id (installing ones too) */
  private readonly live = new Map<string, EnforcedReservation>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly counters = { quotes: 0, capacityRefusals: 0, purchases: 0, extensions: 0, cancelled: 0, expired: 0, installFailures: 0 };

  constructor(private readonly o: ReservationServiceOptions) {
    this.store = o.store;
    this.now = o.now ?? Date.now;
    this.log = o.logger;
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** Restores every paid, unexpired reservation into admission control and the switches. */
  async restore(): Promise<{ restored: number; expired: number }> {
    const now = this.now();
    const rows = this.store.db
      .prepare<[], Row>(`SELECT * FROM controller_reservations WHERE state IN ('installing', 'active') ORDER BY created_at`)
      .safeIntegers(false)
      .all();
    const restored: EnforcedReservation[] = [];
    let expired = 0;
    for (const row of rows) {
      if (row.expires_at <= now) {
        this.store.db.prepare(`UPDATE controller_reservations SET state = 'expired', ended_at = ? WHERE id = ?`).run(now, row.id);
        expired++;
        continue;
      }
      const enforced = this.enforcedOf(row);
      const r = this.o.admission.restore({ id: row.id, classId: row.class_id, rateBps: row.rate_bps, resources: enforced.path.resources });
      if (!r.ok) {
        this.log.error({ reservation: row.id, refusal: r.refusal }, 'a stored reservation could not be restored into admission control');
        continue;
      }
      this.live.set(row.id, enforced);
      restored.push(enforced);
    }
    this.store.db.prepare(`UPDATE controller_reservations SET state = 'active' WHERE state = 'installing'`).run();
    try {
      await this.o.enforcer.restore(restored);
    } catch (err) {
      this.log.error({ err }, 'the switches could not be brought back to the stored reservations (they are kept; enforcement follows when the switches reconnect)');
    }
    this.o.pricing.reservationsChanged();
    for (const r of restored) this.log.info({ reservation: r.id, expiresAt: new Date(r.expiresAtMs).toISOString() }, 'reservation restored');
    return { restored: restored.length, expired };
  }

  /** Starts the expiry timer (checks every intervalMs). */
  startTimers(intervalMs = 250): void {
    this.stopTimers();
    this.sweeper = setInterval(() => void this.sweep(), intervalMs);
    this.sweeper.unref();
  }

  stopTimers(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Ends the reservations whose time is up; returns their ids. */
  async sweep(): Promise<string[]> {
    const now = this.now();
    const due: string[] = [];
    for (const [id, r] of this.live) if (r.expiresAtMs <= now) due.push(id);
    for (const id of due) {
      const state = this.stateOf(id);
      if (state !== 'active') continue; // an installation in progress ends on its own
      await this.end(id, 'expired', 'the reserved time is over');
    }
    return due;
  }

  private stateOf(id: string): ReservationState | undefined {
    return this.store.db.prepare<[string], { state: ReservationState }>('SELECT state FROM controller_reservations WHERE id = ?').get(id)?.state;
  }

  private async end(id: string, state: 'expired' | 'cancelled', reason: string): Promise<void> {
    const now = this.now();
    const changed = this.store.db
      .prepare(`UPDATE controller_reservations SET state = ?, ended_at = ?, reason = ? WHERE id = ? AND state = 'active'`)
      .run(state, now, reason, id).changes;
    if (changed !== 1) return;
    this.live.delete(id);
    this.o.admission.release(id);
    this.o.pricing.reservationsChanged();
    if (state === 'expired') this.counters.expired++;
    else this.counters.cancelled++;
    this.log.info({ reservation: id, state }, `reservation ${state}`);
    try {
      await this.o.enforcer.remove(id);
    } catch (err) {
      this.log.error({ err, reservation: id }, 'removing the reservation from the switches failed (its hard timeout still ends it)');
    }
  }

  // ---- menu and quotes -------------------------------------------------------------------

  menu(): { classes: Record<string, unknown>[]; limits: Record<string, number>; ledger: { kind: string; payTo: string; baseUnitsPerCurrencyUnit: number } } {
    const prices = new Map(this.o.pricing.prices().map((p) => [p.classId, p.price]));
    const r = this.o.config.reservations;
    return {
      classes: this.o.classes.list().map((c) => ({
        id: c.id,
        name: c.name,
        dscp: c.dscp,
        bestEffort: c.bestEffort,
        share: c.share,
        target: c.target,
        basePrice: c.basePrice,
        maxPrice: c.maxPrice,
        price: prices.get(c.id) ?? c.basePrice,
        policing: { ...c.policing },
      })),
      limits: { minRateBps: r.minRateBps, maxRateBps: r.maxRateBps, minDurationMs: r.minDurationMs, maxDurationMs: r.maxDurationMs, quoteTtlMs: r.quoteTtlMs },
      ledger: { kind: this.o.ledger.kind, payTo: this.o.ledger.operatorAddress, baseUnitsPerCurrencyUnit: this.o.config.ledger.baseUnitsPerCurrencyUnit },
    };
  }

  private defaultClass(): ServiceClass {
    return this.o.classes.list().find((c) => !c.bestEffort) ?? this.o.classes.bestEffort;
  }

  private parseRateOf(value: unknown): number {
    const r = this.o.config.reservations;
    const parsed = parseRate(value, { minBps: r.minRateBps, maxBps: r.maxRateBps });
    if (!parsed.ok) throw new ServiceError(400, 'bad_rate', parsed.error);
    return parsed.value;
  }

  private parseDurationOf(value: unknown): number {
    const r = this.o.config.reservations;
    // A number is milliseconds in the API (parseDuration reads a plain number as seconds).
    const input = typeof value === 'number' ? `${value}ms` : value;
    const parsed = parseDuration(input, { minMs: r.minDurationMs, maxMs: r.maxDurationMs });
    if (!parsed.ok) throw new ServiceError(400, 'bad_duration', parsed.error);
    return parsed.value;
  }

  private parseMatch(req: QuoteRequest): FlowMatch {
    const src = typeof req.src === 'string' ? normaliseHostAddress(req.src) : undefined;
    const dst = typeof req.dst === 'string' ? normaliseHostAddress(req.dst) : undefined;
    if (!src) throw new ServiceError(400, 'bad_address', `src ${JSON.stringify(req.src)} is not a unicast IPv4 or IPv6 address`);
    if (!dst) throw new ServiceError(400, 'bad_address', `dst ${JSON.stringify(req.dst)} is not a unicast IPv4 or IPv6 address`);
    if (src.family !== dst.family) throw new ServiceError(400, 'bad_address', 'src and dst must both be IPv4 or both IPv6');
    if (src.address === dst.address) throw new ServiceError(400, 'bad_address', 'src and dst are the same address');
    const match: FlowMatch = { src: src.address, dst: dst.address };
    const int = (v: unknown, name: string, max: number): number | undefined => {
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ServiceError(400, 'bad_match', `${name} must be an integer from 0 to ${max}`);
      return v;
    };
    const proto = int(req.proto, 'proto', 255);
    const srcPort = int(req.srcPort, 'srcPort', 65535);
    const dstPort = int(req.dstPort, 'dstPort', 65535);
    const flowLabel = int(req.flowLabel, 'flowLabel', 0xfffff);
    if ((srcPort !== undefined || dstPort !== undefined) && proto !== 6 && proto !== 17 && proto !== 132) {
      throw new ServiceError(400, 'bad_match', 'ports need proto 6 (TCP), 17 (UDP) or 132 (SCTP)');
    }
    if (flowLabel !== undefined && src.family !== 6) throw new ServiceError(400, 'bad_match', 'flowLabel needs IPv6 addresses');
    if (proto !== undefined) match.proto = proto;
    if (srcPort !== undefined) match.srcPort = srcPort;
    if (dstPort !== undefined) match.dstPort = dstPort;
    if (flowLabel !== undefined) match.flowLabel = flowLabel;
    return match;
  }

  private pathFor(match: FlowMatch): Path {
    const topo = this.o.topology();
    if (!topo.hostByIp(match.src)) throw new ServiceError(422, 'unknown_host', `no host with address ${match.src} is known to the network`);
    if (!topo.hostByIp(match.dst)) throw new ServiceError(422, 'unknown_host', `no host with address ${match.dst} is known to the network`);
    const path = topo.pathBetweenHosts(match.src, match.dst);
    if (!path) throw new ServiceError(422, 'no_path', `there is no path from ${match.src} to ${match.dst}`);
    return path;
  }

  private toAmount(totalPrice: number): bigint {
    const units = totalPrice * this.o.config.ledger.baseUnitsPerCurrencyUnit;
    if (!Number.isFinite(units) || units > Number(MAX_AMOUNT) / 2) throw new ServiceError(400, 'price_too_large', 'the price of this reservation is too large to pay in one transfer; ask for less');
    const amount = BigInt(Math.ceil(units));
    return amount < 1n ? 1n : amount;
  }

  /** A signed quote for a new reservation (the preorder). */
  quote(req: QuoteRequest): QuoteView {
    const now = this.now();
    const cls = req.classId === undefined ? this.defaultClass() : this.o.classes.get(req.classId);
    if (!cls) throw new ServiceError(400, 'unknown_class', `no service class "${String(req.classId)}" (see GET /v1/menu)`);
    if (req.rate === undefined) throw new ServiceError(400, 'bad_rate', 'rate is required');
    const rateBps = this.parseRateOf(req.rate);
    const durationMs = this.parseDurationOf(req.duration);
    const match = this.parseMatch(req);
    const path = this.pathFor(match);
    const result = quoteReservation(this.o.admission, { classId: cls.id, rateBps, durationMs, resources: path.resources }, this.o.pricing.priceFn);
    if (!result.ok) throw this.refusalError(result.refusal);
    const q = result.quote;
    if (!q.available) throw this.capacityError(cls.id, rateBps, q.maxFitBps, q.bottleneck);
    const amount = this.toAmount(q.totalPrice);
    const terms: Terms = { kind: 'new', classId: cls.id, rateBps, durationMs, match: { ...match }, unitPrice: q.unitPrice.toPrecision(12) };
    const signed = signQuote(this.o.operatorKey, {
      ledger: this.o.ledger.kind,
      payTo: this.o.ledger.operatorAddress,
      amount,
      terms,
      validForMs: this.o.config.reservations.quoteTtlMs,
      now,
    });
    this.store.db
      .prepare('INSERT INTO controller_quotes (id, signed, kind, reservation_id, class_id, amount, expires_at, used_by) VALUES (?, ?, ?, NULL, ?, ?, ?, NULL)')
      .run(signed.quote.id, JSON.stringify(signed), 'new', cls.id, amount, signed.quote.expiresAt);
    this.counters.quotes++;
    return { quote: signed.quote, signature: signed.signature, unitPrice: q.unitPrice, totalPrice: q.totalPrice, available: true, maxFitBps: q.maxFitBps, bottleneck: q.bottleneck };
  }

  /** A signed quote to extend an active reservation by `duration` (same class, rate and path). */
  quoteExtension(reservationId: string, duration: unknown): QuoteView {
    const now = this.now();
    const row = this.row(reservationId);
    if (row.state !== 'active') throw new ServiceError(409, 'not_active', `reservation ${reservationId} is ${row.state}; only an active reservation can be extended`);
    const durationMs = this.parseDurationOf(duration);
    if (row.expires_at + durationMs - now > this.o.config.reservations.maxDurationMs) {
      throw new ServiceError(400, 'bad_duration', `the reservation would then last more than the maximum of ${this.o.config.reservations.maxDurationMs} ms from now`);
    }
    const unitPrice = this.o.pricing.priceOf(row.class_id) ?? 0;
    const totalPrice = unitPrice * (row.rate_bps / 1e6) * (durationMs / 1000);
    const amount = this.toAmount(totalPrice);
    const terms: Terms = { kind: 'extension', reservationId, classId: row.class_id, rateBps: row.rate_bps, durationMs, unitPrice: unitPrice.toPrecision(12) };
    const signed = signQuote(this.o.operatorKey, { ledger: this.o.ledger.kind, payTo: this.o.ledger.operatorAddress, amount, terms, validForMs: this.o.config.reservations.quoteTtlMs, now });
    this.store.db
      .prepare('INSERT INTO controller_quotes (id, signed, kind, reservation_id, class_id, amount, expires_at, used_by) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)')
      .run(signed.quote.id, JSON.stringify(signed), 'extension', reservationId, row.class_id, amount, signed.quote.expiresAt);
    this.counters.quotes++;
    return { quote: signed.quote, signature: signed.signature, unitPrice, totalPrice, available: true, maxFitBps: row.rate_bps, bottleneck: null };
  }

  private refusalError(refusal: { code: string; message: string } & Record<string, unknown>): ServiceError {
    switch (refusal.code) {
      case 'insufficient-capacity':
        return this.capacityError(String(refusal['classId']), Number(refusal['requestedBps']), Number(refusal['maxFitBps']), refusal['bottleneck'] as Bottleneck);
      case 'unknown-class':
        return new ServiceError(400, 'unknown_class', refusal.message);
      case 'invalid-rate':
        return new ServiceError(400, 'bad_rate', refusal.message);
      case 'invalid-duration':
        return new ServiceError(400, 'bad_duration', refusal.message);
      case 'unknown-capacity':
      case 'empty-path':
        return new ServiceError(409, 'capacity_unknown', refusal.message);
      case 'duplicate-id':
        return new ServiceError(409, 'duplicate', refusal.message);
      default:
        return new ServiceError(503, 'price_unavailable', refusal.message);
    }
  }

  private capacityError(classId: string, requestedBps: number, maxFitBps: number, bottleneck: Bottleneck): ServiceError {
    this.counters.capacityRefusals++;
    return new ServiceError(
      409,
      'capacity_unavailable',
      `${requestedBps} bit/s of ${classId} does not fit on ${bottleneck.resource}: at most ${maxFitBps} bit/s fits now`,
      { classId, requestedBps, maxFitBps, bottleneck },
    );
  }

  // ---- buying ------------------------------------------------------------------------------

  private quoteRow(quoteId: unknown): QuoteRow {
    if (typeof quoteId !== 'string' || !/^[0-9a-f]{32}$/.test(quoteId)) throw new ServiceError(400, 'bad_quote', 'quoteId must be the id of a quote (32 hex digits)');
    const row = this.store.db.prepare<[string], QuoteRow>('SELECT * FROM controller_quotes WHERE id = ?').safeIntegers(true).get(quoteId);
    if (!row) throw new ServiceError(404, 'unknown_quote', `no quote ${quoteId}`);
    row.expires_at = Number(row.expires_at);
    return row;
  }

  private checkProof(payment: unknown): PaymentProof {
    const p = payment as PaymentProof | undefined;
    if (!p || typeof p !== 'object' || typeof p.id !== 'string' || p.id === '' || (p.ledger !== 'local' && p.ledger !== 'iota')) {
      throw new ServiceError(400, 'bad_payment', 'payment must be { ledger, id }');
    }
    if (p.ledger !== this.o.ledger.kind) throw new ServiceError(402, 'wrong_ledger', `this controller is paid on the ${this.o.ledger.kind} ledger`);
    const used = this.store.db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM payment_redemptions WHERE ledger = ? AND proof_id = ?').get(p.ledger, p.id);
    if (used) throw new ServiceError(402, 'already_redeemed', `payment ${p.id} has already bought a reservation`);
    return { ledger: p.ledger, id: p.id };
  }

  private async verify(proof: PaymentProof, quote: QuoteRow): Promise<bigint> {
    const verdict = await this.o.ledger.verifyPayment(proof, { payTo: this.o.ledger.operatorAddress, amount: quote.amount, memo: quote.id });
    if (!verdict.ok) throw new ServiceError(402, verdict.reason, verdict.message);
    return verdict.amount;
  }

  /** Inserts the redemption; throws already_redeemed when another request won the proof. */
  private redeem(proof: PaymentProof, reservationId: string, amount: bigint, memo: string, now: number): void {
    const inserted = this.store.db
      .prepare(`INSERT INTO payment_redemptions (ledger, proof_id, reservation_id, amount, memo, redeemed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ledger, proof_id) DO NOTHING`)
      .run(proof.ledger, proof.id, reservationId, amount, memo, now);
    if (inserted.changes !== 1) throw new ServiceError(402, 'already_redeemed', `payment ${proof.id} has already bought a reservation`);
  }

  private useQuote(quoteId: string, reservationId: string): void {
    const r = this.store.db.prepare('UPDATE controller_quotes SET used_by = ? WHERE id = ? AND used_by IS NULL').run(reservationId, quoteId);
    if (r.changes !== 1) throw new ServiceError(409, 'quote_used', `quote ${quoteId} has already been used`);
  }

  /** Buys a reservation: checks, verifies the payment, admits, records, installs; resolves once it is active. */
  async reserve(body: { quoteId: unknown; payment: unknown }): Promise<ReservationView> {
    const quote = this.quoteRow(body.quoteId);
    if (quote.kind !== 'new') throw new ServiceError(400, 'wrong_quote', 'this quote extends a reservation; POST it to /v1/reservations/:id/extensions');
    const proof = this.checkProof(body.payment);
    if (quote.used_by !== null) throw new ServiceError(409, 'quote_used', `quote ${quote.id} has already bought reservation ${quote.used_by}`);
    if (this.now() > quote.expires_at) throw new ServiceError(410, 'quote_expired', `quote ${quote.id} expired at ${new Date(quote.expires_at).toISOString()}`);
    const signed = JSON.parse(quote.signed) as SignedQuote;
    const terms = signed.quote.terms as unknown as NewTerms;
    const cls = this.o.classes.get(terms.classId);
    if (!cls) throw new ServiceError(409, 'unknown_class', `class ${terms.classId} is no longer offered`);
    const path = this.pathFor(terms.match);
    const check = this.o.admission.check({ classId: cls.id, rateBps: terms.rateBps, resources: path.resources });
    if (!check.ok) throw this.refusalError(check.refusal);
    if (terms.rateBps > check.maxFitBps) throw this.capacityError(cls.id, terms.rateBps, check.maxFitBps, check.bottleneck);

    // A quote valid when the request arrived is honoured even if it expires while a (slow)
    // ledger verifies the payment.
    const paid = await this.verify(proof, quote);

    // From here on, no await until the transaction has committed.
    const now = this.now();
    const id = randomBytes(16).toString('hex');
    const admitted = this.o.admission.admit({ id, classId: cls.id, rateBps: terms.rateBps, resources: path.resources });
    if (!admitted.ok) throw this.refusalError(admitted.refusal);
    const enforced: EnforcedReservation = {
      id,
      classId: cls.id,
      dscp: cls.dscp,
      rateBps: terms.rateBps,
      burstBits: this.burstBits(terms.rateBps),
      match: terms.match,
      path,
      expiresAtMs: now + terms.durationMs,
    };
    try {
      this.store.immediate(() => {
        this.redeem(proof, id, paid, quote.id, now);
        this.useQuote(quote.id, id);
        this.store.db
          .prepare(
            `INSERT INTO controller_reservations (id, quote_id, state, class_id, rate_bps, burst_bits, dscp, match, path, created_at, starts_at, expires_at, paid)
             VALUES (?, ?, 'installing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(id, quote.id, cls.id, enforced.rateBps, enforced.burstBits, cls.dscp, JSON.stringify(terms.match), JSON.stringify(pathView(path)), now, now, enforced.expiresAtMs, paid);
        this.store.db
          .prepare(`INSERT INTO controller_payments (reservation_id, quote_id, ledger, proof_id, class_id, kind, amount, at) VALUES (?, ?, ?, ?, ?, 'purchase', ?, ?)`)
          .run(id, quote.id, proof.ledger, proof.id, cls.id, paid, now);
      });
    } catch (err) {
      this.o.admission.release(id);
      throw err;
    }
    this.live.set(id, enforced);
    this.o.pricing.reservationsChanged();

    try {
      await this.o.enforcer.install(enforced);
    } catch (err) {
      this.counters.installFailures++;
      const message = err instanceof Error ? err.message : String(err);
      this.live.delete(id);
      this.o.admission.release(id);
      this.store.immediate(() => {
        this.store.db.prepare('DELETE FROM controller_payments WHERE reservation_id = ?').run(id);
        this.store.db.prepare('DELETE FROM payment_redemptions WHERE ledger = ? AND proof_id = ?').run(proof.ledger, proof.id);
        this.store.db.prepare('UPDATE controller_quotes SET used_by = NULL WHERE id = ?').run(quote.id);
        this.store.db.prepare(`UPDATE controller_reservations SET state = 'failed', ended_at = ?, reason = ?, paid = 0 WHERE id = ?`).run(this.now(), `installation failed: ${message}`, id);
      });
      this.o.pricing.reservationsChanged();
      this.log.warn({ reservation: id, err }, 'installation failed; the payment was not consumed');
      throw new ServiceError(503, 'enforcement_failed', `the switches did not install the reservation (${message}); the payment was not consumed — retry with the same proof while the quote is valid`);
    }

    const receipt = signReceipt(this.o.operatorKey, {
      quoteId: quote.id,
      reservationId: id,
      payment: proof,
      paid,
      terms: { classId: cls.id, rateBps: enforced.rateBps, startsAt: now, expiresAt: enforced.expiresAtMs, match: { ...terms.match } },
      now: this.now(),
    });
    this.store.db.prepare(`UPDATE controller_reservations SET state = 'active', receipt = ? WHERE id = ? AND state = 'installing'`).run(JSON.stringify(receipt), id);
    this.counters.purchases++;
    this.log.info({ reservation: id, classId: cls.id, rateBps: enforced.rateBps, paid: paid.toString() }, 'reservation active');
    return this.get(id);
  }

  /** Extends an active reservation with a paid extension quote. */
  async extend(reservationId: string, body: { quoteId: unknown; payment: unknown }): Promise<ReservationView> {
    const quote = this.quoteRow(body.quoteId);
    if (quote.kind !== 'extension' || quote.reservation_id !== reservationId) throw new ServiceError(400, 'wrong_quote', `quote ${quote.id} does not extend reservation ${reservationId}`);
    const row = this.row(reservationId);
    const proof = this.checkProof(body.payment);
    if (quote.used_by !== null) throw new ServiceError(409, 'quote_used', `quote ${quote.id} has already been used`);
    if (this.now() > quote.expires_at) throw new ServiceError(410, 'quote_expired', `quote ${quote.id} expired at ${new Date(quote.expires_at).toISOString()}`);
    if (row.state !== 'active' || !this.live.has(reservationId)) throw new ServiceError(409, 'not_active', `reservation ${reservationId} is ${row.state}`);
    const terms = (JSON.parse(quote.signed) as SignedQuote).quote.terms as unknown as { durationMs: number };

    const paid = await this.verify(proof, quote);

    const now = this.now();
    const before = this.live.get(reservationId);
    if (!before || this.stateOf(reservationId) !== 'active') throw new ServiceError(409, 'not_active', `reservation ${reservationId} ended meanwhile`);
    const updated: EnforcedReservation = { ...before, expiresAtMs: before.expiresAtMs + terms.durationMs };
    this.store.immediate(() => {
      this.redeem(proof, reservationId, paid, quote.id, now);
      this.useQuote(quote.id, reservationId);
      this.store.db.prepare('UPDATE controller_reservations SET expires_at = ?, paid = paid + ? WHERE id = ?').run(updated.expiresAtMs, paid, reservationId);
      this.store.db
        .prepare(`INSERT INTO controller_payments (reservation_id, quote_id, ledger, proof_id, class_id, kind, amount, at) VALUES (?, ?, ?, ?, ?, 'extension', ?, ?)`)
        .run(reservationId, quote.id, proof.ledger, proof.id, row.class_id, paid, now);
    });
    this.live.set(reservationId, updated);
    try {
      // Re-installing an id replaces it in the switches (new hard timeout).
      await this.o.enforcer.install(updated);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.store.immediate(() => {
        this.store.db.prepare('DELETE FROM controller_payments WHERE ledger = ? AND proof_id = ?').run(proof.ledger, proof.id);
        this.store.db.prepare('DELETE FROM payment_redemptions WHERE ledger = ? AND proof_id = ?').run(proof.ledger, proof.id);
        this.store.db.prepare('UPDATE controller_quotes SET used_by = NULL WHERE id = ?').run(quote.id);
        this.store.db.prepare('UPDATE controller_reservations SET expires_at = ?, paid = paid - ? WHERE id = ?').run(before.expiresAtMs, paid, reservationId);
      });
      if (this.live.get(reservationId) === updated) this.live.set(reservationId, before);
      throw new ServiceError(503, 'enforcement_failed', `the switches did not take the extension (${message}); the payment was not consumed`);
    }
    this.counters.extensions++;
    return this.get(reservationId);
  }

  /**
   * Extends an active reservation by a micropayment-channel voucher (issue 5, item 4; the
   * channel pays the operator, docs/payments.md): the voucher's increment over the channel's
   * last accepted voucher buys increment / (price per second) more time, at the class's
   * current price. A channel extends one reservation only (bound by its first voucher).
   * Refusals (402 with the voucher refusal reason) change nothing. The voucher is stored by
   * the ChannelBook first and the extension right after (two transactions).
   */
  async extendByVoucher(reservationId: string, voucher: Voucher): Promise<ReservationView & { extendedByMs: number }> {
    const book = this.o.channels;
    if (!book) throw new ServiceError(402, 'channels_unavailable', `this controller's ${this.o.ledger.kind} ledger does not offer payment channels`);
    const row = this.row(reservationId);
    if (row.state !== 'active' || !this.live.has(reservationId)) throw new ServiceError(409, 'not_active', `reservation ${reservationId} is ${row.state}`);
    const bound = this.store.db.prepare<[string], { reservation_id: string }>('SELECT reservation_id FROM controller_channels WHERE channel = ?').get(voucher.channel);
    if (bound && bound.reservation_id !== reservationId) throw new ServiceError(409, 'channel_bound', `channel ${voucher.channel} already pays for reservation ${bound.reservation_id}`);
    const now = this.now();
    const view = await book.view(voucher.channel);
    if (!view) throw new ServiceError(402, 'unknown_channel', `no open channel ${voucher.channel} pays this operator`);
    const pre = checkVoucher(view, voucher, now);
    if (!pre.ok) throw new ServiceError(402, pre.reason, pre.message);
    const unitPrice = this.o.pricing.priceOf(row.class_id) ?? 0;
    const perSecond = BigInt(Math.max(1, Math.ceil(unitPrice * (row.rate_bps / 1e6) * this.o.config.ledger.baseUnitsPerCurrencyUnit)));
    const extendedByMs = Number((pre.increment * 1000n) / perSecond);
    if (extendedByMs < 1000) throw new ServiceError(402, 'too_little', `the voucher pays ${pre.increment} base units, less than one second (${perSecond} base units) of this reservation`);
    const live = this.live.get(reservationId)!;
    if (live.expiresAtMs + extendedByMs - now > this.o.config.reservations.maxDurationMs) {
      throw new ServiceError(400, 'bad_duration', `the reservation would then last more than the maximum of ${this.o.config.reservations.maxDurationMs} ms from now`);
    }
    const verdict = await book.accept(voucher, now);
    if (!verdict.ok) throw new ServiceError(402, verdict.reason, verdict.message);
    // Accepted and stored by the book: from here on the time is the client's.
    const current = this.live.get(reservationId);
    if (!current || this.stateOf(reservationId) !== 'active') {
      this.log.error({ reservation: reservationId, channel: voucher.channel, sequence: verdict.sequence }, 'a voucher was accepted for a reservation that ended meanwhile');
      throw new ServiceError(409, 'not_active', `reservation ${reservationId} ended meanwhile (the voucher was accepted; settle it and ask the operator)`);
    }
    const ms = Number((verdict.increment * 1000n) / perSecond);
    const updated: EnforcedReservation = { ...current, expiresAtMs: current.expiresAtMs + ms };
    this.store.immediate(() => {
      this.store.db.prepare('INSERT INTO controller_channels (channel, reservation_id, bound_at) VALUES (?, ?, ?) ON CONFLICT (channel) DO NOTHING').run(voucher.channel, reservationId, now);
      this.store.db.prepare('UPDATE controller_reservations SET expires_at = ?, paid = paid + ? WHERE id = ?').run(updated.expiresAtMs, verdict.increment, reservationId);
      this.store.db
        .prepare(`INSERT INTO controller_payments (reservation_id, quote_id, ledger, proof_id, class_id, kind, amount, at) VALUES (?, '', ?, ?, ?, 'voucher', ?, ?)`)
        .run(reservationId, this.o.ledger.kind, `${voucher.channel}:${verdict.sequence}`, row.class_id, verdict.increment, now);
    });
    this.live.set(reservationId, updated);
    this.counters.extensions++;
    try {
      await this.o.enforcer.install(updated);
    } catch (err) {
      // Paid and recorded: the controller's timer honours the new end; the switches get it
      // when they are next brought back to the stored state.
      this.log.error({ err, reservation: reservationId }, 'the switches did not take the voucher extension');
    }
    return { ...this.get(reservationId), extendedByMs: ms };
  }

  /** Cancels an active reservation (no refund). */
  async cancel(id: string): Promise<ReservationView> {
    const row = this.row(id);
    if (row.state !== 'active') throw new ServiceError(409, 'not_active', `reservation ${id} is ${row.state}`);
    await this.end(id, 'cancelled', 'cancelled by the client');
    return this.get(id);
  }

  private burstBits(rateBps: number): number {
    return Math.max(8 * 1500, Math.ceil((rateBps * this.o.config.reservations.burstMs) / 1000));
  }

  // ---- reading -----------------------------------------------------------------------------

  private row(id: string): Row {
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) throw new ServiceError(404, 'unknown_reservation', `no reservation ${String(id)}`);
    const row = this.store.db.prepare<[string], Row>('SELECT * FROM controller_reservations WHERE id = ?').safeIntegers(true).get(id);
    if (!row) throw new ServiceError(404, 'unknown_reservation', `no reservation ${id}`);
    return normaliseRow(row);
  }

  get(id: string): ReservationView {
    return viewOf(this.row(id));
  }

  list(options: { state?: ReservationState; limit?: number } = {}): ReservationView[] {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    const rows = this.store.db
      .prepare<[string | null, string | null, number], Row>('SELECT * FROM controller_reservations WHERE (? IS NULL OR state = ?) ORDER BY created_at DESC, id LIMIT ?')
      .safeIntegers(true)
      .all(options.state ?? null, options.state ?? null, limit);
    return rows.map((r) => viewOf(normaliseRow(r)));
  }

  countByState(): Record<ReservationState, number> {
    const out = Object.fromEntries(RESERVATION_STATES.map((s) => [s, 0])) as Record<ReservationState, number>;
    for (const r of this.store.db.prepare<[], { state: ReservationState; n: number }>('SELECT state, COUNT(*) AS n FROM controller_reservations GROUP BY state').all()) out[r.state] = r.n;
    return out;
  }

  stats(): typeof this.counters & { live: number } {
    return { ...this.counters, live: this.live.size };
  }

  private enforcedOf(row: Row): EnforcedReservation {
    return {
      id: row.id,
      classId: row.class_id,
      dscp: row.dscp,
      rateBps: row.rate_bps,
      burstBits: row.burst_bits,
      match: JSON.parse(row.match) as FlowMatch,
      path: pathFromView(JSON.parse(row.path) as PathView),
      expiresAtMs: row.expires_at,
    };
  }
}

function normaliseRow(row: Row): Row {
  return {
    ...row,
    rate_bps: Number(row.rate_bps),
    burst_bits: Number(row.burst_bits),
    dscp: Number(row.dscp),
    created_at: Number(row.created_at),
    starts_at: Number(row.starts_at),
    expires_at: Number(row.expires_at),
    ended_at: row.ended_at === null ? null : Number(row.ended_at),
    paid: BigInt(row.paid),
  };
}

function viewOf(row: Row): ReservationView {
  return {
    id: row.id,
    state: row.state,
    quoteId: row.quote_id,
    classId: row.class_id,
    rateBps: row.rate_bps,
    burstBits: row.burst_bits,
    dscp: row.dscp,
    match: JSON.parse(row.match) as FlowMatch,
    path: JSON.parse(row.path) as PathView,
    createdAt: row.created_at,
    startsAt: row.starts_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    paid: row.paid.toString(),
    receipt: row.receipt === null ? null : (JSON.parse(row.receipt) as SignedReceipt),
    reason: row.reason,
  };
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

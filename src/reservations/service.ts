// The reservation service (PayFlow's preorder, pricing seed 004 sections 4–5): the business
// flow, and only that. menu → quote (availability along the path + the current price,
// signed with the operator's key, valid for reservations.quoteTtl; no payment, nothing
// reserved) → reservation with a payment proof (verified through the Ledger, bound to the
// quote id by the memo, redeemed once) → admitted on every link of the path
// (AdmissionControl) → installed in the switches (Enforcer.install, barrier-confirmed) →
// active → expired (the controller's timer) or cancelled; extension by another payment for
// the same reservation, or by micropayment-channel vouchers.
//
// Its neighbours: request.ts reads what a client sends, store.ts holds every SQL statement
// (one method per transaction), refusal.ts says why a request is refused (the HTTP API maps
// refusal codes to statuses in src/api/errors.ts).
//
// Money and state, decided here:
// - A payment is checked on the ledger first (no write); then ONE transaction records the
//   redemption, marks the quote used, and stores the reservation ('installing') or its new
//   end, and the payment (revenue). Admission happens in memory just before that
//   transaction.
// - Any failure after admission goes through one rollback (rollBack): admission released or
//   the earlier end restored, and, if the transaction committed, the redemption and the
//   payment row removed and the quote usable again: the payment stays redeemable, so the
//   client may retry with the same proof while the quote is valid (enforcement_failed). A
//   purchase's reservation row stays as 'failed' with the reason.
// - A crash between that transaction and the end of the installation leaves an
//   'installing' row: it was paid, so on start it is restored like an active one.
// - On start every paid, unexpired reservation (installing or active) goes back into
//   admission control (restore: no capacity check, it was paid) and into the switches
//   (Enforcer.restore); expired ones are marked expired. Nothing is charged or redeemed
//   again: redemptions are rows, not memory.
// - A reservation belongs to the account that paid for it (the ledger's payer of the
//   purchase). Reading it in full, extending and cancelling it are for that account (or the
//   operator): the HTTP API proves who asks (a signed request, src/api/auth.ts) and the
//   service checks that it is the owner (not_owner otherwise).
// - Cancelling ends the reservation at once and pays the unused time back to the owner
//   (refund.ts: pro rata, minus reservations.cancelFee) by a ledger transfer from the
//   operator, in the same transaction that ends it, once only.
// - Bad input changes no row: every check that can refuse runs before the first write.
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { PayflowConfig, ServiceClassConfig } from '../config/types.js';
import { changeClass, type ClassChange } from './class-changes.js';
import type { Ledger, PaymentProof } from '../payments/ledger.js';
import type { SigningKey } from '../payments/keys.js';
import { signQuote, signReceipt, type Terms } from '../payments/quotes.js';
import { checkVoucher, type ChannelBook, type SettlementLedger, type Voucher } from '../payments/channels.js';
import type { AdmissionControl } from '../qos/admission.js';
import type { ServiceClass, ServiceClasses } from '../qos/classes.js';
import { quoteReservation } from '../qos/quote.js';
import type { PricingAgent } from '../pricing/agent.js';
import type { Store } from '../store/index.js';
import type { EnforcedReservation, Enforcer, FlowMatch } from '../network/contracts.js';
import type { Path, Topology } from '../network/topology.js';
import { admissionRefusal, capacityRefusal, Refusal } from './refusal.js';
import { feePpmOf, refundOf } from './refund.js';
import { amountOf, durationOf, flowMatchOf, proofOf, quoteIdOf, rateOf, reservationIdOf } from './request.js';
import { ReservationStore, type RecordedPayment, type RefundRecord, type StoredQuote, type StoredReservation } from './store.js';
import type { StrandedRecord } from '../payments/stranded.js';
import {
  pathFromView,
  pathView,
  type ExtensionQuoteRequest,
  type LoadView,
  type PaymentRequest,
  type QuoteRequest,
  type QuoteView,
  type RefundView,
  type Requester,
  type ReservationState,
  type ReservationView,
  type StrandedView,
} from './types.js';

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
  /** where the channel book settles vouchers (the local ledger, sharing the store) */
  settlement?: SettlementLedger;
  /** pays cancellation refunds from the operator's account; absent = the ledger cannot (refund_unsupported) */
  refunds?: RefundPayer;
  logger: Logger;
  now?: () => number;
}

/**
 * Pays a refund from the operator's account to `to` and returns the transfer's id. It is
 * synchronous: it runs inside the transaction that ends the reservation, so either both
 * happen or neither.
 */
export interface RefundPayer {
  pay(to: string, amount: bigint, memo: string): string;
}

interface NewTerms {
  kind: 'new';
  classId: string;
  rateBps: number;
  durationMs: number;
  match: FlowMatch;
}

/** What a verified payment changes, so that a failure undoes exactly that. */
interface Delivery {
  payment: RecordedPayment;
  /** the reservation as enforced before the payment; undefined for a purchase */
  before: EnforcedReservation | undefined;
  /** as it is to be enforced once paid */
  after: EnforcedReservation;
  /** writes the payment's rows (one transaction) */
  record(): void;
}

export class ReservationService {
  private readonly reservations: ReservationStore;
  private readonly now: () => number;
  private readonly log: Logger;
  /** active reservations as enforced, by id (installing ones too) */
  private readonly live = new Map<string, EnforcedReservation>();
  private sweeper: NodeJS.Timeout | undefined;
  /** channels that timed out unsettled (logged once) */
  private readonly lapsedChannels = new Set<string>();
  private readonly counters = { quotes: 0, capacityRefusals: 0, purchases: 0, extensions: 0, cancelled: 0, expired: 0, installFailures: 0 };

  constructor(private readonly o: ReservationServiceOptions) {
    this.reservations = new ReservationStore(o.store);
    this.now = o.now ?? Date.now;
    this.log = o.logger;
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** Restores every paid, unexpired reservation into admission control and the switches. */
  async restore(): Promise<{ restored: number; expired: number }> {
    const now = this.now();
    const restored: EnforcedReservation[] = [];
    const expired: string[] = [];
    for (const stored of this.reservations.loadActive()) {
      if (stored.expiresAt <= now) {
        expired.push(stored.id);
        continue;
      }
      const enforced = enforcedOf(stored);
      const r = this.o.admission.restore({ id: stored.id, classId: stored.classId, rateBps: stored.rateBps, resources: enforced.path.resources });
      if (!r.ok) {
        this.log.error({ reservation: stored.id, refusal: r.refusal }, 'a stored reservation could not be restored into admission control');
        continue;
      }
      this.live.set(stored.id, enforced);
      restored.push(enforced);
    }
    this.reservations.settleAfterRestart(expired, now);
    try {
      await this.o.enforcer.restore(restored);
    } catch (err) {
      this.log.error({ err }, 'the switches could not be brought back to the stored reservations (they are kept; enforcement follows when the switches reconnect)');
    }
    this.o.pricing.reservationsChanged();
    for (const r of restored) this.log.info({ reservation: r.id, expiresAt: new Date(r.expiresAtMs).toISOString() }, 'reservation restored');
    return { restored: restored.length, expired: expired.length };
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
      if (this.reservations.stateOf(id) !== 'active') continue; // an installation in progress ends on its own
      await this.end(id, 'expired', 'the reserved time is over');
    }
    this.settleChannels(now);
    return due;
  }

  /**
   * Settles on the ledger every channel whose last voucher is final: once the settlement
   * margin before its timeout has begun (no voucher counts any more), or once the
   * reservation it paid for is over (or it pays for none). A channel past its timeout can
   * no longer be settled: that is logged once. Returns the channels settled.
   */
  settleChannels(now: number = this.now()): string[] {
    const book = this.o.channels;
    const ledger = this.o.settlement;
    if (!book || !ledger) return [];
    const margin = this.o.config.reservations.channelSettleMarginMs;
    const settled: string[] = [];
    for (const c of book.unsettled()) {
      if (now >= c.timeoutAt) {
        if (!this.lapsedChannels.has(c.channel)) {
          this.lapsedChannels.add(c.channel);
          this.log.error({ channel: c.channel, sequence: c.sequence, cumulative: c.cumulative.toString() }, 'a channel timed out before its last voucher was settled');
        }
        continue;
      }
      const reservation = this.reservations.channelReservation(c.channel);
      const due = now >= c.timeoutAt - margin || reservation === undefined || !this.live.has(reservation);
      if (due && this.settleChannel(c.channel, now)) settled.push(c.channel);
    }
    return settled;
  }

  private settleChannel(channel: string, now: number): boolean {
    try {
      const s = this.o.channels!.settle(channel, this.o.settlement!, now);
      if (s) this.log.info({ channel, sequence: s.sequence, cumulative: s.cumulative.toString(), increment: s.increment.toString() }, 'channel settled');
      return s !== null;
    } catch (err) {
      this.log.error({ err, channel }, 'settling a channel failed (retried on the next sweep)');
      return false;
    }
  }

  private async end(id: string, state: 'expired' | 'cancelled', reason: string): Promise<void> {
    if (!this.reservations.markEnded(id, state, reason, this.now())) return;
    await this.ended(id, state);
  }

  /** What follows once a reservation's row says it ended: memory, admission, switches. */
  private async ended(id: string, state: 'expired' | 'cancelled'): Promise<void> {
    this.live.delete(id);
    this.o.admission.release(id);
    this.o.pricing.reservationsChanged();
    if (state === 'expired') this.counters.expired++;
    else this.counters.cancelled++;
    this.log.info({ reservation: id, state }, `reservation ${state}`);
    // What its channels paid is final now: settle it before anything else can go wrong.
    if (this.o.settlement) for (const channel of this.reservations.channelsOf(id)) this.settleChannel(channel, this.now());
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
        excess: c.excess,
        policing: { ...c.policing },
      })),
      limits: { minRateBps: r.minRateBps, maxRateBps: r.maxRateBps, minDurationMs: r.minDurationMs, maxDurationMs: r.maxDurationMs, quoteTtlMs: r.quoteTtlMs },
      ledger: { kind: this.o.ledger.kind, payTo: this.o.ledger.operatorAddress, baseUnitsPerCurrencyUnit: this.o.config.ledger.baseUnitsPerCurrencyUnit },
    };
  }

  /** A signed quote for a new reservation (the preorder). */
  quote(req: QuoteRequest): QuoteView {
    const now = this.now();
    const limits = this.o.config.reservations;
    const cls = req.classId === undefined ? this.defaultClass() : this.o.classes.get(req.classId);
    if (!cls) throw new Refusal('unknown_class', `no service class "${String(req.classId)}" (see the menu)`);
    if (req.rate === undefined) throw new Refusal('bad_rate', 'rate is required');
    const rateBps = rateOf(req.rate, limits);
    const durationMs = durationOf(req.duration, limits);
    const match = flowMatchOf(req);
    if (req.flowLabel === 'auto') match.flowLabel = this.unusedFlowLabel(match.src);
    else this.checkFlowLabel(match);
    const path = this.pathFor(match);
    const result = quoteReservation(this.o.admission, { classId: cls.id, rateBps, durationMs, resources: path.resources }, this.o.pricing.priceFn);
    if (!result.ok) throw this.counted(admissionRefusal(result.refusal));
    const q = result.quote;
    if (!q.available) throw this.counted(capacityRefusal(cls.id, rateBps, q.maxFitBps, q.bottleneck));
    const amount = amountOf(q.totalPrice, this.o.config.ledger.baseUnitsPerCurrencyUnit);
    const terms: Terms = { kind: 'new', classId: cls.id, rateBps, durationMs, match: { ...match }, unitPrice: q.unitPrice.toPrecision(12) };
    const signed = this.sign(amount, terms, now);
    this.reservations.saveQuote(signed, 'new', null, cls.id, amount);
    this.counters.quotes++;
    return { quote: signed.quote, signature: signed.signature, unitPrice: q.unitPrice, totalPrice: q.totalPrice, available: true, maxFitBps: q.maxFitBps, bottleneck: q.bottleneck };
  }

  /** A signed quote to extend an active reservation by `duration` (same class, rate and path). */
  quoteExtension(req: ExtensionQuoteRequest): QuoteView {
    const now = this.now();
    const stored = this.stored(req.reservationId);
    if (stored.state !== 'active') throw new Refusal('not_active', `reservation ${stored.id} is ${stored.state}; only an active reservation can be extended`);
    const durationMs = durationOf(req.duration, this.o.config.reservations);
    this.checkLongest(stored.expiresAt + durationMs, now);
    const unitPrice = this.o.pricing.priceOf(stored.classId) ?? 0;
    const totalPrice = unitPrice * (stored.rateBps / 1e6) * (durationMs / 1000);
    const amount = amountOf(totalPrice, this.o.config.ledger.baseUnitsPerCurrencyUnit);
    const terms: Terms = { kind: 'extension', reservationId: stored.id, classId: stored.classId, rateBps: stored.rateBps, durationMs, unitPrice: unitPrice.toPrecision(12) };
    const signed = this.sign(amount, terms, now);
    this.reservations.saveQuote(signed, 'extension', stored.id, stored.classId, amount);
    this.counters.quotes++;
    return { quote: signed.quote, signature: signed.signature, unitPrice, totalPrice, available: true, maxFitBps: stored.rateBps, bottleneck: null };
  }

  // ---- buying ------------------------------------------------------------------------------

  /** Buys a reservation: checks, verifies the payment, admits, records, installs; resolves once it is active. */
  async reserve(req: PaymentRequest): Promise<ReservationView> {
    const quote = this.storedQuote(req.quoteId);
    if (quote.kind !== 'new') throw new Refusal('wrong_quote', 'this quote extends a reservation; pay it as an extension of that reservation');
    const proof = this.unredeemed(req.payment);
    if (quote.usedBy !== null) throw new Refusal('quote_used', `quote ${quote.id} has already bought reservation ${quote.usedBy}${STRANDED_HINT}`);
    if (quote.credit && quote.credit.proofId !== proof.id) throw new Refusal('wrong_quote', `quote ${quote.id} is paid only by the payment it credits (${quote.credit.proofId})`);
    this.checkValid(quote);
    const terms = quote.signed.quote.terms as unknown as NewTerms;
    const cls = this.o.classes.get(terms.classId);
    if (!cls) throw new Refusal('class_withdrawn', `class ${terms.classId} is no longer offered`);
    this.checkFlowLabel(terms.match);
    const path = this.pathFor(terms.match);
    const check = this.o.admission.check({ classId: cls.id, rateBps: terms.rateBps, resources: path.resources });
    if (!check.ok) throw this.counted(admissionRefusal(check.refusal));
    if (terms.rateBps > check.maxFitBps) throw this.counted(capacityRefusal(cls.id, terms.rateBps, check.maxFitBps, check.bottleneck));

    // A quote valid when the request arrived is honoured even if it expires while a (slow)
    // ledger verifies the payment.
    const { amount: paid, payer } = await this.verify(proof, quote);

    // From here on, no await until the transaction has committed.
    const now = this.now();
    const id = randomBytes(16).toString('hex');
    const admitted = this.o.admission.admit({ id, classId: cls.id, rateBps: terms.rateBps, resources: path.resources });
    if (!admitted.ok) throw this.counted(admissionRefusal(admitted.refusal));
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
    const payment: RecordedPayment = { reservationId: id, quoteId: quote.id, proof, classId: cls.id, amount: paid, at: now, ...(quote.credit ? { memo: quote.credit.memo } : {}) };
    const record = (): void =>
      this.reservations.recordPurchase(
        { id, quoteId: quote.id, classId: cls.id, rateBps: enforced.rateBps, burstBits: enforced.burstBits, dscp: cls.dscp, match: terms.match, path: pathView(path), createdAt: now, startsAt: now, expiresAt: enforced.expiresAtMs, owner: payer },
        payment,
        this.o.config.reservations.maxActivePerPayer,
      );
    await this.deliver({ payment, before: undefined, after: enforced, record });

    const receipt = signReceipt(this.o.operatorKey, {
      quoteId: quote.id,
      reservationId: id,
      payment: proof,
      paid,
      terms: { classId: cls.id, rateBps: enforced.rateBps, startsAt: now, expiresAt: enforced.expiresAtMs, match: { ...terms.match } },
      now: this.now(),
    });
    this.reservations.activate(id, receipt);
    this.counters.purchases++;
    this.log.info({ reservation: id, classId: cls.id, rateBps: enforced.rateBps, paid: paid.toString() }, 'reservation active');
    return this.get(id);
  }

  /** Extends an active reservation with a paid extension quote (its owner or the operator asks). */
  async extend(reservationId: string, req: PaymentRequest, who: Requester): Promise<ReservationView> {
    const stored = this.stored(reservationId);
    this.authorise(stored, who);
    const quote = this.storedQuote(req.quoteId);
    if (quote.kind !== 'extension' || quote.reservationId !== reservationId) throw new Refusal('wrong_quote', `quote ${quote.id} does not extend reservation ${reservationId}`);
    const proof = this.unredeemed(req.payment);
    if (quote.usedBy !== null) throw new Refusal('quote_used', `quote ${quote.id} has already been used`);
    this.checkValid(quote);
    this.checkActive(stored);
    const terms = quote.signed.quote.terms as unknown as { durationMs: number };

    const { amount: paid } = await this.verify(proof, quote);

    const now = this.now();
    const before = this.live.get(reservationId);
    if (!before || this.reservations.stateOf(reservationId) !== 'active') throw new Refusal('not_active', `reservation ${reservationId} ended meanwhile${STRANDED_HINT}`);
    const after: EnforcedReservation = { ...before, expiresAtMs: before.expiresAtMs + terms.durationMs };
    const payment: RecordedPayment = { reservationId, quoteId: quote.id, proof, classId: stored.classId, amount: paid, at: now };
    // Re-installing an id replaces it in the switches (new hard timeout).
    await this.deliver({ payment, before, after, record: () => this.reservations.recordExtension(payment, after.expiresAtMs) });
    this.counters.extensions++;
    return this.get(reservationId);
  }

  /**
   * Records a verified payment, enforces what it bought and, if anything fails on the way,
   * rolls back. A refusal from the transaction (another request redeemed the proof or used
   * the quote first) is passed on; a refusal by the switches becomes enforcement_failed.
   */
  private async deliver(d: Delivery): Promise<void> {
    const id = d.payment.reservationId;
    let recorded = false;
    try {
      d.record();
      recorded = true;
      this.live.set(id, d.after);
      if (!d.before) this.o.pricing.reservationsChanged();
      await this.o.enforcer.install(d.after);
    } catch (err) {
      if (!recorded) {
        this.rollBack(d, undefined);
        throw err;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.rollBack(d, `installation failed: ${message}`);
      this.counters.installFailures++;
      this.log.warn({ reservation: id, err }, 'installation failed; the payment was not consumed');
      const what = d.before ? 'the extension' : 'the reservation';
      throw new Refusal('enforcement_failed', `the switches did not take ${what} (${message}); the payment was not consumed — retry with the same proof while the quote is valid`);
    }
  }

  /**
   * The one way back from a payment that did not deliver: the reservation leaves the
   * controller's memory and admission control (a purchase) or gets its earlier end back (an
   * extension); once recorded (`failed` says why), the payment's rows are undone.
   */
  private rollBack(d: Delivery, failed: string | undefined): void {
    const id = d.payment.reservationId;
    if (d.before) {
      if (this.live.get(id) === d.after) this.live.set(id, d.before);
    } else {
      this.live.delete(id);
      this.o.admission.release(id);
    }
    if (failed === undefined) return;
    this.reservations.undoPayment(d.payment, d.before ? { expiresAt: d.before.expiresAtMs } : { failed, at: this.now() });
    if (!d.before) this.o.pricing.reservationsChanged();
  }

  /**
   * Extends an active reservation by a micropayment-channel voucher (the channel pays the
   * operator, docs/payments.md): the voucher's increment over the channel's last accepted
   * voucher buys increment / (price per second) more time, at the class's current price. A
   * channel extends one reservation only (bound by its first voucher). Refusals change
   * nothing. The voucher is stored by the ChannelBook first and the extension right after
   * (two transactions); once accepted the time is the client's, so a failure of the
   * switches is logged, not rolled back.
   */
  async extendByVoucher(reservationId: string, voucher: Voucher, who: Requester): Promise<ReservationView & { extendedByMs: number }> {
    const book = this.o.channels;
    if (!book) throw new Refusal('channels_unavailable', `this controller's ${this.o.ledger.kind} ledger does not offer payment channels`);
    const stored = this.stored(reservationId);
    this.authorise(stored, who);
    this.checkActive(stored);
    const bound = this.reservations.channelReservation(voucher.channel);
    if (bound !== undefined && bound !== reservationId) throw new Refusal('channel_bound', `channel ${voucher.channel} already pays for reservation ${bound}`);
    const now = this.now();
    const view = await book.view(voucher.channel);
    if (!view) throw new Refusal('unknown_channel', `no open channel ${voucher.channel} pays this operator`);
    const { channelMinLifetimeMs, channelSettleMarginMs } = this.o.config.reservations;
    if (view.timeoutAt - now < channelMinLifetimeMs) {
      throw new Refusal('channel_expiring', `channel ${voucher.channel} times out at ${new Date(view.timeoutAt).toISOString()}, sooner than the ${channelMinLifetimeMs / 1000} s of remaining lifetime a channel needs here; open one with a later timeout`);
    }
    const pre = checkVoucher(view, voucher, now);
    if (!pre.ok) throw new Refusal(pre.reason, pre.message);
    const unitPrice = this.o.pricing.priceOf(stored.classId) ?? 0;
    const perSecond = BigInt(Math.max(1, Math.ceil(unitPrice * (stored.rateBps / 1e6) * this.o.config.ledger.baseUnitsPerCurrencyUnit)));
    const extendedByMs = Number((pre.increment * 1000n) / perSecond);
    if (extendedByMs < 1000) throw new Refusal('too_little', `the voucher pays ${pre.increment} base units, less than one second (${perSecond} base units) of this reservation`);
    const newEnd = this.live.get(reservationId)!.expiresAtMs + extendedByMs;
    this.checkLongest(newEnd, now);
    // The payer may take the deposit back at the channel's timeout: the time a voucher
    // buys must end a settlement margin before that, so the operator is paid first.
    const payableUntil = view.timeoutAt - channelSettleMarginMs;
    if (newEnd > payableUntil) {
      const room = BigInt(Math.max(0, payableUntil - this.live.get(reservationId)!.expiresAtMs));
      throw new Refusal('beyond_channel', `the voucher would extend reservation ${reservationId} to ${new Date(newEnd).toISOString()}, past ${new Date(payableUntil).toISOString()} (the channel's timeout minus the ${channelSettleMarginMs / 1000} s settlement margin); this channel can pay for at most ${(room * perSecond) / 1000n} more base units`);
    }
    const verdict = await book.accept(voucher, now);
    if (!verdict.ok) throw new Refusal(verdict.reason, verdict.message);
    // Accepted and stored by the book: from here on the time is the client's.
    const current = this.live.get(reservationId);
    if (!current || this.reservations.stateOf(reservationId) !== 'active') {
      this.log.error({ reservation: reservationId, channel: voucher.channel, sequence: verdict.sequence }, 'a voucher was accepted for a reservation that ended meanwhile');
      throw new Refusal('not_active', `reservation ${reservationId} ended meanwhile (the voucher was accepted; settle it and ask the operator)`);
    }
    const ms = Number((verdict.increment * 1000n) / perSecond);
    const updated: EnforcedReservation = { ...current, expiresAtMs: current.expiresAtMs + ms };
    this.reservations.recordVoucher({
      reservationId,
      channel: voucher.channel,
      sequence: verdict.sequence,
      ledger: this.o.ledger.kind,
      classId: stored.classId,
      amount: verdict.increment,
      expiresAt: updated.expiresAtMs,
      at: now,
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

  /**
   * Cancels an active reservation (its owner or the operator asks) and pays the unused
   * time back to the owner, pro rata minus the cancellation fee, in the transaction that
   * ends it. Of concurrent cancels exactly one ends it and refunds; the others get
   * not_active. A ledger that cannot refund (no RefundPayer) refuses a cancellation that
   * would owe something (refund_unsupported) and leaves the reservation active.
   */
  async cancel(id: string, who: Requester): Promise<ReservationView & { refund: RefundView | null }> {
    const stored = this.stored(id);
    this.authorise(stored, who);
    if (stored.state !== 'active') throw new Refusal('not_active', `reservation ${id} is ${stored.state}`);
    const now = this.now();
    const reason = who.kind === 'operator' ? `cancelled by the operator (token ${who.token})` : 'cancelled by the client';
    let refund: RefundRecord | null | undefined;
    try {
      refund = this.reservations.recordCancellation(id, now, reason, () => this.payRefund(id, now));
    } catch (err) {
      if (err instanceof Refusal) throw err;
      throw new Refusal('refund_failed', `the refund of reservation ${id} was refused by the ledger (${err instanceof Error ? err.message : String(err)}); the reservation stays active`);
    }
    if (refund === undefined) throw new Refusal('not_active', `reservation ${id} ended meanwhile`);
    await this.ended(id, 'cancelled');
    if (refund) this.log.info({ reservation: id, refund: refund.amount.toString(), fee: refund.fee.toString(), transfer: refund.transferId }, 'cancellation refunded');
    return { ...this.get(id), refund: refund ? refundView(refund) : null };
  }

  /** Inside the cancellation's transaction: what is due, and the transfer that pays it. */
  private payRefund(id: string, now: number): Omit<RefundRecord, 'reservationId' | 'at'> | null {
    const stored = this.stored(id);
    const due = refundOf({
      paid: stored.paid,
      refundable: this.reservations.transferPaid(id),
      startsAt: stored.startsAt,
      expiresAt: stored.expiresAt,
      now,
      feePpm: feePpmOf(this.o.config.reservations.cancelFee),
    });
    if (due.gross === 0n) return null;
    const to = stored.owner;
    if (due.amount > 0n && (!this.o.refunds || to === null)) {
      throw new Refusal('refund_unsupported', `${due.amount} base units of unused time would be owed, and this controller's ${this.o.ledger.kind} ledger cannot pay refunds${to === null ? ' (the payer is unknown)' : ''}; the reservation stays active`);
    }
    const transferId = due.amount > 0n ? this.o.refunds!.pay(to!, due.amount, `refund:${id}`) : null;
    return { payer: to ?? '', unusedMs: due.unusedMs, gross: due.gross, fee: due.fee, amount: due.amount, transferId };
  }

  // ---- reading -----------------------------------------------------------------------------

  /** A stored reservation as clients see it, with the egress queues it holds in the switches. */
  private view(stored: StoredReservation): ReservationView {
    return { ...viewOf(stored), queues: stored.state === 'active' ? (this.o.enforcer.queuesOf?.(stored.id) ?? []) : [] };
  }

  /** A reservation in full, without asking who reads it (for the controller's own use). */
  get(id: string): ReservationView {
    return this.view(this.stored(id));
  }

  /** A reservation in full, for its owner or the operator. */
  read(id: string, who: Requester): ReservationView & { refund: RefundView | null } {
    const stored = this.stored(id);
    this.authorise(stored, who);
    const refund = this.reservations.refund(id);
    return { ...this.view(stored), refund: refund ? refundView(refund) : null };
  }

  /** The reservations `owner` paid for, newest first. */
  listOwned(owner: string, options: { state?: ReservationState; limit?: number } = {}): ReservationView[] {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    return this.reservations.listOwned(owner, options.state, limit).map((r) => this.view(r));
  }

  /** What anyone may see: per class, the reservations in force and their summed rate. */
  load(): LoadView {
    const classes = this.reservations.load();
    return {
      at: this.now(),
      active: classes.reduce((n, c) => n + c.active, 0),
      reservedBps: classes.reduce((n, c) => n + c.reservedBps, 0),
      classes,
    };
  }

  /**
   * Deletes the quotes that expired unused more than reservations.quoteRetention ago (and
   * at least reservations.stranded.grace: a payment for one may still be claimed); returns how many.
   */
  purgeQuotes(): number {
    const r = this.o.config.reservations;
    return this.reservations.purgeQuotes(this.now() - Math.max(r.quoteRetentionMs, r.stranded.graceMs));
  }

  /** The operator changes a class's prices, target or share (class-changes.ts). */
  changeClass(id: string, change: ClassChange, who: Requester): ServiceClassConfig {
    if (who.kind !== 'operator') throw new Refusal('not_allowed', 'only an operator (admin token) changes classes');
    const changed = changeClass({ store: this.o.store, classes: this.o.classes, pricing: this.o.pricing, now: this.now() }, id, change, who.token);
    this.log.info({ classId: id, change, by: who.token }, 'class changed');
    return changed;
  }

  // ---- payments that could not buy what they were sent for ---------------------------------

  /**
   * A payment for `quoteId` that cannot buy it (the quote expired or was used, the payment
   * is short, the reservation it would extend is over), claimed by its payer within
   * reservations.stranded.grace of the quote's expiry. Policy refund: paid back in full
   * by a ledger transfer, and the payment is redeemed; policy credit: a new quote for the
   * same flow, class and rate at the old price, for the time the payment covers, valid
   * for the grace period and payable only by this payment (a payment too small for the
   * shortest reservation is refunded instead). Once only: a repeated or concurrent claim
   * gets the first one's answer.
   */
  async claimStranded(req: PaymentRequest, who: Requester): Promise<StrandedView & { first: boolean }> {
    const proof = proofOf(req.payment);
    if (proof.ledger !== this.o.ledger.kind) throw new Refusal('wrong_ledger', `this controller is paid on the ${this.o.ledger.kind} ledger`);
    const quote = this.storedQuote(req.quoteId);
    const earlier = this.reservations.strandedClaim(proof);
    if (earlier) {
      this.checkPayer(earlier.payer, who);
      return { ...this.strandedView(earlier), first: false };
    }
    const verdict = await this.o.ledger.verifyPayment(proof, { payTo: this.o.ledger.operatorAddress, amount: 0n, memo: quote.id });
    if (!verdict.ok) {
      if (verdict.reason === 'memo_mismatch' || verdict.reason === 'unknown' || verdict.reason === 'wrong_recipient') throw new Refusal('unknown_payment', `payment ${proof.id} is not a payment to this operator for quote ${quote.id} (${verdict.message})`);
      throw new Refusal(verdict.reason, verdict.message);
    }
    if (verdict.payer === null) throw new Refusal('refund_unsupported', `the ${this.o.ledger.kind} ledger does not name the payer of ${proof.id}`);
    this.checkPayer(verdict.payer, who);
    const now = this.now();
    const reason = this.whyStranded(quote, verdict.amount, now);
    if (reason === null) throw new Refusal('payment_usable', `payment ${proof.id} can still buy quote ${quote.id} (until ${new Date(quote.expiresAt).toISOString()}): use it`);
    const grace = this.o.config.reservations.stranded;
    if (now > quote.expiresAt + grace.graceMs) throw new Refusal('grace_expired', `payments for quote ${quote.id} could be claimed until ${new Date(quote.expiresAt + grace.graceMs).toISOString()}`);
    const payer = verdict.payer;
    const credit = grace.policy === 'credit' ? this.creditTerms(quote, verdict.amount) : null;
    const { record, first } = this.reservations.claimStranded(proof, () => {
      const base = { ledger: proof.ledger, proofId: proof.id, payer, quoteId: quote.id, amount: verdict.amount, reason, at: now };
      if (credit) {
        const signed = signQuote(this.o.operatorKey, { ledger: this.o.ledger.kind, payTo: this.o.ledger.operatorAddress, amount: credit.amount, terms: credit.terms, validForMs: grace.graceMs, now });
        this.reservations.saveQuote(signed, 'new', null, credit.terms.classId, credit.amount, { proofId: proof.id, memo: quote.id });
        return { ...base, policy: 'credit' as const, refundTransfer: null, creditQuote: signed.quote.id, creditUntil: signed.quote.expiresAt };
      }
      if (!this.o.refunds) throw new Refusal('refund_unsupported', `this controller's ${this.o.ledger.kind} ledger cannot pay refunds`);
      const transfer = this.o.refunds.pay(payer, verdict.amount, `stranded-refund:${proof.id}`);
      return { ...base, policy: 'refund' as const, refundTransfer: transfer, creditQuote: null, creditUntil: null };
    });
    this.log.info({ payment: proof.id, quote: quote.id, reason, policy: record.policy, amount: record.amount.toString() }, 'stranded payment claimed');
    return { ...this.strandedView(record), first };
  }

  /** Why `amount` paid for `quote` cannot buy it now, or null when it can. */
  private whyStranded(quote: StoredQuote, amount: bigint, now: number): string | null {
    if (quote.usedBy !== null) return 'quote_used';
    if (amount < quote.amount) return 'too_little';
    if (now > quote.expiresAt) return 'quote_expired';
    if (quote.kind === 'extension' && (quote.reservationId === null || this.reservations.stateOf(quote.reservationId) !== 'active')) return 'not_active';
    return null;
  }

  /** A credit quote's terms: the old flow, class, rate and unit price, for the time `paid` covers. */
  private creditTerms(quote: StoredQuote, paid: bigint): { terms: Terms & { classId: string }; amount: bigint } | null {
    const old = quote.signed.quote.terms as unknown as NewTerms & { unitPrice: string; reservationId?: string };
    let match = old.match;
    if (quote.kind === 'extension') {
      const r = quote.reservationId === null ? undefined : this.reservations.reservation(quote.reservationId);
      if (!r) return null;
      match = r.match;
    }
    const covered = paid >= quote.amount ? old.durationMs : Number((BigInt(old.durationMs) * paid) / quote.amount);
    if (covered < this.o.config.reservations.minDurationMs) return null;
    const amount = (quote.amount * BigInt(covered)) / BigInt(old.durationMs);
    return { terms: { kind: 'new', classId: old.classId, rateBps: old.rateBps, durationMs: covered, match: { ...match }, unitPrice: old.unitPrice }, amount };
  }

  private checkPayer(payer: string, who: Requester): void {
    if (who.kind !== 'account' || who.address !== payer) throw new Refusal('not_payer', `only the payer (${payer}) may claim this payment; sign with its key`);
  }

  private strandedView(r: StrandedRecord): StrandedView {
    let credit: StrandedView['credit'] = null;
    if (r.creditQuote) {
      const q = this.reservations.quote(r.creditQuote);
      const terms = q?.signed.quote.terms as unknown as { unitPrice: string; rateBps: number; durationMs: number } | undefined;
      const unitPrice = Number(terms?.unitPrice ?? 0);
      if (q && terms) {
        credit = {
          quote: { quote: q.signed.quote, signature: q.signed.signature, unitPrice, totalPrice: unitPrice * (terms.rateBps / 1e6) * (terms.durationMs / 1000), available: true, maxFitBps: terms.rateBps, bottleneck: null },
          until: r.creditUntil ?? q.expiresAt,
        };
      }
    }
    return {
      payment: { ledger: r.ledger as PaymentProof['ledger'], id: r.proofId },
      quoteId: r.quoteId,
      payer: r.payer,
      amount: r.amount.toString(),
      reason: r.reason,
      policy: r.policy,
      refund: r.refundTransfer ? { transfer: r.refundTransfer, amount: r.amount.toString() } : null,
      credit,
    };
  }

  list(options: { state?: ReservationState; limit?: number } = {}): ReservationView[] {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    return this.reservations.list(options.state, limit).map((r) => this.view(r));
  }

  countByState(): Record<ReservationState, number> {
    return this.reservations.countByState();
  }

  stats(): typeof this.counters & { live: number } {
    return { ...this.counters, live: this.live.size };
  }

  // ---- the checks the flow is made of --------------------------------------------------------

  /** The owner, or the operator, may act on a reservation; anyone else gets not_owner. */
  private authorise(stored: StoredReservation, who: Requester): void {
    if (who.kind === 'operator') return;
    if (stored.owner === null || stored.owner !== who.address) {
      throw new Refusal('not_owner', `reservation ${stored.id} belongs to another account; sign with the key that paid for it`);
    }
  }

  private stored(id: string): StoredReservation {
    const stored = this.reservations.reservation(reservationIdOf(id));
    if (!stored) throw new Refusal('unknown_reservation', `no reservation ${id}`);
    return stored;
  }

  private storedQuote(quoteId: unknown): StoredQuote {
    const id = quoteIdOf(quoteId);
    const quote = this.reservations.quote(id);
    if (!quote) throw new Refusal('unknown_quote', `no quote ${id}`);
    return quote;
  }

  private checkValid(quote: StoredQuote): void {
    if (this.now() > quote.expiresAt) throw new Refusal('quote_expired', `quote ${quote.id} expired at ${new Date(quote.expiresAt).toISOString()}${STRANDED_HINT}`);
  }

  private checkActive(stored: StoredReservation): void {
    if (stored.state !== 'active' || !this.live.has(stored.id)) throw new Refusal('not_active', `reservation ${stored.id} is ${stored.state}`);
  }

  /** A reservation may not reach further than the longest duration from now. */
  private checkLongest(expiresAt: number, now: number): void {
    const max = this.o.config.reservations.maxDurationMs;
    if (expiresAt - now > max) throw new Refusal('bad_duration', `the reservation would then last more than the maximum of ${max} ms from now`);
  }

  /** A well-formed proof on this controller's ledger that has bought nothing yet. */
  private unredeemed(payment: unknown): PaymentProof {
    const proof = proofOf(payment);
    if (proof.ledger !== this.o.ledger.kind) throw new Refusal('wrong_ledger', `this controller is paid on the ${this.o.ledger.kind} ledger`);
    if (this.reservations.isRedeemed(proof)) throw new Refusal('already_redeemed', `payment ${proof.id} has already bought a reservation`);
    return proof;
  }

  private async verify(proof: PaymentProof, quote: StoredQuote): Promise<{ amount: bigint; payer: string | null }> {
    const verdict = await this.o.ledger.verifyPayment(proof, { payTo: this.o.ledger.operatorAddress, amount: quote.amount, memo: quote.credit?.memo ?? quote.id });
    if (!verdict.ok) throw new Refusal(verdict.reason, verdict.message + (verdict.reason === 'too_little' ? STRANDED_HINT : ''));
    return { amount: verdict.amount, payer: verdict.payer };
  }

  /**
   * The flow label is the reservation's key at the edge (the pricing paper's QoS manager
   * classifies on source and flow label): one source cannot hold a label twice.
   */
  private checkFlowLabel(match: FlowMatch): void {
    if (match.flowLabel === undefined) return;
    for (const r of this.live.values()) {
      if (r.match.src === match.src && r.match.flowLabel === match.flowLabel) {
        throw new Refusal('flow_label_in_use', `flow label ${match.flowLabel} of ${match.src} is held by active reservation ${r.id}; ask for another label or "auto"`);
      }
    }
  }

  /** A flow label (1 … 2^20−1, RFC 6437: 0 means unlabelled) that no active reservation of `src` holds. */
  private unusedFlowLabel(src: string): number {
    const held = new Set<number>();
    for (const r of this.live.values()) if (r.match.src === src && r.match.flowLabel !== undefined) held.add(r.match.flowLabel);
    for (;;) {
      const label = randomInt(1, 0x100000);
      if (!held.has(label)) return label;
    }
  }

  private pathFor(match: FlowMatch): Path {
    const topo = this.o.topology();
    if (!topo.hostByIp(match.src)) throw new Refusal('unknown_host', `no host with address ${match.src} is known to the network`);
    if (!topo.hostByIp(match.dst)) throw new Refusal('unknown_host', `no host with address ${match.dst} is known to the network`);
    const path = topo.pathBetweenHosts(match.src, match.dst);
    if (!path) throw new Refusal('no_path', `there is no path from ${match.src} to ${match.dst}`);
    return path;
  }

  private defaultClass(): ServiceClass {
    return this.o.classes.list().find((c) => !c.bestEffort) ?? this.o.classes.bestEffort;
  }

  private burstBits(rateBps: number): number {
    return Math.max(8 * 1500, Math.ceil((rateBps * this.o.config.reservations.burstMs) / 1000));
  }

  private sign(amount: bigint, terms: Terms, now: number): ReturnType<typeof signQuote> {
    return signQuote(this.o.operatorKey, { ledger: this.o.ledger.kind, payTo: this.o.ledger.operatorAddress, amount, terms, validForMs: this.o.config.reservations.quoteTtlMs, now });
  }

  private counted(refusal: Refusal): Refusal {
    if (refusal.code === 'capacity_unavailable') this.counters.capacityRefusals++;
    return refusal;
  }
}

/** Added to the refusals that leave a payment unable to buy its quote. */
const STRANDED_HINT = '; a payment made for it can be claimed back by its payer (POST /v1/payments/stranded)';

function viewOf(stored: StoredReservation): ReservationView {
  return { ...stored, paid: stored.paid.toString() };
}

function refundView(r: RefundRecord): RefundView {
  return { to: r.payer, unusedMs: r.unusedMs, gross: r.gross.toString(), fee: r.fee.toString(), amount: r.amount.toString(), transfer: r.transferId };
}

function enforcedOf(stored: StoredReservation): EnforcedReservation {
  return {
    id: stored.id,
    classId: stored.classId,
    dscp: stored.dscp,
    rateBps: stored.rateBps,
    burstBits: stored.burstBits,
    match: stored.match,
    path: pathFromView(stored.path),
    expiresAtMs: stored.expiresAt,
  };
}

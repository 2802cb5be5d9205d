// The reservation side's SQLite tables (src/reservations/migrations.ts): every statement
// of the reservation side is here, prepared once, and every write is one method that is
// one transaction, so that what belongs together commits together:
// - recordPurchase: the redemption of the payment (payment_redemptions, through its owner
//   src/payments/redemption.ts, whose primary key decides races between connections and
//   processes), the quote marked used, the reservation ('installing') and the payment
//   (revenue);
// - recordExtension / recordVoucher: the same for a paid extension;
// - undoPayment: the opposite of recordPurchase / recordExtension when the switches did
//   not take what was paid for (the payment becomes redeemable again);
// - recordCancellation: the reservation ended and its refund (controller_refunds, whose
//   primary key refunds a reservation once only) with the refund's ledger transfer.
// Writers use BEGIN IMMEDIATE (Store.immediate): the write lock is taken before the
// checks inside the transaction.
import type Database from 'better-sqlite3';
import type { Store } from '../store/index.js';
import type { PaymentProof } from '../payments/ledger.js';
import type { SignedQuote, SignedReceipt } from '../payments/quotes.js';
import { isRedeemed, recordRedemption, releaseRedemption } from '../payments/redemption.js';
import { findStranded, recordStranded, type StrandedRecord } from '../payments/stranded.js';
import type { FlowMatch } from '../network/contracts.js';
import { Refusal } from './refusal.js';
import { RESERVATION_STATES, type PathView, type ReservationState, type ReservationView } from './types.js';

export type QuoteKind = 'new' | 'extension';

export interface StoredQuote {
  id: string;
  signed: SignedQuote;
  kind: QuoteKind;
  /** the reservation an extension quote extends */
  reservationId: string | null;
  classId: string;
  /** base units */
  amount: bigint;
  expiresAt: number;
  /** the reservation that a payment of this quote bought or extended */
  usedBy: string | null;
  /** a credit quote: the one stranded payment that pays it, and that payment's memo */
  credit: { proofId: string; memo: string } | null;
}

/** A cancellation's refund as recorded (amounts in base units). */
export interface RefundRecord {
  reservationId: string;
  payer: string;
  unusedMs: number;
  gross: bigint;
  fee: bigint;
  amount: bigint;
  /** the ledger transfer that paid it back; null when nothing was due */
  transferId: string | null;
  at: number;
}

/** Reserved load of one class (installing and active reservations). */
export interface ClassLoad {
  classId: string;
  active: number;
  reservedBps: number;
}

/** A reservation as stored: its view, with the amount paid as a number. */
export interface StoredReservation extends Omit<ReservationView, 'paid'> {
  /** base units, everything paid for it */
  paid: bigint;
}

/** A verified payment of a quote, as it is recorded (and, if need be, undone). */
export interface RecordedPayment {
  reservationId: string;
  quoteId: string;
  proof: PaymentProof;
  classId: string;
  /** base units, as verified on the ledger */
  amount: bigint;
  at: number;
  /** the transfer's memo when it is not the quote id (a credit quote's payment) */
  memo?: string;
}

interface ReservationRow {
  id: string;
  quote_id: string;
  state: ReservationState;
  class_id: string;
  rate_bps: bigint;
  burst_bits: bigint;
  dscp: bigint;
  match: string;
  path: string;
  created_at: bigint;
  starts_at: bigint;
  expires_at: bigint;
  ended_at: bigint | null;
  paid: bigint;
  receipt: string | null;
  reason: string | null;
  owner: string | null;
}

interface RefundRow {
  reservation_id: string;
  payer: string;
  unused_ms: bigint;
  gross: bigint;
  fee: bigint;
  amount: bigint;
  transfer_id: string | null;
  at: bigint;
}

interface QuoteRow {
  id: string;
  signed: string;
  kind: QuoteKind;
  reservation_id: string | null;
  class_id: string;
  amount: bigint;
  expires_at: bigint;
  used_by: string | null;
  credit_proof: string | null;
  credit_memo: string | null;
}

type PaymentKind = 'purchase' | 'extension' | 'voucher';

function prepareAll(db: Database.Database) {
  return {
    insertQuote: db.prepare<[string, string, QuoteKind, string | null, string, bigint, number, string | null, string | null]>(
      'INSERT INTO controller_quotes (id, signed, kind, reservation_id, class_id, amount, expires_at, used_by, credit_proof, credit_memo) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)',
    ),
    quote: db.prepare<[string], QuoteRow>('SELECT * FROM controller_quotes WHERE id = ?').safeIntegers(true),
    useQuote: db.prepare<[string, string]>('UPDATE controller_quotes SET used_by = ? WHERE id = ? AND used_by IS NULL'),
    freeQuote: db.prepare<[string]>('UPDATE controller_quotes SET used_by = NULL WHERE id = ?'),
    purgeQuotes: db.prepare<[number]>('DELETE FROM controller_quotes WHERE used_by IS NULL AND expires_at < ?'),

    reservation: db.prepare<[string], ReservationRow>('SELECT * FROM controller_reservations WHERE id = ?').safeIntegers(true),
    state: db.prepare<[string], { state: ReservationState }>('SELECT state FROM controller_reservations WHERE id = ?'),
    list: db
      .prepare<[string | null, string | null, number], ReservationRow>('SELECT * FROM controller_reservations WHERE (? IS NULL OR state = ?) ORDER BY created_at DESC, id LIMIT ?')
      .safeIntegers(true),
    live: db.prepare<[], ReservationRow>(`SELECT * FROM controller_reservations WHERE state IN ('installing', 'active') ORDER BY created_at`).safeIntegers(true),
    listOwned: db
      .prepare<[string, string | null, string | null, number], ReservationRow>(
        'SELECT * FROM controller_reservations WHERE owner = ? AND (? IS NULL OR state = ?) ORDER BY created_at DESC, id LIMIT ?',
      )
      .safeIntegers(true),
    countByState: db.prepare<[], { state: ReservationState; n: number }>('SELECT state, COUNT(*) AS n FROM controller_reservations GROUP BY state'),
    load: db.prepare<[], { class_id: string; n: number; bps: number }>(
      `SELECT class_id, COUNT(*) AS n, SUM(rate_bps) AS bps FROM controller_reservations WHERE state IN ('installing', 'active') GROUP BY class_id ORDER BY class_id`,
    ),
    liveOwned: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM controller_reservations WHERE owner = ? AND state IN ('installing', 'active')`),
    insertReservation: db.prepare<[string, string, string, number, number, number, string, string, number, number, number, bigint, string | null]>(
      `INSERT INTO controller_reservations (id, quote_id, state, class_id, rate_bps, burst_bits, dscp, match, path, created_at, starts_at, expires_at, paid, owner)
       VALUES (?, ?, 'installing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    activate: db.prepare<[string, string]>(`UPDATE controller_reservations SET state = 'active', receipt = ? WHERE id = ? AND state = 'installing'`),
    activateInstalling: db.prepare<[]>(`UPDATE controller_reservations SET state = 'active' WHERE state = 'installing'`),
    end: db.prepare<[ReservationState, number, string, string]>(`UPDATE controller_reservations SET state = ?, ended_at = ?, reason = ? WHERE id = ? AND state = 'active'`),
    markExpired: db.prepare<[number, string]>(`UPDATE controller_reservations SET state = 'expired', ended_at = ? WHERE id = ?`),
    markFailed: db.prepare<[number, string, string]>(`UPDATE controller_reservations SET state = 'failed', ended_at = ?, reason = ?, paid = 0 WHERE id = ?`),
    /** also undoes an extension, with the earlier end and the negated amount */
    extend: db.prepare<[number, bigint, string]>('UPDATE controller_reservations SET expires_at = ?, paid = paid + ? WHERE id = ?'),

    insertPayment: db.prepare<[string, string, string, string, string, PaymentKind, bigint, number]>(
      'INSERT INTO controller_payments (reservation_id, quote_id, ledger, proof_id, class_id, kind, amount, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deletePayment: db.prepare<[string, string]>('DELETE FROM controller_payments WHERE ledger = ? AND proof_id = ?'),
    transferPaid: db
      .prepare<[string], { paid: bigint }>(`SELECT COALESCE(SUM(amount), 0) AS paid FROM controller_payments WHERE reservation_id = ? AND kind <> 'voucher'`)
      .safeIntegers(true),

    insertRefund: db.prepare<[string, string, number, bigint, bigint, bigint, string | null, number]>(
      'INSERT INTO controller_refunds (reservation_id, payer, unused_ms, gross, fee, amount, transfer_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    refund: db.prepare<[string], RefundRow>('SELECT * FROM controller_refunds WHERE reservation_id = ?').safeIntegers(true),

    channel: db.prepare<[string], { reservation_id: string }>('SELECT reservation_id FROM controller_channels WHERE channel = ?'),
    channelsOf: db.prepare<[string], { channel: string }>('SELECT channel FROM controller_channels WHERE reservation_id = ?'),
    bindChannel: db.prepare<[string, string, number]>('INSERT INTO controller_channels (channel, reservation_id, bound_at) VALUES (?, ?, ?) ON CONFLICT (channel) DO NOTHING'),
  };
}

export class ReservationStore {
  private readonly sql: ReturnType<typeof prepareAll>;

  constructor(private readonly store: Store) {
    this.sql = prepareAll(store.db);
  }

  // ---- quotes --------------------------------------------------------------------------------

  saveQuote(signed: SignedQuote, kind: QuoteKind, reservationId: string | null, classId: string, amount: bigint, credit: StoredQuote['credit'] = null): void {
    this.sql.insertQuote.run(signed.quote.id, JSON.stringify(signed), kind, reservationId, classId, amount, signed.quote.expiresAt, credit?.proofId ?? null, credit?.memo ?? null);
  }

  quote(id: string): StoredQuote | undefined {
    const row = this.sql.quote.get(id);
    if (!row) return undefined;
    return {
      id: row.id,
      signed: JSON.parse(row.signed) as SignedQuote,
      kind: row.kind,
      reservationId: row.reservation_id,
      classId: row.class_id,
      amount: row.amount,
      expiresAt: Number(row.expires_at),
      usedBy: row.used_by,
      credit: row.credit_proof !== null && row.credit_memo !== null ? { proofId: row.credit_proof, memo: row.credit_memo } : null,
    };
  }

  /** Whether the payments area has recorded `proof` as redeemed. */
  isRedeemed(proof: PaymentProof): boolean {
    return isRedeemed(this.store, proof);
  }

  // ---- reading reservations ------------------------------------------------------------------

  reservation(id: string): StoredReservation | undefined {
    const row = this.sql.reservation.get(id);
    return row ? reservationOf(row) : undefined;
  }

  stateOf(id: string): ReservationState | undefined {
    return this.sql.state.get(id)?.state;
  }

  /** Newest first. */
  list(state: ReservationState | undefined, limit: number): StoredReservation[] {
    return this.sql.list.all(state ?? null, state ?? null, limit).map(reservationOf);
  }

  /** The reservations `owner` paid for, newest first. */
  listOwned(owner: string, state: ReservationState | undefined, limit: number): StoredReservation[] {
    return this.sql.listOwned.all(owner, state ?? null, state ?? null, limit).map(reservationOf);
  }

  /** Per class: how many reservations are installing or active, and their summed rate. */
  load(): ClassLoad[] {
    return this.sql.load.all().map((r) => ({ classId: r.class_id, active: Number(r.n), reservedBps: Number(r.bps) }));
  }

  /** Base units that ledger transfers (not channel vouchers) paid for a reservation. */
  transferPaid(id: string): bigint {
    return this.sql.transferPaid.get(id)?.paid ?? 0n;
  }

  refund(id: string): RefundRecord | undefined {
    const row = this.sql.refund.get(id);
    if (!row) return undefined;
    return {
      reservationId: row.reservation_id,
      payer: row.payer,
      unusedMs: Number(row.unused_ms),
      gross: row.gross,
      fee: row.fee,
      amount: row.amount,
      transferId: row.transfer_id,
      at: Number(row.at),
    };
  }

  /** Deletes quotes that bought nothing and expired before `before`; returns how many. */
  purgeQuotes(before: number): number {
    return this.sql.purgeQuotes.run(before).changes;
  }

  countByState(): Record<ReservationState, number> {
    const out = Object.fromEntries(RESERVATION_STATES.map((s) => [s, 0])) as Record<ReservationState, number>;
    for (const r of this.sql.countByState.all()) out[r.state] = r.n;
    return out;
  }

  /** The paid reservations that have not ended ('installing' or 'active'), oldest first. */
  loadActive(): StoredReservation[] {
    return this.sql.live.all().map(reservationOf);
  }

  /** The reservation a payment channel extends, once its first voucher bound it. */
  channelReservation(channel: string): string | undefined {
    return this.sql.channel.get(channel)?.reservation_id;
  }

  /**
   * Claims a stranded payment in one transaction: `settle` (the refund transfer, or the
   * credit quote) runs inside it with the claim's row; a refund also redeems the payment
   * (it can buy nothing afterwards). The first claim stands: a later or concurrent one
   * gets the recorded claim and changes nothing.
   */
  claimStranded(proof: PaymentProof, claim: () => StrandedRecord): { record: StrandedRecord; first: boolean } {
    return this.store.immediate(() => {
      const earlier = findStranded(this.store, proof);
      if (earlier) return { record: earlier, first: false };
      const record = claim();
      if (record.policy === 'refund') {
        const redeemed = recordRedemption(this.store, proof, { reservationId: `stranded:${proof.id}`, amount: record.amount, memo: record.quoteId, now: record.at });
        if (!redeemed.ok) throw new Refusal(redeemed.reason, redeemed.message);
      }
      if (!recordStranded(this.store, record)) throw new Refusal('already_redeemed', `payment ${proof.id} was claimed meanwhile`);
      return { record, first: true };
    });
  }

  strandedClaim(proof: PaymentProof): StrandedRecord | undefined {
    return findStranded(this.store, proof);
  }

  /** The channels whose vouchers extended a reservation. */
  channelsOf(reservationId: string): string[] {
    return this.sql.channelsOf.all(reservationId).map((r) => r.channel);
  }

  // ---- writing: one method, one transaction ---------------------------------------------------

  /**
   * Records a purchase: redemption, quote used, the reservation ('installing') and the
   * payment. Refused (nothing written) with 'already_redeemed' or 'quote_used' when
   * another request got there first.
   */
  recordPurchase(reservation: Omit<StoredReservation, 'state' | 'endedAt' | 'receipt' | 'reason' | 'paid'>, payment: RecordedPayment, maxActivePerOwner: number): void {
    const r = reservation;
    this.store.immediate(() => {
      if (r.owner !== null && (this.sql.liveOwned.get(r.owner)?.n ?? 0) >= maxActivePerOwner) {
        throw new Refusal('too_many_active', `${r.owner} already has ${maxActivePerOwner} reservations in force (the most one payer may hold); the payment was not consumed`);
      }
      this.redeem(payment);
      this.sql.insertReservation.run(
        r.id,
        r.quoteId,
        r.classId,
        r.rateBps,
        r.burstBits,
        r.dscp,
        JSON.stringify(r.match),
        JSON.stringify(r.path),
        r.createdAt,
        r.startsAt,
        r.expiresAt,
        payment.amount,
        r.owner,
      );
      this.insertPayment(payment, 'purchase');
    });
  }

  /** Records a paid extension quote: redemption, quote used, the new end, the payment. Refusals as recordPurchase. */
  recordExtension(payment: RecordedPayment, expiresAt: number): void {
    this.store.immediate(() => {
      this.redeem(payment);
      this.sql.extend.run(expiresAt, payment.amount, payment.reservationId);
      this.insertPayment(payment, 'extension');
    });
  }

  /**
   * Records an extension paid by a channel voucher (already accepted and stored by the
   * ChannelBook): the channel bound to the reservation, the new end, the payment.
   */
  recordVoucher(v: { reservationId: string; channel: string; sequence: number; ledger: string; classId: string; amount: bigint; expiresAt: number; at: number }): void {
    this.store.immediate(() => {
      this.sql.bindChannel.run(v.channel, v.reservationId, v.at);
      this.sql.extend.run(v.expiresAt, v.amount, v.reservationId);
      this.sql.insertPayment.run(v.reservationId, '', v.ledger, `${v.channel}:${v.sequence}`, v.classId, 'voucher', v.amount, v.at);
    });
  }

  /**
   * Undoes recordPurchase or recordExtension: the payment row and the redemption go, the
   * quote can be used again; a purchase's reservation stays as 'failed' with the reason,
   * an extended one gets its earlier end back.
   */
  undoPayment(payment: RecordedPayment, reservation: { failed: string; at: number } | { expiresAt: number }): void {
    this.store.immediate(() => {
      this.sql.deletePayment.run(payment.proof.ledger, payment.proof.id);
      releaseRedemption(this.store, payment.proof);
      this.sql.freeQuote.run(payment.quoteId);
      if ('failed' in reservation) this.sql.markFailed.run(reservation.at, reservation.failed, payment.reservationId);
      else this.sql.extend.run(reservation.expiresAt, -payment.amount, payment.reservationId);
    });
  }

  /** The switches took it: 'installing' → 'active', with the receipt. */
  activate(id: string, receipt: SignedReceipt): void {
    this.sql.activate.run(JSON.stringify(receipt), id);
  }

  /** Ends an active reservation; false when it was not active (ended meanwhile). */
  markEnded(id: string, state: 'expired' | 'cancelled', reason: string, at: number): boolean {
    return this.sql.end.run(state, at, reason, id).changes === 1;
  }

  /**
   * Cancels an active reservation and records its refund, in one transaction: `refund`
   * runs inside it (it computes the amount and makes the ledger transfer), so a refund
   * that fails leaves the reservation active and nothing paid. Undefined when the
   * reservation was not active any more (another cancel or the expiry got there first);
   * the refund row's primary key would refuse a second refund even then.
   */
  recordCancellation(id: string, at: number, reason: string, refund: () => Omit<RefundRecord, 'reservationId' | 'at'> | null): RefundRecord | null | undefined {
    return this.store.immediate(() => {
      if (this.sql.end.run('cancelled', at, reason, id).changes !== 1) return undefined;
      const r = refund();
      if (!r) return null;
      this.sql.insertRefund.run(id, r.payer, r.unusedMs, r.gross, r.fee, r.amount, r.transferId, at);
      return { ...r, reservationId: id, at };
    });
  }

  /**
   * After a restart: the reservations whose time passed while the controller was down
   * are expired; every other one that was being installed counts as active.
   */
  settleAfterRestart(expired: readonly string[], at: number): void {
    this.store.immediate(() => {
      for (const id of expired) this.sql.markExpired.run(at, id);
      this.sql.activateInstalling.run();
    });
  }

  private redeem(payment: RecordedPayment): void {
    const redeemed = recordRedemption(this.store, payment.proof, { reservationId: payment.reservationId, amount: payment.amount, memo: payment.memo ?? payment.quoteId, now: payment.at });
    if (!redeemed.ok) throw new Refusal(redeemed.reason, redeemed.message);
    if (this.sql.useQuote.run(payment.reservationId, payment.quoteId).changes !== 1) throw new Refusal('quote_used', `quote ${payment.quoteId} has already been used`);
  }

  private insertPayment(p: RecordedPayment, kind: PaymentKind): void {
    this.sql.insertPayment.run(p.reservationId, p.quoteId, p.proof.ledger, p.proof.id, p.classId, kind, p.amount, p.at);
  }
}

function reservationOf(row: ReservationRow): StoredReservation {
  return {
    id: row.id,
    state: row.state,
    quoteId: row.quote_id,
    classId: row.class_id,
    rateBps: Number(row.rate_bps),
    burstBits: Number(row.burst_bits),
    dscp: Number(row.dscp),
    match: JSON.parse(row.match) as FlowMatch,
    path: JSON.parse(row.path) as PathView,
    createdAt: Number(row.created_at),
    startsAt: Number(row.starts_at),
    expiresAt: Number(row.expires_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    paid: row.paid,
    receipt: row.receipt === null ? null : (JSON.parse(row.receipt) as SignedReceipt),
    reason: row.reason,
    owner: row.owner,
  };
}

// Redemption: one payment buys one reservation. A verified proof is
// recorded in payment_redemptions, whose primary key (ledger, proof id) decides races:
// of two requests that redeem the same proof — two connections, two processes, or the
// same process after a restart — exactly one INSERT succeeds; the other is refused with
// 'already_redeemed'. No in-memory set is involved, so nothing is forgotten on restart.
//
// This module is the only one that reads or writes payment_redemptions. redeemPayment
// verifies and records in one call; a caller that must record the redemption in the same
// transaction as its own rows (the reservation side: redemption, quote, reservation and
// revenue commit together) verifies first and then calls recordRedemption inside its
// Store.immediate transaction, and releaseRedemption when what was bought could not be
// delivered. Statements are prepared once per Store.
import type Database from 'better-sqlite3';
import type { Store } from '../store/index.js';
import { refuse, type Ledger, type PaymentProof, type PaymentRequirement, type PaymentVerdict, type RefusedPayment, type VerifiedPayment } from './ledger.js';

export interface Redemption {
  ledger: string;
  proofId: string;
  reservationId: string;
  amount: bigint;
  memo: string;
  redeemedAt: number;
}

interface RedemptionRow {
  ledger: string;
  proof_id: string;
  reservation_id: string;
  amount: bigint;
  memo: string;
  redeemed_at: bigint;
}

interface Statements {
  find: Database.Statement<[string, string], RedemptionRow>;
  insert: Database.Statement<[string, string, string, bigint, string, number]>;
  remove: Database.Statement<[string, string]>;
}

const prepared = new WeakMap<Store, Statements>();

function statements(store: Store): Statements {
  let s = prepared.get(store);
  if (!s) {
    s = {
      find: store.db.prepare<[string, string], RedemptionRow>('SELECT * FROM payment_redemptions WHERE ledger = ? AND proof_id = ?').safeIntegers(true),
      insert: store.db.prepare<[string, string, string, bigint, string, number]>(
        `INSERT INTO payment_redemptions (ledger, proof_id, reservation_id, amount, memo, redeemed_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ledger, proof_id) DO NOTHING`,
      ),
      remove: store.db.prepare<[string, string]>('DELETE FROM payment_redemptions WHERE ledger = ? AND proof_id = ?'),
    };
    prepared.set(store, s);
  }
  return s;
}

/** The refusal of a proof that has bought a reservation before. */
export function alreadyRedeemed(proof: PaymentProof): RefusedPayment {
  return refuse('already_redeemed', `payment ${proof.id} has already bought a reservation`);
}

export function isRedeemed(store: Store, proof: PaymentProof): boolean {
  return statements(store).find.get(proof.ledger, proof.id) !== undefined;
}

export function findRedemption(store: Store, proof: PaymentProof): Redemption | null {
  const row = statements(store).find.get(proof.ledger, proof.id);
  return row
    ? { ledger: row.ledger, proofId: row.proof_id, reservationId: row.reservation_id, amount: row.amount, memo: row.memo, redeemedAt: Number(row.redeemed_at) }
    : null;
}

/**
 * Records that the verified payment `proof` bought `reservationId`: one INSERT, whose
 * uniqueness (not any earlier check) makes a double use impossible. Synchronous, so that
 * a caller can run it inside its own transaction. Refused with 'already_redeemed' when
 * the proof bought something before.
 */
export function recordRedemption(
  store: Store,
  proof: PaymentProof,
  redemption: { reservationId: string; amount: bigint; memo: string; now: number },
): { ok: true } | RefusedPayment {
  const inserted = statements(store).insert.run(proof.ledger, proof.id, redemption.reservationId, redemption.amount, redemption.memo, redemption.now);
  return inserted.changes === 1 ? { ok: true } : alreadyRedeemed(proof);
}

/**
 * Forgets the redemption of `proof`, for a purchase that was recorded but could not be
 * delivered: the payment becomes redeemable again. Run it in the transaction that undoes
 * the rest of the purchase.
 */
export function releaseRedemption(store: Store, proof: PaymentProof): void {
  statements(store).remove.run(proof.ledger, proof.id);
}

export type RedeemResult = (VerifiedPayment & { reservationId: string }) | Exclude<PaymentVerdict, VerifiedPayment>;

/**
 * Verifies `proof` on `ledger` against `requirement` and, if it holds, records that it
 * bought `reservationId`. Returns the verified payment, or the reason it was refused.
 * The verification may be slow (a network ledger); the record is recordRedemption.
 */
export async function redeemPayment(
  store: Store,
  ledger: Ledger,
  proof: PaymentProof,
  requirement: PaymentRequirement,
  reservationId: string,
  now: number = Date.now(),
): Promise<RedeemResult> {
  const verdict = await ledger.verifyPayment(proof, requirement);
  if (!verdict.ok) return verdict;
  const recorded = recordRedemption(store, proof, { reservationId, amount: verdict.amount, memo: requirement.memo, now });
  if (!recorded.ok) return recorded;
  return { ...verdict, reservationId };
}

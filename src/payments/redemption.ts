// Redemption (issue 4, item 4): one payment buys one reservation. A verified proof is
// recorded in payment_redemptions, whose primary key (ledger, proof id) decides races:
// of two requests that redeem the same proof — two connections, two processes, or the
// same process after a restart — exactly one INSERT succeeds; the other is refused with
// 'already_redeemed'. No in-memory set is involved, so nothing is forgotten on restart.
import type { Store } from '../store/index.js';
import { refuse, type Ledger, type PaymentProof, type PaymentRequirement, type PaymentVerdict, type VerifiedPayment } from './ledger.js';

export interface Redemption {
  ledger: string;
  proofId: string;
  reservationId: string;
  amount: bigint;
  memo: string;
  redeemedAt: number;
}

export function isRedeemed(store: Store, proof: PaymentProof): boolean {
  return (
    store.db
      .prepare<[string, string], { one: number }>('SELECT 1 AS one FROM payment_redemptions WHERE ledger = ? AND proof_id = ?')
      .get(proof.ledger, proof.id) !== undefined
  );
}

export function findRedemption(store: Store, proof: PaymentProof): Redemption | null {
  const row = store.db
    .prepare<[string, string], { ledger: string; proof_id: string; reservation_id: string; amount: bigint; memo: string; redeemed_at: bigint }>(
      'SELECT * FROM payment_redemptions WHERE ledger = ? AND proof_id = ?',
    )
    .safeIntegers(true)
    .get(proof.ledger, proof.id);
  return row
    ? { ledger: row.ledger, proofId: row.proof_id, reservationId: row.reservation_id, amount: row.amount, memo: row.memo, redeemedAt: Number(row.redeemed_at) }
    : null;
}

export type RedeemResult = (VerifiedPayment & { reservationId: string }) | Exclude<PaymentVerdict, VerifiedPayment>;

/**
 * Verifies `proof` on `ledger` against `requirement` and, if it holds, records that it
 * bought `reservationId`. Returns the verified payment, or the reason it was refused.
 * The verification may be slow (a network ledger); the record is one INSERT whose
 * uniqueness, not the earlier check, is what makes a double use impossible.
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
  const inserted = store.db
    .prepare(
      `INSERT INTO payment_redemptions (ledger, proof_id, reservation_id, amount, memo, redeemed_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ledger, proof_id) DO NOTHING`,
    )
    .run(proof.ledger, proof.id, reservationId, verdict.amount, requirement.memo, now);
  if (inserted.changes !== 1) {
    return refuse('already_redeemed', `payment ${proof.id} has already bought a reservation`);
  }
  return { ...verdict, reservationId };
}

// Payments that could not buy what they were sent for, once their payer claimed them
// (payment_stranded, primary key (ledger, proof id)): refunded by a transfer back, or
// credited towards a new quote at the old price. This module is the only one that reads
// or writes the table; the reservation service decides what is stranded and what the
// policy gives (src/reservations/service.ts, claimStranded), inside its own transaction.
import type { Store } from '../store/index.js';
import type { PaymentProof } from './ledger.js';

export type StrandedPolicy = 'credit' | 'refund';

export interface StrandedRecord {
  ledger: string;
  proofId: string;
  payer: string;
  /** the quote the payment was sent for (its memo) */
  quoteId: string;
  /** base units paid */
  amount: bigint;
  /** why it could not buy that quote: quote_expired, quote_used, too_little, not_active */
  reason: string;
  policy: StrandedPolicy;
  refundTransfer: string | null;
  creditQuote: string | null;
  creditUntil: number | null;
  at: number;
}

interface Row {
  ledger: string;
  proof_id: string;
  payer: string;
  quote_id: string;
  amount: bigint;
  reason: string;
  policy: StrandedPolicy;
  refund_transfer: string | null;
  credit_quote: string | null;
  credit_until: bigint | null;
  at: bigint;
}

export function findStranded(store: Store, proof: PaymentProof): StrandedRecord | undefined {
  const r = store.db.prepare<[string, string], Row>('SELECT * FROM payment_stranded WHERE ledger = ? AND proof_id = ?').safeIntegers(true).get(proof.ledger, proof.id);
  if (!r) return undefined;
  return {
    ledger: r.ledger,
    proofId: r.proof_id,
    payer: r.payer,
    quoteId: r.quote_id,
    amount: r.amount,
    reason: r.reason,
    policy: r.policy,
    refundTransfer: r.refund_transfer,
    creditQuote: r.credit_quote,
    creditUntil: r.credit_until === null ? null : Number(r.credit_until),
    at: Number(r.at),
  };
}

/** Records a claim; false when the payment was claimed before (the first claim stands). Run it inside the caller's transaction. */
export function recordStranded(store: Store, s: StrandedRecord): boolean {
  return (
    store.db
      .prepare(
        `INSERT INTO payment_stranded (ledger, proof_id, payer, quote_id, amount, reason, policy, refund_transfer, credit_quote, credit_until, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ledger, proof_id) DO NOTHING`,
      )
      .run(s.ledger, s.proofId, s.payer, s.quoteId, s.amount, s.reason, s.policy, s.refundTransfer, s.creditQuote, s.creditUntil, s.at).changes === 1
  );
}

// The one interface through which the controller talks to a ledger (// PayFlow §3: each reservation is paid by a cryptocurrency transfer whose record lives on
// a distributed ledger — and, unlike the paper's prototype, every payment is verified).
// Implementations: LocalLedger (embedded, SQLite) and IotaLedger (IOTA Rebased JSON-RPC).
import type { SignedReceipt } from './quotes.js';

export type LedgerKind = 'local' | 'iota';

/** What a payer hands over to show it paid: which ledger, and the transfer's id there. */
export interface PaymentProof {
  ledger: LedgerKind;
  /** local: the transfer id (64 hex); iota: the transaction digest (base58) */
  id: string;
}

/** What the payment must be: to whom, at least how much, bound to which quote. */
export interface PaymentRequirement {
  payTo: string;
  /** minimum, in integer base units */
  amount: bigint;
  /** the quote binding (the quote id); must match exactly */
  memo: string;
}

export type RefusalReason =
  | 'unknown'
  | 'not_final'
  | 'wrong_recipient'
  | 'too_little'
  | 'memo_mismatch'
  | 'already_redeemed'
  | 'bad_signature';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'unknown',
  'not_final',
  'wrong_recipient',
  'too_little',
  'memo_mismatch',
  'already_redeemed',
  'bad_signature',
];

export interface VerifiedPayment {
  ok: true;
  proof: PaymentProof;
  /** the amount actually paid to payTo (may exceed the requirement) */
  amount: bigint;
  /** who paid, when the ledger says so */
  payer: string | null;
}

export interface RefusedPayment {
  ok: false;
  reason: RefusalReason;
  message: string;
}

export type PaymentVerdict = VerifiedPayment | RefusedPayment;

export function refuse(reason: RefusalReason, message: string): RefusedPayment {
  return { ok: false, reason, message };
}

/** Where a receipt was recorded. */
export interface ReceiptRecord {
  ledger: LedgerKind;
  /** local: the ledger entry's hash; iota: the receipt's id in the store */
  reference: string;
}

export interface Ledger {
  readonly kind: LedgerKind;
  /** the operator's address on this ledger: where reservations are paid */
  readonly operatorAddress: string;
  /** Checks a payment against a requirement; never throws for a bad proof. */
  verifyPayment(proof: PaymentProof, requirement: PaymentRequirement): Promise<PaymentVerdict>;
  balance(address: string): Promise<bigint>;
  /** Records a signed reservation receipt (the record the paper keeps on the ledger). */
  recordReceipt(receipt: SignedReceipt): Promise<ReceiptRecord>;
}

/** A typed failure of a ledger operation (a refused transfer, a bad voucher, ...). */
export class LedgerError extends Error {
  override name = 'LedgerError';
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status the service answers with */
    readonly status: number = 402,
  ) {
    super(message);
  }
}

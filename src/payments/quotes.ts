// Signed quotes and receipts: the operator signs what it promised (a
// quote: price, recipient, terms, validity) and what it delivered (a receipt: which
// reservation a payment bought), with Ed25519 over the canonical JSON of the message, so a
// client can later prove both to a third party. The quote's id is the memo a payment
// must carry (the quote binding checked by Ledger.verifyPayment).
import { randomBytes } from 'node:crypto';
import { formatAmount, parseAmount } from './amount.js';
import { canonicalJson, type CanonicalValue } from './canonical.js';
import { isPublicKeyHex, verifySignature, type SigningKey } from './keys.js';
import type { LedgerKind, PaymentProof } from './ledger.js';

/** JSON terms of the offer (class, rate, duration, flow ...), defined by the controller. */
export type Terms = { readonly [key: string]: CanonicalValue | undefined };

export interface Quote {
  id: string;
  /** the operator's Ed25519 public key (hex) */
  issuer: string;
  ledger: LedgerKind;
  payTo: string;
  /** price in base units, decimal string */
  amount: string;
  terms: Terms;
  issuedAt: number;
  expiresAt: number;
}

export interface SignedQuote {
  quote: Quote;
  signature: string;
}

export interface Receipt {
  id: string;
  issuer: string;
  quoteId: string;
  reservationId: string;
  payment: PaymentProof;
  /** amount verified on the ledger, decimal string */
  paid: string;
  issuedAt: number;
  terms: Terms;
}

export interface SignedReceipt {
  receipt: Receipt;
  signature: string;
}

export type DocumentCheck =
  | { ok: true }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'wrong_issuer' | 'expired'; message: string };

export function newId(): string {
  return randomBytes(16).toString('hex');
}

export interface QuoteFields {
  ledger: LedgerKind;
  payTo: string;
  amount: bigint;
  terms: Terms;
  /** validity from now, milliseconds */
  validForMs: number;
  now?: number;
  id?: string;
}

export function signQuote(key: SigningKey, fields: QuoteFields): SignedQuote {
  const issuedAt = fields.now ?? Date.now();
  const quote: Quote = {
    id: fields.id ?? newId(),
    issuer: key.publicKeyHex,
    ledger: fields.ledger,
    payTo: fields.payTo,
    amount: formatAmount(fields.amount),
    terms: fields.terms,
    issuedAt,
    expiresAt: issuedAt + fields.validForMs,
  };
  return { quote, signature: key.sign('quote', canonicalJson(quote as unknown as CanonicalValue)) };
}

/** The quote's price as a bigint. */
export function quoteAmount(quote: Quote): bigint {
  return parseAmount(quote.amount, 'quote.amount');
}

export function verifyQuote(
  signed: SignedQuote,
  options: { issuer?: string; now?: number } = {},
): DocumentCheck {
  const q = signed?.quote;
  if (!q || typeof q !== 'object' || typeof q.id !== 'string' || !isPublicKeyHex(q.issuer) ||
      typeof q.payTo !== 'string' || typeof q.issuedAt !== 'number' || typeof q.expiresAt !== 'number' ||
      (q.ledger !== 'local' && q.ledger !== 'iota') || !q.terms || typeof q.terms !== 'object') {
    return { ok: false, reason: 'malformed', message: 'not a quote' };
  }
  try {
    parseAmount(q.amount, 'quote.amount');
    if (!verifySignature('quote', canonicalJson(q as unknown as CanonicalValue), signed.signature, q.issuer)) {
      return { ok: false, reason: 'bad_signature', message: 'the quote signature does not verify' };
    }
  } catch (err) {
    return { ok: false, reason: 'malformed', message: (err as Error).message };
  }
  if (options.issuer !== undefined && options.issuer !== q.issuer) {
    return { ok: false, reason: 'wrong_issuer', message: 'the quote was signed by another key' };
  }
  if (options.now !== undefined && options.now > q.expiresAt) {
    return { ok: false, reason: 'expired', message: `the quote expired at ${new Date(q.expiresAt).toISOString()}` };
  }
  return { ok: true };
}

export interface ReceiptFields {
  quoteId: string;
  reservationId: string;
  payment: PaymentProof;
  paid: bigint;
  terms?: Terms;
  now?: number;
}

export function signReceipt(key: SigningKey, fields: ReceiptFields): SignedReceipt {
  const receipt: Receipt = {
    id: newId(),
    issuer: key.publicKeyHex,
    quoteId: fields.quoteId,
    reservationId: fields.reservationId,
    payment: { ledger: fields.payment.ledger, id: fields.payment.id },
    paid: formatAmount(fields.paid),
    issuedAt: fields.now ?? Date.now(),
    terms: fields.terms ?? {},
  };
  return { receipt, signature: key.sign('receipt', canonicalJson(receipt as unknown as CanonicalValue)) };
}

export function verifyReceipt(signed: SignedReceipt, options: { issuer?: string } = {}): DocumentCheck {
  const r = signed?.receipt;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string' || !isPublicKeyHex(r.issuer) ||
      typeof r.quoteId !== 'string' || typeof r.reservationId !== 'string' || !r.payment ||
      typeof r.payment.id !== 'string' || typeof r.issuedAt !== 'number' || !r.terms || typeof r.terms !== 'object') {
    return { ok: false, reason: 'malformed', message: 'not a receipt' };
  }
  try {
    parseAmount(r.paid, 'receipt.paid');
    if (!verifySignature('receipt', canonicalJson(r as unknown as CanonicalValue), signed.signature, r.issuer)) {
      return { ok: false, reason: 'bad_signature', message: 'the receipt signature does not verify' };
    }
  } catch (err) {
    return { ok: false, reason: 'malformed', message: (err as Error).message };
  }
  if (options.issuer !== undefined && options.issuer !== r.issuer) {
    return { ok: false, reason: 'wrong_issuer', message: 'the receipt was signed by another key' };
  }
  return { ok: true };
}

// Signed quotes and receipts: canonical serialisation, Ed25519 signing and verification,
// and refusal of anything altered after signing.
import { describe, expect, it } from 'vitest';
import { canonicalJson, CanonicalError } from '../../src/payments/canonical.js';
import { SigningKey } from '../../src/payments/keys.js';
import { quoteAmount, signQuote, signReceipt, verifyQuote, verifyReceipt } from '../../src/payments/quotes.js';

const operator = SigningKey.generate();

describe('canonicalJson', () => {
  it('sorts keys at every level, has no whitespace and writes bigints as strings', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: null, y: true }], c: 'x' }, n: 5n })).toBe('{"a":{"c":"x","d":[2,{"y":true,"z":null}]},"b":1,"n":"5"}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });
  it('refuses floats and unsafe integers', () => {
    expect(() => canonicalJson({ price: 0.1 })).toThrow(CanonicalError);
    expect(() => canonicalJson({ big: 2 ** 60 })).toThrow(CanonicalError);
  });
});

describe('quotes', () => {
  const signed = signQuote(operator, {
    ledger: 'local',
    payTo: operator.address,
    amount: 1234n,
    terms: { class: 'gold', rateKbps: 500, durationS: 60 },
    validForMs: 30_000,
    now: 1_000_000,
  });

  it('verifies a quote as signed, and through a JSON round trip', () => {
    expect(verifyQuote(signed)).toEqual({ ok: true });
    expect(verifyQuote(JSON.parse(JSON.stringify(signed)), { issuer: operator.publicKeyHex, now: 1_010_000 })).toEqual({ ok: true });
    expect(quoteAmount(signed.quote)).toBe(1234n);
  });

  it('refuses an altered price, other terms, a foreign issuer and an expired quote', () => {
    expect(verifyQuote({ ...signed, quote: { ...signed.quote, amount: '1' } })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyQuote({ ...signed, quote: { ...signed.quote, terms: { ...signed.quote.terms, rateKbps: 900 } } })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyQuote(signed, { issuer: SigningKey.generate().publicKeyHex })).toMatchObject({ ok: false, reason: 'wrong_issuer' });
    expect(verifyQuote(signed, { now: 1_030_001 })).toMatchObject({ ok: false, reason: 'expired' });
    const resigned = signQuote(SigningKey.generate(), { ...signed.quote, amount: 1n, validForMs: 1 });
    expect(verifyQuote({ quote: signed.quote, signature: resigned.signature })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyQuote({ quote: { ...signed.quote, amount: '1.5' }, signature: signed.signature })).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('receipts', () => {
  it('signs what a payment bought and refuses any change', () => {
    const r = signReceipt(operator, { quoteId: 'q1', reservationId: 'res-9', payment: { ledger: 'iota', id: 'Digest111' }, paid: 99n });
    expect(verifyReceipt(JSON.parse(JSON.stringify(r)), { issuer: operator.publicKeyHex })).toEqual({ ok: true });
    expect(verifyReceipt({ ...r, receipt: { ...r.receipt, reservationId: 'res-10' } })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyReceipt({ ...r, signature: 'zz' })).toMatchObject({ ok: false, reason: 'bad_signature' });
  });
});

// Money is never stranded: a payment that cannot buy what it was sent for (its quote
// expired, another payment used the quote, it paid too little, the reservation it would
// extend is over) is claimed back by its payer at POST /v1/payments/stranded, signed:
// refunded in full (policy refund), or credited towards a new quote for the same flow at
// the old price (policy credit), within reservations.stranded.grace; once only, also
// under concurrent claims. Real sockets, SQLite and ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { accountSigner } from '../../src/api/request-signature.js';
import { auditLedger } from '../../src/payments/audit.js';
import { SigningKey } from '../../src/payments/keys.js';
import { auditRecords } from '../../src/reservations/audit.js';
import { refusal, startHarness, tempDir, type Harness } from '../reservations/helpers.js';

const flow = { src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s' };
const TTL = 30_000;
const GRACE = 3_600_000;

function policyHarness(policy: 'credit' | 'refund'): { readonly h: Harness; stranger: () => ApiClient } {
  const state: { h?: Harness; stranger?: ApiClient } = {};
  const t = tempDir();
  beforeAll(async () => {
    state.h = await startHarness(t.dir, { patch: (c) => (c.reservations.stranded = { policy, graceMs: GRACE }) });
    state.stranger = new ApiClient(state.h.running.url, { signer: accountSigner(SigningKey.generate()) });
  });
  afterAll(async () => {
    await state.h?.close();
    t.cleanup();
  });
  return { get h() { return state.h!; }, stranger: () => state.stranger! };
}

describe('stranded payments, policy refund', () => {
  const p = policyHarness('refund');
  const audited = (h: Harness): void => {
    expect(auditLedger(p.h.running.store, { checkpointFile: p.h.running.localLedger!.checkpointFile! })).toMatchObject({ ok: true });
    expect(auditRecords(h.running.store, h.running.operatorKey.address)).toMatchObject({ ok: true });
  };

  it('an expired quote: the payer gets it all back once, under 10 concurrent claims; strangers and unsigned claims are refused', async () => {
    const { h } = p;
    const q = await h.api.quote(flow);
    const proof = await h.pay(q.quote);
    // still buyable: nothing to claim
    expect(await refusal(h.api.claimStranded(q.quote.id, proof))).toMatchObject({ status: 409, code: 'payment_usable' });
    h.clock.now += TTL + 1;
    const late = await refusal(h.api.reserve(q.quote.id, proof));
    expect(late).toMatchObject({ status: 410, code: 'quote_expired' });
    expect(late.message).toContain('POST /v1/payments/stranded');
    expect(await refusal(h.anon.claimStranded(q.quote.id, proof))).toMatchObject({ status: 401, code: 'signature_missing' });
    expect(await refusal(p.stranger().claimStranded(q.quote.id, proof))).toMatchObject({ status: 403, code: 'not_payer' });
    const before = await h.ledger.balance(h.payer.address);
    const claims = await Promise.all(Array.from({ length: 10 }, () => h.api.claimStranded(q.quote.id, proof)));
    for (const c of claims) expect(c).toMatchObject({ policy: 'refund', reason: 'quote_expired', amount: q.quote.amount, payer: h.payer.address, credit: null });
    expect(new Set(claims.map((c) => c.refund!.transfer)).size).toBe(1);
    expect((await h.ledger.balance(h.payer.address)) - before).toBe(BigInt(q.quote.amount));
    expect(h.running.store.db.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE body LIKE ?").get(`%stranded-refund:${proof.id}%`)).toEqual({ n: 1 });
    // refunded money buys nothing any more
    const q2 = await h.api.quote(flow);
    expect(await refusal(h.api.reserve(q2.quote.id, proof))).toMatchObject({ code: 'already_redeemed' });
    audited(h);
  });

  it('an underpayment, a quote used by another payment and an extension of a cancelled reservation are refunded; after the grace period nothing is', async () => {
    const { h } = p;
    const q = await h.api.quote(flow);
    const short = await h.pay(q.quote, { amount: BigInt(q.quote.amount) - 1n });
    expect(await refusal(h.api.reserve(q.quote.id, short))).toMatchObject({ status: 402, code: 'too_little' });
    expect(await h.api.claimStranded(q.quote.id, short)).toMatchObject({ reason: 'too_little', amount: String(BigInt(q.quote.amount) - 1n), refund: { amount: String(BigInt(q.quote.amount) - 1n) } });

    const q2 = await h.api.quote(flow);
    const first = await h.pay(q2.quote);
    const second = await h.pay(q2.quote);
    const r = await h.api.reserve(q2.quote.id, first);
    expect(await refusal(h.api.reserve(q2.quote.id, second))).toMatchObject({ code: 'quote_used' });
    expect(await h.api.claimStranded(q2.quote.id, second)).toMatchObject({ reason: 'quote_used', policy: 'refund' });
    // the payment that bought the reservation is not stranded
    expect(await refusal(h.api.claimStranded(q2.quote.id, first))).toMatchObject({ code: 'already_redeemed' });

    const xq = await h.api.quoteExtension(r.id, '10s');
    const xp = await h.pay(xq.quote);
    await h.api.cancel(r.id);
    expect(await refusal(h.api.extend(r.id, xq.quote.id, xp))).toMatchObject({ code: 'not_active' });
    expect(await h.api.claimStranded(xq.quote.id, xp)).toMatchObject({ reason: 'not_active', amount: xq.quote.amount });

    const q3 = await h.api.quote(flow);
    const forgotten = await h.pay(q3.quote);
    h.clock.now += TTL + GRACE + 1;
    expect(await refusal(h.api.claimStranded(q3.quote.id, forgotten))).toMatchObject({ status: 410, code: 'grace_expired' });
    audited(h);
  });
});

describe('stranded payments, policy credit', () => {
  const p = policyHarness('credit');

  it('an expired quote becomes a new quote for the same flow at the old price, payable only by that payment', async () => {
    const { h } = p;
    const q = await h.api.quote(flow);
    const proof = await h.pay(q.quote);
    const other = await h.pay(q.quote);
    h.clock.now += TTL + 1;
    const claim = await h.api.claimStranded(q.quote.id, proof);
    expect(claim).toMatchObject({ policy: 'credit', reason: 'quote_expired', refund: null });
    const credit = claim.credit!;
    expect(credit.quote.quote.amount).toBe(q.quote.amount);
    expect(credit.quote.unitPrice).toBe(q.unitPrice);
    expect(credit.until).toBe(h.clock.now + GRACE);
    expect(credit.quote.quote.terms).toMatchObject({ classId: 'gold', rateBps: 1e6, durationMs: 60_000, match: { src: '10.0.0.1', dst: '10.0.0.2' } });
    // a second claim gives the same credit; another payment for the old quote cannot use it
    expect((await h.api.claimStranded(q.quote.id, proof)).credit!.quote.quote.id).toBe(credit.quote.quote.id);
    expect(await refusal(h.api.reserve(credit.quote.quote.id, other))).toMatchObject({ code: 'wrong_quote' });
    const r = await h.api.reserve(credit.quote.quote.id, proof);
    expect(r).toMatchObject({ state: 'active', paid: q.quote.amount, owner: h.payer.address });
    expect(r.expiresAt - r.startsAt).toBe(60_000);
    expect(auditRecords(h.running.store, h.running.operatorKey.address)).toMatchObject({ ok: true });
  });

  it('an underpayment is credited for the time it covers, at the old price', async () => {
    const { h } = p;
    const q = await h.api.quote(flow);
    const half = BigInt(q.quote.amount) / 2n;
    const proof = await h.pay(q.quote, { amount: half });
    const claim = await h.api.claimStranded(q.quote.id, proof);
    expect(claim.credit!.quote.quote.terms).toMatchObject({ durationMs: 30_000 });
    expect(claim.credit!.quote.quote.amount).toBe(half.toString());
    const r = await h.api.reserve(claim.credit!.quote.quote.id, proof);
    expect(r.expiresAt - r.startsAt).toBe(30_000);
  });
});

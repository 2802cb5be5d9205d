// The one rollback path of the reservation service: when the switches do not take an
// extension, the payment is not consumed (redemption and revenue row gone, quote usable
// again) and the reservation keeps its earlier end, in SQLite and in the switches; a retry
// with the same proof then succeeds. The RecordingEnforcer stands in for the switches.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/client.js';
import { findRedemption } from '../../src/payments/redemption.js';
import { Refusal } from '../../src/reservations/refusal.js';
import { harnessPerTest } from './helpers.js';

describe('reservation rollback', () => {
  const current = harnessPerTest();

  it('a failed extension leaves the reservation as it was and the payment redeemable', async () => {
    const h = current.h;
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    const xq = await h.api.quoteExtension(r.id, '20s');
    const xp = await h.pay(xq.quote);
    h.network.enforcer.failNextInstall = new Error('switch 0000000000000002 is not connected');
    const e = await h.api.extend(r.id, xq.quote.id, xp).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 503, code: 'enforcement_failed' });
    const after = await h.api.reservation(r.id);
    expect(after).toMatchObject({ state: 'active', expiresAt: r.expiresAt, paid: r.paid });
    expect(h.network.enforcer.installed.get(r.id)!.expiresAtMs).toBe(r.expiresAt);
    expect(findRedemption(h.running.store, xp)).toBeNull();
    expect((await h.api.revenue()).total).toBe(r.paid);
    // nothing was consumed: the same proof and quote extend it now
    const x = await h.api.extend(r.id, xq.quote.id, xp);
    expect(x.expiresAt).toBe(r.expiresAt + 20_000);
    expect(h.network.enforcer.installed.get(r.id)!.expiresAtMs).toBe(x.expiresAt);
    expect((await h.api.revenue()).total).toBe(String(BigInt(r.paid) + BigInt(xq.quote.amount)));
  });

  it('a purchase refused inside its transaction releases the capacity it had admitted', async () => {
    const h = current.h;
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const proofs = [await h.pay(q.quote), await h.pay(q.quote)];
    // Called directly, both requests pass every check before either awaits the ledger, so
    // the second one is refused by the transaction, after it was admitted.
    const results = await Promise.allSettled(proofs.map((payment) => h.running.service.reserve({ quoteId: q.quote.id, payment })));
    const won = results.findIndex((x) => x.status === 'fulfilled');
    const lost = results.find((x) => x.status === 'rejected');
    expect(won).toBeGreaterThanOrEqual(0);
    expect(lost?.reason).toBeInstanceOf(Refusal);
    expect(lost?.reason).toMatchObject({ code: 'quote_used' });
    expect(h.running.admission.stats().active).toBe(1);
    expect(findRedemption(h.running.store, proofs[1 - won]!)).toBeNull();
    expect(await h.api.reservations()).toHaveLength(1);
  });
});

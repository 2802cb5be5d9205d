// The reservation service end to end over the HTTP API with a real SQLite file, the real
// local ledger, real signatures and the scripted topology; the RecordingEnforcer stands in
// for the switches (helpers.ts).
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyQuote, verifyReceipt } from '../../src/payments/quotes.js';
import { VoucherSigner } from '../../src/payments/channels.js';
import { ChannelSigningKey, CHANNEL_KEY_SCHEMES, type ChannelKeyScheme } from '../../src/payments/channel-keys.js';
import type { ApiError } from '../../src/api/client.js';
import { refusal, startHarness, tempDir, TestNetwork, type Harness } from './helpers.js';

describe('reservation service', () => {
  let h: Harness;
  let t: ReturnType<typeof tempDir>;
  // one channel key per scheme for the file: RSA-3072 generation takes up to a second
  const channelKeys = {} as Record<ChannelKeyScheme, ChannelSigningKey>;
  beforeAll(() => {
    for (const scheme of CHANNEL_KEY_SCHEMES) channelKeys[scheme] = ChannelSigningKey.generate(scheme);
  });
  beforeEach(async () => {
    t = tempDir();
    h = await startHarness(t.dir);
  });
  afterEach(async () => {
    await h.close();
    t.cleanup();
  });

  it('quote → pay → reserve installs the reservation along its path before answering 201', async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', classId: 'gold', rate: '2mbit', duration: '60s', proto: 17, dstPort: 5001 });
    expect(verifyQuote({ quote: q.quote, signature: q.signature }, { issuer: h.running.operatorKey.publicKeyHex, now: h.clock.now })).toEqual({ ok: true });
    expect(q.quote.payTo).toBe(h.running.operatorKey.address);
    // 0.16 per Mbit/s per s × 2 Mbit/s × 60 s = 19.2 currency units = 19 200 000 base units
    expect(q.unitPrice).toBeCloseTo(0.16, 12);
    expect(q.quote.amount).toBe('19200000');
    const proof = await h.pay(q.quote);
    const r = await h.api.reserve(q.quote.id, proof);
    expect(r.state).toBe('active');
    expect(r.paid).toBe('19200000');
    expect(r.expiresAt - r.startsAt).toBe(60_000);
    expect(r.match).toEqual({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, dstPort: 5001 });
    expect(r.path.resources).toEqual(['0000000000000001:2', '0000000000000002:2', '0000000000000003:2']);
    const installed = h.network.enforcer.installed.get(r.id)!;
    expect(installed).toMatchObject({ id: r.id, classId: 'gold', dscp: 46, rateBps: 2_000_000, burstBits: 100_000, expiresAtMs: r.expiresAt });
    expect(installed.path.hops.map((x) => x.dpid)).toEqual([1n, 2n, 3n]);
    expect(verifyReceipt(r.receipt!, { issuer: h.running.operatorKey.publicKeyHex })).toEqual({ ok: true });
    expect(h.running.admission.get(r.id)?.rateBps).toBe(2_000_000);
    expect((await h.api.reservation(r.id)).state).toBe('active');
    expect((await h.api.reservations()).map((x) => x.id)).toEqual([r.id]);
    const rev = await h.api.revenue();
    expect(rev.classes.find((c) => c.classId === 'gold')).toEqual({ classId: 'gold', amount: '19200000', unsettled: '0', payments: 1 });
    expect(rev.total).toBe('19200000');
  });

  it('IPv6 flows with a flow label are reserved too', async () => {
    const q = await h.api.quote({ src: 'fd00:0::1', dst: 'fd00::2', rate: 1_000_000, duration: 30_000, flowLabel: 0xabcde });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    expect(r.match).toEqual({ src: 'fd00::1', dst: 'fd00::2', flowLabel: 0xabcde });
    expect(r.expiresAt - r.startsAt).toBe(30_000);
  });

  it('refuses with 409, the bottleneck and the largest rate that fits when the class is full', async () => {
    // gold: share 0.4 of 10 Mbit/s = 4 Mbit/s per link
    const e = await refusal(h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '5mbit', duration: '10s' }));
    expect(e.status).toBe(409);
    expect(e.code).toBe('capacity_unavailable');
    expect(e.details['maxFitBps']).toBe(4_000_000);
    expect((e.details['bottleneck'] as { resource: string }).resource).toBe('0000000000000001:2');
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '3mbit', duration: '10s' });
    await h.api.reserve(q.quote.id, await h.pay(q.quote));
    // h3 → h2 shares s2:2 (3 Mbit/s of gold already there): 1 Mbit/s fits
    const e2 = await refusal(h.api.quote({ src: '10.0.0.3', dst: '10.0.0.2', rate: '2mbit', duration: '10s' }));
    expect(e2.status).toBe(409);
    expect(e2.details['maxFitBps']).toBe(1_000_000);
    expect((e2.details['bottleneck'] as { resource: string }).resource).toBe('0000000000000002:2');
    // a quote taken while there was room is refused at payment time once the room is gone, before any money is taken
    const qa = await h.api.quote({ src: '10.0.0.3', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const qb = await h.api.quote({ src: '10.0.0.3', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    await h.api.reserve(qa.quote.id, await h.pay(qa.quote));
    const pb = await h.pay(qb.quote);
    const e3 = await refusal(h.api.reserve(qb.quote.id, pb));
    expect(e3.status).toBe(409);
    expect(e3.code).toBe('capacity_unavailable');
  });

  it('the exponential price rises with the reserved load (gold target 50 % of Cmax)', async () => {
    const q1 = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '2mbit', duration: '10s' });
    expect(q1.unitPrice).toBeCloseTo(0.16, 12); // D = 2 Mbit/s = T
    await h.api.reserve(q1.quote.id, await h.pay(q1.quote));
    const q2 = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    // D = 3 of Cmax 4, T 2: 0.16 · exp(ln 10 · (3/2 − 1)) = 0.16 · √10
    expect(q2.unitPrice).toBeCloseTo(0.16 * Math.sqrt(10), 6);
    const prices = await h.api.prices(true);
    const gold = prices.prices.find((p) => p.classId === 'gold')!;
    expect(gold.reservedBps).toBe(2_000_000);
    expect(gold.price).toBeCloseTo(0.16, 12);
    expect(prices.history!.some((p) => p.classId === 'gold')).toBe(true);
  });

  it('a failed installation releases the capacity and leaves the payment redeemable', async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '4mbit', duration: '10s' });
    const proof = await h.pay(q.quote);
    h.network.enforcer.failNextInstall = new Error('switch 0000000000000002 is not connected');
    const e = await refusal(h.api.reserve(q.quote.id, proof));
    expect(e.status).toBe(503);
    expect(e.code).toBe('enforcement_failed');
    expect(h.running.admission.stats().active).toBe(0);
    expect((await h.api.revenue()).total).toBe('0');
    const failed = await h.api.reservations({ state: 'failed' });
    expect(failed).toHaveLength(1);
    const r = await h.api.reserve(q.quote.id, proof);
    expect(r.state).toBe('active');
    expect(r.rateBps).toBe(4_000_000);
    expect((await h.api.revenue()).total).toBe(q.quote.amount);
  });

  it('cancel ends the reservation at once, removes it from the switches and frees the capacity', async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '4mbit', duration: '1h' });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    const c = await h.api.cancel(r.id);
    expect(c.state).toBe('cancelled');
    expect(h.network.enforcer.installed.has(r.id)).toBe(false);
    expect(h.network.enforcer.calls.at(-1)).toEqual({ op: 'remove', arg: r.id });
    expect(h.running.admission.stats().active).toBe(0);
    expect((await refusal(h.api.cancel(r.id))).status).toBe(409);
    const q2 = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '4mbit', duration: '1h' });
    expect(q2.available).toBe(true);
  });

  it("expires a reservation on the controller's timer", async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '5s' });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    h.clock.now += 4_999;
    expect(await h.running.service.sweep()).toEqual([]);
    h.clock.now += 1;
    expect(await h.running.service.sweep()).toEqual([r.id]);
    expect((await h.api.reservation(r.id)).state).toBe('expired');
    expect(h.network.enforcer.installed.size).toBe(0);
    expect(h.running.admission.stats().active).toBe(0);
  });

  it('extends an active reservation by another payment', async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    const xq = await h.api.quoteExtension(r.id, '20s');
    expect(xq.quote.amount).toBe(String(0.16 * 1 * 20 * 1e6));
    const xp = await h.pay(xq.quote);
    const x = await h.api.extend(r.id, xq.quote.id, xp);
    expect(x.expiresAt).toBe(r.expiresAt + 20_000);
    expect(x.paid).toBe(String(BigInt(r.paid) + BigInt(xq.quote.amount)));
    expect(h.network.enforcer.installed.get(r.id)!.expiresAtMs).toBe(x.expiresAt);
    // the extension's proof cannot buy anything else
    const e = await refusal(h.api.extend(r.id, xq.quote.id, xp));
    expect(e.status).toBe(402);
    expect(e.code).toBe('already_redeemed');
    // an extension quote is not a purchase quote
    const xq2 = await h.api.quoteExtension(r.id, '5s');
    expect((await refusal(h.api.reserve(xq2.quote.id, await h.pay(xq2.quote)))).code).toBe('wrong_quote');
  });

  it.each(CHANNEL_KEY_SCHEMES)('extends an active reservation by micropayment-channel vouchers (%s channel key), each increment buying time at the current price', async (scheme) => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    const channelKey = channelKeys[scheme];
    const deposit = 10_000_000n;
    // opened through the ledger mounted in the controller's HTTP server, paid through its API
    const channel = await h.ledger.openChannel(h.payer, h.running.operatorKey.address, channelKey.publicKey, deposit, h.clock.now + 3_600_000);
    const signer = new VoucherSigner(channelKey, channel, deposit);
    // gold at 0.16 per Mbit/s per s, 1 Mbit/s: 160 000 base units per second
    const v1 = signer.pay(1_600_000n);
    const x1 = await h.api.payVoucher(r.id, v1);
    expect(x1.extendedByMs).toBe(10_000);
    expect(x1.expiresAt).toBe(r.expiresAt + 10_000);
    expect(x1.paid).toBe(String(BigInt(r.paid) + 1_600_000n));
    expect(h.network.enforcer.installed.get(r.id)!.expiresAtMs).toBe(x1.expiresAt);
    // a replayed voucher, one that pays under a second, and a voucher for a channel bound elsewhere are refused
    expect((await refusal(h.api.payVoucher(r.id, v1))).code).toBe('replayed');
    expect((await refusal(h.api.payVoucher(r.id, signer.pay(1000n)))).code).toBe('too_little');
    const q2 = await h.api.quote({ src: '10.0.0.3', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const r2 = await h.api.reserve(q2.quote.id, await h.pay(q2.quote));
    const e = await refusal(h.api.payVoucher(r2.id, signer.pay(320_000n)));
    expect(e.status).toBe(409);
    expect(e.code).toBe('channel_bound');
    const forged = { ...signer.pay(320_000n) };
    forged.signature = forged.signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect((await refusal(h.api.payVoucher(r.id, forged))).code).toBe('bad_signature');
    // the voucher's money counts once the channel is settled; until then it is shown apart
    const rev = await h.api.revenue();
    expect(rev.total).toBe(String(BigInt(r.paid) + BigInt(r2.paid)));
    expect(rev.unsettled).toBe('1600000');
  });

  it('one proof buys one reservation even when two requests race with it', async () => {
    const q1 = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const q2 = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' });
    const proof = await h.pay(q1.quote);
    const results = await Promise.allSettled([h.api.reserve(q1.quote.id, proof), h.api.reserve(q1.quote.id, proof), h.api.reserve(q2.quote.id, proof)]);
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    for (const x of results) if (x.status === 'rejected') expect([402, 409]).toContain((x.reason as ApiError).status);
    expect(h.running.admission.stats().active).toBe(1);
    expect((await h.api.revenue()).total).toBe(q1.quote.amount);
  });

  it('restart: paid, unexpired reservations come back (admission + switches); nothing is redeemed twice', async () => {
    const q1 = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '1h' });
    const p1 = await h.pay(q1.quote);
    const r1 = await h.api.reserve(q1.quote.id, p1);
    const q2 = await h.api.quote({ src: '10.0.0.3', dst: '10.0.0.2', classId: 'silver', rate: '500kbit', duration: '10s' });
    const r2 = await h.api.reserve(q2.quote.id, await h.pay(q2.quote));
    await h.close();
    h.clock.now += 20_000; // r2 is over by now
    const network = new TestNetwork();
    h = await startHarness(t.dir, { network, clock: h.clock, payer: h.payer });
    expect(network.enforcer.calls[0]).toEqual({ op: 'restore', arg: [r1.id] });
    expect(h.running.admission.get(r1.id)?.rateBps).toBe(1_000_000);
    expect(h.running.admission.get(r2.id)).toBeUndefined();
    expect((await h.api.reservation(r1.id)).state).toBe('active');
    expect((await h.api.reservation(r2.id)).state).toBe('expired');
    const q3 = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '1h' });
    const e = await refusal(h.api.reserve(q3.quote.id, p1));
    expect(e.status).toBe(402);
    expect(e.code).toBe('already_redeemed');
    expect((await h.api.revenue()).total).toBe(String(BigInt(r1.paid) + BigInt(r2.paid)));
  });

  it('restart: a reservation caught mid-installation (paid, state installing) is restored as active', async () => {
    const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '1h' });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    // what a crash between the payment's transaction and the barrier leaves behind
    h.running.store.db.prepare(`UPDATE controller_reservations SET state = 'installing', receipt = NULL WHERE id = ?`).run(r.id);
    await h.close();
    const network = new TestNetwork();
    h = await startHarness(t.dir, { network, clock: h.clock, payer: h.payer });
    expect(network.enforcer.installed.has(r.id)).toBe(true);
    expect((await h.api.reservation(r.id)).state).toBe('active');
    expect(h.running.admission.get(r.id)).toBeDefined();
  });
});

// Who may do what over the HTTP API (docs/security.md, "The HTTP API"): a reservation
// belongs to the account that paid for it; reading it in full, extending and cancelling
// it need a request signed by that key (or an operator token); a stranger gets 403, an
// unsigned, stale, forged or replayed request 401; the owner's cancel refunds the unused
// time once, even under 20 concurrent cancels. Real sockets, real SQLite, real ledger.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '../../src/api/client.js';
import { tokenHash } from '../../src/api/auth.js';
import { accountSigner, channelSigner, signRequest } from '../../src/api/request-signature.js';
import { ChannelSigningKey } from '../../src/payments/channel-keys.js';
import { signVoucher } from '../../src/payments/channels.js';
import { SigningKey } from '../../src/payments/keys.js';
import type { ReservationView } from '../../src/reservations/types.js';
import { refusal, startHarness, tempDir, type Harness } from '../reservations/helpers.js';

const RATE = 200_000;
const flow = { src: '10.0.0.1', dst: '10.0.0.2', rate: RATE, duration: '1h' };
const ADMIN_TOKEN = 'pft_admin-token-for-tests';
const READ_TOKEN = 'pft_read-token-for-tests';

describe('ownership: signed requests, owners, operators, refunds', () => {
  let h: Harness;
  const t = tempDir();
  let stranger: SigningKey;
  let strangerApi: ApiClient;

  const buy = async (api: ApiClient = h.api, payer?: SigningKey): Promise<ReservationView> => {
    const q = await api.quote(flow);
    const proof = payer ? await h.ledger.pay(payer, q.quote.payTo, BigInt(q.quote.amount), q.quote.id) : await h.pay(q.quote);
    return api.reserve(q.quote.id, proof);
  };

  beforeAll(async () => {
    h = await startHarness(t.dir, {
      patch: (c) => {
        c.reservations.cancelFee = 0.1;
        c.http.tokens = [
          { name: 'ops', sha256: tokenHash(ADMIN_TOKEN), scope: 'admin' },
          { name: 'auditor', sha256: tokenHash(READ_TOKEN), scope: 'read' },
        ];
      },
    });
    stranger = SigningKey.generate();
    await h.ledger.faucet(stranger.address, 10n ** 12n);
    strangerApi = new ApiClient(h.running.url, { signer: accountSigner(stranger) });
  });
  afterAll(async () => {
    await h.close();
    t.cleanup();
  });

  it("a stranger's signed read, cancel and extensions are refused with 403 not_owner, and change nothing", async () => {
    const r = await buy();
    expect(r.owner).toBe(h.payer.address);
    for (const attempt of [strangerApi.reservation(r.id), strangerApi.cancel(r.id)]) {
      expect(await refusal(attempt)).toMatchObject({ status: 403, code: 'not_owner' });
    }
    const xq = await strangerApi.quoteExtension(r.id, '10s');
    const proof = await h.ledger.pay(stranger, xq.quote.payTo, BigInt(xq.quote.amount), xq.quote.id);
    expect(await refusal(strangerApi.extend(r.id, xq.quote.id, proof))).toMatchObject({ status: 403, code: 'not_owner' });
    const channelKey = ChannelSigningKey.generate('ed25519');
    const channel = await h.ledger.openChannel(stranger, h.running.operatorKey.address, channelKey.publicKey, 10n ** 9n, Date.now() + 3_600_000);
    const voucher = signVoucher(channelKey, channel, 10n ** 7n, 1);
    expect(await refusal(strangerApi.payVoucher(r.id, voucher))).toMatchObject({ status: 403, code: 'not_owner' });
    const still = await h.api.reservation(r.id);
    expect(still).toMatchObject({ state: 'active', expiresAt: r.expiresAt, paid: r.paid });
    // the stranger's extension payment was not consumed
    expect(h.running.store.db.prepare('SELECT COUNT(*) AS n FROM payment_redemptions WHERE proof_id = ?').get(proof.id)).toEqual({ n: 0 });
  });

  it('unsigned read, cancel and extension get 401 signature_missing', async () => {
    const r = await buy();
    expect(await refusal(h.anon.reservation(r.id))).toMatchObject({ status: 401, code: 'signature_missing' });
    expect(await refusal(h.anon.cancel(r.id))).toMatchObject({ status: 401, code: 'signature_missing' });
    const xq = await h.api.quoteExtension(r.id, '10s');
    expect(await refusal(h.anon.extend(r.id, xq.quote.id, await h.pay(xq.quote)))).toMatchObject({ status: 401, code: 'signature_missing' });
  });

  it('a replayed signed request gets 401 signature_replayed; stale, forged and malformed signatures get their own 401 codes', async () => {
    const r = await buy();
    const path = `/v1/reservations/${r.id}`;
    const signer = accountSigner(h.payer);
    const send = (header: string, method = 'GET'): Promise<{ status: number; code: string | undefined }> =>
      fetch(h.running.url + path, { method, headers: { 'payflow-signature': header } }).then(async (res) => ({ status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code }));
    const header = signRequest(signer, { method: 'GET', path });
    expect((await send(header)).status).toBe(200);
    expect(await send(header)).toEqual({ status: 401, code: 'signature_replayed' });
    expect(await send(signRequest(signer, { method: 'GET', path, now: Date.now() - 120_000 }))).toEqual({ status: 401, code: 'signature_stale' });
    expect(await send(signRequest(signer, { method: 'GET', path, now: Date.now() + 120_000 }))).toEqual({ status: 401, code: 'signature_stale' });
    // a signature for GET does not cancel (the method is signed), nor for another path
    expect(await send(signRequest(signer, { method: 'GET', path }), 'DELETE')).toEqual({ status: 401, code: 'signature_invalid' });
    expect(await send(signRequest(signer, { method: 'GET', path: `${path}x` }))).toEqual({ status: 401, code: 'signature_invalid' });
    // another key's signature under the owner's keyId
    const forged = signRequest(accountSigner(stranger), { method: 'GET', path }).replace(stranger.address, h.payer.address);
    expect(await send(forged)).toEqual({ status: 401, code: 'signature_invalid' });
    expect(await send('keyId=nobody')).toEqual({ status: 401, code: 'signature_malformed' });
    expect((await h.api.reservation(r.id)).state).toBe('active');
  });

  it('the body is signed: a signed extension with a changed body is refused', async () => {
    const r = await buy();
    const xq = await h.api.quoteExtension(r.id, '10s');
    const proof = await h.pay(xq.quote);
    const path = `/v1/reservations/${r.id}/extensions`;
    const body = JSON.stringify({ quoteId: xq.quote.id, payment: proof });
    const header = signRequest(accountSigner(h.payer), { method: 'POST', path, body });
    const res = await fetch(h.running.url + path, { method: 'POST', headers: { 'payflow-signature': header, 'content-type': 'application/json' }, body: JSON.stringify({ payment: proof, quoteId: xq.quote.id }) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('signature_invalid');
    expect((await h.api.extend(r.id, xq.quote.id, proof)).expiresAt).toBe(r.expiresAt + 10_000);
  });

  it("the channel's key speaks for the channel's payer (keyId channel:<id>, RSA-PSS-3072)", async () => {
    const r = await buy();
    const key = ChannelSigningKey.generate('rsa-pss-3072');
    // the channel outlives the hour-long reservation by more than the settlement margin
    const channel = await h.ledger.openChannel(h.payer, h.running.operatorKey.address, key.publicKey, 10n ** 9n, Date.now() + 2 * 3_600_000);
    const viaChannel = new ApiClient(h.running.url, { signer: channelSigner(channel, key) });
    expect((await viaChannel.reservation(r.id)).id).toBe(r.id);
    const v = await viaChannel.payVoucher(r.id, signVoucher(key, channel, 1_600_000n, 1));
    expect(v.extendedByMs).toBe(50_000); // 1.6 currency units at 0.16 per Mbit/s per s, 0.2 Mbit/s
    const strangersChannel = await h.ledger.openChannel(stranger, h.running.operatorKey.address, key.publicKey, 10n ** 6n, Date.now() + 3_600_000);
    expect(await refusal(new ApiClient(h.running.url, { signer: channelSigner(strangersChannel, key) }).reservation(r.id))).toMatchObject({ status: 403, code: 'not_owner' });
  });

  it("unsigned GET /v1/reservations shows only the load per class: no hosts, paths, proofs or ids", async () => {
    const r = await buy();
    const res = await fetch(`${h.running.url}/v1/reservations`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { load: { active: number; classes: { classId: string; active: number; reservedBps: number }[] }; reservations?: unknown };
    expect(body.reservations).toBeUndefined();
    expect(body.load.active).toBeGreaterThan(0);
    expect(body.load.classes.find((c) => c.classId === 'gold')).toMatchObject({ reservedBps: body.load.classes.find((c) => c.classId === 'gold')!.active * RATE });
    for (const secret of [r.id, r.quoteId, '10.0.0.1', '10.0.0.2', '0000000000000001', r.receipt!.receipt.payment.id, h.payer.address]) expect(text).not.toContain(secret);
    // signed: the signer's own reservations only
    expect((await h.api.reservations()).every((x) => x.owner === h.payer.address)).toBe(true);
    expect(await strangerApi.reservations()).toEqual([]);
  });

  it("the owner's cancel refunds the unused time pro rata minus the fee, exactly once under 20 concurrent cancels", async () => {
    const r = await buy();
    const paid = BigInt(r.paid);
    const before = await h.ledger.balance(h.payer.address);
    const operatorBefore = await h.ledger.balance(h.running.operatorKey.address);
    h.clock.now += 15 * 60_000; // a quarter of the hour used
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => h.api.cancel(r.id)));
    const ok = results.filter((x): x is PromiseFulfilledResult<Awaited<ReturnType<ApiClient['cancel']>>> => x.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    for (const x of results) if (x.status === 'rejected') expect(x.reason).toMatchObject({ status: 409, code: 'not_active' });
    const gross = (paid * 45n * 60_000n) / (60n * 60_000n);
    const fee = (gross * 100_000n + 999_999n) / 1_000_000n;
    expect(ok[0]!.value.refund).toMatchObject({ to: h.payer.address, unusedMs: 45 * 60_000, gross: gross.toString(), fee: fee.toString(), amount: (gross - fee).toString() });
    expect(await h.ledger.balance(h.payer.address)).toBe(before + gross - fee);
    expect(await h.ledger.balance(h.running.operatorKey.address)).toBe(operatorBefore - (gross - fee));
    const db = h.running.store.db;
    expect(db.prepare('SELECT COUNT(*) AS n FROM controller_refunds WHERE reservation_id = ?').get(r.id)).toEqual({ n: 1 });
    expect(db.prepare(`SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'transfer' AND body LIKE ?`).get(`%"memo":"refund:${r.id}"%`)).toEqual({ n: 1 });
    // the refund is a journal entry like any other: the chain still verifies
    const audit = (await (await fetch(`${h.running.url}/v1/ledger/audit`)).json()) as { ok: boolean };
    expect(audit.ok).toBe(true);
    expect((await h.api.reservation(r.id)).refund).toMatchObject({ amount: (gross - fee).toString() });
    h.clock.now -= 15 * 60_000;
  });

  it('an admin token cancels any reservation (refund to the payer, audit log); a read token reads but may not cancel; a bad token gets 401', async () => {
    const r = await buy();
    const reader = new ApiClient(h.running.url, { token: READ_TOKEN });
    expect((await reader.reservation(r.id)).id).toBe(r.id);
    expect((await reader.reservations()).length).toBeGreaterThan(0);
    expect(await refusal(reader.cancel(r.id))).toMatchObject({ status: 403, code: 'not_allowed' });
    expect(await refusal(new ApiClient(h.running.url, { token: 'pft_wrong' }).reservation(r.id))).toMatchObject({ status: 401, code: 'token_invalid' });
    const before = await h.ledger.balance(h.payer.address);
    const c = await new ApiClient(h.running.url, { token: ADMIN_TOKEN }).cancel(r.id);
    expect(c.state).toBe('cancelled');
    expect(c.refund!.to).toBe(h.payer.address);
    expect(await h.ledger.balance(h.payer.address)).toBe(before + BigInt(c.refund!.amount));
    const log = h.running.store.db.prepare('SELECT actor, action, target, status, outcome FROM api_audit ORDER BY seq').all();
    expect(log).toContainEqual({ actor: 'ops', action: 'DELETE /v1/reservations/:id', target: r.id, status: 200, outcome: 'ok' });
    expect(log).toContainEqual({ actor: 'auditor', action: 'DELETE /v1/reservations/:id', target: r.id, status: 403, outcome: 'not_allowed' });
  });
});

describe('idempotency, limits and housekeeping', () => {
  let h: Harness;
  const t = tempDir();
  beforeAll(async () => {
    h = await startHarness(t.dir, {
      patch: (c) => {
        c.reservations.maxActivePerPayer = 2;
        c.reservations.quoteRetentionMs = 0;
        // a payment for an expired quote can be claimed during the grace period: the quote is kept that long
        c.reservations.stranded.graceMs = 500;
        c.http.rateLimit.perKey = { max: 40, windowMs: 60_000 };
      },
    });
  });
  afterAll(async () => {
    await h.close();
    t.cleanup();
  });

  it('a retry after a dropped response returns the first 201 with the same body; the same key with another body gets 422', async () => {
    const q = await h.api.quote({ ...flow, duration: '60s' });
    const proof = await h.pay(q.quote);
    const body = JSON.stringify({ quoteId: q.quote.id, payment: proof });
    const url = new URL(`${h.running.url}/v1/reservations`);
    // the first attempt: sent in full, then the connection drops before the answer is read
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'buy-1' } });
      req.on('error', () => resolve());
      req.on('response', () => undefined);
      req.end(body, () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 1));
    });
    const db = h.running.store.db;
    for (let i = 0; i < 200 && (db.prepare(`SELECT status FROM api_idempotency WHERE key = 'buy-1'`).get() as { status: number | null } | undefined)?.status == null; i++) await new Promise((r) => setTimeout(r, 25));
    const retry = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'buy-1' }, body });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const first = (await retry.json()) as ReservationView;
    expect(retry.headers.get('location')).toBe(`/v1/reservations/${first.id}`);
    const again = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'buy-1' }, body });
    expect(await again.json()).toEqual(first);
    expect(db.prepare('SELECT COUNT(*) AS n FROM controller_reservations').get()).toEqual({ n: 1 });
    // without the key the proof is spent
    const plain = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(plain.status).toBe(402);
    const q2 = await h.api.quote({ ...flow, duration: '60s' });
    const other = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'buy-1' }, body: JSON.stringify({ quoteId: q2.quote.id, payment: proof }) });
    expect(other.status).toBe(422);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('idempotency_mismatch');
    // signed extensions take keys too
    const xq = await h.api.quoteExtension(first.id, '10s');
    const xp = await h.pay(xq.quote);
    const x1 = await h.api.extend(first.id, xq.quote.id, xp, { idempotencyKey: 'ext-1' });
    const x2 = await h.api.extend(first.id, xq.quote.id, xp, { idempotencyKey: 'ext-1' });
    expect(x2).toEqual(x1);
    expect(x1.expiresAt).toBe(first.expiresAt + 10_000);
    await h.api.cancel(first.id);
  });

  it('a payer holds at most reservations.maxActivePerPayer reservations; the refused payment stays usable', async () => {
    const buy = async (): Promise<ReservationView> => {
      const q = await h.api.quote(flow);
      return h.api.reserve(q.quote.id, await h.pay(q.quote));
    };
    const r1 = await buy();
    const r2 = await buy();
    const q = await h.api.quote(flow);
    const proof = await h.pay(q.quote);
    expect(await refusal(h.api.reserve(q.quote.id, proof))).toMatchObject({ status: 409, code: 'too_many_active' });
    await h.api.cancel(r1.id);
    expect((await h.api.reserve(q.quote.id, proof)).state).toBe('active');
    await h.api.cancel(r2.id);
  });

  it('per-key rate limit: 429 with Retry-After once the allowance is used', async () => {
    const q = await h.api.quote(flow);
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    let limited: ApiError | undefined;
    for (let i = 0; i < 45 && !limited; i++) limited = await h.api.reservation(r.id).then(() => undefined, (e: unknown) => e as ApiError);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limited' });
    const res = await fetch(`${h.running.url}/v1/reservations/${r.id}`, { headers: { 'payflow-signature': signRequest(accountSigner(h.payer), { method: 'GET', path: `/v1/reservations/${r.id}` }) } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // another key is not held back
    expect((await h.anon.load()).active).toBeGreaterThan(0);
  });

  it('expired quotes are purged; nonces past their window too', async () => {
    await h.api.quote(flow);
    const db = h.running.store.db;
    const count = (table: string): number => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect(count('api_nonces')).toBeGreaterThan(0);
    h.clock.now += 31_000;
    expect(h.running.service.purgeQuotes()).toBeGreaterThan(0);
    expect(db.prepare('SELECT COUNT(*) AS n FROM controller_quotes WHERE used_by IS NULL').get()).toEqual({ n: 0 });
    h.clock.now -= 31_000;
  });
});

describe('per-address rate limit', () => {
  let h: Harness;
  const t = tempDir();
  beforeAll(async () => {
    h = await startHarness(t.dir, { patch: (c) => (c.http.rateLimit.perAddress = { max: 8, windowMs: 60_000 }) });
  });
  afterAll(async () => {
    await h.close();
    t.cleanup();
  });

  it('an address over its allowance gets 429 rate_limited with Retry-After, on every route', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 12; i++) {
      last = await fetch(`${h.running.url}/v1/menu`);
      statuses.push(last.status);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await last!.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  });
});

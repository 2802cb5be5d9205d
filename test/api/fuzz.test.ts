// The API fuzz test (bad input): every route with malformed JSON, wrong types,
// zero, negative and huge rates and durations, unknown hosts, expired quotes, underpaid and
// reused proofs, plus seeded random bodies. Each must get a 4xx JSON error
// `{ error: { code, message } }` and leave every stored row unchanged (the tables are
// compared before and after). Real SQLite file, real local ledger and signatures; the
// RecordingEnforcer stands in for the switches (test/reservations/helpers.ts).
// Every request is signed by the payer who owns the reservations (so that the checks
// behind the signature are reached); the signed routes are also tried unsigned, by a
// stranger, and with broken, stale and replayed signatures (401 / 403, never 5xx).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signChannelOpen, signTransfer } from '../../src/payments/journal.js';
import { SigningKey } from '../../src/payments/keys.js';
import { signVoucher } from '../../src/payments/channels.js';
import { ChannelSigningKey } from '../../src/payments/channel-keys.js';
import { mulberry32 } from '../../src/util/random.js';
import { accountSigner, signRequest, type RequestSigner } from '../../src/api/request-signature.js';
import type { PaymentProof } from '../../src/payments/ledger.js';
import { startHarness, tempDir, type Harness } from '../reservations/helpers.js';

const TABLES = ['controller_quotes', 'controller_reservations', 'controller_payments', 'controller_prices', 'controller_channels', 'payment_redemptions', 'payment_channel_vouchers', 'ledger_entries', 'ledger_accounts', 'ledger_channels'];

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** a string is sent as is; anything else as JSON */
  body?: unknown;
  contentType?: string;
  status?: number;
  code?: string;
  /** runs just before the request */
  before?: () => void;
  /** who signs (default: the payer who owns the reservations); null: unsigned */
  signer?: RequestSigner | null;
  /** a PayFlow-Signature header sent as it is, instead of signing */
  signature?: string | ((path: string, method: string) => string);
}

describe('API fuzz: bad input gets a 4xx JSON error and changes no stored row', () => {
  let h: Harness;
  const t = tempDir();
  const cases: Case[] = [];
  let snapshot = '';

  const dump = (): string =>
    JSON.stringify(TABLES.map((name) => h.running.store.db.prepare(`SELECT * FROM ${name} ORDER BY rowid`).safeIntegers(true).all()), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

  beforeAll(async () => {
    h = await startHarness(t.dir);
    const flow = { src: '10.0.0.1', dst: '10.0.0.2', duration: '1h' };
    // one reservation bought: its proof is the reused proof
    const q0 = await h.api.quote({ ...flow, rate: '1mbit' });
    const usedProof = await h.pay(q0.quote);
    const active = await h.api.reserve(q0.quote.id, usedProof);
    const qc = await h.api.quote({ ...flow, rate: '1mbit' });
    const cancelled = await h.api.reserve(qc.quote.id, await h.pay(qc.quote));
    await h.api.cancel(cancelled.id);
    // an open quote and payments that do not fit it
    const q = await h.api.quote({ ...flow, rate: '1mbit' });
    const underpaid = await h.pay(q.quote, { amount: BigInt(q.quote.amount) - 1n });
    const wrongMemo = await h.pay(q.quote, { memo: 'f'.repeat(32) });
    const other = SigningKey.generate();
    await h.ledger.faucet(other.address, 10n ** 12n);
    const r = await h.ledger.submitTransfer(signTransfer(h.payer, { to: other.address, amount: q.quote.amount, nonce: (await h.ledger.account(h.payer.address)).nonce + 1, memo: q.quote.id }));
    const wrongRecipient: PaymentProof = { ledger: 'local', id: r.id! };
    // a quote that will have expired, paid in full
    const qe = await h.api.quote({ ...flow, rate: '1mbit' });
    const expiredProof = await h.pay(qe.quote);
    // an extension quote of the active reservation, and one paid in full for a cancelled reservation's quote
    const xq = await h.api.quoteExtension(active.id, '10s');
    const xUnder = await h.pay(xq.quote, { amount: 1n });
    const unknownProof: PaymentProof = { ledger: 'local', id: 'a'.repeat(64) };

    const post = (path: string, body: unknown, status?: number, code?: string): void => {
      cases.push({ name: `POST ${path} ${typeof body === 'string' ? body.slice(0, 40) : JSON.stringify(body)?.slice(0, 80)}`, method: 'POST', path, body, ...(status ? { status } : {}), ...(code ? { code } : {}) });
    };
    const get = (path: string, status?: number): void => {
      cases.push({ name: `GET ${path}`, method: 'GET', path, ...(status ? { status } : {}) });
    };

    // ---- malformed bodies on every POST route
    for (const path of ['/v1/quotes', '/v1/reservations', `/v1/reservations/${active.id}/extensions`]) {
      post(path, '{', 400, 'bad_json');
      post(path, '{"src": "10.0.0.1",}', 400, 'bad_json');
      post(path, '', 400);
      post(path, 'null', 400);
      post(path, '[]', 400);
      post(path, '"text"', 400);
      post(path, '12', 400);
      post(path, {}, 400);
      post(path, { extra: true }, 400);
      post(path, 'x'.repeat(70 * 1024), 413);
      cases.push({ name: `${path} as text/plain`, method: 'POST', path, body: 'src=10.0.0.1', contentType: 'text/plain', status: 400 });
    }

    // ---- quotes: wrong types, zero / negative / huge rates and durations, addresses, match fields
    const base = { src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s' };
    const badRates: unknown[] = [0, -1, -1e6, 1e300, 2 ** 53, 1.5, '0', '0mbit', '-5mbit', '1e30mbit', '1e400', 'NaN', 'Infinity', 'abc', '', '5 parsecs', true, false, null, {}, [], [1], '4kbit', 10e9 + 1];
    for (const rate of badRates) post('/v1/quotes', { ...base, rate }, 400);
    post('/v1/quotes', { src: base.src, dst: base.dst, duration: '60s' }, 400, 'bad_rate');
    const badDurations: unknown[] = [0, -1, -60_000, 1e300, 2 ** 60, 0.5, '0s', '-5s', '1e30s', '999999d', 'soon', '', '5M', true, null, {}, [], 999];
    for (const duration of badDurations) post('/v1/quotes', { ...base, duration }, 400);
    post('/v1/quotes', { src: base.src, dst: base.dst, rate: '1mbit' }, 400);
    for (const [k, v] of Object.entries({ src: 5, dst: null, classId: 7, proto: '6', srcPort: '80', dstPort: 1.5, flowLabel: 'x', reservationId: 12 })) post('/v1/quotes', { ...base, [k]: v }, 400);
    for (const src of ['', '10.0.0', '10.0.0.256', '224.0.0.1', '255.255.255.255', '0.0.0.0', 'ff02::1', '::', 'fe80::1%eth0', 'localhost', 'x'.repeat(65)]) post('/v1/quotes', { ...base, src }, 400);
    post('/v1/quotes', { ...base, dst: 'fd00::2' }, 400, 'bad_address');
    post('/v1/quotes', { ...base, dst: '10.0.0.1' }, 400, 'bad_address');
    post('/v1/quotes', { ...base, src: '10.9.9.9' }, 422, 'unknown_host');
    post('/v1/quotes', { ...base, dst: '192.168.1.1' }, 422, 'unknown_host');
    post('/v1/quotes', { ...base, src: 'fd00::9', dst: 'fd00::2' }, 422, 'unknown_host');
    post('/v1/quotes', { ...base, classId: 'platinum' }, 400, 'unknown_class');
    post('/v1/quotes', { ...base, classId: '' }, 400, 'unknown_class');
    post('/v1/quotes', { ...base, proto: 300 }, 400, 'bad_match');
    post('/v1/quotes', { ...base, proto: -1 }, 400, 'bad_match');
    post('/v1/quotes', { ...base, dstPort: 80 }, 400, 'bad_match');
    post('/v1/quotes', { ...base, proto: 6, dstPort: 70000 }, 400, 'bad_match');
    post('/v1/quotes', { ...base, flowLabel: 5 }, 400, 'bad_match');
    post('/v1/quotes', { ...base, src: 'fd00::1', dst: 'fd00::2', flowLabel: 0x100000 }, 400, 'bad_match');
    post('/v1/quotes', { ...base, rate: '5mbit' }, 409, 'capacity_unavailable');
    post('/v1/quotes', { ...base, rate: 9e9 }, 409, 'capacity_unavailable');
    // extension quotes
    post('/v1/quotes', { reservationId: 'f'.repeat(32), duration: '10s' }, 404, 'unknown_reservation');
    post('/v1/quotes', { reservationId: cancelled.id, duration: '10s' }, 409, 'not_active');
    post('/v1/quotes', { reservationId: active.id, duration: '0s' }, 400, 'bad_duration');
    post('/v1/quotes', { reservationId: active.id, duration: '-10s' }, 400);
    post('/v1/quotes', { reservationId: active.id, duration: '3650d' }, 400);
    post('/v1/quotes', { reservationId: active.id, duration: '10s', rate: '1mbit' }, 400);
    post('/v1/quotes', { reservationId: 'XYZ', duration: '10s' }, 400);

    // ---- reservations: quotes and payments
    const pay = (quoteId: unknown, payment: unknown): Record<string, unknown> => ({ quoteId, payment });
    post('/v1/reservations', pay(q.quote.id, underpaid), 402, 'too_little');
    post('/v1/reservations', pay(q.quote.id, wrongMemo), 402, 'memo_mismatch');
    post('/v1/reservations', pay(q.quote.id, wrongRecipient), 402, 'wrong_recipient');
    post('/v1/reservations', pay(q.quote.id, unknownProof), 402, 'unknown');
    post('/v1/reservations', pay(q.quote.id, usedProof), 402, 'already_redeemed');
    post('/v1/reservations', pay(q0.quote.id, usedProof), 402, 'already_redeemed');
    post('/v1/reservations', pay(q.quote.id, { ledger: 'iota', id: 'abc' }), 402, 'wrong_ledger');
    post('/v1/reservations', pay(q.quote.id, { ledger: 'bitcoin', id: 'abc' }), 400);
    post('/v1/reservations', pay(q.quote.id, { ledger: 'local', id: '' }), 400);
    post('/v1/reservations', pay(q.quote.id, { ledger: 'local', id: 'a'.repeat(129) }), 400);
    post('/v1/reservations', pay(q.quote.id, { ledger: 'local' }), 400);
    post('/v1/reservations', pay(q.quote.id, { ledger: 'local', id: 5 }), 400);
    post('/v1/reservations', pay(q.quote.id, null), 400);
    post('/v1/reservations', pay(q.quote.id, 'proof'), 400);
    post('/v1/reservations', pay('f'.repeat(32), expiredProof), 404, 'unknown_quote');
    post('/v1/reservations', pay('F'.repeat(32), expiredProof), 400);
    post('/v1/reservations', pay(12, expiredProof), 400);
    post('/v1/reservations', pay(null, expiredProof), 400);
    post('/v1/reservations', pay(xq.quote.id, expiredProof), 400, 'wrong_quote');
    post('/v1/reservations', { quoteId: q.quote.id }, 400);
    post('/v1/reservations', { payment: underpaid }, 400);
    // extensions
    const ext = `/v1/reservations/${active.id}/extensions`;
    post(ext, pay(xq.quote.id, xUnder), 402, 'too_little');
    post(ext, pay(xq.quote.id, usedProof), 402, 'already_redeemed');
    post(ext, pay(q.quote.id, underpaid), 400, 'wrong_quote');
    post(`/v1/reservations/${'f'.repeat(32)}/extensions`, pay(xq.quote.id, xUnder), 404, 'unknown_reservation');
    post(`/v1/reservations/${cancelled.id}/extensions`, pay(xq.quote.id, xUnder), 400, 'wrong_quote');

    // ---- vouchers
    const channelKey = ChannelSigningKey.generate('ed25519');
    const channel = await h.ledger.openChannel(h.payer, h.running.operatorKey.address, channelKey.publicKey, 10_000_000n, h.clock.now + 3_600_000);
    const foreignChannel = await h.ledger.openChannel(h.payer, other.address, channelKey.publicKey, 10_000_000n, h.clock.now + 3_600_000);
    const vouch = `/v1/reservations/${active.id}/vouchers`;
    const good = signVoucher(channelKey, channel, 1_600_000n, 1);
    for (const path of [vouch]) {
      post(path, '{', 400, 'bad_json');
      post(path, {}, 400);
      post(path, { voucher: null }, 400);
      post(path, { voucher: { ...good, cumulative: 1600000 } }, 400);
      post(path, { voucher: { ...good, cumulative: '-5' } }, 400);
      post(path, { voucher: { ...good, cumulative: '1'.repeat(25) } }, 400);
      post(path, { voucher: { ...good, sequence: 0 } }, 400);
      post(path, { voucher: { ...good, sequence: -1 } }, 400);
      post(path, { voucher: { ...good, channel: 'xyz' } }, 400);
      post(path, { voucher: { ...good, extra: 1 } }, 400);
      post(path, { voucher: good, extra: 1 }, 400);
      // signatures of neither scheme's length, or not lower-case hex
      post(path, { voucher: { ...good, signature: good.signature.slice(2) } }, 400);
      post(path, { voucher: { ...good, signature: good.signature + 'ab' } }, 400);
      post(path, { voucher: { ...good, signature: 'ab'.repeat(385) } }, 400);
      post(path, { voucher: { ...good, signature: good.signature.toUpperCase() } }, 400);
    }
    // an rsa-pss-3072-length signature on an ed25519 channel passes the schema, not the check
    post(vouch, { voucher: { ...good, signature: 'ab'.repeat(384) } }, 402, 'bad_signature');
    // channel openings through the mounted ledger with malformed channel keys (correctly signed by the payer)
    const payerNonce = (await h.ledger.account(h.payer.address)).nonce + 1;
    for (const badKey of ['rsa-pss-3072:' + 'A'.repeat(563), 'rsa-pss-3072:' + 'A'.repeat(2000), 'rsa-pss-2048:' + 'A'.repeat(563), 'ed25519:' + channelKey.publicKey, channelKey.publicKey.toUpperCase(), '']) {
      post('/v1/ledger/channels', signChannelOpen(h.payer, { payee: h.running.operatorKey.address, channelKey: badKey, deposit: '1000', timeoutAt: h.clock.now + 3_600_000, nonce: payerNonce }), 400);
    }
    post(vouch, { voucher: { ...good, cumulative: '1600001' } }, 402, 'bad_signature');
    post(vouch, { voucher: signVoucher(channelKey, channel, 1_000n, 1) }, 402, 'too_little');
    post(vouch, { voucher: signVoucher(channelKey, channel, 20_000_000n, 1) }, 402, 'over_deposit');
    post(vouch, { voucher: signVoucher(channelKey, 'e'.repeat(64), 1_600_000n, 1) }, 402, 'unknown_channel');
    post(vouch, { voucher: signVoucher(channelKey, foreignChannel, 1_600_000n, 1) }, 402, 'unknown_channel');
    post(`/v1/reservations/${'f'.repeat(32)}/vouchers`, { voucher: good }, 404, 'unknown_reservation');
    post(`/v1/reservations/${cancelled.id}/vouchers`, { voucher: good }, 409, 'not_active');
    post(`/v1/reservations/${active.id}/vouchers`, { voucher: signVoucher(channelKey, channel, 10n ** 15n, 1) }, 402);

    // ---- GET / DELETE routes
    get('/v1/menu?x=1', 400);
    get(`/v1/reservations/${'f'.repeat(32)}`, 404);
    get('/v1/reservations/nonsense', 404);
    get(`/v1/reservations/${'f'.repeat(65)}`, 400);
    get('/v1/reservations?state=bogus', 400);
    get('/v1/reservations?limit=0', 400);
    get('/v1/reservations?limit=-1', 400);
    get('/v1/reservations?limit=abc', 400);
    get('/v1/reservations?limit=99999', 400);
    get('/v1/reservations?other=1', 400);
    get('/v1/prices?history=maybe', 400);
    get('/v1/prices?limit=0', 400);
    get('/v1/prices?since=-5', 400);
    get('/v1/revenue?x=1', 400);
    get('/v1/topology?x=1', 400);
    get('/metrics?x=1', 400);
    get('/v1/nothing', 404);
    get('/v1/ledger/accounts/nobody', 400);
    cases.push({ name: 'DELETE unknown', method: 'DELETE', path: `/v1/reservations/${'f'.repeat(32)}`, status: 404 });
    cases.push({ name: 'DELETE nonsense', method: 'DELETE', path: '/v1/reservations/..%2f..', status: 404 });
    cases.push({ name: 'DELETE cancelled', method: 'DELETE', path: `/v1/reservations/${cancelled.id}`, status: 409, code: 'not_active' });
    cases.push({ name: 'DELETE collection', method: 'DELETE', path: '/v1/reservations', status: 404 });

    // ---- the signed routes without the owner's signature
    const stranger = accountSigner(SigningKey.generate());
    const payerSigner = accountSigner(h.payer);
    const signedRoutes: { method: 'GET' | 'POST' | 'DELETE'; path: string; body?: unknown }[] = [
      { method: 'GET', path: `/v1/reservations/${active.id}` },
      { method: 'DELETE', path: `/v1/reservations/${active.id}` },
      { method: 'POST', path: `/v1/reservations/${active.id}/extensions`, body: pay(xq.quote.id, xUnder) },
      { method: 'POST', path: vouch, body: { voucher: good } },
    ];
    for (const r of signedRoutes) {
      const base = { method: r.method, path: r.path, ...(r.body !== undefined ? { body: r.body } : {}) };
      cases.push({ ...base, name: `${r.method} ${r.path} unsigned`, signer: null, status: 401, code: 'signature_missing' });
      cases.push({ ...base, name: `${r.method} ${r.path} by a stranger`, signer: stranger, status: 403, code: 'not_owner' });
      const stale = signRequest(payerSigner, { method: r.method, path: r.path, body: r.body === undefined ? undefined : JSON.stringify(r.body), now: Date.now() - 3_600_000 });
      cases.push({ ...base, name: `${r.method} ${r.path} stale`, signature: stale, status: 401, code: 'signature_stale' });
      for (const garbage of ['', 'x', 'keyId=, ts=, nonce=, sig=', `keyId=${h.payer.address}, ts=1, nonce=${'0'.repeat(32)}, sig=${'0'.repeat(128)}`, `keyId=channel:${'a'.repeat(64)}, ts=${Date.now()}, nonce=${'1'.repeat(32)}, sig=00`, 'a=b, '.repeat(500)]) {
        cases.push({ ...base, name: `${r.method} ${r.path} signature ${garbage.slice(0, 30)}`, signature: garbage, status: 401 });
      }
    }
    const once = signRequest(payerSigner, { method: 'GET', path: `/v1/reservations/${'f'.repeat(32)}` });
    cases.push({ method: 'GET', path: `/v1/reservations/${'f'.repeat(32)}`, name: 'GET signed once', signature: once, status: 404 });
    cases.push({ method: 'GET', path: `/v1/reservations/${'f'.repeat(32)}`, name: 'GET replayed', signature: once, status: 401, code: 'signature_replayed' });
    cases.push({ method: 'GET', path: `/v1/reservations/${active.id}`, name: 'forged signature', status: 401, code: 'signature_invalid', signature: (path, method) => signRequest(stranger, { method, path }).replace(stranger.keyId, h.payer.address) });

    // ---- seeded random bodies
    const rnd = mulberry32(0x5eed);
    const values = (): unknown => {
      const pick = Math.floor(rnd() * 12);
      switch (pick) {
        case 0: return Math.floor(rnd() * 2 ** 40) * (rnd() < 0.5 ? -1 : 1);
        case 1: return rnd() * 1e308 * (rnd() < 0.5 ? -1 : 1);
        case 2: return '';
        case 3: return String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 0x2fff)));
        case 4: return null;
        case 5: return rnd() < 0.5;
        case 6: return [values()];
        case 7: return { k: values() };
        case 8: return `${Math.floor(rnd() * 1e6)}${['mbit', 'kbit', 's', 'ms', 'h', 'xx', ''][Math.floor(rnd() * 7)]}`;
        case 9: return ['10.0.0.1', '10.0.0.2', 'fd00::1', '10.0.0.9', '::1'][Math.floor(rnd() * 5)];
        case 10: return 'f'.repeat(32);
        default: return 0;
      }
    };
    const keys = ['src', 'dst', 'rate', 'duration', 'classId', 'proto', 'srcPort', 'dstPort', 'flowLabel', 'quoteId', 'payment', 'reservationId', 'junk'];
    for (let i = 0; i < 300; i++) {
      const body: Record<string, unknown> = {};
      for (const k of keys) if (rnd() < 0.4) body[k] = values();
      // keep src/dst/rate/duration sometimes valid so deeper checks are reached, but never all four
      if (rnd() < 0.5) Object.assign(body, { src: '10.0.0.1', dst: '10.0.0.2' });
      if ('rate' in body && 'duration' in body && body['src'] === '10.0.0.1' && typeof body['rate'] === 'string' && /^[0-9]+(mbit|kbit)$/.test(body['rate'])) body['duration'] = -1;
      post(rnd() < 0.6 ? '/v1/quotes' : '/v1/reservations', body);
    }
    // last: the clock passes the quote TTL (30 s), so qe — paid in full — has expired
    cases.push({ name: 'expired quote', method: 'POST', path: '/v1/reservations', body: pay(qe.quote.id, expiredProof), status: 410, code: 'quote_expired', before: () => (h.clock.now += 31_000) });
    snapshot = dump();
  });

  afterAll(async () => {
    await h?.close();
    t.cleanup();
  });

  it('every case is refused with a 4xx JSON error and no row changes', async () => {
    expect(cases.length).toBeGreaterThan(400);
    const failures: string[] = [];
    for (const c of cases) {
      c.before?.();
      const headers: Record<string, string> = {};
      let body: string | undefined;
      if (c.body !== undefined) {
        body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
        headers['content-type'] = c.contentType ?? 'application/json';
      }
      if (typeof c.signature === 'string') headers['payflow-signature'] = c.signature;
      else if (c.signature) headers['payflow-signature'] = c.signature(c.path, c.method);
      else if (c.signer !== null) headers['payflow-signature'] = signRequest(c.signer ?? accountSigner(h.payer), { method: c.method, path: c.path, body });
      const res = await fetch(h.running.url + c.path, { method: c.method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let json: { error?: { code?: unknown; message?: unknown } } = {};
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        failures.push(`${c.name}: not JSON (${res.status}): ${text.slice(0, 100)}`);
        continue;
      }
      if (res.status < 400 || res.status > 499) failures.push(`${c.name}: status ${res.status} ${text.slice(0, 200)}`);
      else if (c.status !== undefined && res.status !== c.status) failures.push(`${c.name}: status ${res.status}, expected ${c.status}: ${text.slice(0, 200)}`);
      if (typeof json.error?.code !== 'string' || typeof json.error?.message !== 'string') failures.push(`${c.name}: no { error: { code, message } }: ${text.slice(0, 200)}`);
      else if (c.code !== undefined && json.error.code !== c.code) failures.push(`${c.name}: code ${json.error.code}, expected ${c.code}`);
      const now = dump();
      if (now !== snapshot) {
        failures.push(`${c.name}: stored rows changed`);
        snapshot = now;
      }
    }
    expect(failures).toEqual([]);
  });
});

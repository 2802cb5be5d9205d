// The local ledger's HTTP service over a real socket on 127.0.0.1, driven by the HTTP
// client and by raw fetch for the malformed requests: bad JSON, schema violations, forged
// transfers and malformed channel keys are refused with the JSON error contract and leave
// the ledger as it was. Channels run with both channel-key schemes (keys made once per file).
// The server is the one `payflow ledger serve` runs (src/api/ledger-server.ts): its faucet
// mints only for an operator token of scope admin, and audits every token's attempt.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { ledgerPlugin, type LedgerServer } from '../../src/payments/http-service.js';
import { startLedgerApi } from '../../src/api/ledger-server.js';
import { tokenHash } from '../../src/api/auth.js';
import { RequestStore } from '../../src/api/request-store.js';
import { LedgerHttpClient } from '../../src/payments/http-client.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { LedgerError } from '../../src/payments/ledger.js';
import { SigningKey } from '../../src/payments/keys.js';
import { signTransfer } from '../../src/payments/journal.js';
import { VoucherSigner, signVoucher } from '../../src/payments/channels.js';
import { ChannelSigningKey } from '../../src/payments/channel-keys.js';
import { ledgerFixture, malformedChannelKeys, type LedgerFixture } from './helpers.js';

let f: LedgerFixture;
let rsaChannelKey: ChannelSigningKey;
beforeAll(() => {
  rsaChannelKey = ChannelSigningKey.generate('rsa-pss-3072');
});
let server: LedgerServer;
let client: LedgerHttpClient;

const ADMIN = 'pft_ledger-admin';
const READ = 'pft_ledger-reader';
const tokens = [
  { name: 'ops', sha256: tokenHash(ADMIN), scope: 'admin' as const },
  { name: 'auditor', sha256: tokenHash(READ), scope: 'read' as const },
];

beforeEach(async () => {
  f = ledgerFixture();
  server = await startLedgerApi({ ledger: f.ledger, store: f.store, tokens });
  client = new LedgerHttpClient(server.url, { token: ADMIN });
});
afterEach(async () => {
  await server.close();
  f.cleanup();
});

async function post(path: string, body: string, contentType = 'application/json') {
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } };
}

async function rejection(p: Promise<unknown>): Promise<LedgerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof LedgerError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('ledger HTTP service', () => {
  it('serves info, the faucet, payments and their verification', async () => {
    const info = await client.info();
    expect(info).toMatchObject({ ledger: 'local', testbed: true, authority: f.authority.publicKeyHex, operatorAddress: f.operator.address });
    await client.faucet(f.alice.address, 1000n);
    const proof = await client.pay(f.alice, f.operator.address, 250n, 'quote-1');
    expect(await client.balance(f.alice.address)).toBe(750n);
    expect(await client.verifyPayment(proof, { payTo: f.operator.address, amount: 200n, memo: 'quote-1' })).toEqual({ amount: 250n, payer: f.alice.address });
    const refused = await rejection(client.verifyPayment(proof, { payTo: f.operator.address, amount: 300n, memo: 'quote-1' }));
    expect([refused.status, refused.code]).toEqual([402, 'too_little']);
    const memo = await rejection(client.verifyPayment(proof, { payTo: f.operator.address, amount: 1n, memo: 'quote-2' }));
    expect([memo.status, memo.code]).toEqual([402, 'memo_mismatch']);
  });

  it('refuses bad JSON, schema violations and forged transfers without changing state', async () => {
    await client.faucet(f.alice.address, 1000n);
    const before = await client.info();
    const badJson = await post('/transfers', '{"from": "pf1', 'application/json');
    expect(badJson).toEqual({ status: 400, json: { error: { code: 'bad_json', message: expect.any(String) } } });
    const schema = await post('/transfers', JSON.stringify({ from: f.alice.address, to: f.operator.address, amount: '1.5', nonce: 1, memo: '', signature: '00' }));
    expect(schema.status).toBe(400);
    expect(schema.json.error?.code).toBe('bad_request');
    const forged = { ...signTransfer(f.alice, { to: f.operator.address, amount: '10', nonce: 1, memo: '' }), amount: '999' };
    const r = await post('/transfers', JSON.stringify(forged));
    expect(r).toMatchObject({ status: 402, json: { error: { code: 'bad_signature' } } });
    const mallory = SigningKey.generate();
    const stolen = { ...signTransfer(mallory, { to: mallory.address, amount: '10', nonce: 1, memo: '' }), from: f.alice.address };
    expect((await post('/transfers', JSON.stringify(stolen))).json.error?.code).toBe('bad_signature');
    const overdraw = signTransfer(f.alice, { to: f.operator.address, amount: '1001', nonce: 1, memo: '' });
    expect(await post('/transfers', JSON.stringify(overdraw))).toMatchObject({ status: 402, json: { error: { code: 'insufficient_funds' } } });
    const replayFirst = signTransfer(f.alice, { to: f.operator.address, amount: '1', nonce: 2, memo: '' });
    expect(await post('/transfers', JSON.stringify(replayFirst))).toMatchObject({ status: 409, json: { error: { code: 'bad_nonce' } } });
    expect(await post('/transfers', 'hello', 'text/plain')).toMatchObject({ status: 400, json: { error: { code: 'bad_request' } } });
    expect(await client.info()).toEqual(before);
    expect(await client.account(f.alice.address)).toEqual({ balance: 1000n, nonce: 0 });
    expect(await client.audit()).toMatchObject({ ok: true });
  });

  it('answers unknown routes and channels with JSON 404s', async () => {
    const res = await fetch(server.url + '/nope');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await rejection(client.channel('ab'.repeat(32)))).status).toBe(404);
  });

  it('runs an ed25519 channel over HTTP: open, settle the last voucher, refuse an early reclaim', async () => {
    await client.faucet(f.alice.address, 1000n);
    const channelKey = ChannelSigningKey.generate('ed25519');
    const channel = await client.openChannel(f.alice, f.operator.address, channelKey.publicKey, 500n, Date.now() + 60_000);
    const signer = new VoucherSigner(channelKey, channel, 500n);
    signer.pay(100n);
    const last = signer.pay(150n);
    await client.settleChannel(last);
    expect(await client.balance(f.operator.address)).toBe(250n);
    const replay = await rejection(client.settleChannel(last));
    expect([replay.status, replay.code]).toEqual([409, 'duplicate']);
    const early = await rejection(client.reclaimChannel(f.alice, channel));
    expect([early.status, early.code]).toEqual([409, 'too_early']);
    expect(await client.channel(channel)).toMatchObject({ settled: '250', deposit: '500', closed: false });
  });

  it('runs an rsa-pss-3072 channel over HTTP: open, settle, refuse forged and wrong-scheme vouchers', async () => {
    await client.faucet(f.alice.address, 1000n);
    const channel = await client.openChannel(f.alice, f.operator.address, rsaChannelKey.publicKey, 500n, Date.now() + 60_000);
    expect(await client.channel(channel)).toMatchObject({ channelKey: rsaChannelKey.publicKey, deposit: '500' });
    const signer = new VoucherSigner(rsaChannelKey, channel, 500n);
    const first = signer.pay(100n);
    expect(first.signature).toHaveLength(768);
    await client.settleChannel(first);
    const second = signer.pay(150n);
    const forged = await rejection(client.settleChannel({ ...second, cumulative: '400' }));
    expect([forged.status, forged.code]).toEqual([402, 'bad_signature']);
    const wrongScheme = await rejection(client.settleChannel(signVoucher(ChannelSigningKey.generate('ed25519'), channel, 250n, 2)));
    expect([wrongScheme.status, wrongScheme.code]).toEqual([402, 'bad_signature']);
    const badLength = await post(`/channels/${channel}/settle`, JSON.stringify({ voucher: { ...second, signature: second.signature.slice(2) } }));
    expect([badLength.status, badLength.json.error?.code]).toEqual([400, 'bad_request']);
    await client.settleChannel(second);
    expect(await client.balance(f.operator.address)).toBe(250n);
    expect(await client.channel(channel)).toMatchObject({ settled: '250', settledSequence: 2, closed: false });
    expect(await client.audit()).toMatchObject({ ok: true });
  });

  it('refuses channel openings with malformed channel keys (400) and changes nothing', async () => {
    await client.faucet(f.alice.address, 1000n);
    const before = await client.info();
    for (const { name, channelKey } of malformedChannelKeys(rsaChannelKey)) {
      const e = await rejection(client.openChannel(f.alice, f.operator.address, channelKey, 500n, Date.now() + 60_000));
      expect(e.status, name).toBe(400);
      expect(['bad_request', 'malformed'], name).toContain(e.code);
    }
    // a near miss the schema lets through gets the parser's own words
    const exponent3 = malformedChannelKeys(rsaChannelKey).find((k) => k.name === 'RSA with exponent 3')!;
    const e = await rejection(client.openChannel(f.alice, f.operator.address, exponent3.channelKey, 500n, Date.now() + 60_000));
    expect(e.message).toMatch(/public exponent 65537, not 3/);
    expect(await client.info()).toEqual(before);
    expect(await client.account(f.alice.address)).toEqual({ balance: 1000n, nonce: 0 });
    expect(await client.audit()).toMatchObject({ ok: true });
  });

  it('mints only for an admin token: none 401, a read token 403, admin 201; each token\'s attempt audited', async () => {
    const none = await rejection(new LedgerHttpClient(server.url).faucet(f.alice.address, 5n));
    expect([none.status, none.code]).toEqual([401, 'token_missing']);
    expect(none.message).toMatch(/payflow token create --scope admin/);
    const read = await rejection(new LedgerHttpClient(server.url, { token: READ }).faucet(f.alice.address, 5n));
    expect([read.status, read.code]).toEqual([403, 'not_allowed']);
    const unknown = await rejection(new LedgerHttpClient(server.url, { token: 'pft_nobody' }).faucet(f.alice.address, 5n));
    expect([unknown.status, unknown.code]).toEqual([401, 'token_invalid']);
    expect(await client.balance(f.alice.address)).toBe(0n);
    await client.faucet(f.alice.address, 5n);
    expect(await client.balance(f.alice.address)).toBe(5n);
    expect(new RequestStore(f.store).auditLog().map((e) => [e.actor, e.action, e.target, e.status, e.outcome]).reverse()).toEqual([
      ['auditor', 'POST /v1/ledger/faucet', f.alice.address, 403, 'not_allowed'],
      ['ops', 'POST /v1/ledger/faucet', f.alice.address, 200, 'ok'],
    ]);
  });

  it('keeps the faucet closed on a ledger that is not a testbed (403), admin token or not', async () => {
    const plain = LocalLedger.open(f.store, { authorityKey: f.authority });
    const other = await startLedgerApi({ ledger: plain, store: f.store, tokens });
    try {
      const e = await rejection(new LedgerHttpClient(other.url, { token: ADMIN }).faucet(f.alice.address, 5n));
      expect([e.status, e.code]).toEqual([403, 'faucet_disabled']);
      expect(new RequestStore(f.store).auditLog(1)).toMatchObject([{ actor: 'ops', status: 403, outcome: 'faucet_disabled' }]);
    } finally {
      await other.close();
    }
  });

  it('mounts as a plugin inside another fastify app', async () => {
    const app = Fastify();
    app.get('/v1/menu', async () => ({ classes: [] }));
    await app.register(ledgerPlugin, { prefix: '/v1/ledger', ledger: f.ledger });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect((await new LedgerHttpClient(`${address}/v1/ledger`).info()).ledgerId).toBe(f.ledger.ledgerId);
      expect((await fetch(`${address}/v1/menu`)).status).toBe(200);
      // the plugin alone does not mint: that is for a server that checks admin tokens
      const faucet = await fetch(`${address}/v1/ledger/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: f.alice.address, amount: '5' }) });
      expect(faucet.status).toBe(404);
    } finally {
      await app.close();
    }
  });
});

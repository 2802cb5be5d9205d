// The operator's run-time changes over the HTTP API, for admin tokens only: a class's
// prices, target and share (PATCH /v1/classes/:id), validated like the config, taking
// effect in quotes at once and kept across a restart; minting on a testbed ledger
// (POST /v1/admin/mint, and the same handler at the ledger's POST /v1/ledger/faucet), refused
// on a production ledger. A read token or a signed account gets 403, no token 401 (for
// minting token_missing, saying how to get a token); every admin action is in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startController } from '../../src/app/main.js';
import { accountSigner, signRequest } from '../../src/api/request-signature.js';
import { tokenHash } from '../../src/api/auth.js';
import { SigningKey } from '../../src/payments/keys.js';
import type { PayflowConfig } from '../../src/config/types.js';
import { startHarness, tempDir, testConfig, TestNetwork, type Harness } from '../reservations/helpers.js';

const ADMIN = 'pft_admin-for-admin-tests';
const READ = 'pft_read-for-admin-tests';
const tokens = (c: PayflowConfig): void => {
  c.http.tokens = [
    { name: 'ops', sha256: tokenHash(ADMIN), scope: 'admin' },
    { name: 'auditor', sha256: tokenHash(READ), scope: 'read' },
  ];
};

async function call(h: Harness, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(h.running.url + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const admin = { authorization: `Bearer ${ADMIN}` };

describe('admin: class changes at run time', () => {
  const t = tempDir();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(t.dir, { patch: tokens });
  });
  afterAll(async () => {
    await h.close();
    t.cleanup();
  });

  it('an admin changes gold: quotes use the new price at once, and after a restart', async () => {
    const flow = { src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '10s' };
    expect((await h.api.quote(flow)).unitPrice).toBeCloseTo(0.16, 12);
    const r = await call(h, 'PATCH', '/v1/classes/gold', { basePrice: 0.32, maxPrice: 3.2 }, admin);
    expect(r).toMatchObject({ status: 200, body: { id: 'gold', basePrice: 0.32, maxPrice: 3.2, target: 0.5, share: 0.4 } });
    expect((await h.api.quote(flow)).unitPrice).toBeCloseTo(0.32, 12);
    expect((await h.api.menu()).classes.find((c) => c['id'] === 'gold')).toMatchObject({ basePrice: 0.32, price: 0.32 });
    expect(h.running.store.db.prepare("SELECT actor, action, target, status FROM api_audit WHERE action LIKE 'PATCH%'").all()).toEqual([{ actor: 'ops', action: 'PATCH /v1/classes/:id', target: 'gold', status: 200 }]);
    // kept across a restart on the same data directory
    const payer = h.payer;
    await h.close();
    h = await startHarness(t.dir, { patch: tokens, payer });
    expect((await h.api.quote(flow)).unitPrice).toBeCloseTo(0.32, 12);
  });

  it('refuses what the config would refuse, and leaves the class as it was', async () => {
    const before = (await h.api.menu()).classes.find((c) => c['id'] === 'gold');
    const low = await call(h, 'PATCH', '/v1/classes/gold', { maxPrice: 0.01 }, admin);
    expect(low.status).toBe(400);
    expect(String((low.body['error'] as { message: string }).message)).toMatch(/classes\[0\]\.maxPrice: must be at least basePrice/);
    expect((await call(h, 'PATCH', '/v1/classes/gold', { share: 0.9 }, admin)).body).toMatchObject({ error: { code: 'bad_request', message: expect.stringMatching(/shares sum to/) } });
    expect((await call(h, 'PATCH', '/v1/classes/gold', { target: 0 }, admin)).status).toBe(400);
    expect((await call(h, 'PATCH', '/v1/classes/gold', { dscp: 3 }, admin)).status).toBe(400);
    expect((await call(h, 'PATCH', '/v1/classes/nope', { target: 0.5 }, admin)).body).toMatchObject({ error: { code: 'unknown_class' } });
    expect((await h.api.menu()).classes.find((c) => c['id'] === 'gold')).toEqual(before);
  });

  it('a read token and a signed account get 403, no token 401; minting follows the same rule', async () => {
    const mint = { address: h.payer.address, amount: '5' };
    for (const [path, method, body, missing] of [
      ['/v1/classes/gold', 'PATCH', { target: 0.6 }, 'signature_missing'],
      ['/v1/admin/mint', 'POST', mint, 'token_missing'],
      ['/v1/ledger/faucet', 'POST', mint, 'token_missing'],
    ] as const) {
      expect((await call(h, method, path, body, { authorization: `Bearer ${READ}` })).body).toMatchObject({ error: { code: 'not_allowed' } });
      const signature = signRequest(accountSigner(h.payer), { method, path, body: JSON.stringify(body) });
      expect(await call(h, method, path, body, { 'payflow-signature': signature })).toMatchObject({ status: 403, body: { error: { code: 'not_allowed' } } });
      expect(await call(h, method, path, body)).toMatchObject({ status: 401, body: { error: { code: missing } } });
    }
    const before = await h.ledger.balance(h.payer.address);
    const minted = await call(h, 'POST', '/v1/admin/mint', { address: h.payer.address, amount: '777' }, admin);
    expect(minted.status).toBe(201);
    expect((await h.ledger.balance(h.payer.address)) - before).toBe(777n);
    expect(h.running.store.db.prepare("SELECT actor, status FROM api_audit WHERE action = 'POST /v1/admin/mint' ORDER BY at").all()).toEqual([
      { actor: 'auditor', status: 403 },
      { actor: 'ops', status: 200 },
    ]);
  });

  it('the ledger\'s faucet is the same handler: an old client without a token is told how to get one; admin mints, audited', async () => {
    const old = await call(h, 'POST', '/v1/ledger/faucet', { address: h.payer.address, amount: '5' });
    expect(old).toMatchObject({ status: 401, body: { error: { code: 'token_missing', message: expect.stringMatching(/operator token of scope admin.*payflow token create --scope admin/) } } });
    const before = await h.ledger.balance(h.payer.address);
    expect((await call(h, 'POST', '/v1/ledger/faucet', { address: h.payer.address, amount: '9' }, admin)).status).toBe(201);
    expect((await h.ledger.balance(h.payer.address)) - before).toBe(9n);
    expect(h.running.store.db.prepare("SELECT actor, target, status, outcome FROM api_audit WHERE action = 'POST /v1/ledger/faucet' AND actor != 'test-funder' ORDER BY seq").all()).toEqual([
      { actor: 'auditor', target: h.payer.address, status: 403, outcome: 'not_allowed' },
      { actor: 'ops', target: h.payer.address, status: 200, outcome: 'ok' },
    ]);
  });
});

describe('admin: minting on a production ledger', () => {
  it('is refused with 403 faucet_disabled, and audited', async () => {
    const t = tempDir();
    const running = await startController(
      testConfig(t.dir, (c) => {
        tokens(c);
        c.ledger = { kind: 'local', testbed: false, baseUnitsPerCurrencyUnit: 1_000_000 };
      }),
      { network: new TestNetwork(), logger: pino({ level: 'silent' }) },
    );
    try {
      for (const path of ['/v1/admin/mint', '/v1/ledger/faucet']) {
        const res = await fetch(`${running.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify({ address: SigningKey.generate().address, amount: '5' }) });
        expect(res.status).toBe(403);
        expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'faucet_disabled', message: expect.stringMatching(/production ledger/) });
        expect(running.store.db.prepare('SELECT actor, status, outcome FROM api_audit WHERE action = ?').all(`POST ${path}`)).toEqual([{ actor: 'ops', status: 403, outcome: 'faucet_disabled' }]);
      }
    } finally {
      await running.close();
      t.cleanup();
    }
  });
});

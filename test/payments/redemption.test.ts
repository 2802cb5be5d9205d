// Redemption: one payment buys one reservation. A second use is refused — on the same
// connection, after a restart, from a second connection racing on the same file, and
// from two separate processes racing (real child processes, real SQLite file).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Store } from '../../src/store/index.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { signTransfer } from '../../src/payments/journal.js';
import { findRedemption, isRedeemed, recordRedemption, redeemPayment, releaseRedemption } from '../../src/payments/redemption.js';
import { ledgerFixture, type LedgerFixture } from './helpers.js';

let f: LedgerFixture;
beforeEach(() => {
  f = ledgerFixture();
  f.ledger.faucet(f.alice.address, 1_000_000n);
});
afterEach(() => f.cleanup());

const memo = 'quote-7';
function payment(amount = 500n, m = memo) {
  const nonce = f.ledger.account(f.alice.address).nonce + 1;
  const e = f.ledger.transfer(signTransfer(f.alice, { to: f.operator.address, amount: amount.toString(), nonce, memo: m }));
  return { proof: { ledger: 'local' as const, id: e.txId }, req: { payTo: f.operator.address, amount, memo: m } };
}

describe('redeemPayment', () => {
  it('redeems once, refuses the second use and remembers it after a restart', async () => {
    const { proof, req } = payment();
    expect(await redeemPayment(f.store, f.ledger, proof, req, 'res-A')).toMatchObject({ ok: true, amount: 500n, reservationId: 'res-A' });
    expect(await redeemPayment(f.store, f.ledger, proof, req, 'res-B')).toMatchObject({ ok: false, reason: 'already_redeemed' });
    f.store.close();
    const store = Store.open(f.dbPath);
    const ledger = LocalLedger.open(store);
    expect(await redeemPayment(store, ledger, proof, req, 'res-C')).toMatchObject({ ok: false, reason: 'already_redeemed' });
    expect(findRedemption(store, proof)).toMatchObject({ reservationId: 'res-A', amount: 500n, memo });
    store.close();
    f.store = Store.open(f.dbPath);
  });

  it('does not record a refused payment', async () => {
    const { proof, req } = payment(10n);
    expect(await redeemPayment(f.store, f.ledger, proof, { ...req, amount: 500n }, 'res-A')).toMatchObject({ ok: false, reason: 'too_little' });
    expect(findRedemption(f.store, proof)).toBeNull();
  });

  it("records inside the caller's transaction: a rollback leaves no redemption, a release frees the proof", async () => {
    const { proof, req } = payment();
    const verdict = await f.ledger.verifyPayment(proof, req);
    expect(verdict.ok).toBe(true);
    const r = { reservationId: 'res-A', amount: 500n, memo, now: 1 };
    expect(() =>
      f.store.immediate(() => {
        expect(recordRedemption(f.store, proof, r)).toEqual({ ok: true });
        throw new Error('the rest of the purchase failed');
      }),
    ).toThrow('the rest of the purchase failed');
    expect(isRedeemed(f.store, proof)).toBe(false);
    f.store.immediate(() => recordRedemption(f.store, proof, r));
    expect(recordRedemption(f.store, proof, { ...r, reservationId: 'res-B' })).toMatchObject({ ok: false, reason: 'already_redeemed' });
    f.store.immediate(() => releaseRedemption(f.store, proof));
    expect(findRedemption(f.store, proof)).toBeNull();
    expect(await redeemPayment(f.store, f.ledger, proof, req, 'res-C')).toMatchObject({ ok: true, reservationId: 'res-C' });
  });

  it('two connections racing on one file: exactly one wins', async () => {
    const other = Store.open(f.dbPath);
    const otherLedger = LocalLedger.open(other);
    try {
      for (let i = 0; i < 10; i++) {
        const { proof, req } = payment();
        // Both verifications complete before either INSERT runs (both awaits resolve
        // first), so the check alone would pass both: the primary key must decide.
        const results = await Promise.all([
          redeemPayment(f.store, f.ledger, proof, req, `res-${i}-a`),
          redeemPayment(other, otherLedger, proof, req, `res-${i}-b`),
        ]);
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok && r.reason === 'already_redeemed')).toHaveLength(1);
      }
    } finally {
      other.close();
    }
  });

  it('two processes racing on one file: exactly one wins each proof', async () => {
    const distModule = resolve('dist/src/payments/index.js');
    if (!existsSync(distModule)) throw new Error('build first: npx tsc -p tsconfig.json (the child processes run dist/)');
    const proofs = Array.from({ length: 20 }, () => payment().proof.id);
    const startAt = Date.now() + 1500;
    const script = `
      const { Store } = await import(${JSON.stringify(resolve('dist/src/store/index.js'))});
      const { LocalLedger, redeemPayment } = await import(${JSON.stringify(distModule)});
      const [db, payTo, memo, startAt, who, ...ids] = process.argv.slice(1);
      const store = Store.open(db);
      const ledger = LocalLedger.open(store);
      while (Date.now() < Number(startAt)) {}
      const out = [];
      for (const id of ids) {
        const r = await redeemPayment(store, ledger, { ledger: 'local', id }, { payTo, amount: 500n, memo }, who + ':' + id);
        out.push(r.ok ? 'won' : r.reason);
      }
      store.close();
      process.stdout.write(JSON.stringify(out));
    `;
    const run = (who: string) =>
      new Promise<string[]>((res, rej) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, f.dbPath, f.operator.address, memo, String(startAt), who, ...proofs]);
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => (code === 0 ? res(JSON.parse(out) as string[]) : rej(new Error(`child ${who} exited ${code}: ${err}`))));
      });
    const [a, b] = await Promise.all([run('A'), run('B')]);
    expect(a).toHaveLength(proofs.length);
    for (let i = 0; i < proofs.length; i++) {
      const pair = [a[i], b[i]].sort();
      expect(pair).toEqual(['already_redeemed', 'won']);
      expect(findRedemption(f.store, { ledger: 'local', id: proofs[i]! })).not.toBeNull();
    }
  });
});

// The embedded local ledger on a real SQLite file: signed transfers with nonces, the
// faucet behind the testbed flag, one refusal case per reason of verifyPayment, and
// the audit that re-checks the hash chain and names the first edited entry.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/index.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { SigningKey } from '../../src/payments/keys.js';
import { signTransfer, signMint } from '../../src/payments/journal.js';
import { LedgerError, REFUSAL_REASONS } from '../../src/payments/ledger.js';
import { auditLedger } from '../../src/payments/audit.js';
import { redeemPayment } from '../../src/payments/redemption.js';
import { ledgerFixture, type LedgerFixture } from './helpers.js';

let f: LedgerFixture;
beforeEach(() => {
  f = ledgerFixture();
});
afterEach(() => f.cleanup());

function pay(amount: bigint, memo = 'quote-1', to = f.operator.address, nonce?: number) {
  const n = nonce ?? f.ledger.account(f.alice.address).nonce + 1;
  return f.ledger.transfer(signTransfer(f.alice, { to, amount: amount.toString(), nonce: n, memo }));
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof LedgerError) return err.code;
    throw err;
  }
  throw new Error('expected a LedgerError');
}

describe('LocalLedger', () => {
  it('mints through the faucet and moves money with signed transfers', async () => {
    f.ledger.faucet(f.alice.address, 1000n);
    const e = pay(300n);
    expect(e.seq).toBe(3);
    expect(await f.ledger.balance(f.alice.address)).toBe(700n);
    expect(await f.ledger.balance(f.operator.address)).toBe(300n);
    expect(f.ledger.account(f.alice.address).nonce).toBe(1);
  });

  it('refuses the faucet unless the ledger is a testbed', () => {
    const plain = LocalLedger.open(f.store, { authorityKey: f.authority });
    expect(errorCode(() => plain.faucet(f.alice.address, 5n))).toBe('faucet_disabled');
  });

  it('refuses forged, replayed, out-of-order and overdrawn transfers, leaving state unchanged', () => {
    f.ledger.faucet(f.alice.address, 100n);
    const head = f.ledger.head();
    const forged = { ...signTransfer(f.alice, { to: f.operator.address, amount: '10', nonce: 1, memo: '' }), amount: '90' };
    expect(errorCode(() => f.ledger.transfer(forged))).toBe('bad_signature');
    const mallory = SigningKey.generate();
    const impostor = { ...signTransfer(mallory, { to: f.operator.address, amount: '10', nonce: 1, memo: '' }), from: f.alice.address };
    expect(errorCode(() => f.ledger.transfer(impostor))).toBe('bad_signature');
    expect(errorCode(() => pay(10n, 'x', f.operator.address, 2))).toBe('bad_nonce');
    expect(errorCode(() => pay(101n))).toBe('insufficient_funds');
    expect(errorCode(() => f.ledger.transfer({ from: f.alice.address, to: 'nobody', amount: '1', nonce: 1, signature: '00' }))).toBe('malformed');
    expect(errorCode(() => f.ledger.transfer({ ...signTransfer(f.alice, { to: f.operator.address, amount: '1.5', nonce: 1, memo: '' }) }))).toBe('malformed');
    expect(f.ledger.head()).toEqual(head);
    const ok = signTransfer(f.alice, { to: f.operator.address, amount: '10', nonce: 1, memo: '' });
    f.ledger.transfer(ok);
    expect(errorCode(() => f.ledger.transfer(ok))).toBe('duplicate');
    expect(f.ledger.account(f.alice.address)).toEqual({ balance: 90n, nonce: 1 });
  });

  it('refuses a mint not signed by the authority', () => {
    const rogue = SigningKey.generate();
    expect(() => (f.ledger as unknown as { append(k: string, b: unknown): unknown }).append('mint', signMint(rogue, { to: f.alice.address, amount: '5', nonce: 1, memo: '' }))).toThrow(/signature/);
  });

  it('keeps its state across a restart', async () => {
    f.ledger.faucet(f.alice.address, 50n);
    f.store.close();
    const store = Store.open(f.dbPath);
    const again = LocalLedger.open(store);
    expect(await again.balance(f.alice.address)).toBe(50n);
    expect(again.authority).toBe(f.authority.publicKeyHex);
    store.close();
    f.store = Store.open(f.dbPath);
  });
});

describe('verifyPayment', () => {
  const memo = 'quote-42';
  const price = 100n;
  beforeEach(() => {
    f.ledger.faucet(f.alice.address, 10_000n);
  });

  it('accepts a payment that meets the requirement and returns the amount paid', async () => {
    const e = pay(120n, memo);
    const v = await f.ledger.verifyPayment({ ledger: 'local', id: e.txId }, { payTo: f.operator.address, amount: price, memo });
    expect(v).toEqual({ ok: true, proof: { ledger: 'local', id: e.txId }, amount: 120n, payer: f.alice.address });
  });

  it('unknown: no such transfer', async () => {
    const v = await f.ledger.verifyPayment({ ledger: 'local', id: 'ab'.repeat(32) }, { payTo: f.operator.address, amount: price, memo });
    expect(v).toMatchObject({ ok: false, reason: 'unknown' });
    const bad = await f.ledger.verifyPayment({ ledger: 'local', id: 'not hex' }, { payTo: f.operator.address, amount: price, memo });
    expect(bad).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('wrong_recipient', async () => {
    const e = pay(price, memo, SigningKey.generate().address);
    expect(await f.ledger.verifyPayment({ ledger: 'local', id: e.txId }, { payTo: f.operator.address, amount: price, memo })).toMatchObject({ ok: false, reason: 'wrong_recipient' });
  });

  it('too_little', async () => {
    const e = pay(price - 1n, memo);
    expect(await f.ledger.verifyPayment({ ledger: 'local', id: e.txId }, { payTo: f.operator.address, amount: price, memo })).toMatchObject({ ok: false, reason: 'too_little' });
  });

  it('memo_mismatch', async () => {
    const e = pay(price, 'quote-other');
    expect(await f.ledger.verifyPayment({ ledger: 'local', id: e.txId }, { payTo: f.operator.address, amount: price, memo })).toMatchObject({ ok: false, reason: 'memo_mismatch' });
  });

  it('already_redeemed', async () => {
    const e = pay(price, memo);
    const proof = { ledger: 'local' as const, id: e.txId };
    const req = { payTo: f.operator.address, amount: price, memo };
    expect(await redeemPayment(f.store, f.ledger, proof, req, 'res-1')).toMatchObject({ ok: true, reservationId: 'res-1' });
    expect(await f.ledger.verifyPayment(proof, req)).toMatchObject({ ok: false, reason: 'already_redeemed' });
  });

  it('bad_signature: a stored transfer whose signed fields were edited', async () => {
    const e = pay(price, memo);
    // Raise the amount in the file behind the ledger's back.
    const raw = new Database(f.dbPath);
    const row = raw.prepare('SELECT body FROM ledger_entries WHERE tx_id = ?').get(e.txId) as { body: string };
    raw.prepare('UPDATE ledger_entries SET body = ? WHERE tx_id = ?').run(row.body.replace('"amount":"100"', '"amount":"900"'), e.txId);
    raw.close();
    expect(await f.ledger.verifyPayment({ ledger: 'local', id: e.txId }, { payTo: f.operator.address, amount: price, memo })).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('not_final never applies to the local ledger; it is covered by the IOTA tests', () => {
    expect(REFUSAL_REASONS).toContain('not_final');
  });
});

describe('auditLedger (payflow ledger verify)', () => {
  it('passes an untouched chain and names the first edited entry', () => {
    f.ledger.faucet(f.alice.address, 1000n);
    pay(10n);
    const third = pay(20n);
    pay(30n);
    const good = auditLedger(f.store);
    expect(good).toMatchObject({ ok: true, entries: 5 });
    const raw = new Database(f.dbPath);
    const row = raw.prepare('SELECT seq, body FROM ledger_entries WHERE tx_id = ?').get(third.txId) as { seq: number; body: string };
    raw.prepare('UPDATE ledger_entries SET body = ? WHERE seq = ?').run(row.body.replace('"memo":"quote-1"', '"memo":"quote-9"'), row.seq);
    raw.close();
    const bad = auditLedger(f.store);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.problem.seq).toBe(row.seq);
      expect(bad.problem.reason).toMatch(/altered/);
    }
  });

  it('detects an edit whose hashes were recomputed, by the broken signature', async () => {
    const { entryHash } = await import('../../src/payments/journal.js');
    f.ledger.faucet(f.alice.address, 1000n);
    const e = pay(10n);
    pay(5n);
    const raw = new Database(f.dbPath);
    const rows = raw.prepare('SELECT * FROM ledger_entries ORDER BY seq').all() as Array<{ seq: number; kind: string; tx_id: string; body: string; at: number; prev_hash: string; hash: string }>;
    let prev = '0'.repeat(64);
    for (const r of rows) {
      const body = r.tx_id === e.txId ? r.body.replace('"amount":"10"', '"amount":"1"') : r.body;
      const hash = entryHash(r.seq, r.kind, r.tx_id, r.at, prev, body);
      raw.prepare('UPDATE ledger_entries SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(body, prev, hash, r.seq);
      prev = hash;
    }
    raw.close();
    const bad = auditLedger(f.store);
    expect(bad).toMatchObject({ ok: false, problem: { seq: 3 } });
    if (!bad.ok) expect(bad.problem.reason).toMatch(/bad_signature|transaction id/);
  });

  it('detects a balance edited in the state table', () => {
    f.ledger.faucet(f.alice.address, 1000n);
    const raw = new Database(f.dbPath);
    raw.prepare('UPDATE ledger_accounts SET balance = 5000 WHERE address = ?').run(f.alice.address);
    raw.close();
    const bad = auditLedger(f.store);
    expect(bad).toMatchObject({ ok: false, problem: { seq: null } });
    if (!bad.ok) expect(bad.problem.reason).toContain(f.alice.address);
  });

  it('detects a deleted entry', () => {
    f.ledger.faucet(f.alice.address, 1000n);
    pay(10n);
    pay(10n);
    const raw = new Database(f.dbPath);
    raw.prepare('DELETE FROM ledger_entries WHERE seq = 3').run();
    raw.close();
    expect(auditLedger(f.store)).toMatchObject({ ok: false, problem: { seq: 3 } });
  });
});

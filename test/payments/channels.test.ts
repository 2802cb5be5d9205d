// Micropayment channels on the local ledger: open with a deposit, a run of 1000 signed
// cumulative vouchers, one refusal case per reason (replayed, reordered, over the
// deposit, wrongly signed, unknown channel, timed out), the paid period, settlement of
// the last voucher and the client's reclaim after the timeout. Real Ed25519, real SQLite.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SigningKey } from '../../src/payments/keys.js';
import { signChannelOpen, signChannelReclaim } from '../../src/payments/journal.js';
import { ChannelBook, VoucherSigner, checkVoucher, paidUntil, signVoucher, type Voucher } from '../../src/payments/channels.js';
import { LedgerError } from '../../src/payments/ledger.js';
import { auditLedger } from '../../src/payments/audit.js';
import { Store } from '../../src/store/index.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { ledgerFixture, type LedgerFixture } from './helpers.js';

let clock = 1_700_000_000_000;
let f: LedgerFixture;
let channelKey: SigningKey;
let channel: string;
let book: ChannelBook;
const deposit = 100_000n;
const timeoutAt = clock + 3_600_000;

beforeEach(() => {
  clock = 1_700_000_000_000;
  f = ledgerFixture({ now: () => clock });
  f.ledger.faucet(f.alice.address, 1_000_000n);
  channelKey = SigningKey.generate();
  const opened = f.ledger.openChannel(
    signChannelOpen(f.alice, { payee: f.operator.address, channelKey: channelKey.publicKeyHex, deposit: deposit.toString(), timeoutAt, nonce: 1 }),
  );
  channel = opened.txId;
  book = new ChannelBook(f.store, f.ledger, f.operator.address);
});
afterEach(() => f.cleanup());

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof LedgerError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('channels', () => {
  it('locks the deposit once', async () => {
    expect(await f.ledger.balance(f.alice.address)).toBe(1_000_000n - deposit);
    expect(f.ledger.channel(channel)).toMatchObject({ deposit, settled: 0n, payee: f.operator.address, closed: false });
  });

  it('accepts a run of 1000 vouchers, each extending the paid period, and settles the last', async () => {
    const signer = new VoucherSigner(channelKey, channel, deposit);
    const pricePerSecond = 10n; // 100 base units per voucher buys 10 s
    const startedAt = clock;
    let last: Voucher | null = null;
    let until = startedAt;
    for (let i = 0; i < 1000; i++) {
      last = signer.pay(100n);
      const v = await book.accept(last, clock);
      expect(v.ok).toBe(true);
      const next = paidUntil(startedAt, BigInt(last.cumulative), pricePerSecond);
      expect(next - until).toBe(10_000);
      until = next;
    }
    expect(last!.cumulative).toBe('100000');
    expect(until).toBe(startedAt + 10_000_000);
    // restart: the operator's view of the channel survives in the store
    const again = new ChannelBook(f.store, f.ledger, f.operator.address);
    expect((await again.view(channel))?.sequence).toBe(1000);
    expect(await again.accept(last!, clock)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(again.lastVoucher(channel)).toEqual(last);
    expect(await again.paidUntil(channel, startedAt, pricePerSecond)).toBe(until);
    again.settle(channel, f.ledger);
    expect(await f.ledger.balance(f.operator.address)).toBe(100_000n);
    expect(auditLedger(f.store)).toMatchObject({ ok: true });
  });

  it('refuses replayed, reordered, over-deposit, wrongly signed and foreign vouchers with typed reasons', async () => {
    const v1 = signVoucher(channelKey, channel, 100n, 1);
    const v2 = signVoucher(channelKey, channel, 200n, 2);
    const v3 = signVoucher(channelKey, channel, 300n, 3);
    expect(await book.accept(v1, clock)).toMatchObject({ ok: true, increment: 100n });
    expect(await book.accept(v1, clock)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(await book.accept(v3, clock)).toMatchObject({ ok: true, increment: 200n });
    expect(await book.accept(v2, clock)).toMatchObject({ ok: false, reason: 'reordered' });
    expect(await book.accept(signVoucher(channelKey, channel, 250n, 4), clock)).toMatchObject({ ok: false, reason: 'reordered' });
    expect(await book.accept(signVoucher(channelKey, channel, deposit + 1n, 5), clock)).toMatchObject({ ok: false, reason: 'over_deposit' });
    expect(await book.accept(signVoucher(SigningKey.generate(), channel, 400n, 6), clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(await book.accept({ ...signVoucher(channelKey, channel, 400n, 6), cumulative: '4000' }, clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(await book.accept(signVoucher(channelKey, 'ab'.repeat(32), 400n, 6), clock)).toMatchObject({ ok: false, reason: 'unknown_channel' });
    expect(await book.accept(signVoucher(channelKey, channel, 400n, 6), timeoutAt)).toMatchObject({ ok: false, reason: 'closed' });
    expect(await book.accept({ ...v3, sequence: 0 }, clock)).toMatchObject({ ok: false, reason: 'malformed' });
    // none of the refusals moved the accepted state
    expect(book.lastVoucher(channel)).toEqual(v3);
  });

  it('with a settlement margin, vouchers stop counting that long before the timeout', async () => {
    const careful = new ChannelBook(f.store, f.ledger, f.operator.address, 'local', { settleMarginMs: 60_000 });
    expect(await careful.accept(signVoucher(channelKey, channel, 1n, 1), timeoutAt - 60_001)).toMatchObject({ ok: true });
    expect(await careful.accept(signVoucher(channelKey, channel, 2n, 2), timeoutAt - 60_000)).toMatchObject({ ok: false, reason: 'closed' });
  });

  it('a channel paying someone else is unknown to this operator', async () => {
    const otherBook = new ChannelBook(f.store, f.ledger, SigningKey.generate().address);
    expect(await otherBook.accept(signVoucher(channelKey, channel, 1n, 1), clock)).toMatchObject({ ok: false, reason: 'unknown_channel' });
  });

  it('checkVoucher is pure: it does not advance the view', () => {
    const view = { channel, channelKey: channelKey.publicKeyHex, deposit, timeoutAt, cumulative: 0n, sequence: 0 };
    const v = signVoucher(channelKey, channel, 5n, 1);
    expect(checkVoucher(view, v, clock)).toMatchObject({ ok: true });
    expect(checkVoucher(view, v, clock)).toMatchObject({ ok: true });
    expect(view.sequence).toBe(0);
  });

  it('the client reclaims the rest after the timeout, not before; settlement after it is refused', async () => {
    f.ledger.settleChannel(signVoucher(channelKey, channel, 30_000n, 3));
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(channelKey, channel, 20_000n, 4)))).toBe('reordered');
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(SigningKey.generate(), channel, 40_000n, 4)))).toBe('bad_signature');
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(channelKey, channel, deposit + 1n, 4)))).toBe('over_deposit');
    const reclaim = signChannelReclaim(f.alice, { channel, nonce: 2 });
    expect(codeOf(() => f.ledger.reclaimChannel(reclaim))).toBe('too_early');
    expect(codeOf(() => f.ledger.reclaimChannel(signChannelReclaim(f.operator, { channel, nonce: 1 })))).toBe('not_payer');
    clock = timeoutAt;
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(channelKey, channel, 50_000n, 5)))).toBe('channel_timed_out');
    f.ledger.reclaimChannel(reclaim);
    expect(await f.ledger.balance(f.alice.address)).toBe(1_000_000n - 30_000n);
    expect(await f.ledger.balance(f.operator.address)).toBe(30_000n);
    expect(codeOf(() => f.ledger.reclaimChannel(signChannelReclaim(f.alice, { channel, nonce: 3 })))).toBe('channel_closed');
    expect(auditLedger(f.store)).toMatchObject({ ok: true });
  });

  it('the ledger replays channel entries during an audit after a reopen', () => {
    f.ledger.settleChannel(signVoucher(channelKey, channel, 10n, 1));
    f.store.close();
    const store = Store.open(f.dbPath);
    LocalLedger.open(store);
    expect(auditLedger(store)).toMatchObject({ ok: true, entries: 4 });
    store.close();
    f.store = Store.open(f.dbPath);
  });

  it('paidUntil uses integer arithmetic and refuses a zero price', () => {
    expect(paidUntil(1000, 1n, 3n)).toBe(1000 + 333);
    expect(() => paidUntil(0, 1n, 0n)).toThrow(RangeError);
  });
});

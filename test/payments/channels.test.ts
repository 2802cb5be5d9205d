// Micropayment channels on the local ledger, for each channel-key scheme (ed25519 and
// rsa-pss-3072): open with a deposit, a run of 1000 signed cumulative vouchers, one refusal
// case per reason (replayed, reordered, over the deposit, signed by another key or with
// another scheme's signature, unknown channel, timed out), the paid period, settlement of
// the last voucher and the client's reclaim after the timeout; malformed channel keys are
// refused at opening with a clear error and no state change. Real signatures, real SQLite.
// RSA keys are generated once per file (up to a second each), never per test.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SigningKey } from '../../src/payments/keys.js';
import { ChannelSigningKey, CHANNEL_KEY_SCHEMES, type ChannelKeyScheme } from '../../src/payments/channel-keys.js';
import { signChannelOpen, signChannelReclaim } from '../../src/payments/journal.js';
import { ChannelBook, VoucherSigner, checkVoucher, paidUntil, signVoucher, type Voucher } from '../../src/payments/channels.js';
import { LedgerError } from '../../src/payments/ledger.js';
import { auditLedger } from '../../src/payments/audit.js';
import { Store } from '../../src/store/index.js';
import { LocalLedger } from '../../src/payments/local-ledger.js';
import { ledgerFixture, malformedChannelKeys, type LedgerFixture } from './helpers.js';

let clock = 1_700_000_000_000;
let f: LedgerFixture;
const deposit = 100_000n;
const timeoutAt = clock + 3_600_000;

/** per scheme: the channel's key and a stranger's key of the same scheme */
const keys = {} as Record<ChannelKeyScheme, { channelKey: ChannelSigningKey; stranger: ChannelSigningKey }>;
beforeAll(() => {
  for (const scheme of CHANNEL_KEY_SCHEMES) {
    keys[scheme] = { channelKey: ChannelSigningKey.generate(scheme), stranger: ChannelSigningKey.generate(scheme) };
  }
});

beforeEach(() => {
  clock = 1_700_000_000_000;
  f = ledgerFixture({ now: () => clock });
  f.ledger.faucet(f.alice.address, 1_000_000n);
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

function otherScheme(scheme: ChannelKeyScheme): ChannelKeyScheme {
  return CHANNEL_KEY_SCHEMES.find((s) => s !== scheme)!;
}

describe.each(CHANNEL_KEY_SCHEMES)('channels with %s channel keys', (scheme) => {
  let channelKey: ChannelSigningKey;
  let stranger: ChannelSigningKey;
  let wrongScheme: ChannelSigningKey;
  let channel: string;
  let book: ChannelBook;

  beforeEach(() => {
    ({ channelKey, stranger } = keys[scheme]);
    wrongScheme = keys[otherScheme(scheme)].channelKey;
    const opened = f.ledger.openChannel(
      signChannelOpen(f.alice, { payee: f.operator.address, channelKey: channelKey.publicKey, deposit: deposit.toString(), timeoutAt, nonce: 1 }),
    );
    channel = opened.txId;
    book = new ChannelBook(f.store, f.ledger, f.operator.address);
  });

  it('locks the deposit once and records the channel key as given', async () => {
    expect(await f.ledger.balance(f.alice.address)).toBe(1_000_000n - deposit);
    expect(f.ledger.channel(channel)).toMatchObject({ deposit, settled: 0n, payee: f.operator.address, closed: false, channelKey: channelKey.publicKey });
  });

  it('accepts a run of 1000 vouchers, each extending the paid period, settles the last, and the client reclaims the rest', async () => {
    const signer = new VoucherSigner(channelKey, channel, deposit);
    const pricePerSecond = 10n; // 90 base units per voucher buys 9 s
    const startedAt = clock;
    let last: Voucher | null = null;
    let until = startedAt;
    for (let i = 0; i < 1000; i++) {
      last = signer.pay(90n);
      const v = await book.accept(last, clock);
      expect(v.ok).toBe(true);
      const next = paidUntil(startedAt, BigInt(last.cumulative), pricePerSecond);
      expect(next - until).toBe(9_000);
      until = next;
    }
    expect(last!.cumulative).toBe('90000');
    expect(last!.signature).toHaveLength(channelKey.scheme === 'rsa-pss-3072' ? 768 : 128);
    expect(until).toBe(startedAt + 9_000_000);
    // restart: the operator's view of the channel survives in the store
    const again = new ChannelBook(f.store, f.ledger, f.operator.address);
    expect((await again.view(channel))?.sequence).toBe(1000);
    expect(await again.accept(last!, clock)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(again.lastVoucher(channel)).toEqual(last);
    expect(await again.paidUntil(channel, startedAt, pricePerSecond)).toBe(until);
    again.settle(channel, f.ledger);
    expect(await f.ledger.balance(f.operator.address)).toBe(90_000n);
    // after the timeout the client takes back what was not settled
    clock = timeoutAt;
    f.ledger.reclaimChannel(signChannelReclaim(f.alice, { channel, nonce: 2 }));
    expect(await f.ledger.balance(f.alice.address)).toBe(1_000_000n - 90_000n);
    expect(f.ledger.channel(channel)).toMatchObject({ settled: 90_000n, settledSequence: 1000, closed: true });
    expect(auditLedger(f.store)).toMatchObject({ ok: true });
  });

  it('refuses replayed, reordered, over-deposit, wrongly signed and foreign vouchers with typed reasons', async () => {
    const v1 = signVoucher(channelKey, channel, 100n, 1);
    const v2 = signVoucher(channelKey, channel, 200n, 2);
    const v3 = signVoucher(channelKey, channel, 300n, 3);
    expect(await book.accept(v1, clock)).toMatchObject({ ok: true, increment: 100n });
    expect(await book.accept(v1, clock)).toMatchObject({ ok: false, reason: 'replayed' });
    // re-signing the same voucher does not make it new (RSASSA-PSS signatures are randomised)
    expect(await book.accept(signVoucher(channelKey, channel, 100n, 1), clock)).toMatchObject({ ok: false, reason: 'replayed' });
    expect(await book.accept(v3, clock)).toMatchObject({ ok: true, increment: 200n });
    expect(await book.accept(v2, clock)).toMatchObject({ ok: false, reason: 'reordered' });
    expect(await book.accept(signVoucher(channelKey, channel, 250n, 4), clock)).toMatchObject({ ok: false, reason: 'reordered' });
    expect(await book.accept(signVoucher(channelKey, channel, deposit + 1n, 5), clock)).toMatchObject({ ok: false, reason: 'over_deposit' });
    // signed by another key of the same scheme
    expect(await book.accept(signVoucher(stranger, channel, 400n, 6), clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    // signed by a key of the other scheme: the signature has the other scheme's length
    const foreign = signVoucher(wrongScheme, channel, 400n, 6);
    expect(foreign.signature.length).not.toBe(v1.signature.length);
    expect(await book.accept(foreign, clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    // the right length but altered content, truncated, extended, not hex
    const good6 = signVoucher(channelKey, channel, 400n, 6);
    expect(await book.accept({ ...good6, cumulative: '4000' }, clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(await book.accept({ ...good6, signature: good6.signature.slice(2) }, clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(await book.accept({ ...good6, signature: good6.signature + '00' }, clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(await book.accept({ ...good6, signature: good6.signature.toUpperCase() }, clock)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(await book.accept(signVoucher(channelKey, 'ab'.repeat(32), 400n, 6), clock)).toMatchObject({ ok: false, reason: 'unknown_channel' });
    expect(await book.accept(good6, timeoutAt)).toMatchObject({ ok: false, reason: 'closed' });
    expect(await book.accept({ ...v3, sequence: 0 }, clock)).toMatchObject({ ok: false, reason: 'malformed' });
    // none of the refusals moved the accepted state
    expect(book.lastVoucher(channel)).toEqual(v3);
    expect(await book.accept(good6, clock)).toMatchObject({ ok: true, increment: 100n });
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
    const view = { channel, channelKey: channelKey.publicKey, deposit, timeoutAt, cumulative: 0n, sequence: 0 };
    const v = signVoucher(channelKey, channel, 5n, 1);
    expect(checkVoucher(view, v, clock)).toMatchObject({ ok: true });
    expect(checkVoucher(view, v, clock)).toMatchObject({ ok: true });
    expect(view.sequence).toBe(0);
  });

  it('the ledger re-verifies settled vouchers; the client reclaims the rest after the timeout, not before', async () => {
    f.ledger.settleChannel(signVoucher(channelKey, channel, 30_000n, 3));
    const head = f.ledger.head();
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(channelKey, channel, 20_000n, 4)))).toBe('reordered');
    // the same voucher again: Ed25519 re-signs it to the same bytes (a duplicate entry), RSASSA-PSS to
    // new bytes (a new entry id), and either way it does not exceed the settled voucher
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(channelKey, channel, 30_000n, 3)))).toBe(scheme === 'ed25519' ? 'duplicate' : 'reordered');
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(stranger, channel, 40_000n, 4)))).toBe('bad_signature');
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(wrongScheme, channel, 40_000n, 4)))).toBe('bad_signature');
    expect(codeOf(() => f.ledger.settleChannel({ ...signVoucher(channelKey, channel, 40_000n, 4), cumulative: '45000' }))).toBe('bad_signature');
    expect(codeOf(() => f.ledger.settleChannel({ ...signVoucher(channelKey, channel, 40_000n, 4), signature: 'ab'.repeat(100) }))).toBe('malformed');
    expect(codeOf(() => f.ledger.settleChannel(signVoucher(channelKey, channel, deposit + 1n, 4)))).toBe('over_deposit');
    expect(f.ledger.head()).toEqual(head);
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
});

describe('channel openings', () => {
  it('refuse malformed channel keys with a clear error and change nothing', async () => {
    const bad = malformedChannelKeys(keys['rsa-pss-3072'].channelKey);
    const head = f.ledger.head();
    const account = f.ledger.account(f.alice.address);
    for (const { name, channelKey, error } of bad) {
      let caught: unknown = null;
      try {
        f.ledger.openChannel(signChannelOpen(f.alice, { payee: f.operator.address, channelKey, deposit: '1000', timeoutAt, nonce: 1 }));
      } catch (err) {
        caught = err;
      }
      expect(caught, name).toBeInstanceOf(LedgerError);
      expect((caught as LedgerError).code, name).toBe('malformed');
      expect((caught as LedgerError).message, name).toMatch(/^channelKey: /);
      expect((caught as LedgerError).message, name).toMatch(error);
    }
    expect(f.ledger.head()).toEqual(head);
    expect(f.ledger.account(f.alice.address)).toEqual(account);
    expect(f.store.db.prepare('SELECT COUNT(*) AS n FROM ledger_channels').get()).toEqual({ n: 0 });
    expect(auditLedger(f.store)).toMatchObject({ ok: true });
    // the same payer opens a channel with a valid key right after (nonce 1 is still free)
    f.ledger.openChannel(signChannelOpen(f.alice, { payee: f.operator.address, channelKey: keys['rsa-pss-3072'].channelKey.publicKey, deposit: '1000', timeoutAt, nonce: 1 }));
  });

  it('a payer may use its own Ed25519 account key as the channel key', async () => {
    const own = ChannelSigningKey.fromSigningKey(f.alice);
    expect(own.publicKey).toBe(f.alice.publicKeyHex);
    const channel = f.ledger.openChannel(signChannelOpen(f.alice, { payee: f.operator.address, channelKey: own.publicKey, deposit: '1000', timeoutAt, nonce: 1 })).txId;
    const book = new ChannelBook(f.store, f.ledger, f.operator.address);
    expect(await book.accept(signVoucher(own, channel, 10n, 1), clock)).toMatchObject({ ok: true });
  });
});

describe('paidUntil', () => {
  it('uses integer arithmetic and refuses a zero price', () => {
    expect(paidUntil(1000, 1n, 3n)).toBe(1000 + 333);
    expect(() => paidUntil(0, 1n, 0n)).toThrow(RangeError);
  });
});

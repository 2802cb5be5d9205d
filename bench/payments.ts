// Payments benchmarks: how many local-ledger payment verifications and how many
// channel voucher verifications one core does per second. All real work: a real SQLite
// file (WAL) in a temporary directory and real signatures (node:crypto: Ed25519, RFC 8032;
// RSASSA-PSS, RFC 8017).
//   payments.local.verify_payment — LocalLedger.verifyPaymentSync on stored transfers:
//     one indexed SQLite read, re-hash of the entry, one Ed25519 verification, checks.
//   payments.voucher.verify.<scheme> — checkVoucher on a stream of cumulative vouchers of
//     one channel, each advancing the channel view: one signature verification per voucher,
//     by the channel key's scheme (channel-keys.ts). Goal: ≥ 20k vouchers/s on one
//     core. Ed25519 verification alone is capped below that on our CPU (~14.8k/s);
//     rsa-pss-3072, the clients' default, verifies at about twice that rate and meets it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSuite, BenchOperation } from './harness.js';
import { Store } from '../src/store/index.js';
import { LocalLedger } from '../src/payments/local-ledger.js';
import { SigningKey } from '../src/payments/keys.js';
import { signTransfer } from '../src/payments/journal.js';
import { checkVoucher, signVoucher, type ChannelView, type Voucher } from '../src/payments/channels.js';
import { ChannelSigningKey, type ChannelKeyScheme } from '../src/payments/channel-keys.js';

const PAYMENTS = 64;
const VOUCHERS = 256;

function localVerifySetup(): BenchOperation {
  const dir = mkdtempSync(join(tmpdir(), 'payflow-bench-payments-'));
  const store = Store.open(join(dir, 'payflow.db'));
  const authority = SigningKey.generate();
  const operator = SigningKey.generate();
  const payer = SigningKey.generate();
  const ledger = LocalLedger.open(store, { authorityKey: authority, operatorAddress: operator.address, testbed: true });
  ledger.faucet(payer.address, 1_000_000_000n);
  const proofs: string[] = [];
  for (let i = 1; i <= PAYMENTS; i++) {
    proofs.push(ledger.transfer(signTransfer(payer, { to: operator.address, amount: '1000', nonce: i, memo: `quote-${i}` })).txId);
  }
  let failures = 0;
  return {
    run() {
      for (let i = 0; i < PAYMENTS; i++) {
        const v = ledger.verifyPaymentSync({ ledger: 'local', id: proofs[i]! }, { payTo: operator.address, amount: 1000n, memo: `quote-${i + 1}` });
        if (!v.ok) failures++;
      }
    },
    extra: () => ({ failures }),
    teardown() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function voucherVerifySetup(scheme: ChannelKeyScheme): BenchOperation {
  const channelKey = ChannelSigningKey.generate(scheme);
  const channel = 'c7'.repeat(32);
  const vouchers: Voucher[] = [];
  for (let i = 1; i <= VOUCHERS; i++) vouchers.push(signVoucher(channelKey, channel, BigInt(i) * 10n, i));
  const view: ChannelView = { channel, channelKey: channelKey.publicKey, deposit: 10n * BigInt(VOUCHERS), timeoutAt: Number.MAX_SAFE_INTEGER, cumulative: 0n, sequence: 0 };
  let failures = 0;
  return {
    run() {
      view.cumulative = 0n;
      view.sequence = 0;
      for (let i = 0; i < VOUCHERS; i++) {
        const v = checkVoucher(view, vouchers[i]!, 0);
        if (v.ok) {
          view.cumulative = v.cumulative;
          view.sequence = v.sequence;
        } else failures++;
      }
    },
    extra: () => ({ failures }),
  };
}

export const paymentsSuite: BenchSuite = {
  name: 'payments',
  cases: () => [
    { name: 'payments.local.verify_payment', impl: 'ts', batch: PAYMENTS, setup: localVerifySetup },
    { name: 'payments.voucher.verify.ed25519', impl: 'ts', batch: VOUCHERS, setup: () => voucherVerifySetup('ed25519') },
    { name: 'payments.voucher.verify.rsa_pss_3072', impl: 'ts', batch: VOUCHERS, setup: () => voucherVerifySetup('rsa-pss-3072') },
  ],
};

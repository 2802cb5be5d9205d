// The IOTA ledger against a LOCAL JSON-RPC server — a real HTTP server on 127.0.0.1 —
// driven through @iota/iota-sdk's own IotaClient. This is NOT a live IOTA network (none
// is reachable from the test machines); the server answers in the exact format of the
// IOTA Rebased full node's JSON-RPC. Where each response shape comes from:
//  - iota_getTransactionBlock result: the example for that method in the node's OpenRPC
//    spec (iotaledger/iota, crates/iota-open-rpc/spec/openrpc.json): digest, transaction
//    { data { messageVersion, transaction { kind: "ProgrammableTransaction", inputs,
//    transactions }, sender, gasData }, txSignatures }, effects { messageVersion,
//    status { status }, executedEpoch, gasUsed, transactionDigest, mutated, gasObject,
//    eventsDigest }, plus `events`, `checkpoint` and `timestampMs` and `balanceChanges`
//    ({ owner: { AddressOwner }, coinType, amount }) as that spec's
//    TransactionBlockResponse and BalanceChange schemas define them.
//  - a failed transaction: ExecutionStatus { status: "failure", error } (same spec).
//  - an unknown digest: JSON-RPC error code -32602 (InvalidParams) with the message
//    "Could not find the referenced transaction [TransactionDigest(...)]." (iota-types
//    error.rs TRANSACTION_NOT_FOUND_MSG_PREFIX; e2e snapshot in iota-e2e-tests).
//  - pure inputs: { type: "pure", valueType, value }; an input no command types is shown
//    as its raw BCS bytes with valueType null (iota-json from_bcs_bytes with no layout),
//    a SplitCoins amount as valueType "u64", a TransferObjects recipient as "address".
//  - iotax_getBalance: { coinType, coinObjectCount, totalBalance } (the spec's example).
// The transactions' inputs are produced by buildIotaPayment() with the SDK's own
// Transaction builder and rendered here as the node would render them.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { toBase58, fromBase64, normalizeIotaAddress } from '@iota/iota-sdk/utils';
import { Ed25519Keypair } from '@iota/iota-sdk/keypairs/ed25519';
import { IotaLedger, buildIotaPayment, pureInputIsMemo } from '../../src/payments/iota-ledger.js';
import { redeemPayment } from '../../src/payments/redemption.js';
import { SigningKey } from '../../src/payments/keys.js';
import { signReceipt } from '../../src/payments/quotes.js';
import { LedgerError } from '../../src/payments/ledger.js';
import { Store } from '../../src/store/index.js';
import { tempDir } from './helpers.js';

const operator = Ed25519Keypair.generate();
const operatorAddress = operator.toIotaAddress();
const payer = normalizeIotaAddress('0x' + 'ab'.repeat(32));
const IOTA = '0x2::iota::IOTA';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const transactions = new Map<string, Json>();
const requests: Array<{ method: string; params: Json[] }> = [];
let server: Server;
let rpcUrl: string;
let failNext = false;

function newDigest(): string {
  return toBase58(randomBytes(32));
}

/** Renders the SDK-built transaction's inputs the way the full node's JSON-RPC does. */
function renderInputs(tx: ReturnType<typeof buildIotaPayment>, typed: boolean): Json[] {
  const inputs = tx.getData().inputs;
  return inputs.map((input, i) => {
    const bytes = Array.from(fromBase64(input.Pure!.bytes));
    if (i === 0) return { type: 'pure', valueType: 'u64', value: Buffer.from(bytes).readBigUInt64LE().toString() };
    if (i === 1) return { type: 'pure', valueType: 'address', value: '0x' + Buffer.from(bytes).toString('hex') };
    // the memo: untyped → raw BCS bytes; typed (taken by a Move call) → decoded string
    if (typed) return { type: 'pure', valueType: 'vector<u8>', value: Buffer.from(bytes.slice(1)).toString('utf8') };
    return { type: 'pure', valueType: null, value: bytes };
  });
}

interface TxSpec {
  to?: string;
  amount?: bigint;
  memo?: string | null;
  coinType?: string;
  status?: 'success' | 'failure';
  checkpoint?: string | null;
  typedMemo?: boolean;
}

function addTransaction(spec: TxSpec = {}): string {
  const digest = newDigest();
  const to = spec.to ?? operatorAddress;
  const amount = spec.amount ?? 1000n;
  const built = buildIotaPayment({ to, amount, memo: spec.memo ?? '' });
  let inputs = renderInputs(built, spec.typedMemo ?? false);
  if (spec.memo === null) inputs = inputs.slice(0, 2);
  const gasObject = { objectId: normalizeIotaAddress('0x' + '1a'.repeat(32)), version: 2, digest: '7nDZ5J4VyvYGUbX2f6mQdhkr3RFrb3vZqui1ogoyApD9' };
  transactions.set(digest, {
    digest,
    transaction: {
      data: {
        messageVersion: 'v1',
        transaction: {
          kind: 'ProgrammableTransaction',
          inputs,
          transactions: [{ SplitCoins: ['GasCoin', [{ Input: 0 }]] }, { TransferObjects: [[{ NestedResult: [0, 0] }], { Input: 1 }] }],
        },
        sender: payer,
        gasData: { payment: [gasObject], owner: payer, price: '1000', budget: '5000000' },
      },
      txSignatures: ['ANuc6Egqqzpiy6qWWkI//Z9jAe0WmcGYigz0oWlk2CGYZ7XRnmhJuMRa78wLabwcwomzIpXdEZgpkaJtDJd/fQZtCxWrqsEEHAdxoMDwblU5hyWJ8H3zFvk20E2fO5bzHA=='],
    },
    effects: {
      messageVersion: 'v1',
      status: spec.status === 'failure' ? { status: 'failure', error: 'InsufficientCoinBalance in command 0' } : { status: 'success' },
      executedEpoch: '12',
      gasUsed: { computationCost: '1000000', computationCostBurned: '1000000', storageCost: '1976000', storageRebate: '978120', nonRefundableStorageFee: '0' },
      transactionDigest: digest,
      mutated: [{ owner: { AddressOwner: payer }, reference: gasObject }],
      gasObject: { owner: { AddressOwner: payer }, reference: gasObject },
      eventsDigest: null,
    },
    events: [],
    balanceChanges:
      spec.status === 'failure'
        ? [{ owner: { AddressOwner: payer }, coinType: IOTA, amount: '-1997880' }]
        : [
            { owner: { AddressOwner: payer }, coinType: spec.coinType ?? IOTA, amount: `-${amount + 1997880n}` },
            { owner: { AddressOwner: to }, coinType: spec.coinType ?? IOTA, amount: amount.toString() },
          ],
    timestampMs: '1732350000000',
    checkpoint: spec.checkpoint === undefined ? '4242' : spec.checkpoint,
  } as Json);
  return digest;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (failNext) {
        failNext = false;
        res.writeHead(503).end('unavailable');
        return;
      }
      const call = JSON.parse(body) as { id: number; method: string; params: Json[] };
      requests.push({ method: call.method, params: call.params });
      const reply = (payload: object) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, ...payload }));
      };
      if (call.method === 'iota_getTransactionBlock') {
        const digest = call.params[0] as string;
        const tx = transactions.get(digest);
        if (!tx) return reply({ error: { code: -32602, message: `Could not find the referenced transaction [TransactionDigest(${digest})].` } });
        return reply({ result: tx });
      }
      if (call.method === 'iotax_getBalance') {
        return reply({ result: { coinType: IOTA, coinObjectCount: 3, totalBalance: '123456789012345678' } });
      }
      return reply({ error: { code: -32601, message: `Method not found` } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  rpcUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let dir: string;
let cleanup: () => void;
let store: Store;
let ledger: IotaLedger;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  store = Store.open(join(dir, 'payflow.db'));
  ledger = new IotaLedger({ rpcUrl, operatorAddress, store });
});
afterEach(() => {
  store.close();
  cleanup();
});

const memo = 'quote-3f2a';
const req = () => ({ payTo: operatorAddress, amount: 1000n, memo });

describe('IotaLedger.verifyPayment (local JSON-RPC server, not a live network)', () => {
  it('accepts a final, successful payment to the operator bound to the quote', async () => {
    const digest = addTransaction({ amount: 1500n, memo });
    const v = await ledger.verifyPayment({ ledger: 'iota', id: digest }, req());
    expect(v).toEqual({ ok: true, proof: { ledger: 'iota', id: digest }, amount: 1500n, payer });
    const call = requests.at(-1)!;
    expect(call.method).toBe('iota_getTransactionBlock');
    expect(call.params).toEqual([digest, { showInput: true, showEffects: true, showEvents: true, showBalanceChanges: true }]);
  });

  it('accepts the memo when a Move call typed it (rendered as a string)', async () => {
    const digest = addTransaction({ memo, typedMemo: true });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: digest }, req())).toMatchObject({ ok: true });
  });

  it('unknown: a digest the node does not know, a malformed digest, a failed transaction', async () => {
    expect(await ledger.verifyPayment({ ledger: 'iota', id: newDigest() }, req())).toMatchObject({ ok: false, reason: 'unknown' });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: 'not-a-digest' }, req())).toMatchObject({ ok: false, reason: 'unknown' });
    const failed = addTransaction({ memo, status: 'failure' });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: failed }, req())).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('not_final: executed but not yet in a checkpoint', async () => {
    const digest = addTransaction({ memo, checkpoint: null });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: digest }, req())).toMatchObject({ ok: false, reason: 'not_final' });
  });

  it('wrong_recipient: the transfer credits another address', async () => {
    const digest = addTransaction({ memo, to: normalizeIotaAddress('0x' + 'cd'.repeat(32)) });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: digest }, req())).toMatchObject({ ok: false, reason: 'wrong_recipient' });
  });

  it('memo_mismatch: another quote, or no memo at all', async () => {
    const other = addTransaction({ memo: 'quote-other' });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: other }, req())).toMatchObject({ ok: false, reason: 'memo_mismatch' });
    const none = addTransaction({ memo: null });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: none }, req())).toMatchObject({ ok: false, reason: 'memo_mismatch' });
  });

  it('too_little: below the price, or paid in another coin type', async () => {
    const low = addTransaction({ memo, amount: 999n });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: low }, req())).toMatchObject({ ok: false, reason: 'too_little' });
    const otherCoin = addTransaction({ memo, amount: 5000n, coinType: '0x168da5bf1f48dafc111b0a488fa454aca95e0b5e::usdc::USDC' });
    expect(await ledger.verifyPayment({ ledger: 'iota', id: otherCoin }, req())).toMatchObject({ ok: false, reason: 'too_little' });
  });

  it('already_redeemed: one digest buys one reservation, also after a restart', async () => {
    const digest = addTransaction({ memo });
    const proof = { ledger: 'iota' as const, id: digest };
    expect(await redeemPayment(store, ledger, proof, req(), 'res-1')).toMatchObject({ ok: true, amount: 1000n });
    expect(await redeemPayment(store, ledger, proof, req(), 'res-2')).toMatchObject({ ok: false, reason: 'already_redeemed' });
    store.close();
    store = Store.open(join(dir, 'payflow.db'));
    const again = new IotaLedger({ rpcUrl, operatorAddress, store });
    expect(await again.verifyPayment(proof, req())).toMatchObject({ ok: false, reason: 'already_redeemed' });
  });

  it('bad_signature does not arise on IOTA: validators check signatures before execution', () => {
    // Documented, not faked: a transaction with a bad signature never gets a digest
    // that iota_getTransactionBlock returns; it surfaces as 'unknown' (tested above).
    expect(pureInputIsMemo({ type: 'pure', valueType: null, value: [2, 104, 105] }, 'hi')).toBe(true);
    expect(pureInputIsMemo({ type: 'pure', valueType: null, value: [104, 105] }, 'hi')).toBe(false);
  });

  it('throws a typed error (not a refusal) when the node is unreachable', async () => {
    failNext = true;
    await expect(ledger.verifyPayment({ ledger: 'iota', id: newDigest() }, req())).rejects.toMatchObject({ code: 'ledger_unavailable', status: 503 });
  });
});

describe('IotaLedger configuration, balances and receipts', () => {
  it('reads balances as bigint (u64 amounts exceed 2^53)', async () => {
    expect(await ledger.balance(operatorAddress)).toBe(123456789012345678n);
    expect(requests.at(-1)).toEqual({ method: 'iotax_getBalance', params: [operatorAddress, IOTA] });
  });

  it('derives the operator address from the key file and refuses a mismatch', () => {
    const keyFile = join(dir, 'operator.key');
    writeFileSync(keyFile, operator.getSecretKey() + '\n');
    expect(new IotaLedger({ rpcUrl, keyFile, store }).operatorAddress).toBe(operatorAddress);
    expect(() => new IotaLedger({ rpcUrl, keyFile, operatorAddress: payer, store })).toThrow(LedgerError);
    expect(() => new IotaLedger({ rpcUrl, store })).toThrow(/operator address/);
  });

  it('records signed receipts in the store and refuses a forged one', async () => {
    const key = SigningKey.generate();
    const digest = addTransaction({ memo });
    const receipt = signReceipt(key, { quoteId: memo, reservationId: 'res-7', payment: { ledger: 'iota', id: digest }, paid: 1000n });
    expect(await ledger.recordReceipt(receipt)).toEqual({ ledger: 'iota', reference: receipt.receipt.id });
    expect(store.db.prepare('SELECT reservation_id, proof_id FROM payment_receipts').all()).toEqual([{ reservation_id: 'res-7', proof_id: digest }]);
    await expect(ledger.recordReceipt({ ...receipt, receipt: { ...receipt.receipt, paid: '1' } })).rejects.toBeInstanceOf(LedgerError);
  });

  it('buildIotaPayment carries the memo as a pure vector<u8> input', () => {
    const tx = buildIotaPayment({ to: operatorAddress, amount: 5n, memo: 'q1' });
    const inputs = tx.getData().inputs;
    expect(inputs).toHaveLength(3);
    expect(Array.from(fromBase64(inputs[2]!.Pure!.bytes))).toEqual([2, 113, 49]);
  });
});

describe('payflow ledger verify/balance --iota-rpc (built CLI, same local JSON-RPC server)', () => {
  const cli = 'dist/src/cli/main.js';
  const run = (...args: string[]) =>
    new Promise<{ code: number | null; out: string }>((res) => {
      const c = spawn(process.execPath, [cli, 'ledger', ...args]);
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', (code) => res({ code, out: out.trim() }));
    });

  it('verifies a digest and names the refusal reason', async () => {
    if (!existsSync(cli)) throw new Error('build first: npx tsc -p tsconfig.json');
    const data = join(dir, 'data');
    const good = addTransaction({ memo, amount: 2000n });
    const ok = await run('verify', '--iota-rpc', rpcUrl, '--proof', good, '--pay-to', operatorAddress, '--amount', '1000', '--memo', memo, '--data', data, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toEqual({ ok: true, amount: '2000', payer });
    const pending = addTransaction({ memo, checkpoint: null });
    const refused = await run('verify', '--iota-rpc', rpcUrl, '--proof', pending, '--pay-to', operatorAddress, '--amount', '1000', '--memo', memo, '--data', data);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/^refused: not_final/);
    expect((await run('balance', operatorAddress, '--iota-rpc', rpcUrl, '--data', data)).out).toBe('123456789012345678');
  });
});

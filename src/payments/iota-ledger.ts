// The IOTA ledger, for IOTA Rebased through @iota/iota-sdk — the
// Move-based network live on mainnet since 2025 (not @iota/sdk, the deprecated Stardust
// SDK, whose install step downloads a prebuilt binary). A payment is verified by its
// transaction digest with iota_getTransactionBlock (showInput, showEffects,
// showEvents, showBalanceChanges):
//   1. the transaction exists                       — else 'unknown'
//   2. effects.status.status is "success"           — else 'unknown' (nothing was paid)
//   3. it is in a checkpoint (`checkpoint` is set)   — else 'not_final'
//   4. some balance change credits the operator's address (AddressOwner) — else 'wrong_recipient'
//   5. the programmable transaction carries the quote's memo as a pure input — else 'memo_mismatch'
//   6. the credit in the configured coin type (default 0x2::iota::IOTA) ≥ the price — else 'too_little'
//   7. the digest was not redeemed before (store)    — else 'already_redeemed'
//
// The quote binding. IOTA Rebased transactions have no memo or tag field (Stardust's
// tagged-data payload is gone), and emitting an event needs a published Move package.
// What every programmable transaction can carry is an extra *pure input*: the payer
// adds the memo as a BCS `vector<u8>` (ULEB128 length + UTF-8 bytes) that no command
// uses. Execution accepts unused pure inputs (only unused command results without
// `drop` are an error), the input is covered by the sender's signature and the
// transaction digest, and the full node returns it under showInput — as the raw BCS
// bytes (a JSON array, `valueType: null`) when no command gives it a type, or as a
// string when a Move call takes it as vector<u8>/String. We accept exactly those two
// renderings of exactly the memo. buildIotaPayment() builds such a transaction.
// Receipts are recorded in the store (payment_receipts), next to the redemption.
import { readFileSync } from 'node:fs';
import { IotaClient, JsonRpcError, type IotaCallArg, type IotaTransactionBlockResponse } from '@iota/iota-sdk/client';
import { Transaction } from '@iota/iota-sdk/transactions';
import { Ed25519Keypair } from '@iota/iota-sdk/keypairs/ed25519';
import { isValidIotaAddress, isValidTransactionDigest, normalizeIotaAddress, normalizeStructTag } from '@iota/iota-sdk/utils';
import type { Store } from '../store/index.js';
import { canonicalJson, type CanonicalValue } from './canonical.js';
import {
  LedgerError,
  refuse,
  type Ledger,
  type PaymentProof,
  type PaymentRequirement,
  type PaymentVerdict,
  type ReceiptRecord,
} from './ledger.js';
import { verifyReceipt, type SignedReceipt } from './quotes.js';
import { isRedeemed } from './redemption.js';
import { paymentsMigrations, PAYMENTS_COMPONENT } from './migrations.js';

export const IOTA_COIN_TYPE = '0x2::iota::IOTA';

export interface IotaLedgerConfig {
  /** JSON-RPC endpoint, e.g. https://api.testnet.iota.cafe */
  rpcUrl: string;
  /** where reservations are paid; derived from keyFile when absent */
  operatorAddress?: string;
  /** a file holding the operator's `iotaprivkey1...` secret key (as `iota keytool export` prints it) */
  keyFile?: string;
  /** default 0x2::iota::IOTA */
  coinType?: string;
  store: Store;
  /** a client to use instead of one built from rpcUrl */
  client?: IotaClient;
}

/** Reads an `iotaprivkey1...` key (bare, or as the "privateKey" field of a JSON file). */
export function loadIotaKeypair(path: string): Ed25519Keypair {
  const text = readFileSync(path, 'utf8').trim();
  let secret = text;
  if (text.startsWith('{')) {
    const parsed = JSON.parse(text) as { privateKey?: unknown };
    if (typeof parsed.privateKey !== 'string') throw new LedgerError('bad_key', `${path}: no "privateKey" field`, 400);
    secret = parsed.privateKey;
  }
  if (!secret.startsWith('iotaprivkey')) throw new LedgerError('bad_key', `${path}: expected an iotaprivkey1... secret key`, 400);
  return Ed25519Keypair.fromSecretKey(secret);
}

/**
 * The payer's side of the binding: a transaction that splits `amount` off the gas coin,
 * sends it to `to`, and carries `memo` as an extra pure vector<u8> input.
 */
export function buildIotaPayment(options: { to: string; amount: bigint; memo: string }): Transaction {
  const tx = new Transaction();
  const [coin] = tx.splitCoins(tx.gas, [options.amount]);
  tx.transferObjects([coin!], options.to);
  tx.pure.vector('u8', Array.from(Buffer.from(options.memo, 'utf8')));
  return tx;
}

function uleb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Whether a pure input, as the JSON-RPC renders it, is exactly the memo. */
export function pureInputIsMemo(input: IotaCallArg, memo: string): boolean {
  if (input.type !== 'pure') return false;
  const value = input.value;
  if (typeof value === 'string') {
    // a typed vector<u8>/String input the node decoded as UTF-8
    return value === memo && (input.valueType == null || /^vector<u8>$|::string::String$/.test(input.valueType));
  }
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    const memoBytes = Buffer.from(memo, 'utf8');
    const expected = [...uleb128(memoBytes.length), ...memoBytes];
    if (input.valueType == null) return value.length === expected.length && value.every((b, i) => b === expected[i]);
    // a typed vector<u8> the node could not decode as UTF-8 is shown as its elements
    return input.valueType === 'vector<u8>' && value.length === memoBytes.length && value.every((b, i) => b === memoBytes[i]);
  }
  return false;
}

function ownerAddress(owner: unknown): string | null {
  if (owner && typeof owner === 'object' && 'AddressOwner' in owner && typeof (owner as { AddressOwner: unknown }).AddressOwner === 'string') {
    return normalizeIotaAddress((owner as { AddressOwner: string }).AddressOwner);
  }
  return null;
}

function sameCoin(a: string, b: string): boolean {
  try {
    return normalizeStructTag(a) === normalizeStructTag(b);
  } catch {
    return false;
  }
}

export class IotaLedger implements Ledger {
  readonly kind = 'iota' as const;
  readonly operatorAddress: string;
  readonly coinType: string;
  readonly client: IotaClient;
  private readonly store: Store;

  constructor(config: IotaLedgerConfig) {
    this.store = config.store;
    this.store.migrate(PAYMENTS_COMPONENT, paymentsMigrations);
    this.client = config.client ?? new IotaClient({ url: config.rpcUrl });
    this.coinType = config.coinType ?? IOTA_COIN_TYPE;
    let address = config.operatorAddress;
    if (config.keyFile) {
      const fromKey = loadIotaKeypair(config.keyFile).toIotaAddress();
      if (address && normalizeIotaAddress(address) !== normalizeIotaAddress(fromKey)) {
        throw new LedgerError('bad_config', `the key file's address ${fromKey} is not the operator address ${address}`, 400);
      }
      address = fromKey;
    }
    if (!address || !isValidIotaAddress(normalizeIotaAddress(address))) {
      throw new LedgerError('bad_config', 'the IOTA ledger needs a valid operator address (or a key file)', 400);
    }
    this.operatorAddress = normalizeIotaAddress(address);
  }

  private async fetchTransaction(digest: string): Promise<IotaTransactionBlockResponse | null> {
    try {
      return await this.client.getTransactionBlock({
        digest,
        options: { showInput: true, showEffects: true, showEvents: true, showBalanceChanges: true },
      });
    } catch (err) {
      // The full node answers an unknown digest with JSON-RPC error -32602
      // "Could not find the referenced transaction [TransactionDigest(...)]."
      if (err instanceof JsonRpcError && (err.code === -32602 || /could not find the referenced transaction/i.test(err.message))) {
        return null;
      }
      throw new LedgerError('ledger_unavailable', `IOTA JSON-RPC: ${(err as Error).message}`, 503);
    }
  }

  async verifyPayment(proof: PaymentProof, requirement: PaymentRequirement): Promise<PaymentVerdict> {
    if (!proof || proof.ledger !== 'iota' || typeof proof.id !== 'string' || !isValidTransactionDigest(proof.id)) {
      return refuse('unknown', 'not an IOTA transaction digest');
    }
    const tx = await this.fetchTransaction(proof.id);
    if (!tx || tx.digest !== proof.id) return refuse('unknown', `no transaction ${proof.id} on this network`);
    const status = tx.effects?.status;
    if (!status || status.status !== 'success') {
      return refuse('unknown', `transaction ${proof.id} did not execute successfully${status?.error ? `: ${status.error}` : ''}`);
    }
    if (tx.checkpoint === undefined || tx.checkpoint === null) {
      return refuse('not_final', `transaction ${proof.id} is not in a checkpoint yet`);
    }
    let payTo: string;
    try {
      payTo = normalizeIotaAddress(requirement.payTo);
    } catch {
      return refuse('wrong_recipient', `${requirement.payTo} is not an IOTA address`);
    }
    const credits = (tx.balanceChanges ?? []).filter((c) => ownerAddress(c.owner) === payTo && BigInt(c.amount) > 0n);
    if (credits.length === 0) return refuse('wrong_recipient', `transaction ${proof.id} pays nothing to ${payTo}`);
    const data = tx.transaction?.data;
    const kind = data?.transaction;
    const inputs = kind && kind.kind === 'ProgrammableTransaction' ? kind.inputs : [];
    if (!inputs.some((input) => pureInputIsMemo(input, requirement.memo))) {
      return refuse('memo_mismatch', `transaction ${proof.id} does not carry the memo '${requirement.memo}'`);
    }
    const paid = credits.filter((c) => sameCoin(c.coinType, this.coinType)).reduce((sum, c) => sum + BigInt(c.amount), 0n);
    if (paid < requirement.amount) {
      return refuse('too_little', `paid ${paid} of ${this.coinType}, the price is ${requirement.amount}`);
    }
    if (isRedeemed(this.store, proof)) return refuse('already_redeemed', `payment ${proof.id} has already bought a reservation`);
    return { ok: true, proof: { ledger: 'iota', id: proof.id }, amount: paid, payer: data?.sender ?? null };
  }

  async balance(address: string): Promise<bigint> {
    const b = await this.client.getBalance({ owner: address, coinType: this.coinType });
    return BigInt(b.totalBalance);
  }

  /** Records a signed receipt for an IOTA payment in the store; the reference is the receipt id. */
  async recordReceipt(receipt: SignedReceipt): Promise<ReceiptRecord> {
    const check = verifyReceipt(receipt);
    if (!check.ok) throw new LedgerError(check.reason, check.message, 400);
    const r = receipt.receipt;
    this.store.db
      .prepare(
        `INSERT INTO payment_receipts (id, ledger, quote_id, reservation_id, proof_id, body, recorded_at)
         VALUES (?, 'iota', ?, ?, ?, ?, ?)`,
      )
      .run(r.id, r.quoteId, r.reservationId, r.payment.id, canonicalJson(receipt as unknown as CanonicalValue), Date.now());
    return { ledger: 'iota', reference: r.id };
  }
}

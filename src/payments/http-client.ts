// A small HTTP client for hosts that pay through a local ledger served by
// `payflow ledger serve` (or mounted in `payflow controller`): it signs locally and
// only sends signed messages, so the service never sees a private key. Minting (the
// testbed faucet) is for operators: it sends the client's admin token as a Bearer token.
import { formatAmount } from './amount.js';
import type { SigningKey } from './keys.js';
import { signChannelOpen, signChannelReclaim, signTransfer } from './journal.js';
import { LedgerError, type PaymentProof, type PaymentRequirement } from './ledger.js';
import type { Voucher } from './channels.js';
import { requestJson } from '../util/json-http.js';

export interface LedgerInfo {
  ledger: 'local';
  ledgerId: string;
  authority: string;
  operatorAddress: string | null;
  testbed: boolean;
  head: { seq: number; hash: string };
}

export interface Submitted {
  id?: string;
  seq: number;
  hash: string;
  proof?: PaymentProof;
  channel?: string;
}

export class LedgerHttpClient {
  private readonly base: string;
  private readonly token: string | undefined;

  /**
   * baseUrl: where the plugin is mounted, e.g. http://127.0.0.1:8090/v1/ledger;
   * token: an operator token of scope admin, for the faucet only
   */
  constructor(baseUrl: string, options: { token?: string } = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.token = options.token;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const r = await requestJson<T>(this.base, method, path, body, 'the ledger', headers);
    if (!r.ok) {
      // Transport failures keep the statuses they always had here: 502 for no or a bad answer.
      const status = r.failure.status === 0 || r.failure.code === 'bad_response' ? 502 : r.failure.status;
      throw new LedgerError(r.failure.code, r.failure.message, status);
    }
    return r.value;
  }

  info(): Promise<LedgerInfo> {
    return this.call('GET', '/info');
  }

  async account(address: string): Promise<{ balance: bigint; nonce: number }> {
    const a = await this.call<{ balance: string; nonce: number }>('GET', `/accounts/${encodeURIComponent(address)}`);
    return { balance: BigInt(a.balance), nonce: a.nonce };
  }

  async balance(address: string): Promise<bigint> {
    return (await this.account(address)).balance;
  }

  /** Mints on a testbed ledger: needs the client's admin token (401 token_missing without one). */
  faucet(address: string, amount: bigint): Promise<Submitted> {
    return this.call('POST', '/faucet', { address, amount: formatAmount(amount) }, this.token === undefined ? {} : { authorization: `Bearer ${this.token}` });
  }

  submitTransfer(signed: unknown): Promise<Submitted> {
    return this.call('POST', '/transfers', signed);
  }

  /** Signs a transfer with the payer's next nonce and submits it; returns the proof. */
  async pay(key: SigningKey, to: string, amount: bigint, memo: string): Promise<PaymentProof> {
    const { nonce } = await this.account(key.address);
    const r = await this.submitTransfer(signTransfer(key, { to, amount: formatAmount(amount), nonce: nonce + 1, memo }));
    return { ledger: 'local', id: r.id! };
  }

  /** Throws a LedgerError whose code is the refusal reason when the payment does not hold. */
  async verifyPayment(proof: PaymentProof, requirement: PaymentRequirement): Promise<{ amount: bigint; payer: string | null }> {
    const r = await this.call<{ amount: string; payer: string | null }>('POST', '/payments/verify', {
      proof,
      payTo: requirement.payTo,
      amount: formatAmount(requirement.amount),
      memo: requirement.memo,
    });
    return { amount: BigInt(r.amount), payer: r.payer };
  }

  async openChannel(key: SigningKey, payee: string, channelKey: string, deposit: bigint, timeoutAt: number): Promise<string> {
    const { nonce } = await this.account(key.address);
    const r = await this.call<Submitted>('POST', '/channels', signChannelOpen(key, { payee, channelKey, deposit: formatAmount(deposit), timeoutAt, nonce: nonce + 1 }));
    return r.channel!;
  }

  settleChannel(voucher: Voucher): Promise<Submitted> {
    return this.call('POST', `/channels/${voucher.channel}/settle`, { voucher });
  }

  async reclaimChannel(key: SigningKey, channel: string): Promise<Submitted> {
    const { nonce } = await this.account(key.address);
    return this.call('POST', `/channels/${channel}/reclaim`, signChannelReclaim(key, { channel, nonce: nonce + 1 }));
  }

  channel(id: string): Promise<Record<string, unknown>> {
    return this.call('GET', `/channels/${id}`);
  }

  audit(): Promise<{ ok: boolean; entries: number }> {
    return this.call('GET', '/audit');
  }
}

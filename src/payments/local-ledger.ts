// The embedded local ledger: the default ledger, so that the whole
// system runs with no outside network. Accounts are Ed25519 keys; transfers are signed
// and carry the payer's next nonce; every entry is chained to the previous one by hash
// (journal.ts) and stored in SQLite in WAL mode. Writes run in BEGIN IMMEDIATE
// transactions, so several processes may share the file. Amounts are bigint base units.
// After every commit the head is signed into a checkpoint file outside the database
// (checkpoint.ts), so that a journal cut short is caught. Whether the ledger is a testbed
// ledger (may mint) is fixed in its genesis entry.
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.js';
import { formatAmount } from './amount.js';
import type { ChannelSource } from './channels.js';
import { isAddress, type SigningKey } from './keys.js';
import {
  applyEntry,
  canonicalBody,
  entryHash,
  GENESIS_PREV,
  normaliseBody,
  signMint,
  txIdOf,
  type Account,
  type ChannelRecord,
  type EntryKind,
  type GenesisBody,
  type LedgerState,
  type SignedTransfer,
} from './journal.js';
import {
  LedgerError,
  refuse,
  type Ledger,
  type PaymentProof,
  type PaymentRequirement,
  type PaymentVerdict,
  type ReceiptRecord,
} from './ledger.js';
import { verifySignature, publicKeyOfAddress } from './keys.js';
import { canonicalJson, type CanonicalValue } from './canonical.js';
import type { SignedReceipt } from './quotes.js';
import { paymentsMigrations, PAYMENTS_COMPONENT } from './migrations.js';
import { isRedeemed } from './redemption.js';
import { writeCheckpoint } from './checkpoint.js';

export interface LocalLedgerOptions {
  /** the operator's address on this ledger (where reservations are paid) */
  operatorAddress?: string;
  /** key allowed to mint; needed to create the ledger and for the faucet */
  authorityKey?: SigningKey;
  /**
   * A new ledger is created as a testbed ledger (its genesis entry says so for good); on
   * an existing one the faucet works only when this is set AND its genesis entry says
   * testbed. A production ledger never mints.
   */
  testbed?: boolean;
  /**
   * Where the journal's signed checkpoint lives (checkpoint.ts): written after every
   * commit when the authority key is given, and checked by the audit. Absent = none.
   */
  checkpointFile?: string;
  /** clock, ms since the epoch (tests) */
  now?: () => number;
}

export interface AppendedEntry {
  seq: number;
  txId: string;
  hash: string;
  at: number;
}

export interface EntryRow {
  seq: number;
  kind: string;
  tx_id: string;
  body: string;
  at: number;
  prev_hash: string;
  hash: string;
}

interface AccountRow {
  balance: bigint;
  nonce: bigint;
}

interface ChannelRow {
  id: string;
  payer: string;
  payee: string;
  channel_key: string;
  deposit: bigint;
  settled: bigint;
  settled_sequence: bigint;
  timeout_at: bigint;
  closed: bigint;
}

export function channelFromRow(row: ChannelRow): ChannelRecord {
  return {
    id: row.id,
    payer: row.payer,
    payee: row.payee,
    channelKey: row.channel_key,
    deposit: BigInt(row.deposit),
    settled: BigInt(row.settled),
    settledSequence: Number(row.settled_sequence),
    timeoutAt: Number(row.timeout_at),
    closed: Number(row.closed) !== 0,
  };
}

/** LedgerState over the SQLite tables, used inside a write transaction. */
class SqlState implements LedgerState {
  constructor(
    private readonly store: Store,
    readonly authority: string,
  ) {}

  account(address: string): Account {
    const row = this.store.db
      .prepare<[string], AccountRow>('SELECT balance, nonce FROM ledger_accounts WHERE address = ?')
      .safeIntegers(true)
      .get(address);
    return row ? { balance: row.balance, nonce: Number(row.nonce) } : { balance: 0n, nonce: 0 };
  }

  setAccount(address: string, account: Account): void {
    this.store.db
      .prepare(
        `INSERT INTO ledger_accounts (address, balance, nonce) VALUES (?, ?, ?)
         ON CONFLICT (address) DO UPDATE SET balance = excluded.balance, nonce = excluded.nonce`,
      )
      .run(address, account.balance, account.nonce);
  }

  channel(id: string): ChannelRecord | undefined {
    const row = this.store.db.prepare<[string], ChannelRow>('SELECT * FROM ledger_channels WHERE id = ?').safeIntegers(true).get(id);
    return row ? channelFromRow(row) : undefined;
  }

  setChannel(c: ChannelRecord): void {
    this.store.db
      .prepare(
        `INSERT INTO ledger_channels (id, payer, payee, channel_key, deposit, settled, settled_sequence, timeout_at, closed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET settled = excluded.settled, settled_sequence = excluded.settled_sequence, closed = excluded.closed`,
      )
      .run(c.id, c.payer, c.payee, c.channelKey, c.deposit, c.settled, c.settledSequence, c.timeoutAt, c.closed ? 1 : 0);
  }
}

export class LocalLedger implements Ledger, ChannelSource {
  readonly kind = 'local' as const;
  readonly operatorAddress: string;
  readonly ledgerId: string;
  readonly authority: string;
  /** the faucet is on: a testbed ledger (genesis entry) opened with options.testbed */
  readonly testbed: boolean;
  /** what the genesis entry fixed: a testbed ledger (may mint) or a production one */
  readonly genesisTestbed: boolean;
  readonly checkpointFile: string | undefined;
  private readonly authorityKey: SigningKey | undefined;
  private readonly now: () => number;
  private checkpointPending = false;

  private constructor(
    readonly store: Store,
    genesis: GenesisBody,
    options: LocalLedgerOptions,
  ) {
    this.ledgerId = genesis.ledgerId;
    this.authority = genesis.authority;
    this.authorityKey = options.authorityKey;
    this.genesisTestbed = genesis.testbed === true;
    this.testbed = this.genesisTestbed && (options.testbed ?? false);
    this.checkpointFile = options.checkpointFile;
    this.now = options.now ?? Date.now;
    this.operatorAddress = options.operatorAddress ?? '';
  }

  /**
   * Opens the ledger in the store, applying the payments migrations; creates the genesis
   * entry (naming the authority key) when the journal is empty.
   */
  /** Whether the store holds a ledger already (its genesis entry). */
  static isCreated(store: Store): boolean {
    store.migrate(PAYMENTS_COMPONENT, paymentsMigrations);
    return store.db.prepare('SELECT 1 FROM ledger_entries WHERE seq = 1').get() !== undefined;
  }

  static open(store: Store, options: LocalLedgerOptions = {}): LocalLedger {
    store.migrate(PAYMENTS_COMPONENT, paymentsMigrations);
    if (options.operatorAddress !== undefined && !isAddress(options.operatorAddress)) {
      throw new LedgerError('malformed', `operator address ${options.operatorAddress} is not a local-ledger address`, 400);
    }
    let created = false;
    const genesis = store.immediate(() => {
      const first = store.db.prepare<[], EntryRow>('SELECT * FROM ledger_entries WHERE seq = 1').get();
      if (first) return JSON.parse(first.body) as GenesisBody;
      created = true;
      if (!options.authorityKey) {
        throw new LedgerError('no_ledger', 'the ledger is empty and no authority key was given to create it', 400);
      }
      const body: GenesisBody = { ledgerId: randomBytes(16).toString('hex'), authority: options.authorityKey.publicKeyHex, testbed: options.testbed ?? false };
      const text = canonicalBody(body);
      const txId = txIdOf('genesis', body);
      const at = (options.now ?? Date.now)();
      store.db
        .prepare('INSERT INTO ledger_entries (seq, kind, tx_id, body, at, prev_hash, hash) VALUES (1, ?, ?, ?, ?, ?, ?)')
        .run('genesis', txId, text, at, GENESIS_PREV, entryHash(1, 'genesis', txId, at, GENESIS_PREV, text));
      return body;
    });
    if (options.authorityKey && options.authorityKey.publicKeyHex !== genesis.authority) {
      throw new LedgerError('wrong_authority', 'the authority key is not the one this ledger was created with', 400);
    }
    const ledger = new LocalLedger(store, genesis, options);
    if (created) ledger.checkpoint();
    return ledger;
  }

  /** Whether this ledger writes checkpoints (a checkpoint file and the authority key). */
  get canCheckpoint(): boolean {
    return this.checkpointFile !== undefined && this.authorityKey !== undefined;
  }

  /**
   * Signs and writes the checkpoint of the committed head now (no-op without a
   * checkpoint file or the authority key). Runs by itself after every commit.
   */
  checkpoint(): void {
    this.checkpointPending = false;
    if (!this.checkpointFile || !this.authorityKey) return;
    const head = this.head();
    writeCheckpoint(this.checkpointFile, this.authorityKey, { ledgerId: this.ledgerId, seq: head.seq, head: head.hash, at: this.now() });
  }

  /**
   * Runs a write transaction and checkpoints what it committed: at once when it is the
   * outermost transaction, else (inside a caller's transaction, which commits later)
   * right after the current call stack, once for the whole batch.
   */
  private committed<T>(fn: () => T): T {
    const outermost = !this.store.db.inTransaction;
    const result = this.store.immediate(fn);
    if (!this.checkpointFile || !this.authorityKey) return result;
    if (outermost) this.checkpoint();
    else if (!this.checkpointPending) {
      this.checkpointPending = true;
      setImmediate(() => {
        if (this.checkpointPending && this.store.db.open) this.checkpoint();
      });
    }
    return result;
  }

  /** Appends an entry after checking and applying it, atomically. */
  private append(kind: EntryKind, rawBody: unknown): AppendedEntry {
    const body = normaliseBody(kind, rawBody);
    const text = canonicalBody(body);
    const txId = txIdOf(kind, body);
    return this.committed(() => {
      const dup = this.store.db.prepare<[string], { seq: number }>('SELECT seq FROM ledger_entries WHERE tx_id = ?').get(txId);
      if (dup) throw new LedgerError('duplicate', `this ${kind} is already entry ${dup.seq}`, 409);
      const head = this.store.db
        .prepare<[], { seq: number; hash: string; at: number }>('SELECT seq, hash, at FROM ledger_entries ORDER BY seq DESC LIMIT 1')
        .get();
      if (!head) throw new LedgerError('no_ledger', 'the ledger has no genesis entry', 500);
      // Time never runs backwards in the journal, even if the clock does.
      const at = Math.max(this.now(), head.at);
      applyEntry(new SqlState(this.store, this.authority), kind, body, at, txId);
      const seq = head.seq + 1;
      const hash = entryHash(seq, kind, txId, at, head.hash, text);
      this.store.db
        .prepare('INSERT INTO ledger_entries (seq, kind, tx_id, body, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(seq, kind, txId, text, at, head.hash, hash);
      return { seq, txId, hash, at };
    });
  }

  /** Submits a transfer signed by its payer. Its txId is the payment proof's id. */
  transfer(signed: SignedTransfer | unknown): AppendedEntry {
    return this.append('transfer', signed);
  }

  /** Testbed faucet: mints `amount` to `address`, signed by the authority key. */
  faucet(address: string, amount: bigint, memo = 'faucet'): AppendedEntry {
    if (!this.genesisTestbed) throw new LedgerError('faucet_disabled', 'this is a production ledger (its genesis entry says so): it never mints', 403);
    if (!this.testbed) throw new LedgerError('faucet_disabled', 'the faucet runs only on a testbed ledger (--testbed)', 403);
    if (!this.authorityKey) throw new LedgerError('faucet_disabled', 'the faucet needs the ledger authority key', 403);
    if (!isAddress(address)) throw new LedgerError('malformed', `${address} is not a local-ledger address`, 400);
    const key = this.authorityKey;
    return this.committed(() => {
      const nonce = new SqlState(this.store, this.authority).account(`authority:${this.authority}`).nonce + 1;
      return this.append('mint', signMint(key, { to: address, amount: formatAmount(amount), nonce, memo }));
    });
  }

  openChannel(signed: unknown): AppendedEntry {
    return this.append('channel-open', signed);
  }

  settleChannel(voucher: unknown): AppendedEntry {
    return this.append('channel-settle', { voucher });
  }

  reclaimChannel(signed: unknown): AppendedEntry {
    return this.append('channel-reclaim', signed);
  }

  async recordReceipt(receipt: SignedReceipt): Promise<ReceiptRecord> {
    const entry = this.append('receipt', { receipt });
    return { ledger: 'local', reference: entry.hash };
  }

  account(address: string): Account {
    return new SqlState(this.store, this.authority).account(address);
  }

  async balance(address: string): Promise<bigint> {
    return this.account(address).balance;
  }

  channel(id: string): ChannelRecord | undefined {
    return new SqlState(this.store, this.authority).channel(id);
  }

  async channelInfo(id: string): Promise<{ channelKey: string; deposit: bigint; timeoutAt: number; payee: string; closed: boolean } | null> {
    const c = this.channel(id);
    return c ? { channelKey: c.channelKey, deposit: c.deposit, timeoutAt: c.timeoutAt, payee: c.payee, closed: c.closed } : null;
  }

  head(): { seq: number; hash: string } {
    const row = this.store.db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1').get();
    return row ?? { seq: 0, hash: GENESIS_PREV };
  }

  entryByTxId(txId: string): EntryRow | undefined {
    return this.store.db.prepare<[string], EntryRow>('SELECT * FROM ledger_entries WHERE tx_id = ?').get(txId);
  }

  async verifyPayment(proof: PaymentProof, requirement: PaymentRequirement): Promise<PaymentVerdict> {
    return this.verifyPaymentSync(proof, requirement);
  }

  /** verifyPayment without the promise: the local ledger answers from its own file. */
  verifyPaymentSync(proof: PaymentProof, requirement: PaymentRequirement): PaymentVerdict {
    if (!proof || proof.ledger !== 'local' || typeof proof.id !== 'string' || !/^[0-9a-f]{64}$/.test(proof.id)) {
      return refuse('unknown', 'not a local-ledger payment proof');
    }
    const row = this.entryByTxId(proof.id);
    if (!row || row.kind !== 'transfer') return refuse('unknown', `no transfer ${proof.id} on this ledger`);
    let t: SignedTransfer;
    try {
      t = JSON.parse(row.body) as SignedTransfer;
    } catch {
      return refuse('bad_signature', `entry ${row.seq} is unreadable`);
    }
    // Re-check what the stored row says rather than trusting it: an edited row fails here.
    const { signature, ...message } = t;
    if (txIdOf('transfer', t) !== proof.id || !isAddress(t.from) ||
        !verifySignature('transfer', canonicalJson(message as unknown as CanonicalValue), signature, publicKeyOfAddress(t.from)) ||
        entryHash(row.seq, row.kind, row.tx_id, row.at, row.prev_hash, row.body) !== row.hash) {
      return refuse('bad_signature', `transfer ${proof.id} (entry ${row.seq}) does not carry a valid signature`);
    }
    if (t.to !== requirement.payTo) return refuse('wrong_recipient', `the transfer pays ${t.to}, not ${requirement.payTo}`);
    if (t.memo !== requirement.memo) return refuse('memo_mismatch', `the transfer's memo is '${t.memo}', expected '${requirement.memo}'`);
    const amount = BigInt(t.amount);
    if (amount < requirement.amount) return refuse('too_little', `paid ${amount}, the price is ${requirement.amount}`);
    if (isRedeemed(this.store, proof)) return refuse('already_redeemed', `payment ${proof.id} has already bought a reservation`);
    return { ok: true, proof: { ledger: 'local', id: proof.id }, amount, payer: t.from };
  }
}

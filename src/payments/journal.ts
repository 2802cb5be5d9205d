// The local ledger's journal: the kinds of entry, how each is signed, hashed and chained,
// and the one state machine that applies an entry to balances, nonces and channels.
// LocalLedger runs it against SQLite for live writes; the audit (`payflow ledger
// verify`) runs the same code against memory while replaying the whole chain, so the
// rules cannot drift apart.
//
// Entry hash = SHA-256("payflow/entry/v1\n" || seq "\n" kind "\n" txId "\n" at "\n" prevHash "\n" body),
// with body the canonical JSON of the signed message and prevHash the previous entry's
// hash (64 zeros for the genesis entry). Editing any stored field breaks this entry's hash
// or the next entry's link; recomputing the hashes still leaves the signatures broken.
import { createHash } from 'node:crypto';
import { formatAmount, parseAmount, parsePositiveAmount } from './amount.js';
import { canonicalJson, type CanonicalValue } from './canonical.js';
import { voucherSignatureValid, type Voucher } from './channels.js';
import { domainTag, isAddress, publicKeyOfAddress, verifySignature, type SigningKey } from './keys.js';
import { isVoucherSignatureHex, parseChannelKey, VOUCHER_SIGNATURE_HEX_LENGTHS } from './channel-keys.js';
import { LedgerError } from './ledger.js';
import { verifyReceipt, type SignedReceipt } from './quotes.js';

export const GENESIS_PREV = '0'.repeat(64);
export const MAX_MEMO_LENGTH = 256;

export type EntryKind = 'genesis' | 'mint' | 'transfer' | 'channel-open' | 'channel-settle' | 'channel-reclaim' | 'receipt';

export interface GenesisBody {
  ledgerId: string;
  /** public key (hex) allowed to mint in testbeds; it also signs the journal's checkpoints */
  authority: string;
  /**
   * Whether this is a testbed ledger, fixed when it is created: only a testbed ledger
   * mints (the faucet). Ledgers created before the flag existed have none and are
   * production ledgers.
   */
  testbed?: boolean;
}

/** A transfer as the payer signs it. amount is a decimal string; nonce = previous + 1. */
export interface TransferMessage {
  from: string;
  to: string;
  amount: string;
  nonce: number;
  memo: string;
}
export interface SignedTransfer extends TransferMessage {
  signature: string;
}

export interface MintMessage {
  to: string;
  amount: string;
  nonce: number;
  memo: string;
}
export interface SignedMint extends MintMessage {
  signature: string;
}

export interface ChannelOpenMessage {
  from: string;
  payee: string;
  /** the key that signs the vouchers, in its wire form (channel-keys.ts: ed25519 hex or
   *  'rsa-pss-3072:' + base64url SPKI); may be the payer's own Ed25519 key */
  channelKey: string;
  deposit: string;
  /** ms since the epoch; after it the payer may reclaim what was not settled */
  timeoutAt: number;
  nonce: number;
}
export interface SignedChannelOpen extends ChannelOpenMessage {
  signature: string;
}

export interface ChannelReclaimMessage {
  channel: string;
  from: string;
  nonce: number;
}
export interface SignedChannelReclaim extends ChannelReclaimMessage {
  signature: string;
}

export interface ChannelSettleBody {
  voucher: Voucher;
}

export interface ReceiptBody {
  receipt: SignedReceipt;
}

export interface Account {
  balance: bigint;
  nonce: number;
}

export interface ChannelRecord {
  id: string;
  payer: string;
  payee: string;
  channelKey: string;
  deposit: bigint;
  settled: bigint;
  settledSequence: number;
  timeoutAt: number;
  closed: boolean;
}

/** The state an entry is applied to: SQLite rows live, maps during an audit. */
export interface LedgerState {
  readonly authority: string;
  account(address: string): Account;
  setAccount(address: string, account: Account): void;
  channel(id: string): ChannelRecord | undefined;
  setChannel(record: ChannelRecord): void;
}

function sha256hex(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function unsigned<T extends { signature: string }>(signed: T): Omit<T, 'signature'> {
  const { signature: _signature, ...rest } = signed;
  return rest;
}

function canon(value: object): string {
  return canonicalJson(value as unknown as CanonicalValue);
}

/** The id of an entry: hash of its kind tag and its unsigned content (signatures are deterministic). */
export function txIdOf(kind: EntryKind, body: object): string {
  const content = 'signature' in body ? unsigned(body as { signature: string }) : body;
  return sha256hex(`payflow/tx/${kind}/v1\n`, canon(content));
}

export function entryHash(seq: number, kind: string, txId: string, at: number, prevHash: string, body: string): string {
  return sha256hex(domainTag('entry'), `${seq}\n${kind}\n${txId}\n${at}\n${prevHash}\n`, body);
}

// ---- signing helpers for payers (the client side) ----

export function signTransfer(key: SigningKey, message: Omit<TransferMessage, 'from'>): SignedTransfer {
  const m: TransferMessage = { from: key.address, to: message.to, amount: message.amount, nonce: message.nonce, memo: message.memo };
  return { ...m, signature: key.sign('transfer', canon(m)) };
}

export function signMint(authority: SigningKey, message: MintMessage): SignedMint {
  const m: MintMessage = { to: message.to, amount: message.amount, nonce: message.nonce, memo: message.memo };
  return { ...m, signature: authority.sign('mint', canon(m)) };
}

export function signChannelOpen(key: SigningKey, message: Omit<ChannelOpenMessage, 'from'>): SignedChannelOpen {
  const m: ChannelOpenMessage = {
    from: key.address,
    payee: message.payee,
    channelKey: message.channelKey,
    deposit: message.deposit,
    timeoutAt: message.timeoutAt,
    nonce: message.nonce,
  };
  return { ...m, signature: key.sign('channel-open', canon(m)) };
}

export function signChannelReclaim(key: SigningKey, message: Omit<ChannelReclaimMessage, 'from'>): SignedChannelReclaim {
  const m: ChannelReclaimMessage = { channel: message.channel, from: key.address, nonce: message.nonce };
  return { ...m, signature: key.sign('channel-reclaim', canon(m)) };
}

// ---- validation: turn untrusted JSON into a well-formed body, or a typed error ----

function bad(message: string): LedgerError {
  return new LedgerError('malformed', message, 400);
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function requireAddress(value: unknown, what: string): string {
  if (!isAddress(value)) throw bad(`${what} must be a local-ledger address (pf1 + 64 hex)`);
  return value;
}

function requireNonce(value: unknown, what = 'nonce'): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw bad(`${what} must be a positive integer`);
  return value as number;
}

function requireMemo(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_MEMO_LENGTH) throw bad(`memo must be a string of at most ${MAX_MEMO_LENGTH} characters`);
  return value;
}

function requireSignature(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{128}$/.test(value)) throw bad('signature must be 128 lowercase hex characters');
  return value;
}

// A voucher's signature length depends on its channel's key; the shape is checked here,
// the length against the channel's scheme when the voucher is verified.
function requireVoucherSignature(value: unknown): string {
  if (!isVoucherSignatureHex(value)) {
    throw bad(`voucher signature must be lowercase hex of ${VOUCHER_SIGNATURE_HEX_LENGTHS.join(' or ')} characters (the channel key's scheme decides which)`);
  }
  return value;
}

function amountField(value: unknown, what: string, positive = true): string {
  try {
    return formatAmount(positive ? parsePositiveAmount(value, what) : parseAmount(value, what));
  } catch (err) {
    throw bad((err as Error).message);
  }
}

function onlyKeys(obj: Record<string, unknown>, keys: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) if (!keys.includes(k)) throw bad(`${what}: unexpected field '${k}'`);
}

export function parseTransfer(value: unknown): SignedTransfer {
  const o = requireObject(value, 'transfer');
  onlyKeys(o, ['from', 'to', 'amount', 'nonce', 'memo', 'signature'], 'transfer');
  return {
    from: requireAddress(o['from'], 'from'),
    to: requireAddress(o['to'], 'to'),
    amount: amountField(o['amount'], 'amount'),
    nonce: requireNonce(o['nonce']),
    memo: requireMemo(o['memo'] ?? ''),
    signature: requireSignature(o['signature']),
  };
}

export function parseMint(value: unknown): SignedMint {
  const o = requireObject(value, 'mint');
  onlyKeys(o, ['to', 'amount', 'nonce', 'memo', 'signature'], 'mint');
  return {
    to: requireAddress(o['to'], 'to'),
    amount: amountField(o['amount'], 'amount'),
    nonce: requireNonce(o['nonce']),
    memo: requireMemo(o['memo'] ?? ''),
    signature: requireSignature(o['signature']),
  };
}

export function parseChannelOpen(value: unknown): SignedChannelOpen {
  const o = requireObject(value, 'channel opening');
  onlyKeys(o, ['from', 'payee', 'channelKey', 'deposit', 'timeoutAt', 'nonce', 'signature'], 'channel opening');
  try {
    parseChannelKey(o['channelKey']);
  } catch (err) {
    throw bad(`channelKey: ${(err as Error).message}`);
  }
  if (!Number.isSafeInteger(o['timeoutAt']) || (o['timeoutAt'] as number) <= 0) throw bad('timeoutAt must be a time in ms');
  return {
    from: requireAddress(o['from'], 'from'),
    payee: requireAddress(o['payee'], 'payee'),
    channelKey: o['channelKey'] as string,
    deposit: amountField(o['deposit'], 'deposit'),
    timeoutAt: o['timeoutAt'] as number,
    nonce: requireNonce(o['nonce']),
    signature: requireSignature(o['signature']),
  };
}

export function parseChannelReclaim(value: unknown): SignedChannelReclaim {
  const o = requireObject(value, 'reclaim');
  onlyKeys(o, ['channel', 'from', 'nonce', 'signature'], 'reclaim');
  if (typeof o['channel'] !== 'string' || !/^[0-9a-f]{64}$/.test(o['channel'])) throw bad('channel must be 64 hex characters');
  return {
    channel: o['channel'],
    from: requireAddress(o['from'], 'from'),
    nonce: requireNonce(o['nonce']),
    signature: requireSignature(o['signature']),
  };
}

export function parseVoucher(value: unknown): Voucher {
  const o = requireObject(value, 'voucher');
  onlyKeys(o, ['channel', 'cumulative', 'sequence', 'signature'], 'voucher');
  if (typeof o['channel'] !== 'string' || !/^[0-9a-f]{64}$/.test(o['channel'])) throw bad('channel must be 64 hex characters');
  return {
    channel: o['channel'],
    cumulative: amountField(o['cumulative'], 'cumulative'),
    sequence: requireNonce(o['sequence'], 'sequence'),
    signature: requireVoucherSignature(o['signature']),
  };
}

// ---- the state machine ----

function debit(state: LedgerState, address: string, amount: bigint, nonce: number | null): void {
  const acct = state.account(address);
  if (nonce !== null && nonce !== acct.nonce + 1) {
    throw new LedgerError('bad_nonce', `nonce ${nonce} is not the next one for ${address} (expected ${acct.nonce + 1})`, 409);
  }
  if (acct.balance < amount) {
    throw new LedgerError('insufficient_funds', `${address} holds ${acct.balance}, needs ${amount}`, 402);
  }
  state.setAccount(address, { balance: acct.balance - amount, nonce: nonce ?? acct.nonce });
}

function credit(state: LedgerState, address: string, amount: bigint): void {
  const acct = state.account(address);
  state.setAccount(address, { balance: acct.balance + amount, nonce: acct.nonce });
}

function badSignature(what: string): LedgerError {
  return new LedgerError('bad_signature', `${what}: the signature does not verify`, 402);
}

/**
 * Applies one entry (already parsed) to the state at time `at`; throws a LedgerError if
 * the entry is not allowed. The caller rolls back on throw.
 */
export function applyEntry(state: LedgerState, kind: EntryKind, body: unknown, at: number, txId: string): void {
  switch (kind) {
    case 'genesis':
      throw new LedgerError('malformed', 'a genesis entry may only be the first entry', 400);
    case 'mint': {
      const m = parseMint(body);
      if (!verifySignature('mint', canon(unsigned(m)), m.signature, state.authority)) throw badSignature('mint');
      const authority = `authority:${state.authority}`;
      const acct = state.account(authority);
      if (m.nonce !== acct.nonce + 1) throw new LedgerError('bad_nonce', `mint nonce ${m.nonce} is not ${acct.nonce + 1}`, 409);
      state.setAccount(authority, { balance: 0n, nonce: m.nonce });
      credit(state, m.to, BigInt(m.amount));
      return;
    }
    case 'transfer': {
      const t = parseTransfer(body);
      if (!verifySignature('transfer', canon(unsigned(t)), t.signature, publicKeyOfAddress(t.from))) throw badSignature('transfer');
      if (t.from === t.to) throw new LedgerError('self_transfer', 'a transfer to oneself proves nothing', 400);
      debit(state, t.from, BigInt(t.amount), t.nonce);
      credit(state, t.to, BigInt(t.amount));
      return;
    }
    case 'channel-open': {
      const o = parseChannelOpen(body);
      if (!verifySignature('channel-open', canon(unsigned(o)), o.signature, publicKeyOfAddress(o.from))) throw badSignature('channel opening');
      if (o.timeoutAt <= at) throw new LedgerError('malformed', 'the channel timeout is already past', 400);
      debit(state, o.from, BigInt(o.deposit), o.nonce);
      state.setChannel({
        id: txId,
        payer: o.from,
        payee: o.payee,
        channelKey: o.channelKey,
        deposit: BigInt(o.deposit),
        settled: 0n,
        settledSequence: 0,
        timeoutAt: o.timeoutAt,
        closed: false,
      });
      return;
    }
    case 'channel-settle': {
      const b = requireObject(body, 'settlement');
      onlyKeys(b, ['voucher'], 'settlement');
      const v = parseVoucher(b['voucher']);
      const ch = state.channel(v.channel);
      if (!ch) throw new LedgerError('unknown_channel', `no channel ${v.channel}`, 404);
      if (ch.closed) throw new LedgerError('channel_closed', 'the channel is closed', 409);
      if (at >= ch.timeoutAt) throw new LedgerError('channel_timed_out', 'settlement after the timeout is refused', 409);
      if (!voucherSignatureValid(v, ch.channelKey)) throw badSignature('voucher');
      const cumulative = BigInt(v.cumulative);
      if (v.sequence <= ch.settledSequence || cumulative <= ch.settled) {
        throw new LedgerError('reordered', `voucher ${v.sequence} does not exceed the settled voucher ${ch.settledSequence}`, 409);
      }
      if (cumulative > ch.deposit) throw new LedgerError('over_deposit', `cumulative ${cumulative} exceeds the deposit ${ch.deposit}`, 402);
      credit(state, ch.payee, cumulative - ch.settled);
      state.setChannel({ ...ch, settled: cumulative, settledSequence: v.sequence });
      return;
    }
    case 'channel-reclaim': {
      const r = parseChannelReclaim(body);
      const ch = state.channel(r.channel);
      if (!ch) throw new LedgerError('unknown_channel', `no channel ${r.channel}`, 404);
      if (r.from !== ch.payer) throw new LedgerError('not_payer', 'only the payer may reclaim', 403);
      if (!verifySignature('channel-reclaim', canon(unsigned(r)), r.signature, publicKeyOfAddress(r.from))) throw badSignature('reclaim');
      if (ch.closed) throw new LedgerError('channel_closed', 'the channel is closed', 409);
      if (at < ch.timeoutAt) throw new LedgerError('too_early', `the deposit can be reclaimed from ${new Date(ch.timeoutAt).toISOString()}`, 409);
      debit(state, r.from, 0n, r.nonce);
      credit(state, ch.payer, ch.deposit - ch.settled);
      state.setChannel({ ...ch, closed: true });
      return;
    }
    case 'receipt': {
      const b = requireObject(body, 'receipt entry');
      onlyKeys(b, ['receipt'], 'receipt entry');
      const check = verifyReceipt(b['receipt'] as SignedReceipt);
      if (!check.ok) {
        throw check.reason === 'bad_signature' ? badSignature('receipt') : bad(`receipt: ${check.message}`);
      }
      return;
    }
    default:
      throw bad(`unknown entry kind '${String(kind)}'`);
  }
}

/** The canonical body stored for an entry (after parsing, so stored bodies are normalised). */
export function normaliseBody(kind: EntryKind, body: unknown): object {
  switch (kind) {
    case 'mint':
      return parseMint(body);
    case 'transfer':
      return parseTransfer(body);
    case 'channel-open':
      return parseChannelOpen(body);
    case 'channel-reclaim':
      return parseChannelReclaim(body);
    case 'channel-settle':
      return { voucher: parseVoucher(requireObject(body, 'settlement')['voucher']) };
    case 'receipt':
      return { receipt: requireObject(requireObject(body, 'receipt entry')['receipt'], 'receipt') };
    default:
      throw bad(`cannot append an entry of kind '${kind}'`);
  }
}

export function canonicalBody(body: object): string {
  return canon(body);
}

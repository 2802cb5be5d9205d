// Micropayment channels (in the spirit of the Streaming Data Payment
// Protocol that PayFlow cites, and of unidirectional payment channels): the client locks
// a deposit on the ledger once, then streams signed cumulative vouchers
// (channel, cumulative amount, sequence). A voucher counts only if it is signed by the
// channel key, its sequence and amount strictly exceed the last accepted voucher's, and
// it stays within the deposit. Each voucher extends the paid period; when vouchers stop,
// the period ends. The operator settles the last voucher on the ledger before the
// channel's timeout (ChannelBook.settle; the reservation service does it when the
// settlement margin begins and when the reservation ends); after the timeout the client
// reclaims the rest (LocalLedger.settleChannel / reclaimChannel). Vouchers stop counting
// settleMarginMs before the timeout, so that the last one can still be settled.
//
// The signed message is binary and fixed-size, so verifying a voucher costs one signature
// verification and nothing else:
//   "payflow/voucher/v1\n" || channel id (32 bytes) || cumulative (u64 BE) || sequence (u64 BE)
// The signature scheme is the channel key's (Ed25519, RFC 8032, or RSASSA-PSS-3072,
// RFC 8017): channel-keys.ts parses the key and verifies; nothing here depends on the scheme.
import { domainTag } from './keys.js';
import { verifyChannelSignature, type ChannelSigningKey } from './channel-keys.js';
import { formatAmount, parseAmount } from './amount.js';
import type { Store } from '../store/index.js';

const VOUCHER_TAG = domainTag('voucher');
const CHANNEL_ID_RE = /^[0-9a-f]{64}$/;

export interface Voucher {
  /** channel id: the ledger id of the channel's opening (64 hex) */
  channel: string;
  /** total paid through the channel so far, base units, decimal string */
  cumulative: string;
  /** 1, 2, 3, ... */
  sequence: number;
  /** signature by the channel key, lowercase hex (128 chars for ed25519, 768 for rsa-pss-3072) */
  signature: string;
}

export type VoucherRefusal = 'bad_signature' | 'replayed' | 'reordered' | 'over_deposit' | 'unknown_channel' | 'closed' | 'malformed';

export type VoucherVerdict =
  | { ok: true; cumulative: bigint; sequence: number; increment: bigint }
  | { ok: false; reason: VoucherRefusal; message: string };

/** What the verifier must know about a channel: its key, deposit, and the best voucher so far. */
export interface ChannelView {
  channel: string;
  /** the channel key's wire form (channel-keys.ts), as named in the channel's opening */
  channelKey: string;
  deposit: bigint;
  /** ms since the epoch after which the client may reclaim; vouchers stop counting then */
  timeoutAt: number;
  cumulative: bigint;
  sequence: number;
}

export function voucherMessage(channel: string, cumulative: bigint, sequence: number): Buffer {
  const buf = Buffer.allocUnsafe(VOUCHER_TAG.length + 48);
  VOUCHER_TAG.copy(buf, 0);
  buf.write(channel, VOUCHER_TAG.length, 32, 'hex');
  buf.writeBigUInt64BE(cumulative, VOUCHER_TAG.length + 32);
  buf.writeBigUInt64BE(BigInt(sequence), VOUCHER_TAG.length + 40);
  return buf;
}

export function signVoucher(channelKey: ChannelSigningKey, channel: string, cumulative: bigint, sequence: number): Voucher {
  return {
    channel,
    cumulative: formatAmount(cumulative),
    sequence,
    signature: channelKey.signRaw(voucherMessage(channel, cumulative, sequence)).toString('hex'),
  };
}

/** Whether the voucher's signature is the channel key's (no state checks). */
export function voucherSignatureValid(voucher: Voucher, channelKey: string): boolean {
  if (!CHANNEL_ID_RE.test(voucher.channel)) return false;
  let cumulative: bigint;
  try {
    cumulative = parseAmount(voucher.cumulative, 'voucher.cumulative');
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(voucher.sequence) || voucher.sequence < 1) return false;
  return verifyChannelSignature(channelKey, voucherMessage(voucher.channel, cumulative, voucher.sequence), voucher.signature);
}

/**
 * Checks a voucher against the channel's state. Pure: the caller commits the new state
 * (cumulative, sequence) on success. Checks cheap things first, the signature last.
 */
export function checkVoucher(view: ChannelView, voucher: Voucher, now: number = Date.now()): VoucherVerdict {
  if (!voucher || typeof voucher !== 'object' || voucher.channel !== view.channel) {
    return { ok: false, reason: 'malformed', message: 'the voucher is not for this channel' };
  }
  let cumulative: bigint;
  try {
    cumulative = parseAmount(voucher.cumulative, 'voucher.cumulative');
  } catch (err) {
    return { ok: false, reason: 'malformed', message: (err as Error).message };
  }
  if (!Number.isSafeInteger(voucher.sequence) || voucher.sequence < 1) {
    return { ok: false, reason: 'malformed', message: 'voucher.sequence must be a positive integer' };
  }
  if (now >= view.timeoutAt) {
    return { ok: false, reason: 'closed', message: 'the channel has timed out' };
  }
  if (voucher.sequence === view.sequence) {
    return { ok: false, reason: 'replayed', message: `voucher ${voucher.sequence} was already accepted` };
  }
  if (voucher.sequence <= view.sequence) {
    return { ok: false, reason: 'reordered', message: `voucher sequence ${voucher.sequence} is not above ${view.sequence}` };
  }
  if (cumulative <= view.cumulative) {
    return { ok: false, reason: 'reordered', message: `cumulative ${cumulative} is not above ${view.cumulative}` };
  }
  if (cumulative > view.deposit) {
    return { ok: false, reason: 'over_deposit', message: `cumulative ${cumulative} exceeds the deposit ${view.deposit}` };
  }
  if (!verifyChannelSignature(view.channelKey, voucherMessage(view.channel, cumulative, voucher.sequence), voucher.signature)) {
    return { ok: false, reason: 'bad_signature', message: 'the voucher is not signed by the channel key' };
  }
  return { ok: true, cumulative, sequence: voucher.sequence, increment: cumulative - view.cumulative };
}

/**
 * The end of the paid period: a reservation started at `startedAt` (ms) and paid
 * `cumulative` at `pricePerSecond` base units per second is paid up to
 * startedAt + floor(cumulative * 1000 / pricePerSecond) ms. Integer arithmetic only.
 */
export function paidUntil(startedAt: number, cumulative: bigint, pricePerSecond: bigint): number {
  if (pricePerSecond <= 0n) throw new RangeError('pricePerSecond must be positive');
  return startedAt + Number((cumulative * 1000n) / pricePerSecond);
}

/**
 * The client side: holds the channel key and produces the next voucher. Clients create the
 * key with ChannelSigningKey.generate(), rsa-pss-3072 by default (the operator verifies
 * every voucher, and RSA verification is the cheaper one).
 */
export class VoucherSigner {
  private cumulative = 0n;
  private sequence = 0;

  constructor(
    private readonly channelKey: ChannelSigningKey,
    readonly channel: string,
    readonly deposit: bigint,
  ) {}

  /** Pays `increment` more; refuses to sign beyond the deposit. */
  pay(increment: bigint): Voucher {
    if (increment <= 0n) throw new RangeError('a voucher must pay something');
    const next = this.cumulative + increment;
    if (next > this.deposit) throw new RangeError(`cumulative ${next} would exceed the deposit ${this.deposit}`);
    this.cumulative = next;
    this.sequence += 1;
    return signVoucher(this.channelKey, this.channel, next, this.sequence);
  }

  get paid(): bigint {
    return this.cumulative;
  }
}

/** Where the operator learns a channel's key, deposit and timeout (the ledger). */
export interface ChannelSource {
  channelInfo(channel: string): Promise<{ channelKey: string; deposit: bigint; timeoutAt: number; payee: string; closed: boolean } | null>;
}

interface VoucherRow {
  channel: string;
  channel_key: string;
  deposit: bigint;
  timeout_at: bigint;
  cumulative: bigint;
  sequence: bigint;
  signature: string;
  settled_sequence: bigint;
  settled_cumulative: bigint;
}

/** Where the operator settles vouchers (LocalLedger): the entry, and the channel as the ledger sees it. */
export interface SettlementLedger {
  settleChannel(voucher: Voucher): unknown;
  channel(id: string): { settled: bigint; settledSequence: number } | undefined;
}

/** A settlement as made: the voucher now settled and what it added on the ledger. */
export interface ChannelSettlement {
  channel: string;
  sequence: number;
  cumulative: bigint;
  /** base units moved to the operator by this settlement */
  increment: bigint;
}

/**
 * The operator side, persisted: accepts vouchers for channels paying `payee`, keeps the
 * best voucher per channel in the store (so a restart neither forgets payments nor
 * accepts a replay), and hands the last voucher to settlement.
 */
export class ChannelBook {
  private readonly views = new Map<string, ChannelView>();

  constructor(
    private readonly store: Store,
    private readonly source: ChannelSource,
    private readonly payee: string,
    private readonly ledger: string = 'local',
    /** vouchers stop counting this long before the timeout, leaving time to settle */
    private readonly options: { settleMarginMs?: number } = {},
  ) {}

  /** Loads (from the store, else from the ledger) what is known about a channel. */
  async view(channel: string): Promise<ChannelView | null> {
    const cached = this.views.get(channel);
    if (cached) return cached;
    const row = this.row(channel);
    let view: ChannelView | null = null;
    if (row) {
      view = {
        channel,
        channelKey: row.channel_key,
        deposit: row.deposit,
        timeoutAt: Number(row.timeout_at),
        cumulative: row.cumulative,
        sequence: Number(row.sequence),
      };
    } else {
      const info = await this.source.channelInfo(channel);
      if (!info || info.payee !== this.payee || info.closed) return null;
      view = { channel, channelKey: info.channelKey, deposit: info.deposit, timeoutAt: info.timeoutAt, cumulative: 0n, sequence: 0 };
    }
    this.views.set(channel, view);
    return view;
  }

  /** Accepts a voucher if it counts; the new best voucher is stored before returning. */
  async accept(voucher: Voucher, now: number = Date.now()): Promise<VoucherVerdict> {
    if (!voucher || typeof voucher.channel !== 'string' || !CHANNEL_ID_RE.test(voucher.channel)) {
      return { ok: false, reason: 'malformed', message: 'voucher.channel must be 64 hex characters' };
    }
    const view = await this.view(voucher.channel);
    if (!view) return { ok: false, reason: 'unknown_channel', message: `no open channel ${voucher.channel} pays this operator` };
    const verdict = checkVoucher(view, voucher, now + (this.options.settleMarginMs ?? 0));
    if (!verdict.ok) return verdict;
    // Compare-and-set against the stored row, in one IMMEDIATE transaction: another
    // connection that accepted a later voucher first wins, and this one is refused.
    const stored = this.store.immediate(() => {
      const row = this.store.db
        .prepare<[string], { sequence: bigint; cumulative: bigint }>('SELECT sequence, cumulative FROM payment_channel_vouchers WHERE channel = ?')
        .safeIntegers(true)
        .get(view.channel);
      if (row && (Number(row.sequence) >= verdict.sequence || row.cumulative >= verdict.cumulative)) return false;
      this.store.db
        .prepare(
          `INSERT INTO payment_channel_vouchers (channel, ledger, channel_key, deposit, timeout_at, cumulative, sequence, signature, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (channel) DO UPDATE SET cumulative = excluded.cumulative, sequence = excluded.sequence,
             signature = excluded.signature, updated_at = excluded.updated_at`,
        )
        .run(view.channel, this.ledger, view.channelKey, view.deposit, view.timeoutAt, verdict.cumulative, verdict.sequence, voucher.signature, now);
      return true;
    });
    if (!stored) {
      this.views.delete(view.channel);
      return { ok: false, reason: 'reordered', message: 'a later voucher was accepted meanwhile' };
    }
    view.cumulative = verdict.cumulative;
    view.sequence = verdict.sequence;
    return verdict;
  }

  /** End of the paid period of a reservation paid through `channel` (see paidUntil). */
  async paidUntil(channel: string, startedAt: number, pricePerSecond: bigint): Promise<number> {
    const view = await this.view(channel);
    return paidUntil(startedAt, view?.cumulative ?? 0n, pricePerSecond);
  }

  /**
   * Settles the best voucher of `channel` on the ledger, unless it is settled already.
   * The ledger entry and the book's record of it are written in one transaction (the
   * local ledger shares the store), so a crash leaves either both or neither, and a
   * second call, in this process or after a restart, settles nothing twice. When the
   * ledger holds a settlement the book did not make (the payer may settle a voucher
   * too), the book takes the ledger's figures. Returns what is settled now, or null
   * when there was nothing to settle.
   */
  settle(channel: string, ledger: SettlementLedger, now: number = Date.now()): ChannelSettlement | null {
    return this.store.immediate(() => {
      const row = this.row(channel);
      if (!row || row.sequence <= row.settled_sequence) return null;
      const voucher: Voucher = { channel, cumulative: formatAmount(row.cumulative), sequence: Number(row.sequence), signature: row.signature };
      let settled = { sequence: Number(row.sequence), cumulative: row.cumulative };
      try {
        ledger.settleChannel(voucher);
      } catch (err) {
        const onLedger = ledger.channel(channel);
        const code = (err as { code?: unknown }).code;
        if (!onLedger || (code !== 'duplicate' && code !== 'reordered') || onLedger.settledSequence < Number(row.sequence)) throw err;
        settled = { sequence: onLedger.settledSequence, cumulative: onLedger.settled };
      }
      this.store.db
        .prepare('UPDATE payment_channel_vouchers SET settled_sequence = ?, settled_cumulative = ?, settled_at = ? WHERE channel = ?')
        .run(settled.sequence, settled.cumulative, now, channel);
      return { channel, sequence: settled.sequence, cumulative: settled.cumulative, increment: settled.cumulative - row.settled_cumulative };
    });
  }

  /** Channels with an accepted voucher that is not settled yet, soonest timeout first. */
  unsettled(): { channel: string; timeoutAt: number; sequence: number; cumulative: bigint }[] {
    return this.store.db
      .prepare<[], VoucherRow>('SELECT * FROM payment_channel_vouchers WHERE sequence > settled_sequence ORDER BY timeout_at')
      .safeIntegers(true)
      .all()
      .map((r) => ({ channel: r.channel, timeoutAt: Number(r.timeout_at), sequence: Number(r.sequence), cumulative: r.cumulative }));
  }

  private row(channel: string): VoucherRow | undefined {
    return this.store.db.prepare<[string], VoucherRow>('SELECT * FROM payment_channel_vouchers WHERE channel = ?').safeIntegers(true).get(channel);
  }

  /** The best voucher accepted so far (what the operator settles). */
  lastVoucher(channel: string): Voucher | null {
    const row = this.row(channel);
    if (!row) return null;
    return { channel, cumulative: formatAmount(row.cumulative), sequence: Number(row.sequence), signature: row.signature };
  }
}

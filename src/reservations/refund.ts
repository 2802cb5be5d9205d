// What a cancelled reservation gives back: the unused part of its paid time, pro rata,
// minus the operator's cancellation fee (reservations.cancelFee). Integer arithmetic on
// ledger base units, rounded in the operator's favour by at most one unit each:
//   unused = expiresAt − max(now, startsAt)            (0 when the time is over)
//   gross  = ⌊paid × unused / (expiresAt − startsAt)⌋, at most `refundable`
//   fee    = ⌈gross × feePpm / 10⁶⌉
//   amount = gross − fee
// `refundable` is what ledger transfers paid for the reservation: money promised by channel
// vouchers reaches the operator only when the channel is settled, so it is not paid back
// from the operator's account.

export interface RefundTerms {
  /** base units, everything paid for the reservation */
  paid: bigint;
  /** base units paid by ledger transfers (the most a refund may give back) */
  refundable: bigint;
  startsAt: number;
  expiresAt: number;
  now: number;
  /** the fee as parts per million of the gross refund */
  feePpm: number;
}

export interface RefundAmount {
  unusedMs: number;
  gross: bigint;
  fee: bigint;
  amount: bigint;
}

export function feePpmOf(fraction: number): number {
  return Math.min(1_000_000, Math.max(0, Math.round(fraction * 1_000_000)));
}

export function refundOf(t: RefundTerms): RefundAmount {
  const total = t.expiresAt - t.startsAt;
  const unusedMs = Math.max(0, t.expiresAt - Math.max(t.now, t.startsAt));
  if (total <= 0 || unusedMs === 0 || t.paid <= 0n) return { unusedMs, gross: 0n, fee: 0n, amount: 0n };
  let gross = (t.paid * BigInt(unusedMs)) / BigInt(total);
  if (gross > t.refundable) gross = t.refundable < 0n ? 0n : t.refundable;
  const ppm = BigInt(t.feePpm);
  const fee = (gross * ppm + 999_999n) / 1_000_000n;
  return { unusedMs, gross, fee, amount: gross - fee };
}

// Money amounts: integer base units as bigint, never floats. Why bigint rather than safe
// integers: IOTA amounts are u64 nanos (total supply ≈ 4.6e18 > 2^53), and one type for
// both ledgers keeps the Ledger interface honest. On the wire (JSON) and in signed
// messages an amount is a decimal string of digits; in SQLite an INTEGER (i64, read
// back with safeIntegers), so amounts are limited to [0, 2^63 - 1].

export const MAX_AMOUNT = (1n << 63n) - 1n;

export class AmountError extends Error {
  override name = 'AmountError';
}

/** Parses a non-negative integer amount from a decimal string, a bigint or a safe integer. */
export function parseAmount(value: unknown, what = 'amount'): bigint {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new AmountError(`${what} must be an integer number of base units`);
    n = BigInt(value);
  } else if (typeof value === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(value)) n = BigInt(value);
  else throw new AmountError(`${what} must be a decimal string of base units (digits only)`);
  if (n < 0n || n > MAX_AMOUNT) throw new AmountError(`${what} is out of range [0, 2^63-1]`);
  return n;
}

/** Like parseAmount, but zero is refused. */
export function parsePositiveAmount(value: unknown, what = 'amount'): bigint {
  const n = parseAmount(value, what);
  if (n === 0n) throw new AmountError(`${what} must be greater than zero`);
  return n;
}

export function formatAmount(n: bigint): string {
  return n.toString(10);
}

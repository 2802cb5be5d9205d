// How the CLI prints money, one rule for every command: an amount (what a ledger moves: an
// integer number of base units, src/payments/amount.ts) is printed as that exact integer
// followed by "base units"; a price (what the pricing computes: a real number of currency
// units per Mbit/s per second) is printed with PRICE_DECIMALS fixed decimals, so a binary
// float such as 5.3999999999999995 reads 5.400000. No other form of money is printed.
import { parseAmount } from '../payments/amount.js';

/** Decimals of a price: micro-units, the resolution of the local ledger's default base unit. */
export const PRICE_DECIMALS = 6;

/** A price or other real-valued sum of currency units, with PRICE_DECIMALS fixed decimals. */
export function formatPrice(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = value.toFixed(PRICE_DECIMALS);
  // -0.000000 says nothing that 0.000000 does not
  return /^-0\.0+$/.test(text) ? text.slice(1) : text;
}

/** An amount (decimal string, bigint or safe integer of base units), exactly: "5400000 base units". */
export function formatBaseUnits(amount: string | bigint | number): string {
  return `${parseAmount(amount).toString(10)} base units`;
}

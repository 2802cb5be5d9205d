// Reading what a client sends into terms the service can act on: the rate and duration
// within the configured limits, the flow match (RFC 791 / RFC 8200 addresses, IP protocol
// numbers, ports, the IPv6 flow label), a payment proof and a quote id. Every check throws
// a Refusal before anything is written.
import type { ReservationsConfig } from '../config/types.js';
import type { PaymentProof } from '../payments/ledger.js';
import type { FlowMatch } from '../network/contracts.js';
import { normaliseHostAddress } from '../network/topology.js';
import { parseDuration, parseRate } from '../util/units.js';
import { Refusal } from './refusal.js';
import type { QuoteRequest } from './types.js';

const MAX_AMOUNT = (1n << 63n) - 1n;
const ID = /^[0-9a-f]{32}$/;

export function rateOf(value: unknown, limits: ReservationsConfig): number {
  const parsed = parseRate(value, { minBps: limits.minRateBps, maxBps: limits.maxRateBps });
  if (!parsed.ok) throw new Refusal('bad_rate', parsed.error);
  return parsed.value;
}

/** A number is milliseconds here (parseDuration reads a plain number as seconds). */
export function durationOf(value: unknown, limits: ReservationsConfig): number {
  const input = typeof value === 'number' ? `${value}ms` : value;
  const parsed = parseDuration(input, { minMs: limits.minDurationMs, maxMs: limits.maxDurationMs });
  if (!parsed.ok) throw new Refusal('bad_duration', parsed.error);
  return parsed.value;
}

export function flowMatchOf(req: QuoteRequest): FlowMatch {
  const src = typeof req.src === 'string' ? normaliseHostAddress(req.src) : undefined;
  const dst = typeof req.dst === 'string' ? normaliseHostAddress(req.dst) : undefined;
  if (!src) throw new Refusal('bad_address', `src ${JSON.stringify(req.src)} is not a unicast IPv4 or IPv6 address`);
  if (!dst) throw new Refusal('bad_address', `dst ${JSON.stringify(req.dst)} is not a unicast IPv4 or IPv6 address`);
  if (src.family !== dst.family) throw new Refusal('bad_address', 'src and dst must both be IPv4 or both IPv6');
  if (src.address === dst.address) throw new Refusal('bad_address', 'src and dst are the same address');
  const match: FlowMatch = { src: src.address, dst: dst.address };
  const int = (v: unknown, name: string, max: number): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      throw new Refusal('bad_match', name === 'flowLabel' ? `flowLabel must be a 20-bit integer from 0 to ${max}, or "auto"` : `${name} must be an integer from 0 to ${max}`);
    }
    return v;
  };
  const proto = int(req.proto, 'proto', 255);
  const srcPort = int(req.srcPort, 'srcPort', 65535);
  const dstPort = int(req.dstPort, 'dstPort', 65535);
  const auto = req.flowLabel === 'auto';
  if (auto && src.family !== 6) throw new Refusal('bad_match', 'flowLabel needs IPv6 addresses');
  const flowLabel = auto ? undefined : int(req.flowLabel, 'flowLabel', 0xfffff);
  if ((srcPort !== undefined || dstPort !== undefined) && proto !== 6 && proto !== 17 && proto !== 132) {
    throw new Refusal('bad_match', 'ports need proto 6 (TCP), 17 (UDP) or 132 (SCTP)');
  }
  if (flowLabel !== undefined && src.family !== 6) throw new Refusal('bad_match', 'flowLabel needs IPv6 addresses');
  if (proto !== undefined) match.proto = proto;
  if (srcPort !== undefined) match.srcPort = srcPort;
  if (dstPort !== undefined) match.dstPort = dstPort;
  if (flowLabel !== undefined) match.flowLabel = flowLabel;
  return match;
}

/** A price in currency units as ledger base units, rounded up; at least 1. */
export function amountOf(totalPrice: number, baseUnitsPerCurrencyUnit: number): bigint {
  const units = totalPrice * baseUnitsPerCurrencyUnit;
  if (!Number.isFinite(units) || units > Number(MAX_AMOUNT) / 2) throw new Refusal('price_too_large', 'the price of this reservation is too large to pay in one transfer; ask for less');
  const amount = BigInt(Math.ceil(units));
  return amount < 1n ? 1n : amount;
}

export function quoteIdOf(value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value)) throw new Refusal('bad_quote', 'quoteId must be the id of a quote (32 hex digits)');
  return value;
}

/** A reservation id that cannot exist is refused like an unknown one. */
export function reservationIdOf(value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value)) throw new Refusal('unknown_reservation', `no reservation ${String(value)}`);
  return value;
}

export function proofOf(payment: unknown): PaymentProof {
  const p = payment as PaymentProof | undefined;
  if (!p || typeof p !== 'object' || typeof p.id !== 'string' || p.id === '' || (p.ledger !== 'local' && p.ledger !== 'iota')) {
    throw new Refusal('bad_payment', 'payment must be { ledger, id }');
  }
  return { ledger: p.ledger, id: p.id };
}

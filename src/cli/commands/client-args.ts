// Shared by `payflow quote`, `payflow reserve` and `payflow reservations`: the flow options,
// the operator token (--token or PAYFLOW_TOKEN) and the text form of a quote and a reservation (money as src/cli/money.ts prints it).
import { flagString, UsageError, type ParsedArgs } from '../args.js';
import type { QuoteRequest, QuoteView, ReservationView } from '../../reservations/types.js';
import { formatBaseUnits, formatPrice } from '../money.js';

export const FLOW_FLAGS = ['api', 'src', 'dst', 'rate', 'duration', 'class', 'proto', 'src-port', 'dst-port', 'flow-label'] as const;

export const FLOW_USAGE = [
  '  --api URL        the controller (default http://127.0.0.1:8080)',
  '  --src IP --dst IP   the flow: source and destination host (IPv4 or IPv6)',
  '  --rate RATE      e.g. 5mbit, 800kbit (bits/s)',
  '  --duration TIME  e.g. 60s, 10m, 2h',
  '  --class ID       service class (default: the first that is not best effort; see the menu)',
  '  --proto N --src-port N --dst-port N --flow-label N|auto   narrow the match (optional)',
];

/** The operator token of --token, else of the environment's PAYFLOW_TOKEN (kept out of the process list). */
export function operatorToken(args: ParsedArgs): string | undefined {
  return flagString(args, 'token') ?? (process.env['PAYFLOW_TOKEN'] || undefined);
}

/** The same, as the ledger client's option. */
export function operatorTokenOption(args: ParsedArgs): { token?: string } {
  const token = operatorToken(args);
  return token === undefined ? {} : { token };
}

export function apiUrl(args: ParsedArgs): string {
  return flagString(args, 'api') ?? 'http://127.0.0.1:8080';
}

function intFlag(args: ParsedArgs, name: string): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  return Number(v);
}

export function quoteRequest(args: ParsedArgs): QuoteRequest {
  const src = flagString(args, 'src');
  const dst = flagString(args, 'dst');
  const rate = flagString(args, 'rate');
  const duration = flagString(args, 'duration');
  if (!src || !dst) throw new UsageError('--src and --dst are required');
  if (!rate) throw new UsageError('--rate is required');
  if (!duration) throw new UsageError('--duration is required');
  const input: QuoteRequest = { src, dst, rate, duration };
  const cls = flagString(args, 'class');
  if (cls !== undefined) input.classId = cls;
  const proto = intFlag(args, 'proto');
  const srcPort = intFlag(args, 'src-port');
  const dstPort = intFlag(args, 'dst-port');
  const flowLabel = flagString(args, 'flow-label') === 'auto' ? 'auto' : intFlag(args, 'flow-label');
  if (proto !== undefined) input.proto = proto;
  if (srcPort !== undefined) input.srcPort = srcPort;
  if (dstPort !== undefined) input.dstPort = dstPort;
  if (flowLabel !== undefined) input.flowLabel = flowLabel;
  return input;
}

export function quoteText(q: QuoteView): string {
  const t = q.quote.terms as Record<string, unknown>;
  return [
    `quote ${q.quote.id}`,
    `  class ${String(t['classId'])}, ${String(t['rateBps'])} bit/s for ${String(t['durationMs'])} ms`,
    `  price ${formatPrice(q.unitPrice)} per Mbit/s per s, total ${formatPrice(q.totalPrice)} = ${formatBaseUnits(q.quote.amount)} to ${q.quote.payTo}`,
    `  valid until ${new Date(q.quote.expiresAt).toISOString()}; at most ${q.maxFitBps} bit/s fits now${q.bottleneck ? ` (bottleneck ${q.bottleneck.resource})` : ''}`,
  ].join('\n');
}

/** The flow a reservation matches: "10.0.0.1 -> 10.0.0.2 proto 17 dport 5001". */
export function flowText(r: ReservationView): string {
  const m = r.match;
  return `${m.src} -> ${m.dst}${m.proto !== undefined ? ` proto ${m.proto}` : ''}${m.srcPort !== undefined ? ` sport ${m.srcPort}` : ''}${m.dstPort !== undefined ? ` dport ${m.dstPort}` : ''}${m.flowLabel !== undefined ? ` label ${m.flowLabel}` : ''}`;
}

export function reservationText(r: ReservationView): string {
  return [
    `reservation ${r.id} ${r.state}`,
    `  ${flowText(r)}`,
    `  class ${r.classId} (dscp ${r.dscp}), ${r.rateBps} bit/s, burst ${r.burstBits} bit`,
    `  from ${new Date(r.startsAt).toISOString()} until ${new Date(r.expiresAt).toISOString()}, paid ${formatBaseUnits(r.paid)}`,
    `  path ${r.path.resources.join(' ')}`,
  ].join('\n');
}

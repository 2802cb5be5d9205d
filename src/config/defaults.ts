// The configuration the controller runs with when there is no payflow.yaml:
// three classes modelled on the pricing seed's scenario (004, section 6: FID 15 gold,
// base 0.16, target 50 %; FID 12 silver, base 0.09, target 70 %; FID 8 best effort,
// base 0.04, target 100 %), the embedded local ledger, SQLite under ./payflow-data.
import type { PayflowConfig, ServiceClassConfig } from './types.js';

/** Pmax_i defaults to this multiple of Pbase_i when a class does not give one. */
export const DEFAULT_MAX_PRICE_FACTOR = 10;

export const DEFAULT_CLASSES: readonly ServiceClassConfig[] = Object.freeze([
  {
    id: 'gold',
    name: 'Gold',
    basePrice: 0.16,
    maxPrice: 1.6,
    target: 0.5,
    share: 0.4,
    dscp: 46, // EF (RFC 3246)
    bestEffort: false,
    excess: 'drop',
    policing: { green: 'forward', yellow: 'drop', red: 'drop' },
  },
  {
    id: 'silver',
    name: 'Silver',
    basePrice: 0.09,
    maxPrice: 0.9,
    target: 0.7,
    share: 0.3,
    dscp: 26, // AF31 (RFC 2597)
    bestEffort: false,
    excess: 'drop',
    policing: { green: 'forward', yellow: 'drop', red: 'drop' },
  },
  {
    id: 'best-effort',
    name: 'Best effort',
    basePrice: 0.04,
    maxPrice: 0.4,
    target: 1,
    share: 0.3,
    dscp: 0, // default PHB
    bestEffort: true,
    excess: 'drop',
    policing: { green: 'forward', yellow: 'drop', red: 'drop' },
  },
]);

/** A fresh copy of the defaults (callers may mutate their copy). */
export function defaultConfig(): PayflowConfig {
  return {
    dataDir: './payflow-data',
    log: { level: 'info' },
    openflow: {
      // Loopback unless the switches are authenticated (openflow.tls) or listed (openflow.switches).
      listen: { host: '127.0.0.1', port: 6653 },
      listenReason: 'loopback only: without openflow.tls or openflow.switches any peer could claim to be a switch; set openflow.listen to choose',
      connect: [],
      echoIntervalMs: 5000,
    },
    http: {
      listen: { host: '127.0.0.1', port: 8080 },
      requestTimeoutMs: 10_000,
      connectionTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      bodyLimitBytes: 64 * 1024,
      rateLimit: { perAddress: { max: 1200, windowMs: 60_000 }, perKey: { max: 600, windowMs: 60_000 } },
      signatureWindowMs: 60_000,
      idempotencyRetentionMs: 24 * 3_600_000,
      tokens: [],
    },
    ledger: { kind: 'local', testbed: false, baseUnitsPerCurrencyUnit: 1_000_000 },
    pricing: { mode: 'exponential', demand: 'max', demandWindowMs: 10_000 },
    stats: { pollIntervalMs: 1000 },
    topology: { lldpIntervalMs: 5000, linkTimeoutMs: 15_000, hostTimeoutMs: 300_000 },
    links: { defaultCapacityBps: 1e9, usePortSpeed: true, overrides: [] },
    egress: { shape: 'auto', agents: [] },
    reservations: {
      minRateBps: 8000,
      maxRateBps: 10e9,
      minDurationMs: 1000,
      maxDurationMs: 7 * 24 * 3600 * 1000,
      burstMs: 50,
      quoteTtlMs: 30_000,
      quoteRetentionMs: 3_600_000,
      cancelFee: 0,
      maxActivePerPayer: 100,
      channelSettleMarginMs: 10 * 60_000,
      channelMinLifetimeMs: 15 * 60_000,
      stranded: { policy: 'refund', graceMs: 3_600_000 },
    },
    classes: DEFAULT_CLASSES.map((c) => ({ ...c, policing: { ...c.policing } })),
  };
}

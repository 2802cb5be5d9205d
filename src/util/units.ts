// Units parsing for configuration files and the CLI: rates ("5mbit", "500kbit", "1gbit",
// "1.5 Mbps", plain bits/s) and durations ("60s", "5m", "1h", "250ms", plain seconds).
// Project conventions (docs/design.md): rates and capacities are bits per second, prices are
// currency units per Mbit/s of reserved rate per second, data-plane time is ns.
// Prefixes are decimal (k = 1000), as in networking (and tc's "kbit"/"mbit"). A capital
// "B" alone ("MB/s", "kBps", "GB") means bytes and is multiplied by 8. The parsers never
// throw: they return a typed result whose error says what was wrong.

export type UnitsResult<T> = { ok: true; value: T } | { ok: false; error: string };

export interface RateLimits {
  /** smallest accepted rate in bits/s, inclusive (default 1) */
  minBps?: number;
  /** largest accepted rate in bits/s, inclusive (default 10 Tbit/s) */
  maxBps?: number;
}

export interface DurationLimits {
  /** shortest accepted duration in ms, inclusive (default 1 ms) */
  minMs?: number;
  /** longest accepted duration in ms, inclusive (default 10 years) */
  maxMs?: number;
}

/** 10 Tbit/s: far above any single link this controller will meet; anything larger is a typo. */
export const MAX_RATE_BPS = 10e12;
/** Ten years, in ms: longer than any reservation or timer that makes sense. */
export const MAX_DURATION_MS = 10 * 365 * 24 * 3600 * 1000;

const RATE_PREFIX: Readonly<Record<string, number>> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
const BIT_UNITS = new Set(['bit', 'bits', 'bps', 'b/s', 'bit/s', 'bits/s']);
const BYTE_UNITS = new Set(['byte', 'bytes', 'byte/s', 'bytes/s']);

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

// A plain decimal number: no hex, no "Infinity", no leading "+", optional exponent.
const NUMBER_THEN_UNIT = /^(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/]*)$/;
const MAX_TEXT_LENGTH = 64;

function describe(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input.length > MAX_TEXT_LENGTH ? `${input.slice(0, MAX_TEXT_LENGTH)}…` : input);
  if (typeof input === 'number' || typeof input === 'bigint' || typeof input === 'boolean') return String(input);
  if (input === null) return 'null';
  return typeof input;
}

/** Splits "1.5 Mbps" into 1.5 and "Mbps"; refuses everything that is not a finite decimal. */
function splitNumber(input: unknown, kind: string): UnitsResult<{ n: number; unit: string }> {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, error: `${kind} must be a finite number, got ${describe(input)}` };
    return { ok: true, value: { n: input, unit: '' } };
  }
  if (typeof input !== 'string') return { ok: false, error: `${kind} must be a string such as ${kind === 'rate' ? '"5mbit"' : '"60s"'} or a number, got ${describe(input)}` };
  const text = input.trim();
  if (text.length === 0) return { ok: false, error: `${kind} is empty` };
  if (text.length > MAX_TEXT_LENGTH) return { ok: false, error: `${kind} ${describe(input)} is too long` };
  const m = NUMBER_THEN_UNIT.exec(text);
  if (!m) return { ok: false, error: `${kind} ${describe(input)} is not a number followed by an optional unit` };
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return { ok: false, error: `${kind} ${describe(input)} is not finite` };
  return { ok: true, value: { n, unit: m[2]! } };
}

/** Multiplier (bits/s per unit) for a rate unit such as "mbit", "Mbps", "kB/s"; undefined when unknown. */
function rateMultiplier(unit: string): number | undefined {
  if (unit === '') return 1;
  // Byte units: the letter after the prefix is a capital B ("MB", "kBps", "GB/s") or a word "byte".
  const lower = unit.toLowerCase();
  for (const [prefix, scale] of Object.entries(RATE_PREFIX)) {
    if (prefix !== '' && lower[0] !== prefix) continue;
    const rest = unit.slice(prefix.length);
    const restLower = rest.toLowerCase();
    if (BYTE_UNITS.has(restLower)) return scale * 8;
    if (rest === 'B' || rest === 'Bps' || rest === 'B/s') return scale * 8;
    if (BIT_UNITS.has(restLower)) return scale;
  }
  return undefined;
}

/** Parses a rate into integer bits per second. */
export function parseRate(input: unknown, limits: RateLimits = {}): UnitsResult<number> {
  const split = splitNumber(input, 'rate');
  if (!split.ok) return split;
  const { n, unit } = split.value;
  const multiplier = rateMultiplier(unit);
  if (multiplier === undefined) {
    return { ok: false, error: `rate ${describe(input)} has an unknown unit "${unit}" (use bit, kbit, mbit, gbit, tbit, bps, kbps, Mbps, Gbps; decimal prefixes)` };
  }
  const bps = n * multiplier;
  if (!Number.isFinite(bps)) return { ok: false, error: `rate ${describe(input)} is not finite` };
  if (bps < 0) return { ok: false, error: `rate ${describe(input)} is negative` };
  if (bps === 0) return { ok: false, error: `rate ${describe(input)} is zero` };
  const rounded = Math.round(bps);
  const min = limits.minBps ?? 1;
  const max = limits.maxBps ?? MAX_RATE_BPS;
  if (rounded < min) return { ok: false, error: `rate ${describe(input)} is below the minimum of ${formatRate(min)}` };
  if (rounded > max) return { ok: false, error: `rate ${describe(input)} is above the maximum of ${formatRate(max)}` };
  return { ok: true, value: rounded };
}

/** Parses a duration into milliseconds (a plain number means seconds). */
export function parseDuration(input: unknown, limits: DurationLimits = {}): UnitsResult<number> {
  const split = splitNumber(input, 'duration');
  if (!split.ok) return split;
  const { n, unit } = split.value;
  const multiplier = unit === '' ? 1000 : DURATION_UNITS[unit.toLowerCase()];
  // "M" for minutes is refused: in "5M" it reads as mega or months.
  if (multiplier === undefined || unit === 'M') {
    return { ok: false, error: `duration ${describe(input)} has an unknown unit "${unit}" (use ms, s, m, h, d)` };
  }
  const ms = n * multiplier;
  if (!Number.isFinite(ms)) return { ok: false, error: `duration ${describe(input)} is not finite` };
  if (ms < 0) return { ok: false, error: `duration ${describe(input)} is negative` };
  if (ms === 0) return { ok: false, error: `duration ${describe(input)} is zero` };
  const rounded = Math.round(ms);
  const min = limits.minMs ?? 1;
  const max = limits.maxMs ?? MAX_DURATION_MS;
  if (rounded < min) return { ok: false, error: `duration ${describe(input)} is below the minimum of ${formatDuration(min)}` };
  if (rounded > max) return { ok: false, error: `duration ${describe(input)} is above the maximum of ${formatDuration(max)}` };
  return { ok: true, value: rounded };
}

export class UnitsError extends Error {
  override name = 'UnitsError';
}

/** parseRate that throws a UnitsError (for callers that already validated the shape). */
export function rateBps(input: unknown, limits?: RateLimits): number {
  const r = parseRate(input, limits);
  if (!r.ok) throw new UnitsError(r.error);
  return r.value;
}

/** parseDuration that throws a UnitsError. */
export function durationMs(input: unknown, limits?: DurationLimits): number {
  const r = parseDuration(input, limits);
  if (!r.ok) throw new UnitsError(r.error);
  return r.value;
}

/** A short human form of a rate: 5000000 → "5mbit", 1500 → "1.5kbit". */
export function formatRate(bps: number): string {
  for (const [suffix, scale] of [['tbit', 1e12], ['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) {
    if (Math.abs(bps) >= scale) return `${trim(bps / scale)}${suffix}`;
  }
  return `${trim(bps)}bit`;
}

/** A short human form of a duration in ms: 60000 → "1m", 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  for (const [suffix, scale] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (Math.abs(ms) >= scale && (ms % scale === 0 || suffix === 's')) return `${trim(ms / scale)}${suffix}`;
  }
  return `${trim(ms)}ms`;
}

function trim(x: number): string {
  return String(Number(x.toPrecision(6)));
}

import { describe, expect, it } from 'vitest';
import { parseRate, parseDuration, rateBps, durationMs, formatRate, formatDuration, UnitsError, MAX_RATE_BPS } from '../../src/util/units.js';

function rateOf(x: unknown): number {
  const r = parseRate(x);
  if (!r.ok) throw new Error(`expected ok for ${String(x)}: ${r.error}`);
  return r.value;
}
function rateError(x: unknown): string {
  const r = parseRate(x);
  if (r.ok) throw new Error(`expected an error for ${String(x)}, got ${r.value}`);
  return r.error;
}
function durOf(x: unknown): number {
  const r = parseDuration(x);
  if (!r.ok) throw new Error(`expected ok for ${String(x)}: ${r.error}`);
  return r.value;
}
function durError(x: unknown): string {
  const r = parseDuration(x);
  if (r.ok) throw new Error(`expected an error for ${String(x)}, got ${r.value}`);
  return r.error;
}

describe('parseRate', () => {
  it.each([
    ['5mbit', 5_000_000],
    ['500kbit', 500_000],
    ['1gbit', 1_000_000_000],
    ['1.5 Mbps', 1_500_000],
    ['1.5Mbps', 1_500_000],
    ['250 kbps', 250_000],
    ['10Gbps', 10_000_000_000],
    ['2tbit', 2e12],
    ['64000', 64_000],
    [64000, 64_000],
    ['100bit', 100],
    ['100 bps', 100],
    ['100 bit/s', 100],
    ['3 Mbit/s', 3_000_000],
    ['1e6', 1_000_000],
    ['  7 mbit ', 7_000_000],
    ['1MB/s', 8_000_000],
    ['1 MBps', 8_000_000],
    ['2kB', 16_000],
    ['1 byte/s', 8],
    ['5MBIT', 5_000_000],
    ['0.5kbit', 500],
  ] as const)('%s → %d bit/s', (input, expected) => {
    expect(rateOf(input)).toBe(expected);
  });

  it('rounds to whole bits per second', () => {
    expect(rateOf('1.0000004kbit')).toBe(1000);
  });

  it.each([
    ['0', /zero/],
    ['0mbit', /zero/],
    ['-5mbit', /negative/],
    [-1, /negative/],
    ['NaN', /not a number/],
    [Number.NaN, /finite/],
    [Infinity, /finite/],
    ['Infinity', /not a number/],
    ['1e400', /not finite/],
    ['1e309 bit', /not finite/],
    ['5 furlongs', /unknown unit "furlongs"/],
    ['5kb', /unknown unit "kb"/],
    ['0x10', /not a number/],
    ['', /empty/],
    ['   ', /empty/],
    ['mbit', /not a number/],
    ['5 mbit extra', /not a number/],
    ['100tbit', /above the maximum/],
    ['0.1bit', /below the minimum/],
    [null, /must be a string/],
    [{}, /must be a string/],
    [true, /must be a string/],
    ['9'.repeat(100), /too long/],
  ] as const)('refuses %s', (input, pattern) => {
    expect(rateError(input)).toMatch(pattern);
  });

  it('honours custom limits', () => {
    expect(parseRate('5mbit', { maxBps: 1e6 })).toEqual({ ok: false, error: expect.stringMatching(/above the maximum of 1mbit/) });
    expect(parseRate('5kbit', { minBps: 8000 })).toEqual({ ok: false, error: expect.stringMatching(/below the minimum of 8kbit/) });
    expect(rateOf(MAX_RATE_BPS)).toBe(MAX_RATE_BPS);
  });

  it('has throwing forms with a typed error', () => {
    expect(rateBps('5mbit')).toBe(5e6);
    expect(() => rateBps('five')).toThrow(UnitsError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['60s', 60_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['2d', 172_800_000],
    ['90', 90_000],
    [30, 30_000],
    ['10 min', 600_000],
    ['3 seconds', 3000],
    ['1H', 3_600_000],
  ] as const)('%s → %d ms', (input, expected) => {
    expect(durOf(input)).toBe(expected);
  });

  it.each([
    ['0s', /zero/],
    ['-1s', /negative/],
    ['5M', /unknown unit "M"/],
    ['5 fortnights', /unknown unit/],
    ['1e400s', /not finite/],
    [Number.POSITIVE_INFINITY, /finite/],
    ['0.1ms', /below the minimum of 1ms/],
    ['100000d', /above the maximum/],
    ['s', /not a number/],
    [[], /must be a string/],
  ] as const)('refuses %s', (input, pattern) => {
    expect(durError(input)).toMatch(pattern);
  });

  it('honours custom limits and has a throwing form', () => {
    expect(parseDuration('1s', { minMs: 5000 })).toEqual({ ok: false, error: expect.stringMatching(/below the minimum of 5s/) });
    expect(durationMs('2m')).toBe(120_000);
    expect(() => durationMs('-2m')).toThrow(UnitsError);
  });
});

describe('formatting', () => {
  it('prints rates and durations compactly', () => {
    expect(formatRate(5_000_000)).toBe('5mbit');
    expect(formatRate(1500)).toBe('1.5kbit');
    expect(formatRate(12)).toBe('12bit');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(86_400_000)).toBe('1d');
  });

  it('round-trips through the parsers', () => {
    for (const bps of [1, 999, 1000, 64_000, 1_500_000, 5e6, 1e9, 2.5e9]) expect(rateOf(formatRate(bps))).toBe(bps);
    for (const ms of [1, 250, 1000, 1500, 60_000, 90_000, 3_600_000]) expect(durOf(formatDuration(ms))).toBe(ms);
  });
});

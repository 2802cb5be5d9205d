// payflow bench's human output: rates in natural units, never `4.70e-3 Mitems/s`.
import { describe, expect, it } from 'vitest';
import { fmtRate } from '../../bench/harness.js';

describe('bench rates', () => {
  it('prints M/s, k/s and /s with the time per item for slow single items', () => {
    expect(fmtRate(52.194)).toBe('52.19 M/s');
    expect(fmtRate(0.0212)).toBe('21.2 k/s');
    expect(fmtRate(0.00520)).toBe('5.2 k/s');
    expect(fmtRate(0.1663)).toBe('166 k/s');
    expect(fmtRate(2e-4)).toBe('200 /s (5.00 ms)');
    expect(fmtRate(1e-5)).toBe('10.0 /s (100.0 ms)');
    expect(fmtRate(0)).toBe('0 /s');
  });
});

// The CLI's formatting rules as units: money (src/cli/money.ts), short reservation ids
// (src/cli/commands/reservation-id.ts), the readable log line (src/util/logging.ts) and the
// banner's description of a listening address (src/cli/listen-addresses.ts).
import { describe, expect, it } from 'vitest';
import { formatBaseUnits, formatPrice } from '../../src/cli/money.js';
import { shortIds } from '../../src/cli/commands/reservation-id.js';
import { prettyLine } from '../../src/util/logging.js';
import { describeListen } from '../../src/cli/listen-addresses.js';

describe('money', () => {
  it('prices have 6 fixed decimals, whatever the float', () => {
    expect(formatPrice(5.3999999999999995)).toBe('5.400000');
    expect(formatPrice(43.199999999999996)).toBe('43.200000');
    expect(formatPrice(0.16)).toBe('0.160000');
    expect(formatPrice(0)).toBe('0.000000');
    expect(formatPrice(-1e-9)).toBe('0.000000');
    expect(formatPrice(1234567.1234564)).toBe('1234567.123456');
  });

  it('amounts are exact integers of base units, even beyond 2^53', () => {
    expect(formatBaseUnits('5400000')).toBe('5400000 base units');
    expect(formatBaseUnits(9007199254740993n)).toBe('9007199254740993 base units');
    expect(formatBaseUnits(7)).toBe('7 base units');
    expect(() => formatBaseUnits('5.4')).toThrow(/base units/);
  });
});

describe('short ids', () => {
  it('at least 8 digits, longer only where two ids share more', () => {
    const a = '7f820fc6aaaa0000000000000000000a';
    const b = '7f820fc6aaab0000000000000000000b';
    const c = '0123456789abcdef0123456789abcdef';
    const short = shortIds([a, b, c]);
    expect(short.get(a)).toBe('7f820fc6aaaa');
    expect(short.get(b)).toBe('7f820fc6aaab');
    expect(short.get(c)).toBe('01234567');
    expect(shortIds([c, c]).get(c)).toBe('01234567');
  });
});

describe('readable logs', () => {
  it('time, level, component, message and the other fields on one line', () => {
    const line = prettyLine(JSON.stringify({ level: 40, time: new Date(2026, 0, 2, 3, 4, 5, 6).getTime(), pid: 1, hostname: 'h', component: 'api', msg: 'slow', ms: 12 }));
    expect(line).toBe('03:04:05.006 WARN  [api] slow {"ms":12}');
  });

  it('an error gets its stack below, indented', () => {
    const line = prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } }));
    expect(line.split('\n')).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} ERROR failed$/), '    Error: boom', '        at x']);
  });

  it('a line that is not JSON passes through', () => {
    expect(prettyLine('plain text\n')).toBe('plain text');
  });
});

describe('listening addresses', () => {
  it('a specific address is shown as it is', () => {
    expect(describeListen({ address: '127.0.0.1', port: 8080 }, 'http')).toEqual({ main: 'http://127.0.0.1:8080', reachable: [] });
    expect(describeListen({ address: '::1', port: 8080 }, 'http').main).toBe('http://[::1]:8080');
  });

  it('a wildcard says all interfaces and lists the machine\'s addresses, loopback first', () => {
    const d = describeListen({ address: '0.0.0.0', port: 8080 }, 'http');
    expect(d.main).toBe('http://0.0.0.0:8080 (all interfaces)');
    expect(d.reachable[0]).toBe('http://127.0.0.1:8080');
    for (const u of d.reachable) expect(u).not.toMatch(/\[/); // IPv4 only for 0.0.0.0
    expect(describeListen({ address: '::', port: 6653 }).main).toBe('[::]:6653 (all interfaces)');
  });
});

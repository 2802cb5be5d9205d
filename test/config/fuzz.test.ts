import { describe, expect, it } from 'vitest';
import { validateConfig, parseConfigText } from '../../src/config/index.js';
import { parseRate, parseDuration } from '../../src/util/units.js';
import { mulberry32 } from '../../src/util/random.js';


const KEYS = ['dataDir', 'log', 'level', 'openflow', 'listen', 'http', 'ledger', 'kind', 'pricing', 'mode', 'stats', 'pollInterval', 'topology', 'links', 'overrides', 'dpid', 'port', 'capacity', 'reservations', 'classes', 'id', 'basePrice', 'target', 'share', 'dscp', 'bestEffort', 'policing', 'yellow', '__proto__', 'constructor'];
const SCALARS: unknown[] = [0, -1, 1, 0.5, 1e308, -0, Number.NaN, Infinity, '', '5mbit', '1s', 'gold', '0.0.0.0:1', true, false, null, undefined, 'x'.repeat(200), '-1e999', 2 ** 64];

function value(random: () => number, depth: number): unknown {
  const roll = random();
  if (depth > 3 || roll < 0.5) return SCALARS[Math.floor(random() * SCALARS.length)];
  if (roll < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(random, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 5); i > 0; i--) Object.defineProperty(o, KEYS[Math.floor(random() * KEYS.length)]!, { value: value(random, depth + 1), enumerable: true, configurable: true, writable: true });
  return o;
}

describe('hostile configuration input never throws', () => {
  it('random documents give a config or issues with paths', () => {
    const random = mulberry32(7);
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const r = validateConfig(value(random, 0));
      if (!r.ok) {
        refused++;
        expect(r.issues.length).toBeGreaterThan(0);
        for (const issue of r.issues) expect(typeof issue.message).toBe('string');
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it('random text gives issues, not exceptions', () => {
    const random = mulberry32(11);
    const alphabet = 'ab:- \n\t[]{}&*!|>\'"#%@`,?0123456789.';
    for (let i = 0; i < 2000; i++) {
      let text = '';
      for (let j = Math.floor(random() * 80); j > 0; j--) text += alphabet[Math.floor(random() * alphabet.length)];
      const r = parseConfigText(text);
      expect(typeof r.ok).toBe('boolean');
    }
  });

  it('unit parsers take any value', () => {
    const random = mulberry32(3);
    for (let i = 0; i < 5000; i++) {
      const v = value(random, 2);
      expect(typeof parseRate(v).ok).toBe('boolean');
      expect(typeof parseDuration(v).ok).toBe('boolean');
    }
  });
});

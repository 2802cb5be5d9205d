// Every benchmark suite that `payflow bench` runs, one line per area.
import type { BenchSuite } from './harness.js';
import { selfCheckSuite } from './selfcheck.js';

export const suites: readonly BenchSuite[] = [selfCheckSuite];

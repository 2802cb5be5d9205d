// A trivial case that keeps `payflow bench` meaningful before any area registers
// suites, and measures the harness's own floor (an empty operation over a batch).
import type { BenchSuite } from './harness.js';

export const selfCheckSuite: BenchSuite = {
  name: 'harness',
  cases: () => [
    {
      name: 'harness.noop',
      impl: 'ts',
      batch: 1,
      setup: () => {
        let sink = 0;
        return { run: () => { sink = (sink + 1) | 0; } };
      },
    },
  ],
};

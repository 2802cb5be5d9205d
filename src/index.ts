// The library's public exports: `import { ... } from 'payflow'`.
export { runSuites, formatTable } from '../bench/harness.js';
export type { BenchCase, BenchSuite, BenchResult, BenchOptions } from '../bench/harness.js';

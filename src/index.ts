// The library's public exports: `import { ... } from 'payflow'`.
export { runSuites, formatTable } from '../bench/harness.js';
export type { BenchCase, BenchSuite, BenchResult, BenchOptions } from '../bench/harness.js';
// Payments (ledgers, redemption, channels, signed quotes, ledger HTTP service) and the SQLite store: docs/payments.md.
export * from './payments/index.js';
export * from './store/index.js';

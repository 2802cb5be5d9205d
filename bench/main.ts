// What `payflow bench` loads, with one dynamic import (src/cli/commands/bench.ts): the harness
// and every suite. The library (src/) never imports bench/ statically, so that an install
// without the development dependencies (benny) still loads; only this command needs them.
export { formatTable, runSuites } from './harness.js';
export type { BenchResult, RunOptions } from './harness.js';
export { suites } from './suites.js';

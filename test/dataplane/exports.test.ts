// The wasm boundary, checked on the built modules: build/payflow.wasm exports exactly the
// batch API and the control calls the Engine uses (at most 30 functions, memory, nothing
// else); the benchmark-only entry points and probes are only in build/payflow.bench.wasm.
// Needs `npm run build:wasm` first.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const PRODUCTION_FUNCTIONS = [
  'abiVersion', 'engineInit', 'regionTable', 'inputBuffer', 'batch',
  'flowInsert', 'flowLookup', 'flowDelete', 'flowExpireIdle', 'flowNextUsed', 'flowsInUse',
  'ruleStore', 'ruleRemove', 'rulesCommit', 'defaultAction', 'bestEffort', 'classExcess',
  'metersConfigure', 'classesConfigure', 'pricingTick',
];
const BENCH_ONLY_FUNCTIONS = [
  'batchPartial', 'meterColor', 'meterTokens', 'meterLastNs',
  'classAccount', 'classMeasured', 'classAlpha', 'classMaxPrice', 'priceAtDemand',
];

function exportsOf(file: string): WebAssembly.ModuleExportDescriptor[] {
  return WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(new URL(`../../build/${file}`, import.meta.url))));
}

const functions = (list: WebAssembly.ModuleExportDescriptor[]): string[] => list.filter((e) => e.kind === 'function').map((e) => e.name).sort();
const others = (list: WebAssembly.ModuleExportDescriptor[]): string[] => list.filter((e) => e.kind !== 'function').map((e) => `${e.name}:${e.kind}`).sort();

describe.each(['payflow.wasm', 'payflow.debug.wasm'])('exports of %s', (file) => {
  const list = exportsOf(file);

  it('are at most 30 functions: exactly the batch API and the Engine\'s control calls', () => {
    expect(functions(list).length).toBeLessThanOrEqual(30);
    expect(functions(list)).toEqual([...PRODUCTION_FUNCTIONS].sort());
  });

  it('besides the functions, only the memory', () => {
    expect(others(list)).toEqual(['memory:memory']);
  });
});

describe.each(['payflow.bench.wasm', 'payflow.bench.debug.wasm'])('exports of %s', (file) => {
  it('are the production ones plus the partial pipelines and probes', () => {
    const list = exportsOf(file);
    expect(functions(list)).toEqual([...PRODUCTION_FUNCTIONS, ...BENCH_ONLY_FUNCTIONS].sort());
    expect(others(list)).toEqual(['memory:memory']);
  });
});

// The switch module's wasm boundary, checked on the built files: build/payflow-switch.wasm (and
// its debug build) export exactly the batch call and the table / meter / group calls WasmPipeline uses, the egress scheduler's calls
// (at most 30 functions), the memory, and nothing else. Needs `npm run build:wasm` first.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const SWITCH_FUNCTIONS = [
  'abiVersion', 'switchInit', 'regionTable', 'inputBuffer', 'batch',
  'ruleAdd', 'ruleProgram', 'ruleRemove', 'meterSet', 'meterRemove', 'groupSet', 'groupRemove',
  'egressInit', 'egressQueue', 'egressRun', 'egressBacklog', 'egressRequests', 'egressSends', 'egressState', 'egressCounters',
];

describe.each(['payflow-switch.wasm', 'payflow-switch.debug.wasm'])('exports of %s', (file) => {
  const list = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(new URL(`../../build/${file}`, import.meta.url))));

  it('are at most 30 functions: exactly the batch call and the table, meter and group calls', () => {
    const functions = list.filter((e) => e.kind === 'function').map((e) => e.name).sort();
    expect(functions.length).toBeLessThanOrEqual(30);
    expect(functions).toEqual([...SWITCH_FUNCTIONS].sort());
  });

  it('besides the functions, only the memory', () => {
    expect(list.filter((e) => e.kind !== 'function').map((e) => `${e.name}:${e.kind}`)).toEqual(['memory:memory']);
  });
});

// PayFlow data plane (WebAssembly): the exported batch API. The host side that owns the
// memory layout and calls it is src/dataplane/engine.ts.
export * from './meter';
export * from './pricing';

/** Version of the host ↔ wasm interface; the Engine refuses a module with another. */
export function abiVersion(): u32 {
  return 1;
}

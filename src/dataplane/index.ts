// The data plane's public surface (docs/dataplane.md): the wasm Engine, its TypeScript twin,
// the shared types and the packed-record helpers.
export { Engine, defaultWasmPath } from './engine.js';
export { ReferenceEngine } from './reference/engine.js';
export * from './types.js';
export { encodeKey, decodeKey, parseAddress, formatAddress } from './keys.js';
export * as dataplaneLayout from './layout.js';

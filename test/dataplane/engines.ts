// Test helper: both engines, built the same way, for tests that run against each.
import { Engine } from '../../src/dataplane/engine.js';
import { ReferenceEngine } from '../../src/dataplane/reference/engine.js';
import type { DataPlane, EngineOptions } from '../../src/dataplane/types.js';

export const engineKinds = ['wasm', 'ts'] as const;
export type EngineKind = (typeof engineKinds)[number];

export function makeEngine(kind: EngineKind, options: EngineOptions = {}): DataPlane & { commitRules(): void; readonly tupleCount: number } {
  return kind === 'wasm' ? new Engine(options) : new ReferenceEngine(options);
}

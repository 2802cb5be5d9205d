// Partial pipelines for the data-plane benchmarks: pieces of the batch loop of pipeline.ts run
// alone, so that `payflow bench` can say where the time goes. Built only into the bench module
// (assembly/bench.ts → build/payflow.bench.wasm), never into build/payflow.wasm; docs/dataplane.md
// says what each mode measures. The TypeScript twin of this file is bench/support/partial-engine.ts.
import { count } from './accounting';
import { entryAt, flowFind } from './flowtable';
import { hashKey } from './hash';
import {
  C_CACHE_MISSES, D_IN_PORT, D_LENGTH, D_OFFSET, D_TIME, DESC_BYTES, E_CLASS, K_SPORT, MAX_BATCH, R_BAD_DESCRIPTOR, R_OK, S_HASH, S_REASON,
  STAGE_INFO_BYTES, STAGE_KEY_BYTES,
} from './layout';
import { meterColor } from './meter';
import { parseFrame } from './parser';
import { configured, descriptors, input, inputSize, keyScratch, sinkAdd, stageInfo, stageKeys, touchTables } from './pipeline';
import { classify, rulesRebuild } from './rules';

export const PARTIAL_PARSE: u32 = 1;
export const PARTIAL_EXACT: u32 = 2;
export const PARTIAL_WILDCARD: u32 = 3;
export const PARTIAL_METER: u32 = 4;

/**
 * Runs a partial pipeline over descriptors [0, n): PARTIAL_PARSE parse only; PARTIAL_EXACT
 * parse + exact-match lookup (a hit reads the cached decision, a miss is counted, nothing is
 * inserted); PARTIAL_WILDCARD parse + tuple-space classification (cache bypassed);
 * PARTIAL_METER meter only (meter id = frame index % meterMod, frame length as the size).
 * Returns a checksum of the results so that no step can be optimised away.
 */
export function processPartial(n: u32, mode: u32, meterMod: u32): u32 {
  if (!configured) return 0;
  if (n > MAX_BATCH) n = MAX_BATCH;
  rulesRebuild();
  const key = keyScratch;
  let sum: u32 = 0;
  if (mode == PARTIAL_EXACT) {
    // staged like processBatch: parse + hash + touch the slot for all, then look up
    for (let i: u32 = 0; i < n; i++) {
      const d = descriptors + i * DESC_BYTES;
      const si = stageInfo + i * STAGE_INFO_BYTES;
      const off = load<u32>(d + D_OFFSET);
      const len = load<u32>(d + D_LENGTH);
      store<u8>(si, R_BAD_DESCRIPTOR, S_REASON);
      if (off > inputSize || len > inputSize - off) continue;
      const k = stageKeys + i * STAGE_KEY_BYTES;
      const reason = parseFrame(input + off, len, load<u32>(d + D_IN_PORT), k);
      store<u8>(si, reason, S_REASON);
      if (reason != R_OK) continue;
      store<u32>(si, hashKey(k, 0), S_HASH);
    }
    sinkAdd(touchTables(n));
    for (let i: u32 = 0; i < n; i++) {
      const si = stageInfo + i * STAGE_INFO_BYTES;
      if (load<u8>(si, S_REASON) != R_OK) continue;
      const idx = flowFind(stageKeys + i * STAGE_KEY_BYTES, load<u32>(si, S_HASH));
      if (idx >= 0) sum += ((load<u8>(entryAt(idx as u32) + E_CLASS) as u32) & 63) + 1;
      else count(C_CACHE_MISSES, 1);
    }
    return sum;
  }
  for (let i: u32 = 0; i < n; i++) {
    const d = descriptors + i * DESC_BYTES;
    const off = load<u32>(d + D_OFFSET);
    const len = load<u32>(d + D_LENGTH);
    if (off > inputSize || len > inputSize - off) continue;
    if (mode == PARTIAL_METER) {
      sum += meterColor(i % meterMod, load<u64>(d + D_TIME), len, 0);
      continue;
    }
    const reason = parseFrame(input + off, len, load<u32>(d + D_IN_PORT), key) as u32;
    if (mode == PARTIAL_PARSE || reason != R_OK) {
      sum += reason + load<u16>(key + K_SPORT);
      continue;
    }
    sum += (classify(key) + 1) as u32;
  }
  return sum;
}

// PayFlow data plane (WebAssembly): the exported batch API. The host side that owns the
// memory layout and calls it is src/dataplane/engine.ts; docs/dataplane.md describes it.
// Configuration calls allocate (once, at engineInit); processBatch never does.
export * from './meter';
export * from './pricing';
import { ABI_VERSION, C_FLOWS_EXPIRED, COUNTER_COUNT, ENTRY_BYTES } from './layout';
import { count, counters } from './accounting';
import { setBestEffort as setBe } from './actions';
import { capacity, entries, flowCount, flowExpire, flowNext, flowRemove, flowTableBytes } from './flowtable';
import { configured, descriptors, flowInsertPinned, processPartial, flowLookupKey, input, inputReserve, inputSize, keyScratch, pipelineInit, processBatch, setDefaultAction, verdicts } from './pipeline';
import { ruleCapacity, ruleDelete, ruleGeneration, ruleSet, ruleStaging, rulesRebuild, tupleCount } from './rules';

/** Version of the host ↔ wasm interface; the Engine refuses a module with another. */
export function abiVersion(): u32 {
  return ABI_VERSION;
}

/** Allocates every table once. Returns 0, or -6 when called twice. */
export function engineInit(flowCapacity: u32, ruleCap: u32, initialInput: u32): i32 {
  if (configured) return -6;
  pipelineInit(flowCapacity, ruleCap, initialInput);
  return 0;
}

export function batch(n: u32): u32 {
  return processBatch(n);
}

export function inputBuffer(minBytes: u32): usize {
  return inputReserve(minBytes);
}
export function inputBufferSize(): u32 {
  return inputSize;
}
export function inputBufferAddress(): usize {
  return input;
}
export function descriptorAddress(): usize {
  return descriptors;
}
export function verdictAddress(): usize {
  return verdicts;
}
export function counterAddress(): usize {
  return counters;
}
export function counterCount(): u32 {
  return COUNTER_COUNT;
}
export function keyAddress(): usize {
  return keyScratch;
}
export function entryAddress(): usize {
  return entries;
}
export function entrySize(): u32 {
  return ENTRY_BYTES;
}
export function flowCapacity(): u32 {
  return capacity;
}
export function flowsInUse(): u32 {
  return flowCount;
}
export function flowTableMemory(): u32 {
  return flowTableBytes();
}
export function flowNextUsed(from: u32): i32 {
  return flowNext(from);
}
export function flowInsert(action: u32, cls: u32, queue: u32, dscp: u32, meter: i32, nowNs: u64): i32 {
  return flowInsertPinned(action, cls, queue, dscp, meter, nowNs);
}
export function flowLookup(): i32 {
  return flowLookupKey();
}
export function flowDelete(): i32 {
  const idx = flowLookupKey();
  if (idx < 0) return -5;
  flowRemove(idx as u32);
  return 0;
}
export function flowExpireIdle(nowNs: u64, idleNs: u64): u32 {
  const removed = flowExpire(nowNs, idleNs);
  count(C_FLOWS_EXPIRED, removed);
  return removed;
}
export function ruleStagingAddress(): usize {
  return ruleStaging;
}
export function ruleStore(id: u32): i32 {
  return ruleSet(id);
}
export function ruleRemove(id: u32): i32 {
  return ruleDelete(id);
}
export function rulesCommit(): void {
  rulesRebuild();
}
export function rulesCapacity(): u32 {
  return ruleCapacity;
}
export function rulesGeneration(): u32 {
  return ruleGeneration;
}
export function tuples(): u32 {
  return tupleCount;
}
export function defaultAction(action: u32, cls: u32, queue: u32, dscp: u32, meter: i32): void {
  setDefaultAction(action, cls, queue, dscp, meter);
}
export function bestEffort(cls: u32, queue: u32, dscp: u32): void {
  setBe(cls, queue, dscp);
}
export function batchPartial(n: u32, mode: u32, meterMod: u32): u32 {
  return processPartial(n, mode, meterMod);
}

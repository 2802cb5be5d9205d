// The per-batch pipeline: for each descriptor, parse → exact-match lookup (the cache) →
// on a miss or a stale decision, tuple-space classification → meter (meterColor) →
// action by colour (rewrite DSCP, queue, drop) → accounting → one verdict. Every buffer is
// allocated by engineInit / inputReserve; the loop itself never allocates.
import { meterColor } from './meter';
import { accountClass, accountFlow, count, countPacket, countersInit } from './accounting';
import { beClass, beDscp, beQueue, excessAction, excessWord, preColorOf, rewriteDscp, XP_TARGET } from './actions';
import { flowAdd, flowFind, flowTableInit, entryAt, entryTouch, slotTouch } from './flowtable';
import { hashKey } from './hash';
import {
  ACT_DOWNGRADE, ACT_DROP, ACT_FORWARD, C_ACTION, C_BYTES, C_CACHE_HITS, C_COLOR, C_PACKETS, C_REASON, C_CACHE_MISSES, C_FLOWS_INSERTED, C_REWRITES, C_TABLE_FULL,
  D_IN_PORT, D_LENGTH, D_OFFSET, D_TIME, DESC_BYTES, DSCP_KEEP, E_CLASS, E_DSCP, E_GEN, E_METER_QUEUE,
  E_RULE, EB_DROP, EB_KEEP, EB_PINNED, EB_USED, K_TOS, KEY_BYTES, MAX_BATCH, R_BAD_DESCRIPTOR, R_OK, RA_DROP, RL_ACTION, RL_CLASS,
  RL_DSCP, RL_METER, RL_QUEUE, S_FLOW, S_HASH, S_IP_VERSION, S_L3, S_REASON, STAGE_INFO_BYTES, STAGE_KEY_BYTES, V_ACTION, V_CLASS, V_COLOR, V_DSCP, V_FLAGS, V_FLOW, V_QUEUE, V_REASON, V_RULE,
  VERDICT_BYTES, VF_CACHE_HIT, VF_NEW_FLOW, VF_REWRITTEN, VF_UNTRACKED,
} from './layout';
import { parsedIpVersion, parsedL3, parseFrame } from './parser';
import { classify, ruleGeneration, ruleRecord, rulesInit, rulesRebuild } from './rules';

export let configured: bool = false;
export let descriptors: usize = 0;
export let verdicts: usize = 0;
export let input: usize = 0;
export let inputSize: u32 = 0;
export let keyScratch: usize = 0;
// per-frame results of the first two stages of a batch (see processBatch; layout.ts S_*)
export let stageKeys: usize = 0; //  MAX_BATCH keys, STAGE_KEY_BYTES apart
export let stageInfo: usize = 0; //  MAX_BATCH records of STAGE_INFO_BYTES
export let sink: u32 = 0; // consumes prefetch loads

/** Adds the result of prefetch loads to a global, so that they are not optimised away. */
export function sinkAdd(x: u32): void {
  sink += x;
}

// the action when no rule matches (host-settable)
let defAction: u8 = 0;
let defClass: u8 = 0;
let defDscp: u8 = DSCP_KEEP;
let defQueue: u8 = 0;
let defMeter: i32 = -1;

// the decision in hand for the current packet
let curAction: u8 = 0;
let curClass: u8 = 0;
let curDscp: u8 = 0;
let curQueue: u8 = 0;
let curMeter: i32 = -1;
let curRule: i32 = -1;

export function pipelineInit(flowCapacity: u32, ruleCapacity: u32, initialInput: u32): void {
  flowTableInit(flowCapacity);
  rulesInit(ruleCapacity);
  countersInit();
  descriptors = heap.alloc(MAX_BATCH * DESC_BYTES);
  memory.fill(descriptors, 0, MAX_BATCH * DESC_BYTES);
  verdicts = heap.alloc(MAX_BATCH * VERDICT_BYTES);
  keyScratch = heap.alloc(KEY_BYTES + 12);
  stageKeys = heap.alloc(MAX_BATCH * STAGE_KEY_BYTES);
  stageInfo = heap.alloc(MAX_BATCH * STAGE_INFO_BYTES);
  inputReserve(initialInput);
  configured = true;
}

/** Makes the input buffer at least `bytes` long (in 4 KiB steps); returns its address. */
export function inputReserve(bytes: u32): usize {
  if (bytes > inputSize || input == 0) {
    const size = (bytes + 4095) & ~4095;
    input = heap.alloc(size == 0 ? 4096 : size);
    inputSize = size == 0 ? 4096 : size;
  }
  return input;
}

export function setDefaultAction(action: u32, cls: u32, queue: u32, dscp: u32, meter: i32): void {
  defAction = action as u8;
  defClass = cls as u8;
  defQueue = queue as u8;
  defDscp = dscp as u8;
  defMeter = meter;
}

function decideByRules(key: usize): void {
  const id = classify(key);
  curRule = id;
  if (id < 0) {
    curAction = defAction;
    curClass = defClass;
    curDscp = defDscp;
    curQueue = defQueue;
    curMeter = defMeter;
  } else {
    const r = ruleRecord(id as u32);
    curAction = load<u8>(r + RL_ACTION);
    curClass = load<u8>(r + RL_CLASS);
    curDscp = load<u8>(r + RL_DSCP);
    curQueue = load<u8>(r + RL_QUEUE);
    curMeter = load<i32>(r + RL_METER);
  }
}

@inline function storeDecision(e: usize): void {
  store<u32>(e + E_METER_QUEUE, (((curMeter + 1) as u32) & 0xffffff) | ((curQueue as u32) << 24));
  store<u16>(e + E_RULE, (curRule + 1) as u16);
  store<u8>(e + E_CLASS, ((curClass as u32) | (curAction == RA_DROP ? EB_DROP : 0)) as u8);
  store<u8>(e + E_DSCP, ((curDscp == DSCP_KEEP ? EB_KEEP : (curDscp as u32) & 63) | EB_USED) as u8);
  store<u32>(e + E_GEN, ruleGeneration);
}

@inline function loadDecision(e: usize): void {
  const mq = load<u32>(e + E_METER_QUEUE);
  curMeter = ((mq & 0xffffff) as i32) - 1;
  curQueue = (mq >> 24) as u8;
  curRule = (load<u16>(e + E_RULE) as i32) - 1;
  const cb = load<u8>(e + E_CLASS) as u32;
  curClass = (cb & 63) as u8;
  curAction = (cb & EB_DROP) != 0 ? RA_DROP : 0;
  const db = load<u8>(e + E_DSCP) as u32;
  curDscp = (db & EB_KEEP) != 0 ? DSCP_KEEP : ((db & 63) as u8);
}

@inline function writeVerdict(v: usize, action: u32, color: u32, reason: u32, dscp: u32, queue: u32, cls: u32, flags: u32, flow: i32, rule: i32): void {
  store<u8>(v + V_ACTION, action as u8);
  store<u8>(v + V_COLOR, color as u8);
  store<u8>(v + V_REASON, reason as u8);
  store<u8>(v + V_DSCP, dscp as u8);
  store<u16>(v + V_QUEUE, queue as u16);
  store<u8>(v + V_CLASS, cls as u8);
  store<u8>(v + V_FLAGS, flags as u8);
  store<i32>(v + V_FLOW, flow);
  store<i32>(v + V_RULE, rule);
}

/**
 * Prefetch by touching: short loops whose iterations are independent, so that the CPU keeps
 * many cache misses in flight — first the home slots of every parsed frame, then the entries
 * they point to. (WebAssembly has no prefetch instruction; a load whose value is consumed
 * later is the portable substitute.)
 */
export function touchTables(n: u32): u32 {
  let t: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const si = stageInfo + i * STAGE_INFO_BYTES;
    if (load<u8>(si, S_REASON) == R_OK) t += slotTouch(load<u32>(si, S_HASH));
  }
  for (let i: u32 = 0; i < n; i++) {
    const si = stageInfo + i * STAGE_INFO_BYTES;
    if (load<u8>(si, S_REASON) == R_OK) t += entryTouch(load<u32>(si, S_HASH));
  }
  return t;
}

/**
 * Processes descriptors [0, n) against the input buffer; returns the number of verdicts.
 * Three stages, so that the cache misses of a large flow table overlap instead of queueing
 * one behind the other: (1) parse every frame and hash its key, touching the key's home slot;
 * (2) look every key up, touching the entry's counters; (3) per frame in order: classify on a
 * miss or a stale decision, insert, meter, act, account, write the verdict. Stages 1 and 2 only
 * read shared state, so the result is the same as one frame at a time (stage 3 looks a key up
 * again before inserting it, in case an earlier frame of the batch inserted it).
 */
export function processBatch(n: u32): u32 {
  if (!configured) return 0;
  if (n > MAX_BATCH) n = MAX_BATCH;
  rulesRebuild();
  const gen = ruleGeneration;
  let touched: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = descriptors + i * DESC_BYTES;
    const si = stageInfo + i * STAGE_INFO_BYTES;
    const off = load<u32>(d + D_OFFSET);
    const len = load<u32>(d + D_LENGTH);
    if (off > inputSize || len > inputSize - off) {
      store<u8>(si, R_BAD_DESCRIPTOR, S_REASON);
      continue;
    }
    const k = stageKeys + i * STAGE_KEY_BYTES;
    const reason = parseFrame(input + off, len, load<u32>(d + D_IN_PORT), k);
    store<u8>(si, reason, S_REASON);
    store<u8>(si, parsedIpVersion as u8, S_IP_VERSION);
    store<u16>(si, parsedL3 as u16, S_L3);
    if (reason == R_OK) store<u32>(si, hashKey(k, 0), S_HASH);
  }
  touched += touchTables(n);
  for (let i: u32 = 0; i < n; i++) {
    const si = stageInfo + i * STAGE_INFO_BYTES;
    if (load<u8>(si, S_REASON) != R_OK) continue;
    store<i32>(si, flowFind(stageKeys + i * STAGE_KEY_BYTES, load<u32>(si, S_HASH)), S_FLOW);
  }
  sink += touched;
  let okPackets: u64 = 0, okBytes: u64 = 0, hits: u64 = 0;
  let forwarded0: u64 = 0, downgraded: u64 = 0, droppedOk: u64 = 0;
  let greens: u64 = 0, yellows: u64 = 0, reds: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = descriptors + i * DESC_BYTES;
    const v = verdicts + i * VERDICT_BYTES;
    const si = stageInfo + i * STAGE_INFO_BYTES;
    const off = load<u32>(d + D_OFFSET);
    const len = load<u32>(d + D_LENGTH);
    const now = load<u64>(d + D_TIME);
    const reason = load<u8>(si, S_REASON) as u32;
    if (reason != R_OK) {
      writeVerdict(v, ACT_DROP, 0, reason, 0, 0, 0, 0, -1, -1);
      countPacket(len, ACT_DROP, 0, reason);
      continue;
    }
    const frame = input + off;
    const key = stageKeys + i * STAGE_KEY_BYTES;
    const h = load<u32>(si, S_HASH);
    let flags: u32 = 0;
    let idx = load<i32>(si, S_FLOW);
    if (idx < 0) idx = flowFind(key, h);
    let e: usize = 0;
    if (idx >= 0) {
      e = entryAt(idx as u32);
      if (((load<u8>(e + E_CLASS) as u32) & EB_PINNED) != 0 || load<u32>(e + E_GEN) == gen) {
        loadDecision(e);
        flags |= VF_CACHE_HIT;
        hits++;
      } else {
        decideByRules(key);
        storeDecision(e);
        count(C_CACHE_MISSES, 1);
      }
    } else {
      decideByRules(key);
      count(C_CACHE_MISSES, 1);
      idx = flowAdd(key, h, now);
      if (idx >= 0) {
        e = entryAt(idx as u32);
        storeDecision(e);
        flags |= VF_NEW_FLOW;
        count(C_FLOWS_INSERTED, 1);
      } else {
        flags |= VF_UNTRACKED;
        count(C_TABLE_FULL, 1);
      }
    }
    const tos = load<u8>(key + K_TOS) as u32;
    const inDscp = tos >> 2;
    let color: u32 = 0;
    let action: u32;
    let outDscp = inDscp;
    let queue: u32 = 0;
    let cls: u32 = 0;
    if (curAction == RA_DROP) {
      action = ACT_DROP;
    } else {
      if (curMeter >= 0) color = meterColor(curMeter as u32, now, len, preColorOf(inDscp));
      // green forwards; yellow and red follow the class's excess policy (actions.ts)
      const byColor: u32 = color == 0 ? 0 : excessAction(curClass, color);
      if (byColor == 0) {
        action = ACT_FORWARD;
        cls = curClass;
        queue = curQueue;
        if (curDscp != DSCP_KEEP) outDscp = curDscp & 63;
      } else if (byColor == 1) {
        action = ACT_DOWNGRADE;
        const w = excessWord(curClass);
        if ((w & XP_TARGET) != 0) {
          cls = (w >> 8) & 63;
          queue = (w >> 16) & 255;
          outDscp = (w >> 24) & 63;
        } else {
          cls = beClass;
          queue = beQueue;
          outDscp = beDscp;
        }
      } else {
        action = ACT_DROP;
      }
    }
    const forwarded = action != ACT_DROP;
    if (forwarded) {
      const ipVersion = load<u8>(si, S_IP_VERSION) as u32;
      if (outDscp != inDscp && ipVersion != 0) {
        rewriteDscp(frame, load<u16>(si, S_L3) as u32, ipVersion, outDscp);
        flags |= VF_REWRITTEN;
        count(C_REWRITES, 1);
      }
      accountClass(cls, len);
    } else {
      outDscp = inDscp;
    }
    if (e != 0) accountFlow(e, now, len, color, forwarded, cls);
    writeVerdict(v, action, color, R_OK, outDscp, queue, cls, flags, idx, curRule);
    // the common counters of parsed frames are summed in locals and added once per batch
    okPackets++;
    okBytes += len;
    if (action == ACT_FORWARD) forwarded0++;
    else if (action == ACT_DOWNGRADE) downgraded++;
    else droppedOk++;
    if (color == 0) greens++;
    else if (color == 1) yellows++;
    else reds++;
  }
  count(C_PACKETS, okPackets);
  count(C_BYTES, okBytes);
  count(C_REASON + R_OK, okPackets);
  count(C_ACTION + ACT_FORWARD, forwarded0);
  count(C_ACTION + ACT_DOWNGRADE, downgraded);
  count(C_ACTION + ACT_DROP, droppedOk);
  count(C_COLOR, greens);
  count(C_COLOR + 1, yellows);
  count(C_COLOR + 2, reds);
  count(C_CACHE_HITS, hits);
  return n;
}

/** Host-installed exact flow (key in keyScratch) with its own action; returns its id or an error. */
export function flowInsertPinned(action: u32, cls: u32, queue: u32, dscp: u32, meter: i32, nowNs: u64): i32 {
  const key = keyScratch;
  const h = hashKey(key, 0);
  let idx = flowFind(key, h);
  if (idx < 0) {
    idx = flowAdd(key, h, nowNs);
    if (idx < 0) return -4;
  }
  const e = entryAt(idx as u32);
  curAction = action as u8;
  curClass = cls as u8;
  curQueue = queue as u8;
  curDscp = dscp as u8;
  curMeter = meter;
  curRule = -1;
  storeDecision(e);
  store<u8>(e + E_CLASS, ((load<u8>(e + E_CLASS) as u32) | EB_PINNED) as u8);
  return idx;
}

/** Id of the flow whose key is in keyScratch, or -1. */
export function flowLookupKey(): i32 {
  return flowFind(keyScratch, hashKey(keyScratch, 0));
}

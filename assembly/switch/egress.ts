// The egress scheduler of one switch port in WebAssembly: a token bucket shapes the port to
// its rate, and the port's queues share it by deficit round robin (Shreedhar & Varghese,
// "Efficient Fair Queuing using Deficit Round Robin", SIGCOMM 1995) or strict priority.
// Decision for decision the scheduler of src/switch/egress-queues.ts (its twin and oracle):
// the same refill, the same DRR turns, the same victim when the port's byte bound is
// reached, in the same f64 arithmetic, so both send and drop the same frames in the same
// order (test/switch/egress-differential.test.ts).
//
// The frames stay with the host; this module keeps what the decisions need: per queue its
// frames' lengths (a linked list in a node pool), bytes, deficit and weight; the DRR round;
// the queues ranked by id. One instance serves one port. The host writes a batch of
// enqueue requests (queue slot, length) and calls egressRun once; the module answers with
// an event list that the host replays on its frames in order:
//   EV_ACCEPT slot  the request's frame joins the tail of its queue
//   EV_REJECT slot  the request's frame is dropped (no room that a lower queue could give)
//   EV_POP slot     the tail frame of queue `slot` is dropped to make room
//   EV_SEND slot    the head frame of queue `slot` goes out
// Nothing allocates after egressInit, and no input makes it trap: bad slots are rejected.

/** Event kinds, in the top two bits of each event word; the queue slot is in the low 30. */
export const EV_ACCEPT: u32 = 0;
export const EV_REJECT: u32 = 1;
export const EV_POP: u32 = 2;
export const EV_SEND: u32 = 3;
const EV_SHIFT: u32 = 30;
const NIL: i32 = -1;
/** A queue may always keep two full-size frames of the bound (egress-queues.ts MIN_SHARE_BYTES). */
const MIN_SHARE_BYTES: f64 = 2 * 1514;

let strict: bool = false;
let bytesPerMs: f64 = 0;
let bucketBytes: f64 = 0;
let tokens: f64 = 0;
let lastRefill: f64 = 0;
let limitBytes: i32 = 0;
let queuedBytes: i32 = 0;
let turnStarted: bool = false;

let maxQueues: i32 = 0;
let queueCount: i32 = 0;
// per queue slot
let qId: usize = 0; // u32 queue id
let qQuantum: usize = 0; // i32
let qWeight: usize = 0; // f64
let qDeficit: usize = 0; // i64
let qBytes: usize = 0; // i32
let qLength: usize = 0; // i32 frames
let qHead: usize = 0; // i32 node
let qTail: usize = 0; // i32 node
let qActive: usize = 0; // u8
// queue slots ordered by id (lowest first)
let ranked: usize = 0;
// the DRR round: a ring of slots
let roundRing: usize = 0;
let roundHead: i32 = 0;
let roundCount: i32 = 0;
// frame lengths: a pool of list nodes (len, next, prev)
let nodeLen: usize = 0;
let nodeNext: usize = 0;
let nodePrev: usize = 0;
let freeNode: i32 = NIL;

export let requests: usize = 0;
export let requestCapacity: u32 = 0;
export let events: usize = 0;
let eventCapacity: u32 = 0;
let eventCount: u32 = 0;

@inline function i32At(base: usize, i: i32): i32 {
  return load<i32>(base + (<usize>i << 2));
}
@inline function setI32(base: usize, i: i32, v: i32): void {
  store<i32>(base + (<usize>i << 2), v);
}

/**
 * Sets up the port (once): rate in bytes per ms (0: nothing is shaped), bucket depth and
 * byte bound, DRR or strict, how many queues and frames it may hold, how many requests one
 * run takes. Returns 0, or -1 when called twice.
 */
export function egressInit(rateBytesPerMs: f64, bucket: f64, limit: i32, strictPriority: bool, queues: i32, frames: i32, requestCap: u32, nowMs: f64): i32 {
  if (qId != 0) return -1;
  strict = strictPriority;
  bytesPerMs = rateBytesPerMs;
  bucketBytes = bucket;
  tokens = bucket;
  lastRefill = nowMs;
  limitBytes = limit;
  maxQueues = queues;
  const q = <usize>queues;
  qId = heap.alloc(q << 2);
  qQuantum = heap.alloc(q << 2);
  qWeight = heap.alloc(q << 3);
  qDeficit = heap.alloc(q << 3);
  qBytes = heap.alloc(q << 2);
  qLength = heap.alloc(q << 2);
  qHead = heap.alloc(q << 2);
  qTail = heap.alloc(q << 2);
  qActive = heap.alloc(q);
  ranked = heap.alloc(q << 2);
  roundRing = heap.alloc(q << 2);
  memory.fill(qActive, 0, q);
  const n = <usize>frames;
  nodeLen = heap.alloc(n << 2);
  nodeNext = heap.alloc(n << 2);
  nodePrev = heap.alloc(n << 2);
  for (let i: i32 = 0; i < frames; i++) setI32(nodeNext, i, i + 1 < frames ? i + 1 : NIL);
  freeNode = frames > 0 ? 0 : NIL;
  requestCapacity = requestCap;
  requests = heap.alloc(<usize>requestCap << 3);
  // every request may push out frames and every held frame may be sent: bound the events
  eventCapacity = requestCap * 2 + <u32>frames * 2;
  events = heap.alloc(<usize>eventCapacity << 2);
  return 0;
}

/** Adds queue `slot` (the next unused one) with its id, DRR quantum and weight; ranks it by id. */
export function egressQueue(slot: i32, queueId: u32, quantum: i32, weight: f64): i32 {
  if (slot != queueCount || slot >= maxQueues) return -1;
  store<u32>(qId + (<usize>slot << 2), queueId);
  setI32(qQuantum, slot, quantum);
  store<f64>(qWeight + (<usize>slot << 3), weight);
  store<i64>(qDeficit + (<usize>slot << 3), 0);
  setI32(qBytes, slot, 0);
  setI32(qLength, slot, 0);
  setI32(qHead, slot, NIL);
  setI32(qTail, slot, NIL);
  let at = queueCount;
  while (at > 0 && load<u32>(qId + (<usize>i32At(ranked, at - 1) << 2)) > queueId) {
    setI32(ranked, at, i32At(ranked, at - 1));
    at--;
  }
  setI32(ranked, at, slot);
  queueCount++;
  return 0;
}

/** Bytes waiting in all queues. */
export function egressBacklog(): i32 {
  return queuedBytes;
}

@inline function emit(kind: u32, slot: i32): void {
  store<u32>(events + (<usize>eventCount << 2), (kind << EV_SHIFT) | <u32>slot);
  eventCount++;
}

@inline function roundAt(i: i32): i32 {
  return i32At(roundRing, (roundHead + i) % maxQueues);
}

function roundPush(slot: i32): void {
  setI32(roundRing, (roundHead + roundCount) % maxQueues, slot);
  roundCount++;
}

function deactivate(slot: i32): void {
  store<u8>(qActive + slot, 0);
  store<i64>(qDeficit + (<usize>slot << 3), 0);
  let i: i32 = 0;
  while (i < roundCount && roundAt(i) != slot) i++;
  if (i == roundCount) return;
  if (i == 0) {
    turnStarted = false;
    roundHead = (roundHead + 1) % maxQueues;
  } else {
    for (let k = i; k < roundCount - 1; k++) setI32(roundRing, (roundHead + k) % maxQueues, roundAt(k + 1));
  }
  roundCount--;
}

function pushFrame(slot: i32, len: i32): void {
  const node = freeNode;
  freeNode = i32At(nodeNext, node);
  setI32(nodeLen, node, len);
  setI32(nodeNext, node, NIL);
  const tail = i32At(qTail, slot);
  setI32(nodePrev, node, tail);
  if (tail == NIL) setI32(qHead, slot, node);
  else setI32(nodeNext, tail, node);
  setI32(qTail, slot, node);
  setI32(qLength, slot, i32At(qLength, slot) + 1);
  setI32(qBytes, slot, i32At(qBytes, slot) + len);
}

/** Unlinks the head (fromHead) or the tail frame of a queue; returns its length. */
function takeFrame(slot: i32, fromHead: bool): i32 {
  const node = fromHead ? i32At(qHead, slot) : i32At(qTail, slot);
  const next = i32At(nodeNext, node);
  const prev = i32At(nodePrev, node);
  if (fromHead) {
    setI32(qHead, slot, next);
    if (next == NIL) setI32(qTail, slot, NIL);
    else setI32(nodePrev, next, NIL);
  } else {
    setI32(qTail, slot, prev);
    if (prev == NIL) setI32(qHead, slot, NIL);
    else setI32(nodeNext, prev, NIL);
  }
  const len = i32At(nodeLen, node);
  setI32(nodeNext, node, freeNode);
  freeNode = node;
  setI32(qLength, slot, i32At(qLength, slot) - 1);
  setI32(qBytes, slot, i32At(qBytes, slot) - len);
  return len;
}

/** Whether queue `slot` holds more than its weight's share of the bound (with `extra` bytes). */
@inline function overShare(slot: i32, extra: i32, weights: f64): bool {
  return <f64>(i32At(qBytes, slot) + extra) > Math.max(MIN_SHARE_BYTES, (<f64>limitBytes * load<f64>(qWeight + (<usize>slot << 3))) / weights);
}

/** The queue that loses its tail frame so a frame for `arriving` fits; `arriving` itself when none. */
function victim(arriving: i32): i32 {
  if (strict) {
    for (let i: i32 = 0; i < queueCount; i++) {
      const s = i32At(ranked, i);
      if (i32At(qLength, s) > 0) return load<u32>(qId + (<usize>s << 2)) < load<u32>(qId + (<usize>arriving << 2)) ? s : arriving;
    }
    return arriving;
  }
  let weights: f64 = load<u8>(qActive + arriving) != 0 ? 0 : load<f64>(qWeight + (<usize>arriving << 3));
  for (let i: i32 = 0; i < roundCount; i++) weights += load<f64>(qWeight + (<usize>roundAt(i) << 3));
  for (let i: i32 = 0; i < queueCount; i++) {
    const s = i32At(ranked, i);
    if (s == arriving ? overShare(s, 1, weights) : i32At(qLength, s) > 0 && overShare(s, 0, weights)) return s;
  }
  return arriving;
}

function enqueue(slot: i32, len: i32): void {
  if (slot < 0 || slot >= queueCount || len > limitBytes || len < 0) {
    emit(EV_REJECT, slot < 0 || slot >= queueCount ? 0 : slot);
    return;
  }
  while (queuedBytes + len > limitBytes) {
    const lowest = victim(slot);
    if (lowest == slot) {
      emit(EV_REJECT, slot);
      return;
    }
    queuedBytes -= takeFrame(lowest, false);
    emit(EV_POP, lowest);
    if (i32At(qLength, lowest) == 0) deactivate(lowest);
  }
  if (freeNode == NIL) {
    emit(EV_REJECT, slot);
    return;
  }
  pushFrame(slot, len);
  queuedBytes += len;
  emit(EV_ACCEPT, slot);
  if (load<u8>(qActive + slot) == 0) {
    store<u8>(qActive + slot, 1);
    store<i64>(qDeficit + (<usize>slot << 3), 0);
    roundPush(slot);
  }
}

function refill(now: f64): void {
  const elapsed = now - lastRefill;
  lastRefill = now;
  if (elapsed > 0) tokens = Math.min(bucketBytes, tokens + elapsed * bytesPerMs);
}

/** DRR: the head of the round adds its quantum when its turn starts and sends while its deficit covers its head frame. */
function nextDrr(): i32 {
  while (roundCount > 0) {
    const s = roundAt(0);
    const at = qDeficit + (<usize>s << 3);
    if (!turnStarted) {
      store<i64>(at, load<i64>(at) + <i64>i32At(qQuantum, s));
      turnStarted = true;
    }
    if (load<i64>(at) >= <i64>i32At(nodeLen, i32At(qHead, s))) return s;
    roundHead = (roundHead + 1) % maxQueues;
    setI32(roundRing, (roundHead + roundCount - 1) % maxQueues, s);
    turnStarted = false;
  }
  return NIL;
}

function highestBacklogged(): i32 {
  for (let i = queueCount - 1; i >= 0; i--) {
    const s = i32At(ranked, i);
    if (i32At(qLength, s) > 0) return s;
  }
  return NIL;
}

function service(now: f64): void {
  refill(now);
  while (tokens > 0 && queuedBytes > 0 && eventCount < eventCapacity) {
    const s = strict ? highestBacklogged() : nextDrr();
    if (s == NIL) break;
    const len = takeFrame(s, true);
    queuedBytes -= len;
    tokens -= <f64>len;
    if (!strict) store<i64>(qDeficit + (<usize>s << 3), load<i64>(qDeficit + (<usize>s << 3)) - <i64>len);
    if (i32At(qLength, s) == 0) deactivate(s);
    emit(EV_SEND, s);
  }
}

/**
 * Takes requests 0..n-1 (u32 queue slot, u32 length each) in order, then (serve != 0) lets
 * out what the token bucket allows at nowMs. Returns the number of event words written.
 */
export function egressRun(n: u32, nowMs: f64, serve: u32): u32 {
  eventCount = 0;
  const count = n < requestCapacity ? n : requestCapacity;
  for (let i: u32 = 0; i < count; i++) {
    const r = requests + (<usize>i << 3);
    enqueue(load<i32>(r), load<i32>(r + 4));
  }
  if (serve != 0) service(nowMs);
  return eventCount;
}

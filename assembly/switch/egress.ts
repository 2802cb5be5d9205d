// The egress scheduler of one switch port in WebAssembly: a token bucket shapes the port to
// its rate, and the port's queues share it by deficit round robin (Shreedhar & Varghese,
// "Efficient Fair Queuing using Deficit Round Robin", SIGCOMM 1995) or strict priority.
// Decision for decision the scheduler of src/switch/egress-queues.ts (its twin and oracle):
// the same refill, the same DRR turns, the same victim when the port's byte bound is
// reached and the same random choice of the frame it loses (xorshift32 from the same seed),
// in the same f64 arithmetic, so both send and drop the same frames in the same order
// (test/switch/egress-differential.test.ts).
//
// The frames live here, in a byte ring in linear memory: each is a record (u32 length,
// i32 list node or NIL once it has left, the bytes padded to 8), and every queue is a linked
// list of nodes (length, record offset) in a node pool. One instance serves one port.
// The host copies each offered frame once, straight into the ring at the write region the
// module publishes (egressState: address, bytes free), and notes a request (queue slot,
// length) for it; one egressRun call then takes all requests in order, lets out what the
// token bucket allows and writes the frames sent as (address, length) pairs, which the host
// copies into its socket's send slots before it calls again. Per-queue counters stay here.
// Frames leave the ring out of order (DRR, drops near a queue's tail), so space is won back
// at the ring's oldest end: records that have left are skipped, records still queued are
// moved (memory.copy) to the write end. The ring holds three times what the byte bound can
// keep (with record headers) plus three write regions, so one sweep always frees a region.
// Nothing allocates after egressInit, and no input makes it trap: bad slots are rejected.

const NIL: i32 = -1;
/** A queue may always keep two full-size frames of the bound (egress-queues.ts MIN_SHARE_BYTES). */
const MIN_SHARE_BYTES: f64 = 2 * 1514;
/** A request whose length has this bit set carries no bytes (too long, or no room): rejected. */
const NOT_STORED: u32 = 0x80000000;
/** Bytes of a record's header: u32 frame length, i32 node (NIL: the frame has left the queues). */
const RECORD_HEADER: i32 = 8;
/** The record header's length word of a skip marker: the ring goes on at offset 0. */
const SKIP: u32 = 0xffffffff;
/** Contiguous bytes the host may always write between two runs: any frame up to 64 KiB fits. */
const WRITE_REGION: i32 = 128 * 1024;
/** A queue that gives way loses one of its last this many frames (egress-queues.ts DROP_WINDOW). */
const DROP_WINDOW: i32 = 16;
/** Seed of the drop choices (egress-queues.ts DROP_SEED). */
const DROP_SEED: u32 = 0x9e3779b9;

let strict: bool = false;
let bytesPerMs: f64 = 0;
let bucketBytes: f64 = 0;
let tokens: f64 = 0;
let lastRefill: f64 = 0;
let limitBytes: i32 = 0;
let queuedBytes: i32 = 0;
let turnStarted: bool = false;
let random: u32 = DROP_SEED;

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
// queued frames: a pool of list nodes (len, record offset in the ring, next, prev)
let nodeLen: usize = 0;
let nodeRecord: usize = 0;
let nodeNext: usize = 0;
let nodePrev: usize = 0;
let freeNode: i32 = NIL;
// the frame ring: records in [ringTail, ringHead), circularly; ringUsed counts their bytes
let ring: usize = 0;
let ringCapacity: i32 = 0;
let ringHead: i32 = 0;
let ringTail: i32 = 0;
let ringUsed: i32 = 0;
/** below this many free bytes the sweep runs ahead of need */
let sweepStart: i32 = 0;
/** record bytes the host wrote for the requests of the current run */
let written: i32 = 0;

/** u32 queue slot, u32 length (| NOT_STORED) per request, the frame bytes already in the ring. */
export let requests: usize = 0;
export let requestCapacity: u32 = 0;
/** per frame sent by the last run: u32 address of its bytes, u32 length */
export let sends: usize = 0;
let sendCapacity: u32 = 0;
let sendCount: u32 = 0;
/** u32 address where the host writes the next frame's record, u32 contiguous bytes free there */
export let state: usize = 0;
/** per queue slot: f64 frames sent, f64 bytes sent, f64 frames dropped */
export let counters: usize = 0;

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
  counters = heap.alloc(q * 24);
  memory.fill(counters, 0, q * 24);
  const n = <usize>frames;
  nodeLen = heap.alloc(n << 2);
  nodeRecord = heap.alloc(n << 2);
  nodeNext = heap.alloc(n << 2);
  nodePrev = heap.alloc(n << 2);
  for (let i: i32 = 0; i < frames; i++) setI32(nodeNext, i, i + 1 < frames ? i + 1 : NIL);
  freeNode = frames > 0 ? 0 : NIL;
  requestCapacity = requestCap;
  requests = heap.alloc(<usize>requestCap << 3);
  // every held frame may be sent in one run
  sendCapacity = <u32>frames;
  sends = heap.alloc(<usize>sendCapacity << 3);
  state = heap.alloc(8);
  // what the bound can hold, with a header and padding per frame (frames of at least 14
  // bytes: at most 2.1 times the bound), three times over, and three write regions
  const held = <i64>limit + <i64>frames * <i64>(RECORD_HEADER + 7);
  ringCapacity = <i32>(((held * 3 + <i64>WRITE_REGION * 3) + 7) & ~7);
  // sweeping ahead through a stretch of held frames uses up half its length of free space
  sweepStart = <i32>held + WRITE_REGION * 2;
  ring = heap.alloc(<usize>ringCapacity);
  // touch every page now: the first pass of the write head would otherwise fault page by page
  memory.fill(ring, 0, <usize>ringCapacity);
  publish();
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

@inline function countAt(slot: i32, which: i32): usize {
  return counters + <usize>slot * 24 + (<usize>which << 3);
}

@inline function count(slot: i32, which: i32, by: f64): void {
  const at = countAt(slot, which);
  store<f64>(at, load<f64>(at) + by);
}

const C_PACKETS: i32 = 0;
const C_BYTES: i32 = 1;
const C_ERRORS: i32 = 2;

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

// ---- the frame ring ----------------------------------------------------------------------

@inline function recordBytes(len: i32): i32 {
  return RECORD_HEADER + ((len + 7) & ~7);
}

/** Contiguous free bytes at ringHead. */
function headRoom(): i32 {
  if (ringUsed == 0) {
    ringHead = 0;
    ringTail = 0;
    return ringCapacity;
  }
  return ringHead > ringTail ? ringCapacity - ringHead : ringTail - ringHead;
}

/**
 * Frees WRITE_REGION contiguous bytes at ringHead: wraps the head when the end of the ring is
 * too short, and sweeps the oldest records, skipping those that left and moving those still
 * queued to the head (their nodes follow). Besides, once less than sweepStart bytes of the
 * ring are free, it sweeps ahead by twice the bytes written since the last run, so that a
 * long stretch of frames still queued (a starved class) is moved a little on every run and
 * not all at once when the head reaches it; the records it meets then are the oldest, mostly
 * gone already. Bounded: one sweep of the ring compacts it.
 */
function makeRoom(written: i32): void {
  let ahead = written * 2;
  for (let guard: i32 = ringCapacity >> 2; guard > 0; guard--) {
    const room = headRoom();
    const needed = room < WRITE_REGION;
    if (!needed && (ahead <= 0 || ringUsed == 0 || ringCapacity - ringUsed >= sweepStart)) return;
    if (needed && ringHead > ringTail) {
      store<u32>(ring + <usize>ringHead, SKIP);
      ringUsed += ringCapacity - ringHead;
      ringHead = 0;
      continue;
    }
    const at = ring + <usize>ringTail;
    const len = load<u32>(at);
    if (len == SKIP) {
      ringUsed -= ringCapacity - ringTail;
      ringTail = 0;
      ahead -= RECORD_HEADER;
      continue;
    }
    const size = recordBytes(<i32>len);
    const node = load<i32>(at, 4);
    if (node == NIL) {
      ringUsed -= size;
    } else {
      // ahead of need, a frame moves only where a whole write region stays free after it
      if (!needed && room < size + WRITE_REGION) return;
      memory.copy(ring + <usize>ringHead, at, <usize>size);
      setI32(nodeRecord, node, ringHead);
      ringHead += size;
    }
    ahead -= size;
    ringTail += size;
    if (ringTail == ringCapacity) ringTail = 0;
    if (ringHead == ringCapacity) ringHead = 0;
  }
}

/** Tells the host where the next frame's record goes and how many bytes it may write there. */
function publish(): void {
  const room = headRoom();
  store<u32>(state, <u32>(ring + <usize>ringHead));
  store<u32>(state, <u32>room, 4);
}

/** The record the host wrote at ringHead for a request of `len` bytes: taken into the ring. */
function takeRecord(len: i32, node: i32): i32 {
  const record = ringHead;
  const size = recordBytes(len);
  store<u32>(ring + <usize>record, <u32>len);
  store<i32>(ring + <usize>record, node, 4);
  ringHead += size;
  ringUsed += size;
  written += size;
  if (ringHead == ringCapacity) ringHead = 0;
  return record;
}

@inline function release(node: i32): void {
  store<i32>(ring + <usize>i32At(nodeRecord, node), NIL, 4);
}

// ---- queues --------------------------------------------------------------------------------

function pushFrame(slot: i32, len: i32, record: i32): i32 {
  const node = freeNode;
  freeNode = i32At(nodeNext, node);
  setI32(nodeLen, node, len);
  setI32(nodeRecord, node, record);
  setI32(nodeNext, node, NIL);
  const tail = i32At(qTail, slot);
  setI32(nodePrev, node, tail);
  if (tail == NIL) setI32(qHead, slot, node);
  else setI32(nodeNext, tail, node);
  setI32(qTail, slot, node);
  setI32(qLength, slot, i32At(qLength, slot) + 1);
  setI32(qBytes, slot, i32At(qBytes, slot) + len);
  return node;
}

/** Unlinks the `k`-th frame from the tail of a queue (1: the tail; 1 <= k <= its length); returns its node (already on the free list). */
function takeFromTail(slot: i32, k: i32): i32 {
  let node = i32At(qTail, slot);
  for (let i: i32 = 1; i < k; i++) node = i32At(nodePrev, node);
  return unlink(slot, node);
}

/** Unlinks a frame of a queue; returns its node (already on the free list). */
function unlink(slot: i32, node: i32): i32 {
  const next = i32At(nodeNext, node);
  const prev = i32At(nodePrev, node);
  if (prev == NIL) setI32(qHead, slot, next);
  else setI32(nodeNext, prev, next);
  if (next == NIL) setI32(qTail, slot, prev);
  else setI32(nodePrev, next, prev);
  const len = i32At(nodeLen, node);
  release(node);
  setI32(nodeNext, node, freeNode);
  freeNode = node;
  setI32(qLength, slot, i32At(qLength, slot) - 1);
  setI32(qBytes, slot, i32At(qBytes, slot) - len);
  return node;
}

/** Whether queue `slot` holds more than its weight's share of the bound (with `extra` bytes). */
@inline function overShare(slot: i32, extra: i32, weights: f64): bool {
  return <f64>(i32At(qBytes, slot) + extra) > Math.max(MIN_SHARE_BYTES, (<f64>limitBytes * load<f64>(qWeight + (<usize>slot << 3))) / weights);
}

/** Marsaglia's xorshift32 step (egress-queues.ts xorshift32). */
@inline function xorshift32(state: u32): u32 {
  let x = state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

/** The queue that loses a frame so a frame for `arriving` fits; `arriving` itself when none. */

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

/** Request: a frame of `len` bytes for queue `slot`, its record at ringHead unless `stored` is false. */
function enqueue(slot: i32, len: i32, stored: bool): void {
  const valid = slot >= 0 && slot < queueCount;
  // a record the host wrote is taken into the ring even when its frame is refused
  const record = stored ? takeRecord(len, NIL) : NIL;
  if (!valid || !stored || len > limitBytes || len < 0) {
    count(valid ? slot : 0, C_ERRORS, 1);
    return;
  }
  while (queuedBytes + len > limitBytes) {
    const lowest = victim(slot);
    // k-th frame from the tail; 0 is the arriving frame, a candidate in its own queue
    random = xorshift32(random);
    const held = i32At(qLength, lowest);
    const k: i32 = lowest == slot ? <i32>(random % <u32>(min(held, DROP_WINDOW - 1) + 1)) : 1 + <i32>(random % <u32>min(held, DROP_WINDOW));
    if (k == 0) {
      count(slot, C_ERRORS, 1);
      return;
    }
    queuedBytes -= i32At(nodeLen, takeFromTail(lowest, k));
    count(lowest, C_ERRORS, 1);
    if (i32At(qLength, lowest) == 0) deactivate(lowest);
  }
  if (freeNode == NIL) {
    count(slot, C_ERRORS, 1);
    return;
  }
  const node = pushFrame(slot, len, record);
  store<i32>(ring + <usize>record, node, 4);
  queuedBytes += len;
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

/** Lets out what the bucket allows; the frames sent stay readable in the ring until the next run. */
function service(now: f64): void {
  refill(now);
  while (tokens > 0 && queuedBytes > 0 && sendCount < sendCapacity) {
    const s = strict ? highestBacklogged() : nextDrr();
    if (s == NIL) break;
    const node = unlink(s, i32At(qHead, s));
    const len = i32At(nodeLen, node);
    queuedBytes -= len;
    tokens -= <f64>len;
    if (!strict) store<i64>(qDeficit + (<usize>s << 3), load<i64>(qDeficit + (<usize>s << 3)) - <i64>len);
    if (i32At(qLength, s) == 0) deactivate(s);
    count(s, C_PACKETS, 1);
    count(s, C_BYTES, <f64>len);
    const out = sends + (<usize>sendCount << 3);
    store<u32>(out, <u32>(ring + <usize>i32At(nodeRecord, node) + RECORD_HEADER));
    store<u32>(out, <u32>len, 4);
    sendCount++;
  }
}

/**
 * Takes requests 0..n-1 (u32 queue slot, u32 length each; the frames' records written one
 * after the other from the address egressState gave) in order, frees the next write region,
 * then (serve != 0) lets out what the token bucket allows at nowMs. Returns the number of
 * frames sent (address, length pairs at `sends`); their bytes stay valid until the next call.
 */
export function egressRun(n: u32, nowMs: f64, serve: u32): u32 {
  sendCount = 0;
  written = 0;
  const total = n < requestCapacity ? n : requestCapacity;
  for (let i: u32 = 0; i < total; i++) {
    const r = requests + (<usize>i << 3);
    const len = load<u32>(r, 4);
    enqueue(load<i32>(r), <i32>(len & ~NOT_STORED), (len & NOT_STORED) == 0);
  }
  makeRoom(written);
  publish();
  if (serve != 0) service(nowMs);
  return sendCount;
}

// Accounting: engine counters (packets, bytes, verdicts by action, colour and reason) and
// per-flow packets and bytes by colour with charges at the class's current price
// (classPrice; a charge for N bytes is N * 8e-6 * price, price being per megabit), and per-class
// bytes through classAccount, which feeds the measured demand of the pricing.
import { classAccount, classPrice } from './pricing';
import { C_ACTION, C_BYTES, C_COLOR, C_PACKETS, C_REASON, COUNTER_COUNT, E_BYTES, E_CHARGE, E_LAST_SEEN, E_PACKETS } from './layout';

export let counters: usize = 0;

export function countersInit(): void {
  counters = heap.alloc(COUNTER_COUNT << 3);
  memory.fill(counters, 0, COUNTER_COUNT << 3);
}

@inline export function count(idx: u32, n: u64): void {
  const p = counters + (idx << 3);
  store<u64>(p, load<u64>(p) + n);
}

@inline export function countPacket(bytes: u32, action: u32, color: u32, reason: u32): void {
  count(C_PACKETS, 1);
  count(C_BYTES, bytes);
  count(C_ACTION + action, 1);
  count(C_COLOR + color, 1);
  count(C_REASON + reason, 1);
}

/** Per-flow counters of entry e; forwarded bytes are accounted and charged to cls. */
@inline export function accountFlow(e: usize, nowNs: u64, bytes: u32, color: u32, forwarded: bool, cls: u32): void {
  store<u64>(e + E_LAST_SEEN, nowNs);
  const pp = e + E_PACKETS + (color << 3);
  store<u64>(pp, load<u64>(pp) + 1);
  const bp = e + E_BYTES + (color << 3);
  store<u64>(bp, load<u64>(bp) + bytes);
  if (forwarded) store<f64>(e + E_CHARGE, load<f64>(e + E_CHARGE) + (bytes as f64) * 8e-6 * classPrice(cls));
}

@inline export function accountClass(cls: u32, bytes: u32): void {
  classAccount(cls, bytes);
}

// Rate-encoded flow queue ids: how a controller tells a `payflow switch` the weight of the
// per-flow egress queue it names with set_queue (OpenFlow 1.3.5 §7.2.5). OpenFlow 1.3 has
// no message that sets a queue's properties, so the weight travels in the id itself:
//
//   queue_id = (rate in kbyte/s) << 10 | n        (ids of 1024 and above)
//
// The upper 22 bits are the flow's paid rate in units of 8 kbit/s (1 kbyte/s, rounded
// up, at most 4194302, 33.5 Gbit/s); the lower 10 bits (n = 0..1023) keep two queues of
// the same rate on one port apart. The switch gives such a queue a DRR weight equal to
// that rate in Mbit/s (rate / 125 kbyte/s); class queues (0..7) and the plain flow queues
// 8..1023 weigh what `--queue ID:WEIGHT` says, else 1, in the same unit. So every
// reserved flow's weight is its paid rate, and best effort (queue 0) weighs 1 Mbit/s.
// Nothing needs to be configured in the switch, every hop reads the same id, and a queue
// created before the controller reconnects keeps its meaning.

/** The smallest rate-encoded queue id. */
export const ENCODED_QUEUE_MIN = 1 << 10;
/** Queues of one rate that can coexist on a port. */
export const QUEUES_PER_RATE = 1 << 10;
const MAX_UNITS = (1 << 22) - 2; // the all-ones id is OFPQ_ALL
/** One unit of the encoded rate, in bits/s. */
export const QUEUE_RATE_UNIT_BPS = 8000;

/** The rate field of a queue id for `rateBps` (at least one unit, at most the field's maximum). */
export function queueRateUnits(rateBps: number): number {
  if (!(rateBps > 0)) return 1;
  return Math.min(MAX_UNITS, Math.max(1, Math.ceil(rateBps / QUEUE_RATE_UNIT_BPS)));
}

/** The queue id for a flow of `rateBps` that is the `n`-th of its rate on its port. */
export function encodeFlowQueueId(rateBps: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n >= QUEUES_PER_RATE) throw new RangeError(`queue index ${n} is not in 0..${QUEUES_PER_RATE - 1}`);
  return queueRateUnits(rateBps) * QUEUES_PER_RATE + n;
}

/** The DRR weight (Mbit/s) a rate-encoded queue id carries, or undefined for ids below ENCODED_QUEUE_MIN. */
export function encodedQueueWeight(queueId: number): number | undefined {
  if (!(queueId >= ENCODED_QUEUE_MIN) || queueId > 0xfffffffe) return undefined;
  return Math.floor(queueId / QUEUES_PER_RATE) / 125;
}

/** The rate in bits/s a rate-encoded queue id carries (undefined below ENCODED_QUEUE_MIN). */
export function encodedQueueRateBps(queueId: number): number | undefined {
  const w = encodedQueueWeight(queueId);
  return w === undefined ? undefined : w * 1e6;
}

/**
 * How `payflow switch` describes itself (OFPMP_DESC): a controller that reads this knows the
 * switch schedules its own egress queues and reads rate-encoded queue ids.
 */
export const PAYFLOW_SWITCH_DESC = { mfrDesc: 'PayFlow', hwDesc: 'payflow switch (AF_PACKET)' } as const;

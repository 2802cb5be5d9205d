// Shared types of the data-plane engines (Engine: wasm; ReferenceEngine: plain TypeScript).
// Both implement DataPlane; docs/dataplane.md documents the API.
import type { MeterParams } from './reference/meter.js';
import type { ClassParams } from './reference/pricing.js';

export type { MeterParams, ClassParams };

/** Verdict actions (the `action` byte of a verdict). */
export const Action = { Forward: 0, Downgrade: 1, Drop: 2 } as const;
export type ActionCode = (typeof Action)[keyof typeof Action];

/** Reason codes (the `reason` byte of a verdict): 0 = parsed, the rest are drops. */
export const Reason = {
  Ok: 0,
  BadDescriptor: 1,
  TruncatedEthernet: 2,
  NotEthernetII: 3,
  TruncatedVlan: 4,
  TooManyTags: 5,
  TruncatedIPv4: 6,
  BadIPv4: 7,
  TruncatedIPv6: 8,
  BadIPv6: 9,
  TruncatedExtension: 10,
  BadExtension: 11,
  TruncatedL4: 12,
  BadL4: 13,
  TruncatedPayload: 14,
} as const;
export type ReasonCode = (typeof Reason)[keyof typeof Reason];
export const reasonName: readonly string[] = Object.keys(Reason);

/** A flow key as fields; absent fields are zero. Addresses as text (IPv4 dotted or IPv6). */
export interface FlowKeyFields {
  inPort?: number;
  /** outer VLAN id (0..4095); absent = untagged */
  vlan?: number;
  vlanInner?: number;
  ethertype?: number;
  proto?: number;
  dscp?: number;
  ecn?: number;
  sport?: number;
  dport?: number;
  flowLabel?: number;
  src?: string;
  dst?: string;
}

/**
 * What a class's out-of-profile packets get (RFC 2697/2698 colours): yellow forwarded,
 * downgraded or dropped; red downgraded or dropped. A downgrade goes to `to` (the next lower
 * class: its class index, queue and DSCP), or to best effort (setBestEffort) without it.
 * A class whose policy was never set downgrades yellow to best effort and drops red.
 */
export interface ClassExcessPolicy {
  yellow: 'forward' | 'downgrade' | 'drop';
  red: 'downgrade' | 'drop';
  to?: { class: number; queue: number; dscp: number };
}

/** What a rule or a pinned flow does with a packet (the meter's colour then decides). */
export interface RuleAction {
  action: 'forward' | 'drop';
  /** service class (0..63) the bytes are accounted to; default 0 */
  class?: number;
  queue?: number;
  /** DSCP to mark green packets with; absent = leave as is */
  dscp?: number;
  /** meter id; absent = no policing (always green) */
  meter?: number;
}

export type PortMatch = number | readonly [number, number];

/** A wildcard rule: absent fields match anything. */
export interface WildcardRule {
  /** higher wins; equal priorities: the lower rule id wins */
  priority: number;
  inPort?: number;
  ethertype?: number;
  /** prefix, e.g. `10.0.0.0/8` or `2001:db8::/32`; a bare address is a host route */
  src?: string;
  dst?: string;
  proto?: number;
  sport?: PortMatch;
  dport?: PortMatch;
  dscp?: number;
  flowLabel?: number | { value: number; mask: number };
  action: RuleAction;
}

export interface FlowRecord {
  id: number;
  inPort: number;
  vlan: number | null;
  vlanInner: number | null;
  ethertype: number;
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  dscp: number;
  ecn: number;
  flowLabel: number;
  /** by colour: green, yellow, red */
  packets: [number, number, number];
  bytes: [number, number, number];
  charge: number;
  lastSeenNs: number;
  rule: number;
  class: number;
  pinned: boolean;
}

export interface EngineCounters {
  packets: number;
  bytes: number;
  flowsInserted: number;
  flowsExpired: number;
  tableFull: number;
  cacheHits: number;
  cacheMisses: number;
  rewrites: number;
  /** by verdict action: forward, downgrade, drop */
  actions: [number, number, number];
  /** by colour: green, yellow, red */
  colors: [number, number, number];
  /** by reason code */
  reasons: number[];
}

export interface EngineOptions {
  /** exact-match capacity (flows); default 65536 */
  flowCapacity?: number;
  /** wildcard rule ids [0, ruleCapacity); default 16384 */
  ruleCapacity?: number;
  /** meter ids [0, meterCapacity); default 65536 */
  meterCapacity?: number;
  /** Engine only: load build/payflow.debug.wasm instead of the release build */
  debug?: boolean;
  /** Engine only: path of the wasm file (overrides `debug`) */
  wasmPath?: string;
}

/** One decoded verdict (the packed 16-byte record is in BatchResult.raw). */
export interface Verdict {
  action: ActionCode;
  color: number;
  reason: number;
  dscp: number;
  queue: number;
  class: number;
  flags: number;
  flow: number;
  rule: number;
}

/** Result of one batch: views valid until the next call on the engine. */
export interface BatchResult {
  count: number;
  /** count × 16 bytes: the verdict records (layout.ts V_*) */
  raw: Uint8Array;
  verdict(i: number): Verdict;
  /** frame i as it leaves (DSCP possibly rewritten) */
  frame(i: number): Uint8Array;
}

export class DataPlaneError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DataPlaneError';
  }
}

/** Throws `bad_argument` unless `id` is an integer in [0, capacity): the check every id-taking call makes. */
export function checkId(what: string, id: number, capacity: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= capacity) throw new DataPlaneError('bad_argument', `${what} id ${id} outside [0, ${capacity})`);
}

/** The interface both engines implement. */
export interface DataPlane {
  readonly flowCapacity: number;
  readonly ruleCapacity: number;
  readonly meterCapacity: number;
  setClass(cls: number, params: ClassParams): void;
  setReserved(cls: number, reservedBps: number): void;
  tick(nowNs: number): void;
  price(cls: number): number;
  demand(cls: number): number;
  setBestEffort(cls: number, queue: number, dscp: number): void;
  /** The excess policy of class cls (what its yellow and red packets get). */
  setClassExcess(cls: number, policy: ClassExcessPolicy): void;
  setMeter(id: number, params: MeterParams, nowNs: number): void;
  deleteMeter(id: number): void;
  setRule(id: number, rule: WildcardRule): void;
  deleteRule(id: number): void;
  setDefaultAction(action: RuleAction): void;
  insertFlow(key: FlowKeyFields, action: RuleAction, nowNs?: number): number;
  lookupFlow(key: FlowKeyFields): number;
  deleteFlow(key: FlowKeyFields): boolean;
  expireIdle(nowNs: number, idleNs: number): number;
  readonly flowsInUse: number;
  /** Copies up to MAX_BATCH frames in and processes them with one call. */
  process(frames: readonly Uint8Array[], timestampsNs: number | readonly number[], inPorts?: number | readonly number[]): BatchResult;
  /** Copies a batch in without processing it (process = load + run). */
  load(frames: readonly Uint8Array[], timestampsNs: number | readonly number[], inPorts?: number | readonly number[]): void;
  /** Processes the loaded batch (again). */
  run(): BatchResult;
  flow(id: number): FlowRecord | null;
  flows(): FlowRecord[];
  counters(): EngineCounters;
  /** Bytes of the exact-match table per flow of capacity (entries + slots). */
  flowTableBytesPerFlow(): number;
}
